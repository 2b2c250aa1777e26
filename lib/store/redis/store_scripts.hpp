#pragma once

// The Lua scripts the Redis store runs (each one round trip, atomic on the server), and the
// arguments and replies of the admission script.

#include "store/redis/redis_client.hpp"

#include <gatehouse/store.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::redis {

/// Every bucket of a request, its quota and its usage counter, all or nothing, on Redis's
/// clock (TIME, read once, in integer microseconds), with the memory store's token-bucket
/// arithmetic (throttle/token_bucket.cpp) in microtokens. The quota's period (day, ISO week,
/// month, UTC) is found from Redis's time. Idle keys expire.
const script& admission_script();
/// Marks this instance live (a sorted set of instance ids by last use) and answers how many
/// were live in the last `window` milliseconds.
const script& heartbeat_script();
/// The stage cache: an entry's key holds the namespace's generation (a flush increments it).
const script& cache_get_script();
const script& cache_put_script();
/// A record written or erased, and the change published to the other instances.
const script& record_put_script();
const script& record_erase_script();
/// HINCRBY of each (field, delta) pair of ARGV into KEYS[1].
const script& add_counts_script();

/// The keys and arguments of one admission script call, built in place (no allocation once
/// its buffers have grown).
class admission_call {
 public:
  /// `prefix` is "{key_prefix}:".
  void build(std::string_view prefix, const admission& a);

  std::span<const std::string_view> keys() const noexcept { return keys_; }
  std::span<const std::string_view> args() const noexcept { return args_; }

 private:
  std::string text_;  // every key and argument, one after another
  std::vector<std::string_view> keys_, args_;
  std::vector<std::size_t> marks_;
};

/// The admission script's reply as a result; false when it is not one the script gives.
bool read_admission_reply(const value& reply, admission_result& out) noexcept;

}  // namespace gatehouse::redis
