#pragma once

// The authorizer result cache: results by identity, for the authorizer's TTL. Sharded maps,
// one mutex per shard, so requests on different threads rarely meet.

#include "auth/authorization.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gatehouse::auth {

class result_cache {
 public:
  using clock = std::chrono::steady_clock;

  explicit result_cache(std::size_t capacity) : per_shard_(capacity / shard_count + 1) {}

  /// The result for `identity`, if one is cached and fresh.
  std::shared_ptr<const authorization> find(std::string_view identity, clock::time_point now) const;
  /// Keeps a result until `expires`. At capacity, expired entries go first, then any.
  void put(std::string_view identity, std::shared_ptr<const authorization> result,
           clock::time_point expires);
  void clear();

 private:
  static constexpr std::size_t shard_count = 16;
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  struct entry {
    std::shared_ptr<const authorization> result;
    clock::time_point expires;
  };
  struct shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, entry, string_hash, std::equal_to<>> entries;
  };
  shard& shard_of(std::string_view identity) const noexcept {
    return shards_[string_hash{}(identity) % shard_count];
  }

  std::size_t per_shard_;
  mutable std::array<shard, shard_count> shards_;
};

}  // namespace gatehouse::auth
