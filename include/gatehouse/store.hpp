#pragma once

// Where gatehouse keeps the state that requests share: token buckets, quota and usage
// counters, API key records. One interface, so that the in-memory default and a store shared
// by several gateway instances (Redis) are interchangeable.

#include <gatehouse/config.hpp>
#include <gatehouse/throttle.hpp>

#include <asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse {

using time_point = std::chrono::system_clock::time_point;

/// One token bucket a request must take a token from.
struct bucket_check {
  std::string_view key{};
  throttle_settings limit{};
};

/// A counter a request must fit under: at most `limit` counts; the counter (one per period,
/// its key names the period) may be forgotten after `expires`.
struct quota_check {
  std::string_view key{};
  std::int64_t limit = 0;
  time_point expires{};
  /// For a store that keeps time by its server's clock (Redis), which finds the period itself:
  /// the counter's name without the period, the period, the limit of a whole period, and the
  /// limit of the period that contains `plan_created` (less the plan's offset).
  std::string_view plan_key{};
  quota_period period = quota_period::day;
  std::int64_t period_limit = 0;
  std::int64_t first_period_limit = 0;
  time_point plan_created{};
};

/// Everything one request must be admitted by, checked and taken all or nothing.
struct admission {
  std::span<const bucket_check> buckets{};  ///< most specific first
  std::optional<quota_check> quota{};       ///< counted only when every bucket had a token
  std::string_view usage_key{};             ///< when not empty, counted +1 on admission
  time_point usage_expires{};
};

/// unavailable: a shared store could not be asked in time and fails closed (503 Service
/// Unavailable, Retry-After: 1).
enum class admission_verdict { admitted, throttled, quota_exceeded, unavailable };

struct admission_result {
  admission_verdict verdict = admission_verdict::admitted;
  std::size_t refused_bucket = 0;           ///< index into admission::buckets when throttled
  std::chrono::nanoseconds retry_after{0};  ///< when a token is back, or the quota resets
};

/// What a stage cache lookup found.
struct cache_lookup {
  enum class outcome { hit, miss, pending };  ///< pending: the store must ask elsewhere
  outcome state = outcome::miss;
  std::shared_ptr<const std::string> data{};  ///< the entry, on a hit
};

/// An increment of one named counter of a counts record.
using count_delta = std::pair<std::string_view, std::int64_t>;

/// A record of named counters (metering's counts of one API, stage, key and hour).
struct counts_record {
  std::string key;
  std::vector<std::pair<std::string, std::int64_t>> counts;  ///< sorted by name
};

/// What a store that talks to a server reports of it (Gateway::metrics).
struct store_statistics {
  std::uint64_t round_trips = 0;  ///< requests sent to the server, answered or failed
  std::uint64_t failures = 0;     ///< of those, failed (connection lost, timeout, error reply)
};

/// A record call (put, get, scan, …) of a store on a server that could not be answered in
/// time; what() says which call and why.
class store_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The store interface. Request-path calls (try_admit / admit) must be cheap and thread-safe;
/// the record calls serve key management and reports.
class store {
 public:
  virtual ~store() = default;

  /// Admits a request if every bucket has a token and the quota has room, and then takes
  /// them; otherwise takes nothing. nullopt: the answer needs I/O, so call admit().
  virtual std::optional<admission_result> try_admit(const admission& a, time_point now) = 0;
  /// The same as try_admit, for stores that must ask elsewhere.
  virtual asio::awaitable<admission_result> admit(const admission& a, time_point now);

  /// Stage cache entries, by key within a namespace (one per stage) that holds at most
  /// `capacity` bytes, the least recently used going first. Never returns an expired entry.
  virtual cache_lookup try_cache_get(std::string_view ns, std::string_view key, time_point now) = 0;
  virtual asio::awaitable<cache_lookup> cache_get(std::string_view ns, std::string_view key,
                                                  time_point now);
  virtual void cache_put(std::string_view ns, std::string_view key,
                         std::shared_ptr<const std::string> data, time_point expires,
                         std::size_t capacity) = 0;
  /// Empties a namespace (AWS's FlushStageCache).
  virtual void cache_flush(std::string_view ns) = 0;

  /// A counter's value (0 when absent or expired).
  virtual std::int64_t counter(std::string_view key, time_point now) = 0;

  /// Small records by key: API keys, plan membership.
  virtual void put(std::string_view key, std::string value) = 0;
  virtual std::optional<std::string> get(std::string_view key) = 0;
  /// Puts `value` only when `key` has no record yet, as one step among every instance sharing
  /// the store; false when it had one (left as it was). The default: get() then put(), enough
  /// for a store that one process uses under the caller's lock.
  virtual bool put_new(std::string_view key, std::string value) {
    if (get(key)) return false;
    put(key, std::move(value));
    return true;
  }
  /// get() for the request path: never blocks a thread (a store on a server asks it without
  /// waiting); nullopt also when the server cannot answer in time.
  virtual asio::awaitable<std::optional<std::string>> fetch(std::string_view key);
  /// True when other gateway instances may change the records (put, erase) too: a record not
  /// found in a copy kept in memory must then be fetched.
  virtual bool shared() const noexcept { return false; }
  /// A record put (`value` set) or erased (`value` null); an empty `key`: changes may have been
  /// missed (the store lost its server for a while), so read again what you keep.
  using record_watcher =
      std::function<void(std::string_view key, std::optional<std::string_view> value)>;
  /// Calls `on_change` (on any thread, soon after; not within put or erase) for each record
  /// under `prefix` that any instance sharing the store puts or erases, this one's included.
  /// A store that only one process uses calls it never (the default).
  virtual void watch(std::string_view prefix, record_watcher on_change) {
    (void)prefix, (void)on_change;
  }
  virtual bool erase(std::string_view key) = 0;
  /// Every record whose key starts with `prefix`, sorted by key.
  virtual std::vector<std::pair<std::string, std::string>> scan(std::string_view prefix) = 0;

  /// Adds `deltas` to the named counters of the record `key` (made, at 0, when absent) as one
  /// step: metering adds its counts here, so that the gateways sharing a store add into the
  /// same totals. The default keeps them as put()/get() records ("name=value" lines) under a
  /// process-wide lock: enough for a store that one process uses; a store shared by several
  /// overrides it with an increment of its own (Redis: HINCRBY).
  virtual void add_counts(std::string_view key, std::span<const count_delta> deltas);
  /// Every counts record whose key starts with `prefix`, sorted by key.
  virtual std::vector<counts_record> scan_counts(std::string_view prefix);

  /// Round trips to a server and their failures since the store was made, read when metrics
  /// are (any thread; keep it cheap). The in-memory store makes none.
  virtual store_statistics statistics() const noexcept { return {}; }
};

/// The in-memory store: sharded maps, one lock per shard, nothing shared by all requests but
/// the buckets they share.
std::shared_ptr<store> make_memory_store();

}  // namespace gatehouse
