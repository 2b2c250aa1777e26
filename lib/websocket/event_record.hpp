#pragma once

// The record of each WebSocket event (a connect, a message, a disconnect) once it has ended, for
// the stage's access log: on the stage's routes stage, with the event's request id, its
// $context (connectionId, routeKey, eventType …) and the connection's authorization.

#include "pipeline/exchange.hpp"
#include "pipeline/pipeline.hpp"
#include "websocket/api_host.hpp"

#include <chrono>
#include <memory>
#include <string_view>

namespace gatehouse::websocket {

/// The $context of an event of connection `c`.
detail::websocket_call event_call(const detail::websocket_connection& c, std::string_view route_key,
                                  std::string_view event_type, std::string_view message_id = {});

/// An internal run for an event on the stage's routes stage, kept for its record once run.
detail::internal_run event_run(const detail::websocket_stage_state& st,
                               const detail::websocket_call& call,
                               std::shared_ptr<const auth::authorization> auth,
                               std::string_view request_id);

/// Records the event `run` stands for (after its internal run, if it had one).
void record_event(const detail::websocket_stage_state& st, detail::internal_run& run,
                  const detail::event_outcome& outcome);

/// Records an event that ended without an internal run.
void record_event(const detail::websocket_stage_state& st, const detail::websocket_call& call,
                  std::shared_ptr<const auth::authorization> auth, std::string_view request_id,
                  const detail::event_outcome& outcome);

/// A gateway error of `type` with `status` and `message`, as the event's record shows it.
inline detail::gateway_error event_error(response_type type, int status, std::string_view message) {
  return detail::gateway_error{type, status, std::string(message)};
}

}  // namespace gatehouse::websocket
