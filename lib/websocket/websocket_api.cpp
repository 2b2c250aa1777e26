// WebSocket APIs: routes, the upgrade with $connect, message routing, $disconnect, and the
// connection manager.

#include "pipeline/pipeline.hpp"
#include "pipeline/request_id.hpp"
#include "routing/route_table.hpp"
#include "util/json_text.hpp"
#include "util/time_text.hpp"
#include "websocket/api_host.hpp"
#include "websocket/handshake.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/router.hpp>
#include <gatehouse/stage.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

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

// An AWS-like id: 11 random bytes in base64 (16 characters, the last '='), URL-safe.
std::string random_id() {
  thread_local std::mt19937_64 rng{
      std::random_device{}() ^ static_cast<std::uint64_t>(clock::now().time_since_epoch().count())};
  std::string raw(11, '\0');
  std::uint64_t a = rng(), b = rng();
  for (int i = 0; i < 8; ++i) raw[static_cast<std::size_t>(i)] = static_cast<char>(a >> (8 * i));
  for (int i = 0; i < 3; ++i)
    raw[static_cast<std::size_t>(8 + i)] = static_cast<char>(b >> (8 * i));
  std::string id = util::base64_encode(raw);
  for (char& c : id) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return id;
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
    auto it = v->FindMember(rapidjson::Value(
        rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size()))));
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

// The route key a message selects by the API's expression; nullopt when it is not JSON.
std::optional<std::string> select_route(std::string_view expression, std::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) return std::nullopt;
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

asio::awaitable<std::optional<proxy_result>> invoke(const detail::websocket_route& r,
                                                    const websocket_event& ev) {
  try {
    if (r.async) co_return co_await r.async(ev);
    co_return r.sync(ev);
  } catch (...) {
  }
  co_return std::nullopt;
}

websocket_event base_event(const detail::websocket_stage_state& st,
                           const detail::websocket_connection& c, std::string_view route_key,
                           websocket_event_type type, std::string_view request_id) {
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
  ev.request_time_epoch = epoch_ms(clock::now());
  return ev;
}

// Messages of one connection whose integrations may run at once.
constexpr int max_in_flight = 128;

asio::awaitable<void> handle_message(std::shared_ptr<detail::websocket_stage_state> st,
                                     std::shared_ptr<detail::websocket_connection> c,
                                     websocket::message_kind kind, std::string body) {
  struct done_guard {
    detail::websocket_connection* c;
    ~done_guard() { c->in_flight.fetch_sub(1, std::memory_order_relaxed); }
  } done{c.get()};
  const std::string rid = request_id();
  const std::string message_id = random_id();
  const auto& api = *st->api;
  std::string key;
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
  if (!route) {
    if (auto s = c->session.lock()) s->send_text(error_message("Forbidden", c->id, rid));
    co_return;
  }
  websocket_event ev = base_event(*st, *c, key, websocket_event_type::message, rid);
  ev.message_id = message_id;
  ev.body = body;
  ev.is_binary = kind == websocket::message_kind::binary;
  auto result = co_await invoke(*route, ev);
  auto s = c->session.lock();
  if (!s) co_return;
  if (!result) {
    s->send_text(error_message("Internal server error", c->id, rid));
    co_return;
  }
  if (!route->options.two_way || result->body.empty()) co_return;
  if (result->is_base64_encoded) {
    std::string raw;
    if (util::base64_decode(result->body, raw)) s->send_binary(std::move(raw));
    co_return;
  }
  if (util::valid_utf8(result->body))
    s->send_text(std::move(result->body));
  else
    s->send_binary(std::move(result->body));
}

asio::awaitable<void> handle_disconnect(std::shared_ptr<detail::websocket_stage_state> st,
                                        std::shared_ptr<detail::websocket_connection> c, int code,
                                        std::string reason) {
  const auto* route = st->api->find("$disconnect");
  if (!route) co_return;
  const std::string rid = request_id();
  websocket_event ev = base_event(*st, *c, "$disconnect", websocket_event_type::disconnect, rid);
  ev.disconnect_status_code = code;
  ev.disconnect_reason = reason;
  co_await invoke(*route, ev);
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
    c->last_active_ms.store(epoch_ms(clock::now()), std::memory_order_relaxed);
    // A client cannot pile up integrations without bound: past the cap, messages are refused.
    if (c->in_flight.fetch_add(1, std::memory_order_relaxed) >= max_in_flight) {
      c->in_flight.fetch_sub(1, std::memory_order_relaxed);
      if (auto s = c->session.lock())
        s->send_text(error_message("Too Many Requests", c->id, request_id()));
      return;
    }
    asio::co_spawn(c->executor, handle_message(st, c, kind, std::string(payload)), asio::detached);
  };
  h.on_close = [st, c](std::uint16_t code, std::string_view reason) {
    {
      std::lock_guard lock(st->mutex);
      auto it = st->connections.find(c->id);
      if (it != st->connections.end() && it->second == c) st->connections.erase(it);
    }
    std::string why(reason.empty() ? default_reason(code) : reason);
    asio::co_spawn(c->executor, handle_disconnect(st, c, code, std::move(why)), asio::detached);
  };
  auto s = websocket::make_session(std::move(stream), std::move(h), so);
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

WebSocketApi& WebSocketApi::route(std::string key, websocket_handler handler,
                                  websocket_route_options options) {
  if (key.empty()) throw config_error("WebSocket route: empty route key");
  if (!handler) throw config_error(fmt::format("WebSocket route '{}': no handler", key));
  if (options.two_way && (key == "$connect" || key == "$disconnect"))
    throw config_error(fmt::format("WebSocket route '{}' cannot be two-way", key));
  if (state_->routes.contains(key))
    throw config_error(fmt::format("WebSocket route '{}' is defined twice", key));
  state_->routes.emplace(std::move(key), detail::websocket_route{std::move(handler), {}, options});
  return *this;
}

WebSocketApi& WebSocketApi::route(std::string key, async_websocket_handler handler,
                                  websocket_route_options options) {
  if (!handler) throw config_error(fmt::format("WebSocket route '{}': no handler", key));
  route(key, websocket_handler([](const websocket_event&) { return proxy_result{}; }), options);
  auto& r = state_->routes.find(key)->second;
  r.sync = nullptr;
  r.async = std::move(handler);
  return *this;
}

// WebSocketStage

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
  state_->name = std::move(name);
  state_->api = std::make_shared<const detail::websocket_api_state>(*api.state());
  state_->options = std::move(options);
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
  return s->send(kind, std::move(data)) ? post_status::ok : post_status::gone;
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
  opts.name = stage.state()->api->options.name + " @connections";
  opts.id = stage.state()->api->options.id;
  opts.type = api_type::http;
  Router router(opts);
  method_options mo;
  mo.authorizer = stage.state()->options.management_authorizer;
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
  if (stage.state()->options.connect_authorizer) {
    // The upgrade's authorization, run by try_upgrade through the pipeline: the answer carries
    // what the authorizer found out. Requests without an upgrade get 426.
    router.route("GET", "/", function([](const proxy_event& ev) {
                   if (!ev.header("Upgrade"))
                     return management_error(426, "UpgradeRequired", "Upgrade Required");
                   auto ctx = ev.context();
                   proxy_result r;
                   r.body = "{\"principalId\":";
                   util::append_json_string(r.body, ctx.authorizer.principal_id.empty()
                                                        ? ctx.iam.user_arn
                                                        : ctx.authorizer.principal_id);
                   for (const auto& [k, v] : ctx.authorizer.context) {
                     r.body += ',';
                     util::append_json_string(r.body, k);
                     r.body += ':';
                     util::append_json_string(r.body, to_string(v));
                   }
                   r.body += '}';
                   return r;
                 }),
                 {.authorizer = stage.state()->options.connect_authorizer});
  }
  return Stage(stage.name(), router.deploy());
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

asio::awaitable<upgrade_attempt> try_upgrade(std::shared_ptr<detail::websocket_stage_state> st,
                                             const request& req, const detail::pipeline& pipeline) {
  upgrade_attempt out;
  auto hr = check_upgrade(req);
  const std::string rid = request_id();
  if (!hr.ok()) {
    out.res = refusal(hr);
    out.res.headers.add("x-amzn-RequestId", rid);
    co_return out;
  }
  auto c = std::make_shared<detail::websocket_connection>();
  do {
    c->id = random_id();
  } while (st->find(c->id));
  c->connected_at = clock::now();
  c->last_active_ms = epoch_ms(c->connected_at);
  c->source_ip = req.source_ip;
  c->user_agent = std::string(req.headers.get("User-Agent").value_or(""));
  c->domain_name = std::string(req.headers.get("Host").value_or(""));
  if (st->options.connect_authorizer) {
    request copy = req;
    response verdict = co_await pipeline.run(copy);
    if (verdict.status < 200 || verdict.status > 299) {
      out.res = std::move(verdict);
      co_return out;
    }
    rapidjson::Document doc;
    doc.Parse(verdict.body.data(), verdict.body.size());
    if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("principalId") &&
        doc["principalId"].IsString())
      c->principal_id.assign(doc["principalId"].GetString(), doc["principalId"].GetStringLength());
    c->authorizer_json = std::move(verdict.body);
  }
  std::string subprotocol;
  if (const auto* route = st->api->find("$connect")) {
    websocket_event ev = base_event(*st, *c, "$connect", websocket_event_type::connect, rid);
    ev.upgrade = &req;
    auto result = co_await invoke(*route, ev);
    if (!result) {
      out.res.status = 500;
      out.res.headers.add("Content-Type", "application/json");
      out.res.body = "{\"message\":\"Internal server error\"}";
      out.res.headers.add("x-amzn-RequestId", rid);
      co_return out;
    }
    if (result->status_code < 200 || result->status_code > 299) {
      out.res.status =
          result->status_code < 100 || result->status_code > 599 ? 502 : result->status_code;
      out.res.headers = std::move(result->headers);
      out.res.body = std::move(result->body);
      out.res.headers.add("x-amzn-RequestId", rid);
      co_return out;
    }
    if (auto p = result->headers.get("Sec-WebSocket-Protocol")) {
      for (const auto& offered : hr.subprotocols)
        if (offered == *p) subprotocol = offered;
    }
  }
  out.res = switching_protocols(hr, subprotocol);
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

void start_session(const pending_connection& p, asio::ssl::stream<asio::ip::tcp::socket> stream,
                   std::string already_read) {
  start(p, std::move(stream), std::move(already_read));
}

}  // namespace gatehouse::websocket
