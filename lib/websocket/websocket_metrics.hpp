#pragma once

// AWS's WebSocket metrics (ConnectCount, MessageCount, IntegrationError, ClientError,
// ExecutionError, IntegrationLatency) of a stage, and of a route where the stage keeps detailed
// metrics: what upgrade.cpp and route_invocation.cpp count where connects and messages happen.
// Nothing when the gateway keeps no metrics.

#include "websocket/api_host.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace gatehouse::websocket {

inline observe::series_id route_series(const detail::websocket_stage_state& st,
                                       const detail::websocket_route* route) noexcept {
  return route ? st.series.route(route->ordinal) : observe::no_series;
}

/// Counts an event of the stage (and of `route`, when not null).
inline void count(const detail::websocket_stage_state& st, const detail::websocket_route* route,
                  observe::websocket_count what) noexcept {
  if (st.metrics) st.metrics->count(st.series.stage, route_series(st, route), what);
}

/// Meters a WebSocket event of the stage under an API key (metering's counts).
inline void meter(const detail::websocket_stage_state& st, std::string_view key_id,
                  observe::meter_field what, std::uint64_t bytes = 0) noexcept {
  if (st.meter)
    st.meter->websocket(st.meter_series, key_id, what, 1, bytes, std::chrono::system_clock::now());
}

/// Queues a message to the client; counted in MessageCount and metered when queued.
inline bool send_counted(const detail::websocket_stage_state& st,
                         const detail::websocket_route* route, session& s, message_kind kind,
                         std::string payload) {
  const std::size_t bytes = payload.size();
  const bool sent = s.send(kind, std::move(payload));
  if (sent) {
    count(st, route, observe::websocket_count::message);
    meter(st, s.api_key_id, observe::mf_messages_out, bytes);
  }
  return sent;
}
inline bool send_counted(const detail::websocket_stage_state& st,
                         const detail::websocket_route* route, session& s, std::string text) {
  return send_counted(st, route, s, message_kind::text, std::move(text));
}

/// An integration's latency (negative: none ran).
inline void integration_latency(const detail::websocket_stage_state& st,
                                const detail::websocket_route* route,
                                std::chrono::nanoseconds d) noexcept {
  if (st.metrics && d.count() >= 0)
    st.metrics->integration_latency(st.series.stage, route_series(st, route), d);
}

/// What an answer counts: a gateway error is a ClientError (4xx: refused before the
/// integration) or an ExecutionError (calling the integration failed); the integration's own
/// 4xx or 5xx is an IntegrationError.
inline void count_outcome(const detail::websocket_stage_state& st,
                          const detail::websocket_route* route, int status,
                          bool gateway_error) noexcept {
  if (gateway_error)
    count(st, route,
          status >= 400 && status <= 499 ? observe::websocket_count::client_error
                                         : observe::websocket_count::execution_error);
  else if (status >= 400)
    count(st, route, observe::websocket_count::integration_error);
}

/// One call of a route's C++ handler, timed by a single clock read at each end: its start and
/// latency serve both IntegrationLatency and the event's record.
class handler_invocation {
 public:
  handler_invocation() noexcept : started_(std::chrono::steady_clock::now()) {}

  /// Ends the call: its latency into IntegrationLatency, and its outcome counted (a result by
  /// its status; none, as when the handler threw or timed out, as an ExecutionError).
  void finish(const detail::websocket_stage_state& st, const detail::websocket_route* route,
              const std::optional<proxy_result>& result) noexcept {
    latency_ = std::chrono::steady_clock::now() - started_;
    integration_latency(st, route, latency_);
    if (result)
      count_outcome(st, route, result->status_code, false);
    else
      count(st, route, observe::websocket_count::execution_error);
  }
  std::chrono::steady_clock::time_point started() const noexcept { return started_; }
  std::chrono::nanoseconds latency() const noexcept { return latency_; }

 private:
  std::chrono::steady_clock::time_point started_;
  std::chrono::nanoseconds latency_{0};
};

}  // namespace gatehouse::websocket
