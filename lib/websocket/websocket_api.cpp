// WebSocket APIs: routes, the upgrade with $connect, message routing, $disconnect, and the
// connection manager.

#include "auth/authorization.hpp"
#include "pipeline/exchange.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/request_id.hpp"
#include "routing/route_table.hpp"
#include "util/access.hpp"
#include "util/json_parse.hpp"
#include "util/json_ref.hpp"
#include "util/json_text.hpp"
#include "util/time_text.hpp"
#include "websocket/api_host.hpp"
#include "websocket/event_record.hpp"
#include "websocket/handshake.hpp"
#include "websocket/websocket_metrics.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/router.hpp>
#include <gatehouse/stage.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <random>

namespace gatehouse {

namespace {
using clock = std::chrono::system_clock;

std::int64_t epoch_ms(clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  return true;
}

// An AWS-like id: 11 random bytes in URL-safe base64, 16 characters (the last '='), written to
// `out` without allocating.
void random_id(char (&out)[17]) {
  thread_local std::mt19937_64 rng{
      std::random_device{}() ^ static_cast<std::uint64_t>(clock::now().time_since_epoch().count())};
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::uint8_t raw[12] = {};
  const std::uint64_t a = rng(), b = rng();
  for (int i = 0; i < 8; ++i) raw[i] = static_cast<std::uint8_t>(a >> (8 * i));
  for (int i = 0; i < 3; ++i) raw[8 + i] = static_cast<std::uint8_t>(b >> (8 * i));
  for (int g = 0; g < 4; ++g) {  // 3 bytes → 4 characters; the last group has 2 bytes
    const std::uint32_t v =
        (std::uint32_t{raw[3 * g]} << 16) | (std::uint32_t{raw[3 * g + 1]} << 8) | raw[3 * g + 2];
    out[4 * g] = alphabet[(v >> 18) & 63];
    out[4 * g + 1] = alphabet[(v >> 12) & 63];
    out[4 * g + 2] = alphabet[(v >> 6) & 63];
    out[4 * g + 3] = alphabet[v & 63];
  }
  out[15] = '=';
  out[16] = '\0';
}

std::string random_id() {
  char id[17];
  random_id(id);
  return std::string(id, 16);
}

std::string request_id() {
  char id[37];
  detail::make_request_id(id);
  return std::string(id, 36);
}

std::string_view event_type_name(websocket_event_type t) {
  switch (t) {
    case websocket_event_type::connect:
      return "CONNECT";
    case websocket_event_type::disconnect:
      return "DISCONNECT";
    case websocket_event_type::message:
      break;
  }
  return "MESSAGE";
}

// Stringifies the value at a dotted JSON path ("" when missing), as AWS's selection.
std::string json_path_value(const rapidjson::Value& root, std::string_view path) {
  const rapidjson::Value* v = &root;
  while (!path.empty()) {
    auto dot = path.find('.');
    auto name = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    if (!v->IsObject()) return {};
    auto it = v->FindMember(rapidjson::Value(util::json_ref(name)));
    if (it == v->MemberEnd()) return {};
    v = &it->value;
  }
  if (v->IsString()) return std::string(v->GetString(), v->GetStringLength());
  if (v->IsNull() || v->IsObject() || v->IsArray()) return {};
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  v->Accept(w);
  return std::string(out.GetString(), out.GetSize());
}

// The route key a message selects by the API's expression; nullopt when it is not JSON (or
// not an object, which selects nothing either). Small messages parse without allocating.
std::optional<std::string> select_route(std::string_view expression, std::string_view body) {
  std::size_t first = 0;
  while (first < body.size() &&
         (body[first] == ' ' || body[first] == '\t' || body[first] == '\n' || body[first] == '\r'))
    ++first;
  if (first == body.size() || body[first] != '{') return std::nullopt;
  using pool = rapidjson::MemoryPoolAllocator<>;
  char value_space[4096];
  char parse_space[1024];
  pool values(value_space, sizeof value_space);
  pool parse_stack(parse_space, sizeof parse_space);
  rapidjson::GenericDocument<rapidjson::UTF8<>, pool, pool> doc(&values, sizeof parse_space / 2,
                                                                &parse_stack);
  if (!util::parse_json(doc, body)) return std::nullopt;
  constexpr std::string_view prefix = "$request.body.";
  if (expression.starts_with(prefix)) return json_path_value(doc, expression.substr(prefix.size()));
  std::string out;
  while (!expression.empty()) {
    auto open = expression.find("${request.body.");
    if (open == std::string_view::npos) {
      out.append(expression);
      break;
    }
    out.append(expression.substr(0, open));
    auto close = expression.find('}', open);
    if (close == std::string_view::npos) {
      out.append(expression.substr(open));
      break;
    }
    auto start = open + 15;
    out += json_path_value(doc, expression.substr(start, close - start));
    expression.remove_prefix(close + 1);
  }
  return out;
}

// The route a message goes to, with its key: the selected route, else $default; null when
// neither exists.
const detail::websocket_route* route_for(const detail::websocket_api_state& api,
                                         websocket::message_kind kind, std::string_view body,
                                         std::string& key) {
  const detail::websocket_route* route = nullptr;
  if (kind == websocket::message_kind::text) {
    if (auto selected = select_route(api.options.route_selection_expression, body)) {
      key = std::move(*selected);
      if (key != "$connect" && key != "$disconnect" && key != "$default") route = api.find(key);
    }
  }
  if (!route) {
    key = "$default";
    route = api.find(key);
  }
  return route;
}

std::string iso8601(clock::time_point t) {
  auto ms = epoch_ms(t);
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

std::string_view default_reason(int code) {
  switch (code) {
    case 1000:
      return "Connection Closed Normally";
    case 1001:
      return "Going Away";
    case 1005:
      return "No Status Received";
    case 1006:
      return "Connection Lost";
    case 1009:
      return "Message Too Big";
    default:
      return "";
  }
}

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

// What a route with an integration answered, run through the gateway's pipeline.
struct integration_reply {
  response res;
  bool gateway_error = false;  // the gateway ended it (timeout, failure, throttle …)
  std::shared_ptr<const auth::authorization> auth;
  std::chrono::nanoseconds integration_latency{-1};       // negative: no integration ran
  std::string api_key_id;                                 // the API key step 5 accepted
  response_type error_type = response_type::default_4xx;  // of a gateway error
};

// Runs `req` on the stage's routes stage as the event `run` stands for (websocket/event_record),
// with the connection's authorization (if any) already known; `run` keeps it for its record.
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

// The "message" of a gateway response's JSON body, for the WebSocket error message.
std::string gateway_message(const response& res) {
  rapidjson::Document doc;
  if (util::parse_json(doc, res.body) && doc.IsObject())
    for (const char* name : {"message", "Message"})
      if (auto it = doc.FindMember(name); it != doc.MemberEnd() && it->value.IsString())
        return std::string(it->value.GetString(), it->value.GetStringLength());
  return "Internal server error";
}

// requestContext.authorizer of a connection's events: principalId and the context, stringified.
std::string authorizer_json(const auth::authorization& a) {
  std::string out = "{\"principalId\":";
  util::append_json_string(out, a.principal_id.empty() ? a.user_arn : a.principal_id);
  for (const auto& [k, v] : a.context) {
    out += ',';
    util::append_json_string(out, k);
    out += ':';
    util::append_json_string(out, to_string(v));
  }
  if (!a.claims_json.empty()) {
    out += ",\"claims\":";
    out += a.claims_json;
  }
  out += '}';
  return out;
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
                websocket::session& s, std::string body, bool base64) {
  if (body.empty()) return;
  using websocket::message_kind;
  if (base64) {
    std::string raw;
    if (util::base64_decode(body, raw))
      websocket::send_counted(st, &route, s, message_kind::binary, std::move(raw));
    return;
  }
  const auto kind = util::valid_utf8(body) ? message_kind::text : message_kind::binary;
  websocket::send_counted(st, &route, s, kind, std::move(body));
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
                         websocket::message_kind kind, std::string_view body,
                         clock::time_point now) {
  const auto received = std::chrono::steady_clock::now();
  char rid[37];
  detail::make_request_id(rid);
  char message_id[17];
  random_id(message_id);
  websocket_event ev = base_event(st, c, key, websocket_event_type::message, {rid, 36}, now);
  ev.message_id = {message_id, 16};
  ev.body = body;
  ev.is_binary = kind == websocket::message_kind::binary;
  std::optional<proxy_result> result;
  const websocket::integration_timer timer(st);
  try {
    result = route.sync(ev);
  } catch (...) {
  }
  timer.done(st, &route);
  const auto call = websocket::event_call(c, key, "MESSAGE", ev.message_id);
  if (!result) {
    websocket::count(st, &route, observe::websocket_count::execution_error);
    if (auto s = c.session.lock())
      websocket::send_counted(st, &route, *s,
                              error_message("Internal server error", c.id, {rid, 36}));
    const auto err =
        websocket::event_error(response_type::integration_failure, 500, "Internal server error");
    websocket::record_event(st, call, c.auth, {rid, 36},
                            {500, &err, websocket::since(received), received});
    return;
  }
  websocket::count_outcome(st, &route, result->status_code, false);
  websocket::record_event(st, call, c.auth, {rid, 36},
                          {200, nullptr, websocket::since(received), received});
  if (!route.options.two_way || result->body.empty()) return;
  if (auto s = c.session.lock())
    send_reply(st, route, *s, std::move(result->body), result->is_base64_encoded);
}

// A message for a coroutine handler or an integration: run as a coroutine.
asio::awaitable<void> handle_message(std::shared_ptr<detail::websocket_stage_state> st,
                                     std::shared_ptr<detail::websocket_connection> c,
                                     const detail::websocket_route* route, std::string key,
                                     websocket::message_kind kind, std::string body,
                                     std::chrono::steady_clock::time_point received) {
  struct done_guard {
    detail::websocket_connection* c;
    ~done_guard() { c->in_flight.fetch_sub(1, std::memory_order_relaxed); }
  } done{c.get()};
  const std::string rid = request_id();
  const std::string message_id = random_id();
  const auto call = websocket::event_call(*c, key, "MESSAGE", message_id);
  if (route->target) {
    request req =
        route_request(*c, *route, std::move(body), kind == websocket::message_kind::binary);
    auto run = websocket::event_run(*st, call, c->auth, rid);
    auto reply = co_await run_routes(*st, req, run);
    websocket::integration_latency(*st, route, reply.integration_latency);
    websocket::count_outcome(*st, route, reply.res.status, reply.gateway_error);
    websocket::record_event(*st, run, {reply.res.status});
    auto s = c->session.lock();
    if (!s) co_return;
    if (reply.gateway_error)
      websocket::send_counted(*st, route, *s,
                              error_message(gateway_message(reply.res), c->id, rid));
    else if (route->options.two_way)
      send_reply(*st, *route, *s, std::move(reply.res.body), false);
    co_return;
  }
  websocket_event ev = base_event(*st, *c, key, websocket_event_type::message, rid);
  ev.message_id = message_id;
  ev.body = body;
  ev.is_binary = kind == websocket::message_kind::binary;
  const websocket::integration_timer timer(*st);
  const auto started = std::chrono::steady_clock::now();
  auto outcome = co_await invoke(*route, ev);
  timer.done(*st, route);
  if (outcome.result)
    websocket::count_outcome(*st, route, outcome.result->status_code, false);
  else
    websocket::count(*st, route, observe::websocket_count::execution_error);
  {
    const auto err = outcome.timed_out ? websocket::event_error(response_type::integration_timeout,
                                                                504, "Endpoint request timed out")
                                       : websocket::event_error(response_type::integration_failure,
                                                                500, "Internal server error");
    const int status = outcome.result ? 200 : err.status;
    websocket::record_event(
        *st, call, c->auth, rid,
        {status, outcome.result ? nullptr : &err, websocket::since(started), received});
  }
  auto s = c->session.lock();
  if (!s) co_return;
  if (!outcome.result) {
    websocket::send_counted(
        *st, route, *s,
        error_message(outcome.timed_out ? "Endpoint request timed out" : "Internal server error",
                      c->id, rid));
    co_return;
  }
  if (route->options.two_way)
    send_reply(*st, *route, *s, std::move(outcome.result->body), outcome.result->is_base64_encoded);
}

asio::awaitable<void> handle_disconnect(std::shared_ptr<detail::websocket_stage_state> st,
                                        std::shared_ptr<detail::websocket_connection> c, int code,
                                        std::string reason) {
  const auto* route = st->api->find("$disconnect");
  const std::string rid = request_id();
  const auto call = websocket::event_call(*c, "$disconnect", "DISCONNECT");
  if (!route) {  // recorded all the same, as AWS logs every disconnect
    websocket::record_event(*st, call, c->auth, rid, {200, nullptr, std::chrono::nanoseconds(-1)});
    co_return;
  }
  if (route->target) {
    request req = route_request(*c, *route, {}, false);
    auto run = websocket::event_run(*st, call, c->auth, rid);
    auto reply = co_await run_routes(*st, req, run);
    websocket::integration_latency(*st, route, reply.integration_latency);
    websocket::count_outcome(*st, route, reply.res.status, reply.gateway_error);
    websocket::record_event(*st, run, {reply.res.status});
    co_return;
  }
  websocket_event ev = base_event(*st, *c, "$disconnect", websocket_event_type::disconnect, rid);
  ev.disconnect_status_code = code;
  ev.disconnect_reason = reason;
  const websocket::integration_timer timer(*st);
  const auto started = std::chrono::steady_clock::now();
  auto outcome = co_await invoke(*route, ev);
  timer.done(*st, route);
  if (outcome.result)
    websocket::count_outcome(*st, route, outcome.result->status_code, false);
  else
    websocket::count(*st, route, observe::websocket_count::execution_error);
  const auto err =
      websocket::event_error(response_type::integration_failure, 500, "Internal server error");
  websocket::record_event(*st, call, c->auth, rid,
                          {outcome.result ? 200 : 500, outcome.result ? nullptr : &err,
                           websocket::since(started), started});
}

// A message the gateway refuses before any route runs: the client gets AWS's error message, and
// the stage's log a MESSAGE with the refusal.
// Counted as a ClientError of `route` (null: not routed).
void refuse_message(const detail::websocket_stage_state& st, const detail::websocket_connection& c,
                    const detail::websocket_route* route, std::string_view key, response_type type,
                    int status, std::string_view message) {
  const std::string rid = request_id();
  websocket::count(st, route, observe::websocket_count::client_error);
  if (auto s = c.session.lock())
    websocket::send_counted(st, route, *s, error_message(message, c.id, rid));
  const auto err = websocket::event_error(type, status, message);
  websocket::record_event(st, websocket::event_call(c, key, "MESSAGE"), c.auth, rid,
                          {status, &err, std::chrono::nanoseconds(-1)});
}

template <class Stream>
void start(const websocket::pending_connection& p, Stream stream, std::string already_read) {
  auto st = p.stage;
  auto c = p.connection;
  websocket::session_options so;
  so.max_frame_bytes = st->options.max_frame_bytes;
  so.max_message_bytes = st->options.max_message_bytes;
  so.idle_timeout = st->options.idle_timeout;
  so.max_duration = st->options.max_duration;
  so.max_queued_bytes = st->options.max_queued_bytes;
  websocket::session_handlers h;
  h.on_message = [st, c](websocket::message_kind kind, std::string_view payload) {
    const auto now = clock::now();
    c->last_active_ms.store(epoch_ms(now), std::memory_order_relaxed);
    if (const auto& limit = st->options.message_throttle) {
      const auto now_ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
      if (throttle::take(c->message_bucket, *limit, now_ns) != 0) {   // not routed
        websocket::meter(*st, c->api_key_id, observe::mf_throttled);  // not billed
        websocket::count(*st, nullptr, observe::websocket_count::message);
        refuse_message(*st, *c, nullptr, {}, response_type::throttled, 429, "Too Many Requests");
        return;
      }
    }
    std::string key;
    const auto* route = route_for(*st->api, kind, payload, key);
    websocket::count(*st, route, observe::websocket_count::message);
    websocket::meter(*st, c->api_key_id, observe::mf_messages_in, payload.size());
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
  };
  h.on_close = [st, c](std::uint16_t code, std::string_view reason) {
    st->open_sessions.fetch_sub(1, std::memory_order_relaxed);
    if (st->meter) {  // connection minutes: its duration rounded up to whole minutes
      const auto lasted = clock::now() - c->connected_at;
      const auto minutes =
          std::max<std::int64_t>(1, std::chrono::ceil<std::chrono::minutes>(lasted).count());
      st->meter->websocket(st->meter_series, c->api_key_id, observe::mf_connection_minutes,
                           static_cast<std::uint64_t>(minutes), 0, clock::now());
    }
    {
      std::lock_guard lock(st->mutex);
      auto it = st->connections.find(c->id);
      if (it != st->connections.end() && it->second == c) st->connections.erase(it);
    }
    std::string why(reason.empty() ? default_reason(code) : reason);
    asio::co_spawn(c->executor, handle_disconnect(st, c, code, std::move(why)), asio::detached);
  };
  st->open_sessions.fetch_add(1, std::memory_order_relaxed);
  auto s = websocket::make_session(std::move(stream), std::move(h), so);
  s->api_key_id = c->api_key_id;
  c->session = s;
  c->executor = s->get_executor();
  {
    std::lock_guard lock(st->mutex);
    st->connections[c->id] = c;
  }
  s->start(std::move(already_read));
}

}  // namespace

// websocket_event

std::optional<std::string_view> websocket_event::header(std::string_view name) const noexcept {
  if (!upgrade) return std::nullopt;
  return upgrade->headers.get(name);
}

std::optional<std::string> websocket_event::query(std::string_view name) const {
  if (!upgrade) return std::nullopt;
  auto q = std::string_view(upgrade->target);
  auto mark = q.find('?');
  if (mark == std::string_view::npos) return std::nullopt;
  std::optional<std::string> found;
  for (auto& [k, v] : routing::parse_query(q.substr(mark + 1)))
    if (k == name) found = v;
  return found;
}

ConnectionManager websocket_event::connections() const {
  if (!stage_state_)
    throw config_error("websocket_event::connections(): the event is not one of a mounted stage");
  return ConnectionManager(
      std::const_pointer_cast<detail::websocket_stage_state>(stage_state_->shared_from_this()));
}

std::string websocket_event::to_json() const {
  std::string out = "{\"requestContext\":{\"routeKey\":";
  util::append_json_string(out, route_key);
  if (event_type == websocket_event_type::message) {
    out += ",\"messageId\":";
    util::append_json_string(out, message_id);
  }
  out += ",\"eventType\":\"";
  out += event_type_name(event_type);
  out += "\",\"extendedRequestId\":";
  util::append_json_string(out, request_id);
  out += ",\"requestTime\":";
  util::append_json_string(
      out, util::clf_time(clock::time_point(std::chrono::milliseconds(request_time_epoch))));
  out += ",\"messageDirection\":\"IN\",\"stage\":";
  util::append_json_string(out, stage);
  out +=
      fmt::format(",\"connectedAt\":{},\"requestTimeEpoch\":{}", connected_at, request_time_epoch);
  out += ",\"identity\":{\"sourceIp\":";
  util::append_json_string(out, source_ip);
  out += ",\"userAgent\":";
  util::append_json_string(out, user_agent);
  out += "},\"requestId\":";
  util::append_json_string(out, request_id);
  out += ",\"domainName\":";
  util::append_json_string(out, domain_name);
  out += ",\"connectionId\":";
  util::append_json_string(out, connection_id);
  out += ",\"apiId\":";
  util::append_json_string(out, api_id);
  if (!authorizer_json.empty()) {
    out += ",\"authorizer\":";
    out += authorizer_json;
  }
  if (event_type == websocket_event_type::disconnect) {
    out +=
        fmt::format(",\"disconnectStatusCode\":{},\"disconnectReason\":", disconnect_status_code);
    util::append_json_string(out, disconnect_reason);
  }
  out += '}';
  if (upgrade) {
    out += ",\"headers\":{";
    bool first = true;
    for (const auto& f : upgrade->headers) {
      if (!first) out += ',';
      first = false;
      util::append_json_string(out, f.name);
      out += ':';
      util::append_json_string(out, f.value);
    }
    out += '}';
    auto q = std::string_view(upgrade->target);
    auto mark = q.find('?');
    if (mark != std::string_view::npos) {
      out += ",\"queryStringParameters\":{";
      first = true;
      for (auto& [k, v] : routing::parse_query(q.substr(mark + 1))) {
        if (!first) out += ',';
        first = false;
        util::append_json_string(out, k);
        out += ':';
        util::append_json_string(out, v);
      }
      out += '}';
    }
  }
  if (event_type == websocket_event_type::message) {
    out += ",\"body\":";
    util::append_json_string(out, is_binary ? util::base64_encode(body) : std::string(body));
    out += is_binary ? ",\"isBase64Encoded\":true" : ",\"isBase64Encoded\":false";
  } else {
    out += ",\"isBase64Encoded\":false";
  }
  out += '}';
  return out;
}

// WebSocketApi

WebSocketApi::WebSocketApi(websocket_api_options options)
    : state_(std::make_shared<detail::websocket_api_state>()) {
  if (options.id.empty()) {
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::random_device rd;
    for (int i = 0; i < 10; ++i) options.id += alphabet[rd() % 36];
  }
  if (options.route_selection_expression.empty())
    throw config_error(
        fmt::format("WebSocket API '{}': empty route selection expression", options.name));
  state_->options = std::move(options);
}

namespace {
// Checks a route's key and options, and that it is new; returns where to put it.
detail::websocket_route& add_route(detail::websocket_api_state& api, std::string key,
                                   const websocket_route_options& options) {
  if (key.empty()) throw config_error("WebSocket route: empty route key");
  if (options.two_way && (key == "$connect" || key == "$disconnect"))
    throw config_error(fmt::format("WebSocket route '{}' cannot be two-way", key));
  if (options.timeout < std::chrono::milliseconds(50) ||
      options.timeout > std::chrono::milliseconds(29'000))
    throw config_error(
        fmt::format("WebSocket route '{}': timeout {} ms is outside 50 ms to "
                    "29,000 ms",
                    key, options.timeout.count()));
  const auto& m = options.integration_request;
  if (m.authorizer || m.api_key_required || !m.authorization_scopes.empty() ||
      !m.cache_key_parameters.empty())
    throw config_error(fmt::format(
        "WebSocket route '{}': authorizers, API keys and caching are not route settings; "
        "set connect_authorizer and api_key_required on the stage",
        key));
  if (api.routes.contains(key))
    throw config_error(fmt::format("WebSocket route '{}' is defined twice", key));
  const std::size_t ordinal = api.routes.size();
  auto& r = api.routes[std::move(key)];
  r.options = options;
  r.path = fmt::format("/route/{}", ordinal);
  r.ordinal = ordinal;
  return r;
}
}  // namespace

WebSocketApi& WebSocketApi::route(std::string key, websocket_handler handler,
                                  websocket_route_options options) {
  if (!handler) throw config_error(fmt::format("WebSocket route '{}': no handler", key));
  add_route(*state_, std::move(key), options).sync = std::move(handler);
  return *this;
}

WebSocketApi& WebSocketApi::route(std::string key, async_websocket_handler handler,
                                  websocket_route_options options) {
  if (!handler) throw config_error(fmt::format("WebSocket route '{}': no handler", key));
  add_route(*state_, std::move(key), options).async = std::move(handler);
  return *this;
}

WebSocketApi& WebSocketApi::route(std::string key, integration target,
                                  websocket_route_options options) {
  if (!target) throw config_error(fmt::format("WebSocket route '{}': no integration", key));
  add_route(*state_, std::move(key), options).target = std::move(target);
  return *this;
}

// WebSocketStage

namespace {
// The hidden HTTP stage of a WebSocket stage: GET /connect (the upgrade's authorizer, API key,
// throttle, and a $connect integration) and POST /route/N for each route with an integration.
Stage routes_stage(const std::string& name, const detail::websocket_api_state& api,
                   const websocket_stage_options& options) {
  api_options opts;
  opts.name = api.options.name;
  opts.id = api.options.id;
  Router router(opts);
  method_options connect;
  integration connect_target =
      function([](const proxy_event&) { return proxy_result{}; });  // a $connect handler's gate
  if (const auto* r = api.find("$connect"); r && r->target) {
    connect = r->options.integration_request;
    connect_target = r->target;
  }
  connect.authorizer = options.connect_authorizer;
  connect.api_key_required = options.api_key_required;
  router.route("GET", "/connect", connect_target, connect);
  for (const auto& [key, r] : api.routes)
    if (r.target && key != "$connect")
      router.route("POST", r.path, r.target, r.options.integration_request);
  Stage stage(name, router.deploy());
  if (options.connect_throttle)
    stage.method("GET /connect", {.throttle = options.connect_throttle});
  return stage;
}
}  // namespace

WebSocketStage::WebSocketStage(std::string name, const WebSocketApi& api,
                               websocket_stage_options options)
    : state_(std::make_shared<detail::websocket_stage_state>()) {
  if (!valid_name(name))
    throw config_error(
        fmt::format("WebSocket stage name '{}': use 1 to 128 characters of A-Z a-z 0-9 _ -", name));
  if (options.max_frame_bytes == 0 || options.max_message_bytes == 0 ||
      options.max_queued_bytes == 0 || options.idle_timeout.count() <= 0 ||
      options.max_duration.count() <= 0)
    throw config_error(fmt::format("WebSocket stage '{}': limits must be positive", name));
  if (options.message_throttle)
    throttle::check_settings(*options.message_throttle,
                             fmt::format("WebSocket stage '{}': message_throttle", name));
  state_->name = std::move(name);
  state_->api = std::make_shared<const detail::websocket_api_state>(*detail::access::state(api));
  state_->options = std::move(options);
  state_->routes.emplace(routes_stage(state_->name, *state_->api, state_->options));
}

const std::string& WebSocketStage::name() const noexcept { return state_->name; }

// ConnectionManager

std::shared_ptr<detail::websocket_connection> detail::websocket_stage_state::find(
    std::string_view id) const {
  std::lock_guard lock(mutex);
  auto it = connections.find(std::string(id));
  return it == connections.end() ? nullptr : it->second;
}

post_status ConnectionManager::post(std::string_view connection_id, std::string data) const {
  if (data.size() > 131072) return post_status::too_large;
  auto c = state_->find(connection_id);
  if (!c) return post_status::gone;
  auto s = c->session.lock();
  if (!s || !s->is_open()) return post_status::gone;
  if (s->queued_bytes() + data.size() + 14 > state_->options.max_queued_bytes)
    return post_status::limit_exceeded;
  auto kind =
      util::valid_utf8(data) ? websocket::message_kind::text : websocket::message_kind::binary;
  return websocket::send_counted(*state_, nullptr, *s, kind, std::move(data)) ? post_status::ok
                                                                              : post_status::gone;
}

std::optional<connection_info> ConnectionManager::info(std::string_view connection_id) const {
  auto c = state_->find(connection_id);
  if (!c) return std::nullopt;
  auto s = c->session.lock();
  if (!s || !s->is_open()) return std::nullopt;
  connection_info out;
  out.connected_at = c->connected_at;
  out.last_active_at = clock::time_point(
      std::chrono::milliseconds(c->last_active_ms.load(std::memory_order_relaxed)));
  out.source_ip = c->source_ip;
  out.user_agent = c->user_agent;
  return out;
}

bool ConnectionManager::disconnect(std::string_view connection_id) const {
  auto c = state_->find(connection_id);
  if (!c) return false;
  auto s = c->session.lock();
  if (!s || !s->is_open()) return false;
  s->close(websocket::close_code::normal, {});
  return true;
}

std::vector<std::string> ConnectionManager::ids() const {
  std::lock_guard lock(state_->mutex);
  std::vector<std::string> out;
  out.reserve(state_->connections.size());
  for (const auto& [id, c] : state_->connections) out.push_back(id);
  return out;
}

namespace {
proxy_result management_error(int status, std::string_view type, std::string_view message) {
  proxy_result r;
  r.status_code = status;
  r.headers.add("Content-Type", "application/json");
  r.headers.add("x-amzn-ErrorType", std::string(type));
  r.body = "{\"message\":";
  util::append_json_string(r.body, message);
  r.body += '}';
  return r;
}
}  // namespace

Stage management_stage(const WebSocketStage& stage) {
  api_options opts;
  opts.name = detail::access::state(stage)->api->options.name + " @connections";
  opts.id = detail::access::state(stage)->api->options.id;
  opts.type = api_type::http;
  Router router(opts);
  method_options mo;
  mo.authorizer = detail::access::state(stage)->options.management_authorizer;
  ConnectionManager manager = stage.connections();
  // '@' is no template character: the first segment is a parameter, "@connections" (or
  // "%40connections") by value.
  auto gone = [](const proxy_event& ev) {
    if (ev.path_parameter("resource").value_or("") != "@connections")
      return management_error(404, "NotFoundException", "Not Found");
    return management_error(410, "GoneException", "Gone");
  };
  router.route("POST", "/{resource}/{connectionId}",
               function([manager, gone](const proxy_event& ev) {
                 if (ev.path_parameter("resource").value_or("") != "@connections") return gone(ev);
                 auto id = ev.path_parameter("connectionId").value_or("");
                 switch (manager.post(id, std::string(ev.body()))) {
                   case post_status::ok:
                     return proxy_result{};
                   case post_status::too_large:
                     return management_error(413, "PayloadTooLargeException",
                                             "Message too long. Max message size is 131072 bytes");
                   case post_status::limit_exceeded:
                     return management_error(429, "LimitExceededException", "Limit exceeded");
                   case post_status::gone:
                     break;
                 }
                 return gone(ev);
               }),
               mo);
  router.route("GET", "/{resource}/{connectionId}",
               function([manager, gone](const proxy_event& ev) {
                 if (ev.path_parameter("resource").value_or("") != "@connections") return gone(ev);
                 auto info = manager.info(ev.path_parameter("connectionId").value_or(""));
                 if (!info) return gone(ev);
                 proxy_result r;
                 r.headers.add("Content-Type", "application/json");
                 r.body = "{\"connectedAt\":\"" + iso8601(info->connected_at) +
                          "\",\"identity\":{\"sourceIp\":";
                 util::append_json_string(r.body, info->source_ip);
                 r.body += ",\"userAgent\":";
                 util::append_json_string(r.body, info->user_agent);
                 r.body += "},\"lastActiveAt\":\"" + iso8601(info->last_active_at) + "\"}";
                 return r;
               }),
               mo);
  router.route("DELETE", "/{resource}/{connectionId}",
               function([manager, gone](const proxy_event& ev) {
                 if (ev.path_parameter("resource").value_or("") != "@connections" ||
                     !manager.disconnect(ev.path_parameter("connectionId").value_or("")))
                   return gone(ev);
                 proxy_result r;
                 r.status_code = 204;
                 return r;
               }),
               mo);
  // A request for the WebSocket URL that does not ask for an upgrade.
  router.route("GET", "/", function([](const proxy_event&) {
                 return management_error(426, "UpgradeRequired", "Upgrade Required");
               }));
  Stage out(stage.name(), router.deploy());
  // AWS's @connections API is not one of the account's APIs: no series in the metrics (its
  // posts count in the WebSocket stage's MessageCount).
  detail::update_stage(*detail::access::state(out),
                       [](detail::stage_snapshot& s) { s.no_metrics = true; });
  return out;
}

}  // namespace gatehouse

namespace gatehouse::websocket {

void hub::mount(std::shared_ptr<detail::websocket_stage_state> stage) {
  std::lock_guard lock(mutex_);
  for (const auto& s : stages_)
    if (s->name == stage->name)
      throw config_error(fmt::format("WebSocket stage '{}' is mounted already", stage->name));
  stages_.push_back(std::move(stage));
  any_.store(true, std::memory_order_release);
}

std::shared_ptr<detail::websocket_stage_state> hub::route(const request& req) const {
  if (!any_.load(std::memory_order_acquire) || !wants_upgrade(req)) return nullptr;
  std::string_view target = req.target;
  auto path = target.substr(0, target.find('?'));
  if (path.size() < 2 || path[0] != '/') return nullptr;
  auto slash = path.find('/', 1);
  auto name = path.substr(1, slash == std::string_view::npos ? std::string_view::npos : slash - 1);
  auto rest = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
  std::shared_ptr<detail::websocket_stage_state> stage;
  {
    std::lock_guard lock(mutex_);
    for (const auto& s : stages_)
      if (s->name == name) stage = s;
  }
  if (!stage) return nullptr;
  return rest.empty() || rest == "/" ? stage : nullptr;
}

void hub::close_all() const {
  std::vector<std::shared_ptr<detail::websocket_stage_state>> stages;
  {
    std::lock_guard lock(mutex_);
    stages = stages_;
  }
  for (const auto& st : stages) {
    std::vector<std::shared_ptr<session>> sessions;
    {
      std::lock_guard lock(st->mutex);
      for (const auto& [id, c] : st->connections)
        if (auto s = c->session.lock()) sessions.push_back(std::move(s));
    }
    for (auto& s : sessions) s->close(close_code::going_away, "Going away");
  }
}

std::size_t hub::open_sessions() const {
  if (!any_.load(std::memory_order_acquire)) return 0;
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& s : stages_) n += s->open_sessions.load(std::memory_order_relaxed);
  return n;
}

asio::awaitable<upgrade_attempt> try_upgrade(std::shared_ptr<detail::websocket_stage_state> st,
                                             const request& req, net::cancel_handle cancel) {
  upgrade_attempt out;
  auto hr = check_upgrade(req);
  const std::string rid = request_id();
  const auto received = std::chrono::steady_clock::now();
  if (!hr.ok()) {
    websocket::count(*st, nullptr, observe::websocket_count::client_error);
    out.res = refusal(hr);
    out.res.headers.add("x-amzn-RequestId", rid);
    // A CONNECT that never had a connection, recorded with the upgrade request's identity.
    const detail::websocket_call call{{},
                                      "$connect",
                                      "CONNECT",
                                      {},
                                      0,
                                      req.source_ip,
                                      req.headers.get("User-Agent").value_or(""),
                                      req.headers.get("Host").value_or("")};
    websocket::record_event(*st, call, nullptr, rid,
                            {out.res.status, nullptr, std::chrono::nanoseconds(-1), received});
    co_return out;
  }
  const auto* route = st->api->find("$connect");
  websocket::count(*st, route, observe::websocket_count::connect);
  auto c = std::make_shared<detail::websocket_connection>();
  do {
    c->id = random_id();
  } while (st->find(c->id));
  c->connected_at = clock::now();
  c->last_active_ms = epoch_ms(c->connected_at);
  c->source_ip = req.source_ip;
  c->user_agent = std::string(req.headers.get("User-Agent").value_or(""));
  c->domain_name = std::string(req.headers.get("Host").value_or(""));

  // The gate every upgrade passes: authorizer, API key, throttles, and a $connect integration.
  request gate = req;
  auto mark = gate.target.find('?');
  gate.target.replace(0, mark, "/connect");
  const auto call = websocket::event_call(*c, "$connect", "CONNECT");
  auto run = websocket::event_run(*st, call, nullptr, rid);
  run.cancel = cancel;
  auto verdict = co_await run_routes(*st, gate, run);
  if (route && route->target)
    websocket::integration_latency(*st, route, verdict.integration_latency);
  if (verdict.res.status < 200 || verdict.res.status > 299) {
    websocket::count_outcome(*st, route, verdict.res.status, verdict.gateway_error);
    // A connection refused for its authorization, key, throttle or quota is not billed.
    if (verdict.gateway_error) {
      const auto why = observe::classify(verdict.error_type);
      if (why != observe::mf_billed) websocket::meter(*st, verdict.api_key_id, why);
    }
    out.res = std::move(verdict.res);
    websocket::record_event(*st, run, {out.res.status});
    co_return out;
  }
  c->api_key_id = std::move(verdict.api_key_id);
  if (verdict.auth) {
    c->auth = std::move(verdict.auth);
    c->principal_id = c->auth->principal_id.empty() ? c->auth->user_arn : c->auth->principal_id;
    c->authorizer_json = authorizer_json(*c->auth);
  }
  std::string subprotocol;
  auto accept_subprotocol = [&](const header_map& headers) {
    if (auto p = headers.get("Sec-WebSocket-Protocol"))
      for (const auto& offered : hr.subprotocols)
        if (offered == *p) subprotocol = offered;
  };
  // The record's integration latency: the $connect integration's (the run's), a C++ handler's,
  // or none (the run's integration is then only the gate's stand-in).
  std::optional<std::chrono::nanoseconds> integration_latency = std::chrono::nanoseconds(-1);
  if (route && route->target) {
    integration_latency.reset();
    accept_subprotocol(verdict.res.headers);
  } else if (route) {
    websocket_event ev = base_event(*st, *c, "$connect", websocket_event_type::connect, rid);
    ev.upgrade = &req;
    const websocket::integration_timer timer(*st);
    const auto started = std::chrono::steady_clock::now();
    auto outcome = co_await invoke(*route, ev);
    timer.done(*st, route);
    integration_latency = websocket::since(started);
    if (outcome.result)
      websocket::count_outcome(*st, route, outcome.result->status_code, false);
    else
      websocket::count(*st, route, observe::websocket_count::execution_error);
    if (!outcome.result) {
      out.res.status = outcome.timed_out ? 504 : 500;
      out.res.headers.add("Content-Type", "application/json");
      out.res.body = outcome.timed_out ? "{\"message\":\"Endpoint request timed out\"}"
                                       : "{\"message\":\"Internal server error\"}";
      out.res.headers.add("x-amzn-RequestId", rid);
      const auto err = websocket::event_error(
          outcome.timed_out ? response_type::integration_timeout
                            : response_type::integration_failure,
          out.res.status,
          outcome.timed_out ? "Endpoint request timed out" : "Internal server error");
      websocket::record_event(*st, run, {out.res.status, &err, integration_latency});
      co_return out;
    }
    auto& result = *outcome.result;
    if (result.status_code < 200 || result.status_code > 299) {
      out.res.status =
          result.status_code < 100 || result.status_code > 599 ? 502 : result.status_code;
      out.res.headers = std::move(result.headers);
      out.res.body = std::move(result.body);
      out.res.headers.add("x-amzn-RequestId", rid);
      websocket::record_event(*st, run, {out.res.status, nullptr, integration_latency});
      co_return out;
    }
    accept_subprotocol(result.headers);
  }
  // Accepted: AWS logs the $connect route's 200 rather than the 101 on the wire.
  websocket::record_event(*st, run, {200, nullptr, integration_latency});
  out.res = switching_protocols(hr, subprotocol);
  websocket::meter(*st, c->api_key_id, observe::mf_connects);
  out.accepted = std::make_shared<pending_connection>(pending_connection{st, std::move(c)});
  co_return out;
}

std::string switching_head(const response& res) {
  std::string out = "HTTP/1.1 101 Switching Protocols\r\n";
  for (const auto& f : res.headers) out.append(f.name).append(": ").append(f.value).append("\r\n");
  out += "\r\n";
  return out;
}

void start_session(const pending_connection& p, asio::ip::tcp::socket socket,
                   std::string already_read) {
  start(p, std::move(socket), std::move(already_read));
}

void start_session(const pending_connection& p, net::tls_stream stream, std::string already_read) {
  start(p, std::move(stream), std::move(already_read));
}

void start_session(const pending_connection& p, asio::ssl::stream<asio::ip::tcp::socket> stream,
                   std::string already_read) {
  start(p, std::move(stream), std::move(already_read));
}

}  // namespace gatehouse::websocket
