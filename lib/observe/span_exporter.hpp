#pragma once

// Exports finished spans to an OTLP/HTTP collector (JSON, POST /v1/traces) from a thread of its
// own: I/O threads only queue a sampled request's spans (a short lock, no I/O); the exporter
// batches them, sends, retries what the collector asks to be retried, and counts what it drops.

#include <gatehouse/http_client.hpp>
#include <gatehouse/tracing.hpp>

#include <asio/io_context.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace gatehouse::observe {

/// One finished span, as OTLP describes it.
struct span_record {
  std::uint64_t trace_high = 0, trace_low = 0;
  std::uint64_t span = 0, parent = 0;  // parent 0: a root span
  std::string name;
  int kind = 1;  // OTLP SpanKind: 1 internal, 2 server, 3 client
  std::int64_t start_unix_ns = 0, end_unix_ns = 0;
  bool error = false;  // OTLP status code 2 (error), else unset
  std::vector<std::pair<std::string, std::string>> text_attributes;
  std::vector<std::pair<std::string, std::int64_t>> int_attributes;
};

class span_exporter {
 public:
  /// Starts the exporter's thread when options.otlp_endpoint is set.
  explicit span_exporter(tracing_options options);
  /// Exports what is queued (within one export timeout), then stops the thread.
  ~span_exporter();
  span_exporter(const span_exporter&) = delete;
  span_exporter& operator=(const span_exporter&) = delete;

  bool enabled() const noexcept { return enabled_; }
  /// The sampling rule for a request of a stage with tracing on, arriving in `second` (epoch
  /// seconds): the reservoir's first requests of each second, then fixed_rate of the rest.
  bool sample(std::int64_t second) noexcept;
  /// Queues one request's spans; drops them (counted) when the queue is full. Never blocks on
  /// I/O.
  void push(std::vector<span_record>&& spans) noexcept;
  tracing_statistics statistics() const noexcept;

 private:
  void run();
  bool send(asio::io_context& io, http_client& client, const std::string& body);

  tracing_options options_;
  bool enabled_ = false;
  header_map headers_;  // options_.otlp_headers, parsed
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<span_record> queue_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> exported_{0}, dropped_{0}, failed_{0};
  // The reservoir: the second it counts for, and how many requests it took in it.
  std::atomic<std::int64_t> reservoir_second_{-1};
  std::atomic<std::uint32_t> reservoir_used_{0};
  std::thread thread_;
};

/// OTEL_EXPORTER_OTLP_HEADERS' "name=value,…" as header fields; throws config_error.
header_map parse_otlp_headers(std::string_view text);

/// The OTLP/HTTP JSON body (ExportTraceServiceRequest) of a batch of spans.
std::string otlp_json(const std::vector<span_record>& spans, std::string_view service_name);

}  // namespace gatehouse::observe
