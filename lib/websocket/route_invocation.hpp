#pragma once

// Running a WebSocket stage's routes: a route's C++ handler, or its integration through the
// gateway's pipeline on the stage's hidden routes stage, for $connect, each message (a custom
// route or $default) and $disconnect; with the metrics, metering and record of each event.

#include "pipeline/pipeline.hpp"
#include "websocket/api_host.hpp"

#include <gatehouse/http.hpp>
#include <gatehouse/integration.hpp>

#include <asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::websocket {

/// What a route with an integration answered, run through the gateway's pipeline.
struct integration_reply {
  response res;
  bool gateway_error = false;  // the gateway ended it (timeout, failure, throttle …)
  std::shared_ptr<const auth::authorization> auth;
  std::chrono::nanoseconds integration_latency{-1};       // negative: no integration ran
  std::string api_key_id;                                 // the API key step 5 accepted
  response_type error_type = response_type::default_4xx;  // of a gateway error
};

/// Runs `req` on the stage's routes stage as the event `run` stands for (websocket/event_record),
/// with the connection's authorization (if any) already known; `run` keeps it for its record.
asio::awaitable<integration_reply> run_routes(const detail::websocket_stage_state& st, request& req,
                                              detail::internal_run& run);

/// What a $connect route's C++ handler came to: its result (none: it threw or timed out), and
/// its latency for the event's record (IntegrationLatency and the counts have it already).
struct connect_handler_outcome {
  std::optional<proxy_result> result;
  bool timed_out = false;
  std::chrono::nanoseconds latency{0};
};

/// Runs the $connect `route`'s C++ handler for connection `c`, whose upgrade request is `upgrade`.
asio::awaitable<connect_handler_outcome> run_connect_handler(
    const detail::websocket_stage_state& st, const detail::websocket_route& route,
    const detail::websocket_connection& c, const request& upgrade, std::string_view request_id);

/// A message from connection `c`'s client: throttled, routed by the API's route selection
/// expression, and run (a synchronous C++ handler at once, on the session's strand; else as a
/// coroutine on the connection's executor), or refused with AWS's error message.
void route_message(const std::shared_ptr<detail::websocket_stage_state>& st,
                   const std::shared_ptr<detail::websocket_connection>& c, message_kind kind,
                   std::string_view payload);

/// Runs the $disconnect route (if any) of a closed connection, and records the event.
asio::awaitable<void> handle_disconnect(std::shared_ptr<detail::websocket_stage_state> st,
                                        std::shared_ptr<detail::websocket_connection> c, int code,
                                        std::string reason);

}  // namespace gatehouse::websocket
