#pragma once

// What the in-memory store's tests need to know of its stage cache layout.

#include <cstddef>
#include <string_view>

namespace gatehouse::detail {

/// Each cache namespace is split in this many shards, each an LRU list with its share of the
/// capacity.
inline constexpr std::size_t memory_cache_shards = 16;

/// The shard (0 … memory_cache_shards - 1) a cache key lands in, in this process.
std::size_t memory_cache_shard_of(std::string_view key) noexcept;

}  // namespace gatehouse::detail
