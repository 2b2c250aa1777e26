#pragma once

// A fast hash for keys that clients choose (cache keys, tokens): eight bytes at a time,
// multiply and fold, from a random per-process seed, so that colliding keys cannot be prepared.

#include <cstddef>
#include <string_view>

namespace gatehouse::util {

/// The hash of `s` under this process's seed.
std::size_t seeded_hash(std::string_view s) noexcept;

}  // namespace gatehouse::util
