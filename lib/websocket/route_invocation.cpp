#include "websocket/route_invocation.hpp"

#include "auth/authorization.hpp"
#include "pipeline/exchange.hpp"
#include "pipeline/request_id.hpp"
#include "throttle/token_bucket.hpp"
#include "util/json_parse.hpp"
#include "util/json_text.hpp"
#include "websocket/event_ids.hpp"
#include "websocket/event_record.hpp"
#include "websocket/route_selection.hpp"
#include "websocket/websocket_metrics.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <rapidjson/document.h>

namespace gatehouse::websocket {

namespace {
using clock = std::chrono::system_clock;

std::string error_message(std::string_view message, std::string_view connection_id,
                          std::string_view request_id) {
  std::string out = "{\"message\":";
  util::append_json_string(out, message);
  out += ",\"connectionId\":";
  util::append_json_string(out, connection_id);
  out += ",\"requestId\":";
  util::append_json_string(out, request_id);
  out += '}';
  return out;
}

// What a route's C++ handler came to: its result, or nothing when it threw or timed out.
struct handler_outcome {
  std::optional<proxy_result> result;
  bool timed_out = false;
};

asio::awaitable<handler_outcome> invoke(const detail::websocket_route& r,
                                        const websocket_event& ev) {
  handler_outcome out;
  try {
    if (r.async) {
      // A coroutine handler races the route's timeout; the loser is cancelled.
      using namespace asio::experimental::awaitable_operators;
      asio::steady_timer timer(co_await asio::this_coro::executor, r.options.timeout);
      auto first = co_await (r.async(ev) || timer.async_wait(asio::use_awaitable));
      if (first.index() == 1)
        out.timed_out = true;
      else
        out.result = std::move(std::get<0>(first));
    } else {
      out.result = r.sync(ev);
    }
  } catch (...) {
  }
  co_return out;
}

// The "message" of a gateway response's JSON body, for the WebSocket error message.
std::string gateway_message(const response& res) {
  rapidjson::Document doc;
  if (util::parse_json(doc, res.body) && doc.IsObject())
    for (const char* name : {"message", "Message"})
      if (auto it = doc.FindMember(name); it != doc.MemberEnd() && it->value.IsString())
        return std::string(it->value.GetString(), it->value.GetStringLength());
  return "Internal server error";
}

// A message or $disconnect as the request an integration route gets.
request route_request(const detail::websocket_connection& c, const detail::websocket_route& r,
                      std::string body, bool binary) {
  request req;
  req.method = "POST";
  req.target = r.path;
  req.source_ip = c.source_ip;
  if (!c.domain_name.empty()) req.headers.add("Host", c.domain_name);
  if (!c.user_agent.empty()) req.headers.add("User-Agent", c.user_agent);
  req.headers.add("Content-Type", binary ? "application/octet-stream" : "application/json");
  req.body = std::move(body);
  return req;
}

// Sends a route's answer back on a two-way route: text when it is UTF-8, else binary.
void send_reply(const detail::websocket_stage_state& st, const detail::websocket_route& route,
                session& s, std::string body, bool base64) {
  if (body.empty()) return;
  if (base64) {
    std::string raw;
    if (util::base64_decode(body, raw))
      send_counted(st, &route, s, message_kind::binary, std::move(raw));
    return;
  }
  const auto kind = util::valid_utf8(body) ? message_kind::text : message_kind::binary;
  send_counted(st, &route, s, kind, std::move(body));
}

websocket_event base_event(const detail::websocket_stage_state& st,
                           const detail::websocket_connection& c, std::string_view route_key,
                           websocket_event_type type, std::string_view request_id,
                           clock::time_point now = clock::now()) {
  websocket_event ev;
  ev.event_type = type;
  ev.route_key = route_key;
  ev.connection_id = c.id;
  ev.stage = st.name;
  ev.request_id = request_id;
  ev.domain_name = c.domain_name;
  ev.api_id = st.api->options.id;
  ev.source_ip = c.source_ip;
  ev.user_agent = c.user_agent;
  ev.connected_at = epoch_ms(c.connected_at);
  ev.principal_id = c.principal_id;
  ev.authorizer_json = c.authorizer_json;
  ev.request_time_epoch = epoch_ms(now);
  detail::websocket_event_access::set_stage(ev, st);
  return ev;
}

// Messages of one connection whose integrations may run at once.
constexpr int max_in_flight = 128;

// A message for a synchronous C++ handler: called at once on the session's strand, with views
// of the message and ids on the stack, and its answer queued straight away.
void handle_sync_message(const detail::websocket_stage_state& st, detail::websocket_connection& c,
                         const detail::websocket_route& route, std::string_view key,
                         message_kind kind, std::string_view body, clock::time_point now) {
  char rid[37];
  detail::make_request_id(rid);
  char message_id[17];
  random_id(message_id);
  websocket_event ev = base_event(st, c, key, websocket_event_type::message, {rid, 36}, now);
  ev.message_id = {message_id, 16};
  ev.body = body;
  ev.is_binary = kind == message_kind::binary;
  std::optional<proxy_result> result;
  handler_invocation invocation;
  try {
    result = route.sync(ev);
  } catch (...) {
  }
  invocation.finish(st, &route, result);
  const auto call = event_call(c, key, "MESSAGE", ev.message_id);
  if (!result) {
    if (auto s = c.session.lock())
      send_counted(st, &route, *s, error_message("Internal server error", c.id, {rid, 36}));
    const auto err = event_error(response_type::integration_failure, 500, "Internal server error");
    record_event(st, call, c.auth, {rid, 36},
                 {500, &err, invocation.latency(), invocation.started()});
    return;
  }
  record_event(st, call, c.auth, {rid, 36},
               {200, nullptr, invocation.latency(), invocation.started()});
  if (!route.options.two_way || result->body.empty()) return;
  if (auto s = c.session.lock())
    send_reply(st, route, *s, std::move(result->body), result->is_base64_encoded);
}

// A message for a coroutine handler or an integration: run as a coroutine.
asio::awaitable<void> handle_message(std::shared_ptr<detail::websocket_stage_state> st,
                                     std::shared_ptr<detail::websocket_connection> c,
                                     const detail::websocket_route* route, std::string key,
                                     message_kind kind, std::string body,
                                     std::chrono::steady_clock::time_point received) {
  struct done_guard {
    detail::websocket_connection* c;
    ~done_guard() { c->in_flight.fetch_sub(1, std::memory_order_relaxed); }
  } done{c.get()};
  const std::string rid = request_id();
  const std::string message_id = random_id();
  const auto call = event_call(*c, key, "MESSAGE", message_id);
  if (route->target) {
    request req = route_request(*c, *route, std::move(body), kind == message_kind::binary);
    auto run = event_run(*st, call, c->auth, rid);
    auto reply = co_await run_routes(*st, req, run);
    integration_latency(*st, route, reply.integration_latency);
    count_outcome(*st, route, reply.res.status, reply.gateway_error);
    record_event(*st, run, {reply.res.status});
    auto s = c->session.lock();
    if (!s) co_return;
    if (reply.gateway_error)
      send_counted(*st, route, *s, error_message(gateway_message(reply.res), c->id, rid));
    else if (route->options.two_way)
      send_reply(*st, *route, *s, std::move(reply.res.body), false);
    co_return;
  }
  websocket_event ev = base_event(*st, *c, key, websocket_event_type::message, rid);
  ev.message_id = message_id;
  ev.body = body;
  ev.is_binary = kind == message_kind::binary;
  handler_invocation invocation;
  auto outcome = co_await invoke(*route, ev);
  invocation.finish(*st, route, outcome.result);
  {
    const auto err =
        outcome.timed_out
            ? event_error(response_type::integration_timeout, 504, "Endpoint request timed out")
            : event_error(response_type::integration_failure, 500, "Internal server error");
    const int status = outcome.result ? 200 : err.status;
    record_event(*st, call, c->auth, rid,
                 {status, outcome.result ? nullptr : &err, invocation.latency(), received});
  }
  auto s = c->session.lock();
  if (!s) co_return;
  if (!outcome.result) {
    send_counted(
        *st, route, *s,
        error_message(outcome.timed_out ? "Endpoint request timed out" : "Internal server error",
                      c->id, rid));
    co_return;
  }
  if (route->options.two_way)
    send_reply(*st, *route, *s, std::move(outcome.result->body), outcome.result->is_base64_encoded);
}

// A message the gateway refuses before any route runs: the client gets AWS's error message, and
// the stage's log a MESSAGE with the refusal.
// Counted as a ClientError of `route` (null: not routed).
void refuse_message(const detail::websocket_stage_state& st, const detail::websocket_connection& c,
                    const detail::websocket_route* route, std::string_view key, response_type type,
                    int status, std::string_view message) {
  const std::string rid = request_id();
  count(st, route, observe::websocket_count::client_error);
  if (auto s = c.session.lock()) send_counted(st, route, *s, error_message(message, c.id, rid));
  const auto err = event_error(type, status, message);
  record_event(st, event_call(c, key, "MESSAGE"), c.auth, rid,
               {status, &err, std::chrono::nanoseconds(-1)});
}

}  // namespace

asio::awaitable<integration_reply> run_routes(const detail::websocket_stage_state& st, request& req,
                                              detail::internal_run& run) {
  integration_reply out;
  auto pipeline = st.gateway.lock();
  if (!pipeline) {  // the gateway is gone
    out.res.status = 500;
    out.gateway_error = true;
    co_return out;
  }
  out.res = co_await pipeline->run(req, nullptr, &run);
  out.gateway_error = run.gateway_error;
  out.error_type = run.error_type;
  out.auth = std::move(run.auth);
  out.api_key_id = std::move(run.api_key_id);
  out.integration_latency = run.integration_latency;
  co_return out;
}

asio::awaitable<connect_handler_outcome> run_connect_handler(
    const detail::websocket_stage_state& st, const detail::websocket_route& route,
    const detail::websocket_connection& c, const request& upgrade, std::string_view request_id) {
  websocket_event ev = base_event(st, c, "$connect", websocket_event_type::connect, request_id);
  ev.upgrade = &upgrade;
  handler_invocation invocation;
  auto outcome = co_await invoke(route, ev);
  invocation.finish(st, &route, outcome.result);
  co_return connect_handler_outcome{std::move(outcome.result), outcome.timed_out,
                                    invocation.latency()};
}

void route_message(const std::shared_ptr<detail::websocket_stage_state>& st,
                   const std::shared_ptr<detail::websocket_connection>& c, message_kind kind,
                   std::string_view payload) {
  const auto now = clock::now();
  c->last_active_ms.store(epoch_ms(now), std::memory_order_relaxed);
  if (const auto& limit = st->options.message_throttle) {
    const auto now_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
    if (throttle::take(c->message_bucket, *limit, now_ns) != 0) {  // not routed
      meter(*st, c->api_key_id, observe::mf_throttled);            // not billed
      count(*st, nullptr, observe::websocket_count::message);
      refuse_message(*st, *c, nullptr, {}, response_type::throttled, 429, "Too Many Requests");
      return;
    }
  }
  std::string key;
  const auto* route = route_for(*st->api, kind, payload, key);
  count(*st, route, observe::websocket_count::message);
  meter(*st, c->api_key_id, observe::mf_messages_in, payload.size());
  if (!route) {
    refuse_message(*st, *c, nullptr, {}, response_type::default_4xx, 403, "Forbidden");
    return;
  }
  if (route->sync) {
    handle_sync_message(*st, *c, *route, key, kind, payload, now);
    return;
  }
  // A client cannot pile up integrations without bound: past the cap, messages are refused.
  if (c->in_flight.fetch_add(1, std::memory_order_relaxed) >= max_in_flight) {
    c->in_flight.fetch_sub(1, std::memory_order_relaxed);
    refuse_message(*st, *c, route, key, response_type::throttled, 429, "Too Many Requests");
    return;
  }
  asio::co_spawn(c->executor,
                 handle_message(st, c, route, std::move(key), kind, std::string(payload),
                                std::chrono::steady_clock::now()),
                 asio::detached);
}

asio::awaitable<void> handle_disconnect(std::shared_ptr<detail::websocket_stage_state> st,
                                        std::shared_ptr<detail::websocket_connection> c, int code,
                                        std::string reason) {
  const auto* route = st->api->find("$disconnect");
  const std::string rid = request_id();
  const auto call = event_call(*c, "$disconnect", "DISCONNECT");
  if (!route) {  // recorded all the same, as AWS logs every disconnect
    record_event(*st, call, c->auth, rid, {200, nullptr, std::chrono::nanoseconds(-1)});
    co_return;
  }
  if (route->target) {
    request req = route_request(*c, *route, {}, false);
    auto run = event_run(*st, call, c->auth, rid);
    auto reply = co_await run_routes(*st, req, run);
    integration_latency(*st, route, reply.integration_latency);
    count_outcome(*st, route, reply.res.status, reply.gateway_error);
    record_event(*st, run, {reply.res.status});
    co_return;
  }
  websocket_event ev = base_event(*st, *c, "$disconnect", websocket_event_type::disconnect, rid);
  ev.disconnect_status_code = code;
  ev.disconnect_reason = reason;
  handler_invocation invocation;
  auto outcome = co_await invoke(*route, ev);
  invocation.finish(*st, route, outcome.result);
  const auto err = event_error(response_type::integration_failure, 500, "Internal server error");
  record_event(*st, call, c->auth, rid,
               {outcome.result ? 200 : 500, outcome.result ? nullptr : &err, invocation.latency(),
                invocation.started()});
}

}  // namespace gatehouse::websocket
