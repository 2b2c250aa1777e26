#pragma once

// The Redis store's memory of refusals: a bucket Redis found empty stays empty until its next
// token is due, and an exhausted quota until its period ends, so that a client hammering one
// costs no round trip until then (at most a second: limits may change meanwhile). Sharded,
// one lock per shard, bounded; nothing is locked while it holds no refusal.

#include <gatehouse/store.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace gatehouse::redis {

class refusal_memory {
 public:
  using clock = std::chrono::steady_clock;

  /// The refusal that still stands at `now` for one of `a`'s buckets or its quota.
  std::optional<admission_result> find(const admission& a, clock::time_point now);
  /// Remembers Redis's refusal `r` of `a`.
  void remember(const admission& a, const admission_result& r, clock::time_point now);

 private:
  static constexpr std::size_t shard_count = 16;
  static constexpr std::size_t max_per_shard = 4096;
  static constexpr auto longest = std::chrono::seconds(1);

  struct shard {
    std::mutex mutex;
    std::unordered_map<std::string, clock::time_point> until;
  };
  std::optional<clock::time_point> until(std::string_view key, clock::time_point now);
  shard& shard_of(std::string_view key) noexcept;

  std::array<shard, shard_count> shards_;
  std::atomic<std::size_t> held_{0};  // entries in all shards (0: nothing to look up)
};

}  // namespace gatehouse::redis
