#pragma once

// The step after the response: every request a gateway answers is recorded here once, on the
// thread that answered it, without blocking (metrics, access logs, traces, metering).

#include "observe/request_facts.hpp"

#include <gatehouse/gateway.hpp>

namespace gatehouse::observe {

class observer {
 public:
  explicit observer(const gateway_options& options);
  ~observer();
  observer(const observer&) = delete;
  observer& operator=(const observer&) = delete;

  /// Records one answered request. Never throws, never waits.
  void record(const request_facts& facts) const noexcept;
  /// Records one WebSocket event (a connect, a message, a disconnect) once it has ended:
  /// `facts.ex.websocket` says which, `facts.ex.stage` is its WebSocket stage's routes stage.
  void record_event(const request_facts& facts) const noexcept;
};

/// The size of `res` as HTTP/1.1 sends it with Content-Length (status line, fields, blank line,
/// body): what a host that dispatches through the gateway writes for it.
std::uint64_t wire_size(const response& res) noexcept;

}  // namespace gatehouse::observe
