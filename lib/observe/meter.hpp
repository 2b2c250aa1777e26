#pragma once

// Metering's counts (include/gatehouse/metering.hpp): per thread on the hot path, added into the
// store by flush(), each count exactly once.
//
// Each thread that records has a shard (observe/shards.hpp) of entries, one per series (API and
// stage) and API key, found through a table only that thread uses. An entry's counters only
// grow; the flusher remembers what it has added of each (under the flush mutex) and adds the
// difference, so a flush never resets what a thread writes and two flushes never add a count
// twice. An entry counts one UTC hour at a time: when a request of a later hour comes, its
// thread notes where the counters stood (a seqlock over the hour and that base), and the
// flusher splits what it finds between the two hours.

#include "observe/request_facts.hpp"
#include "observe/shards.hpp"

#include <gatehouse/gateway_response.hpp>
#include <gatehouse/metering.hpp>
#include <gatehouse/metrics.hpp>
#include <gatehouse/store.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::detail {
struct exchange;
}

namespace gatehouse::observe {

/// What an entry counts; their names are the store's counter names.
enum meter_field : std::uint8_t {
  mf_billed,
  mf_auth,
  mf_api_key,
  mf_throttled,
  mf_quota,
  mf_unmatched,
  mf_bytes_in,
  mf_bytes_out,
  mf_units,
  mf_connects,
  mf_messages_in,
  mf_messages_out,
  mf_connection_minutes,
  meter_field_count
};
inline constexpr std::array<std::string_view, meter_field_count> meter_field_names{
    "billed",      "auth",         "api_key",           "throttled", "quota",
    "unmatched",   "bytes_in",     "bytes_out",         "units",     "connects",
    "messages_in", "messages_out", "connection_minutes"};

/// A stage cache that is on, as a flush marks its hour.
struct cache_in_use {
  std::string api_id, api_name, stage;
  std::size_t capacity_bytes = 0;
};

using meter_series = std::uint32_t;

/// Where an answered request counts: not billed (by reason) or billed. Exposed for tests.
meter_field classify(const request_facts& facts) noexcept;
/// Where a request the gateway ended with a gateway response of `type` counts.
meter_field classify(response_type type) noexcept;

class meter : public std::enable_shared_from_this<meter> {
 public:
  meter(std::shared_ptr<store> store, asio::any_io_executor executor,
        std::chrono::seconds flush_interval);
  ~meter();  // flushes
  meter(const meter&) = delete;
  meter& operator=(const meter&) = delete;

  // The hot path: never throws, never waits, writes only the calling thread's shard.

  /// An answered HTTP request (REST or HTTP API, or no stage at all).
  void record(const request_facts& facts) noexcept;
  /// A WebSocket event of a series (websocket_series): `field` counted `n` times, and `bytes`
  /// (a message's size, in or out) into the bytes and 32 KB units.
  void websocket(meter_series series, std::string_view key_id, meter_field field, std::uint64_t n,
                 std::uint64_t bytes, std::chrono::system_clock::time_point at) noexcept;

  // Set-up and reading.

  /// The series of a WebSocket stage.
  meter_series websocket_series(std::string_view api_name, std::string_view api_id,
                                std::string_view stage);
  /// Where flushes find the stage caches that are on (null: nowhere).
  void caches(std::function<std::vector<cache_in_use>()> list) {
    std::lock_guard lock(flush_mutex_);
    caches_ = std::move(list);
  }
  /// Flushes every flush interval on the executor until stop_timer() (while the gateway
  /// listens: its listeners keep the host's io_context busy anyway).
  void start_timer();
  void stop_timer();

  /// Adds what the threads counted (and what an earlier flush could not add) into the store.
  /// Never throws: what the store refused is kept for the next flush.
  void flush() noexcept;
  metering_report report(std::chrono::system_clock::time_point from,
                         std::chrono::system_clock::time_point to);
  void prices(metering_prices p);
  metering_prices prices() const;

  /// What flushes could not add to the store, since the start (store failures).
  std::uint64_t flush_failures() const noexcept {
    return flush_failures_.load(std::memory_order_relaxed);
  }

  struct entry;
  struct shard;

 private:
  struct series_info {
    metrics_api_type type = metrics_api_type::rest;
    std::string api_id, api_name, stage;
  };
  using deltas = std::array<std::int64_t, meter_field_count>;

  entry* slow_entry(shard& sh, const detail::exchange& ex, std::int64_t hour) noexcept;
  entry* find_entry(shard& sh, meter_series series, std::string_view key_id,
                    std::int64_t hour) noexcept;
  meter_series add_series(series_info info);  // under the registry's mutex
  void flush_locked();
  void due(std::int64_t now_s) noexcept;
  void arm_timer();

  std::shared_ptr<store> store_;
  asio::any_io_executor executor_;
  const std::chrono::seconds interval_;
  shard_registry<shard> shards_;
  // Under shards_.mutex(): the series, by number and by name.
  std::vector<series_info> series_;
  std::map<std::string, meter_series, std::less<>> by_name_;

  std::mutex flush_mutex_;
  std::map<std::string, deltas> pending_;  // counted, not yet in the store (under flush_mutex_)
  std::function<std::vector<cache_in_use>()> caches_;
  std::atomic<std::int64_t> next_flush_s_{0};  // when a request posts the next flush
  std::atomic<std::uint64_t> flush_failures_{0};

  mutable std::mutex prices_mutex_;
  metering_prices prices_;

  std::mutex timer_mutex_;
  std::unique_ptr<asio::steady_timer> timer_;  // under timer_mutex_; null when stopped
};

/// The name of an API type in counts records' keys and reports: rest, http, websocket.
std::string_view type_name(metrics_api_type t) noexcept;

/// The store's key prefixes: counts records, and the marks of cache hours.
inline constexpr std::string_view meter_counts_prefix = "metering/";
inline constexpr std::string_view meter_cache_prefix = "metering-cache/";

/// The report of counts records and cache marks (as the store returns them) over the hours
/// that overlap [from, to), priced.
metering_report make_report(const std::vector<counts_record>& counts,
                            const std::vector<std::pair<std::string, std::string>>& caches,
                            std::chrono::system_clock::time_point from,
                            std::chrono::system_clock::time_point to,
                            const metering_prices& prices);

}  // namespace gatehouse::observe
