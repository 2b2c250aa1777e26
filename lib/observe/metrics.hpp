#pragma once

// AWS's metrics and the gateway's own, kept per thread. Each thread that records has a shard
// of its own (observe/shards.hpp), which only it writes: no lock, no shared write and, once its
// series exist, no allocation per request. A read merges the shards. A request that waited and went
// on on another thread (a connection's strand may run anywhere) records into the shard of the
// thread it ends on. A series (a mounted stage; a method or route of a stage with detailed metrics)
// gets a small number when it first appears; requests address it by that number, found per thread
// from the stage snapshot's serial, never by a name.

#include "observe/request_facts.hpp"
#include "observe/shards.hpp"

#include <gatehouse/metrics.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace gatehouse::detail {
struct stage_snapshot;
}

namespace gatehouse::observe {

/// A latency histogram's cells (latency_histogram's buckets).
struct histogram_cells {
  static constexpr std::size_t size = latency_histogram::bounds_ms.size() + 1;
  std::array<counter, size> buckets;
  counter sum_ns;
  void add(std::chrono::nanoseconds d) noexcept;
};

/// One series' values in one thread's shard. Which fields count depends on the API's kind.
struct series_cells {
  counter count, errors_4xx, errors_5xx, cache_hits, cache_misses, data_processed;
  counter connects, messages, integration_errors, client_errors, execution_errors;
  histogram_cells latency, integration_latency;
};

using series_id = std::uint32_t;
inline constexpr series_id no_series = ~series_id{0};

/// What a WebSocket event counts, in AWS's WebSocket metrics.
enum class websocket_count : std::uint8_t {
  connect,            ///< ConnectCount
  message,            ///< MessageCount (either way)
  integration_error,  ///< IntegrationError
  client_error,       ///< ClientError
  execution_error,    ///< ExecutionError
};

/// The gateway's own counters that other modules bump from any thread. Their events are rare
/// (a full access-log buffer), so they are plain shared atomics.
class gateway_counters {
 public:
  /// Counts access-log lines dropped because the log's buffer was full (for the access log's
  /// writer: observer::counters().access_log_dropped(n) wherever it drops lines; any thread,
  /// never blocks). Exposed as gatehouse_access_log_lines_dropped_total.
  void access_log_dropped(std::uint64_t n = 1) noexcept {
    access_log_dropped_.fetch_add(n, std::memory_order_relaxed);
  }
  std::uint64_t access_log_lines_dropped() const noexcept {
    return access_log_dropped_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint64_t> access_log_dropped_{0};
};

/// The series of a WebSocket stage: the stage's, and its routes' by route ordinal
/// (no_series without detailed metrics).
struct websocket_series {
  series_id stage = no_series;
  std::vector<series_id> routes;
  series_id route(std::size_t ordinal) const noexcept {
    return ordinal < routes.size() ? routes[ordinal] : no_series;
  }
};

class metrics {
 public:
  metrics();
  ~metrics();
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  // The hot path: never throws, never waits, writes only the calling thread's shard.

  /// An answered HTTP request (REST or HTTP API, or no stage at all).
  void record(const request_facts& facts) noexcept;
  /// A WebSocket event of a stage (and of one of its routes, unless no_series).
  void count(series_id stage, series_id route, websocket_count what) noexcept;
  /// A WebSocket integration's latency.
  void integration_latency(series_id stage, series_id route, std::chrono::nanoseconds d) noexcept;
  /// A TLS handshake on a listener ended.
  void tls_handshake(bool ok) noexcept;
  /// The server refused a request before any API (its framing, size or pace).
  void refused() noexcept;

  // Set-up (rare; under the mutex).

  /// Makes the series of a mounted REST or HTTP stage's snapshot exist (before any request).
  void prepare(const std::shared_ptr<const detail::stage_snapshot>& snapshot) noexcept;
  /// The series of a WebSocket stage (`routes`: its route keys by ordinal; with `detailed`,
  /// one series each).
  websocket_series websocket_stage(std::string_view api_name, std::string_view api_id,
                                   std::string_view stage, const std::vector<std::string>& routes,
                                   bool detailed);

  /// Every series, merged over the threads' shards (gateway counters: the shard-kept ones).
  metrics_snapshot snapshot() const;

  struct shard;

 private:
  struct series_info;
  struct resolution;

  const resolution* resolve(shard& sh, const std::shared_ptr<const detail::stage_snapshot>& s);
  std::shared_ptr<const resolution> resolve_locked(
      const std::shared_ptr<const detail::stage_snapshot>& s);
  series_id add_series(series_info info);

  shard_registry<shard> shards_;
  std::mutex& mutex_ = shards_.mutex();  // guards the series and resolutions too
  std::vector<series_info> series_;
  std::map<std::string, series_id, std::less<>> by_key_;
  // Per snapshot (by serial): its series; dropped once the snapshot is gone.
  std::unordered_map<std::uint64_t, std::shared_ptr<const resolution>> resolutions_;
};

}  // namespace gatehouse::observe
