#pragma once

// The step after the response: every request a gateway answers is recorded here once, on the
// thread that answered it, without blocking (metrics, access logs, traces, metering).

#include "observe/metrics.hpp"
#include "observe/request_facts.hpp"

#include <gatehouse/gateway.hpp>

#include <memory>

namespace gatehouse::detail {
struct stage_snapshot;
}

namespace gatehouse::observe {

class observer {
 public:
  explicit observer(const gateway_options& options);
  ~observer();
  observer(const observer&) = delete;
  observer& operator=(const observer&) = delete;

  /// Records one answered request. Never throws, never waits.
  void record(const request_facts& facts) const noexcept;
  /// A TLS handshake on a listener ended (completed, or failed). Never throws, never waits.
  void tls_handshake(bool ok) const noexcept {
    if (metrics_) metrics_->tls_handshake(ok);
  }
  /// A stage was mounted: its series exist from now on, before its first request.
  void mounted(const std::shared_ptr<const detail::stage_snapshot>& snapshot) const noexcept;

  /// AWS's metrics and the gateway's own; null when gateway_options::metrics is off.
  const std::shared_ptr<observe::metrics>& metrics() const noexcept { return metrics_; }
  /// The counters other modules bump (access-log lines dropped …), kept even with metrics off.
  gateway_counters& counters() const noexcept { return counters_; }

 private:
  std::shared_ptr<observe::metrics> metrics_;
  mutable gateway_counters counters_;
};

/// The size of `res` as HTTP/1.1 sends it with Content-Length (status line, fields, blank line,
/// body): what a host that dispatches through the gateway writes for it.
std::uint64_t wire_size(const response& res) noexcept;

}  // namespace gatehouse::observe
