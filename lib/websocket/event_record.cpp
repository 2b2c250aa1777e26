#include "websocket/event_record.hpp"

#include "util/access.hpp"

namespace gatehouse::websocket {

detail::websocket_call event_call(const detail::websocket_connection& c, std::string_view route_key,
                                  std::string_view event_type, std::string_view message_id) {
  const auto connected_at =
      std::chrono::duration_cast<std::chrono::milliseconds>(c.connected_at.time_since_epoch())
          .count();
  return {c.id,         route_key,   event_type,   message_id,
          connected_at, c.source_ip, c.user_agent, c.domain_name};
}

detail::internal_run event_run(const detail::websocket_stage_state& st,
                               const detail::websocket_call& call,
                               std::shared_ptr<const auth::authorization> auth,
                               std::string_view request_id) {
  detail::internal_run run;
  run.stage = detail::access::state(*st.routes).get();
  run.websocket = &call;
  run.auth = std::move(auth);
  run.request_id = request_id;
  run.records_itself = true;
  return run;
}

void record_event(const detail::websocket_stage_state& st, detail::internal_run& run,
                  const detail::event_outcome& outcome) {
  if (auto pipeline = st.gateway.lock()) pipeline->record_event(run, outcome);
  run.finished.reset();
}

void record_event(const detail::websocket_stage_state& st, const detail::websocket_call& call,
                  std::shared_ptr<const auth::authorization> auth, std::string_view request_id,
                  const detail::event_outcome& outcome) {
  auto run = event_run(st, call, std::move(auth), request_id);
  record_event(st, run, outcome);
}

}  // namespace gatehouse::websocket
