#pragma once

// The step after the response: every request a gateway answers is recorded here once, on the
// thread that answered it, without blocking (metrics, access logs, traces, metering).

#include "observe/request_facts.hpp"
#include "observe/span_exporter.hpp"

#include <gatehouse/gateway.hpp>

#include <atomic>
#include <cstdint>
#include <memory>

namespace gatehouse::observe {

class observer {
 public:
  explicit observer(const gateway_options& options);
  ~observer();
  observer(const observer&) = delete;
  observer& operator=(const observer&) = delete;

  /// Records one answered request. Never throws, never waits.
  void record(const request_facts& facts) const noexcept;

  /// Decides whether a request whose trace header left it open is sampled: on stages with
  /// tracing on, by tracing_options' rule; elsewhere not. Once its stage is known.
  void sample(detail::exchange& ex) const noexcept;

  /// Replaces the sampling rule and span export (Gateway::export_traces).
  void export_traces(tracing_options options);
  tracing_statistics trace_export_statistics() const noexcept;

 private:
  void export_spans(const request_facts& facts, span_exporter& exporter) const noexcept;

  // The sampling rule and exporter; only requests of stages with tracing on read it.
  std::atomic<std::shared_ptr<span_exporter>> spans_;
};

/// The size of `res` as HTTP/1.1 sends it with Content-Length (status line, fields, blank line,
/// body): what a host that dispatches through the gateway writes for it.
std::uint64_t wire_size(const response& res) noexcept;

}  // namespace gatehouse::observe
