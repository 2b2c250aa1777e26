#pragma once

// The authorizer result cache: results by identity, for the authorizer's TTL. Sharded maps,
// one mutex per shard, so requests on different threads rarely meet.

#include "auth/authorization.hpp"
#include "util/hash.hpp"

#include <array>
#include <chrono>
#include <cstddef>
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
  // An identity with its hash, computed once per lookup: it picks the shard (high bits) and is
  // the map's hash (low bits).
  struct hashed {
    std::string_view text;
    std::size_t hash;
  };
  static hashed hash_of(std::string_view identity) noexcept {
    return {identity, util::seeded_hash(identity)};
  }
  struct key_hash {
    using is_transparent = void;
    std::size_t operator()(const std::string& s) const noexcept { return util::seeded_hash(s); }
    std::size_t operator()(const hashed& k) const noexcept { return k.hash; }
  };
  struct key_equal {
    using is_transparent = void;
    bool operator()(const std::string& a, const std::string& b) const noexcept { return a == b; }
    bool operator()(const hashed& a, const std::string& b) const noexcept { return a.text == b; }
    bool operator()(const std::string& a, const hashed& b) const noexcept { return a == b.text; }
  };
  struct entry {
    std::shared_ptr<const authorization> result;
    clock::time_point expires;
  };
  struct shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, entry, key_hash, key_equal> entries;
  };
  shard& shard_of(const hashed& key) const noexcept {
    return shards_[(key.hash >> 60) % shard_count];
  }

  std::size_t per_shard_;
  mutable std::array<shard, shard_count> shards_;
};

}  // namespace gatehouse::auth
