// Upgrades to WebSocket: the stages mounted on a server (the hub), the upgrade with its
// $connect route, and the session of an accepted connection, wired to its stage's routes.

#include "auth/authorization.hpp"
#include "util/json_text.hpp"
#include "websocket/api_host.hpp"
#include "websocket/event_ids.hpp"
#include "websocket/event_record.hpp"
#include "websocket/handshake.hpp"
#include "websocket/route_invocation.hpp"
#include "websocket/websocket_metrics.hpp"

#include <gatehouse/config_error.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include <fmt/format.h>

namespace gatehouse {

namespace {
using clock = std::chrono::system_clock;

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
    websocket::route_message(st, c, kind, payload);
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
    asio::co_spawn(c->executor, websocket::handle_disconnect(st, c, code, std::move(why)),
                   asio::detached);
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
    auto outcome = co_await run_connect_handler(*st, *route, *c, req, rid);
    integration_latency = outcome.latency;
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
