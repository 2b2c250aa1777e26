#pragma once

// The step after the response: every request a gateway answers is recorded here once, on the
// thread that answered it, without blocking (metrics, access logs, traces, metering).

#include "observe/meter.hpp"
#include "observe/metrics.hpp"
#include "observe/request_facts.hpp"
#include "observe/span_exporter.hpp"

#include <gatehouse/gateway.hpp>

#include <atomic>
#include <cstdint>
#include <memory>

namespace gatehouse::detail {
struct stage_snapshot;
}

namespace gatehouse::observe {

class observer {
 public:
  /// `store` and `executor`: where metering adds its counts, and runs its flushes.
  observer(const gateway_options& options, std::shared_ptr<store> store,
           asio::any_io_executor executor);
  ~observer();
  observer(const observer&) = delete;
  observer& operator=(const observer&) = delete;

  /// Records one answered request. Never throws, never waits.
  void record(const request_facts& facts) const noexcept;
  /// Records one WebSocket event (a connect, a message, a disconnect) once it has ended:
  /// `facts.ex.websocket` says which, `facts.ex.stage` is its WebSocket stage's routes stage.
  void record_event(const request_facts& facts) const noexcept;

  /// A TLS handshake on a listener ended (completed, or failed). Never throws, never waits.
  void tls_handshake(bool ok) const noexcept {
    if (metrics_) metrics_->tls_handshake(ok);
  }
  /// The server refused a request before any API (answered 400, 408, 413, 431 … and closed).
  void refused() const noexcept {
    if (metrics_) metrics_->refused();
  }
  /// A stage was mounted: its series exist from now on, before its first request.
  void mounted(const std::shared_ptr<const detail::stage_snapshot>& snapshot) const noexcept;

  /// AWS's metrics and the gateway's own; null when gateway_options::metrics is off.
  const std::shared_ptr<observe::metrics>& metrics() const noexcept { return metrics_; }
  /// Metering's counts; null when gateway_options::metering is off.
  const std::shared_ptr<observe::meter>& meter() const noexcept { return meter_; }
  /// The counters other modules bump (access-log lines dropped …), kept even with metrics off.
  gateway_counters& counters() const noexcept { return counters_; }

  /// Decides whether a request whose trace header left it open is sampled: on stages with
  /// tracing on, by tracing_options' rule; elsewhere not. Once its stage is known.
  void sample(detail::exchange& ex) const noexcept;

  /// Replaces the sampling rule and span export (Gateway::export_traces).
  void export_traces(tracing_options options);
  tracing_statistics trace_export_statistics() const noexcept;

 private:
  void export_spans(const request_facts& facts, span_exporter& exporter) const noexcept;

  std::shared_ptr<observe::metrics> metrics_;
  std::shared_ptr<observe::meter> meter_;
  mutable gateway_counters counters_;
  // The sampling rule and exporter; only requests of stages with tracing on read it.
  std::atomic<std::shared_ptr<span_exporter>> spans_;
};

/// The size of `res` as HTTP/1.1 sends it with Content-Length (status line, fields, blank line,
/// body): what a host that dispatches through the gateway writes for it.
std::uint64_t wire_size(const response& res) noexcept;

}  // namespace gatehouse::observe
