// The connection manager (AWS's @connections): posting to, describing and closing a stage's
// connections, and the HTTP stage serving POST|GET|DELETE /{stage}/@connections/{connectionId}.

#include "routing/deployment.hpp"
#include "util/access.hpp"
#include "util/json_text.hpp"
#include "websocket/api_host.hpp"
#include "websocket/event_ids.hpp"
#include "websocket/websocket_metrics.hpp"

#include <gatehouse/router.hpp>
#include <gatehouse/stage.hpp>
#include <gatehouse/websocket_api.hpp>

#include <fmt/format.h>

#include <ctime>

namespace gatehouse {

namespace {
using clock = std::chrono::system_clock;

std::string iso8601(clock::time_point t) {
  auto ms = websocket::epoch_ms(t);
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}
}  // namespace

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
