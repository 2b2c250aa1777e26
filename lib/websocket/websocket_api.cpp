// WebSocketApi and WebSocketStage: a WebSocket API's routes and a stage of it, checked when
// composed, with the stage's hidden HTTP stage for $connect and the routes with integrations.

#include "throttle/token_bucket.hpp"
#include "util/access.hpp"
#include "websocket/api_host.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/router.hpp>
#include <gatehouse/stage.hpp>
#include <gatehouse/websocket_api.hpp>

#include <fmt/format.h>

#include <cctype>
#include <random>

namespace gatehouse {

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
bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  return true;
}

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

}  // namespace gatehouse
