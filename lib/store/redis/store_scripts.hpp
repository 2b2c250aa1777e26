#pragma once

// The Lua scripts the Redis store runs (each one round trip, atomic on the server), and the
// arguments and replies of the admission script.

#include "store/redis/redis_client.hpp"

#include <gatehouse/store.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
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

/// The keys and arguments of one admission script call for a batch of requests: each key once.
class admission_batch {
 public:
  void clear();
  /// Adds `a` (its keys with `prefix`): its result is the size()-th of the reply.
  void add(std::string_view prefix, const admission& a);
  std::size_t size() const noexcept { return count_; }
  /// Makes keys() and args(), once every request is added.
  void finish();

  std::span<const std::string_view> keys() const noexcept { return key_views_; }
  std::span<const std::string_view> args() const noexcept { return arg_views_; }
  /// How many requests each group of alike ones holds, in order (read_admission_replies).
  std::vector<std::size_t> group_sizes() const {
    std::vector<std::size_t> out;
    for (const auto& g : groups_) out.push_back(g.count);
    return out;
  }

 private:
  std::size_t key(std::string_view prefix, std::string_view k);  // its index in KEYS, from 1
  template <class T>
  void arg(const T& v);

  std::deque<std::string> keys_;
  std::unordered_map<std::string_view, std::size_t> index_;
  std::string args_;  // the arguments, one after another
  std::vector<std::size_t> arg_ends_;
  struct group {
    std::size_t first_arg;  // the index of its count among the arguments
    std::size_t count;
  };
  std::vector<group> groups_;
  const admission* last_ = nullptr;  // the request the last group was made for
  std::string counts_text_;          // the number of groups, then each group's count
  std::vector<std::string_view> key_views_, arg_views_;
  std::size_t count_ = 0;
};

/// The replies to a batch, one per request (`group_sizes` from the batch); false when the reply
/// is not one the script gives.
bool read_admission_replies(const value& reply, std::span<const std::size_t> group_sizes,
                            std::span<admission_result> out) noexcept;
/// One request's reply: {0}, {1, i, wait_us} or {2, 0, wait_ms}.
/// The admission script's reply as a result; false when it is not one the script gives.
bool read_admission_reply(const value& reply, admission_result& out) noexcept;

}  // namespace gatehouse::redis
