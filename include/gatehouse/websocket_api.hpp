#pragma once

// WebSocket APIs as AWS's: routes chosen per message by a route selection expression, the
// $connect / $disconnect / $default routes, and the connection manager (AWS's @connections).

#include <gatehouse/access_log.hpp>
#include <gatehouse/authorizer.hpp>
#include <gatehouse/config.hpp>
#include <gatehouse/http.hpp>
#include <gatehouse/integration.hpp>
#include <gatehouse/router.hpp>
#include <gatehouse/throttle.hpp>

#include <asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse {

namespace detail {
struct websocket_api_state;
struct websocket_stage_state;
struct websocket_event_access;
struct access;  // the library's own way to what the public types keep private
}  // namespace detail

/// Why a WebSocket route's integration runs ($context.eventType).
enum class websocket_event_type { connect, message, disconnect };

class ConnectionManager;

/// What a WebSocket route's integration gets, as AWS's Lambda proxy event for WebSocket APIs.
/// The views are valid during the call only.
struct websocket_event {
  websocket_event_type event_type = websocket_event_type::message;
  std::string_view route_key{};      ///< "$connect", "$default", "sendmessage" …
  std::string_view connection_id{};  ///< 16 characters, as AWS's
  std::string_view stage{};
  std::string_view request_id{};
  std::string_view message_id{};  ///< MESSAGE events only
  std::string_view domain_name{};
  std::string_view api_id{};
  std::string_view source_ip{};
  std::string_view user_agent{};
  std::int64_t connected_at = 0;         ///< epoch milliseconds
  std::int64_t request_time_epoch = 0;   ///< epoch milliseconds
  std::string_view body{};               ///< the message (raw bytes; binary ones too)
  bool is_binary = false;                ///< a binary message (base64 in to_json)
  const request* upgrade = nullptr;      ///< $connect: the upgrade request
  int disconnect_status_code = 0;        ///< $disconnect: the close code (1000, 1001, 1006 …)
  std::string_view disconnect_reason{};  ///< $disconnect
  std::string_view principal_id{};       ///< the connect_authorizer's principal id, if any
  /// requestContext.authorizer as a JSON object (principalId and the context), or empty.
  std::string_view authorizer_json{};

  /// $connect: a header of the upgrade request.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
  /// $connect: the last value of a query string parameter, percent-decoded.
  std::optional<std::string> query(std::string_view name) const;
  /// The event as AWS's JSON (requestContext with connectionId, routeKey, eventType …; body).
  std::string to_json() const;
  /// The connections of the event's own stage (its @connections API): a handler posts to any
  /// of them, this one included, without holding on to the WebSocketStage. Throws config_error
  /// for an event the gateway did not make.
  ConnectionManager connections() const;

 private:
  friend struct detail::websocket_event_access;
  const detail::websocket_stage_state* stage_state_ = nullptr;
};

/// A WebSocket route's integration: a C++ function, plain or a coroutine. For $connect a
/// non-2xx status refuses the upgrade; for a two-way route the body is sent back.
using websocket_handler = std::function<proxy_result(const websocket_event&)>;
using async_websocket_handler =
    std::function<asio::awaitable<proxy_result>(const websocket_event&)>;

/// Settings of one route.
struct websocket_route_options {
  /// Sends the integration's result body back to the client (AWS's route response `$default`).
  bool two_way = false;
  /// Coroutine handlers: after this (50 ms to 29 s) the handler is cancelled and the client
  /// gets {"message":"Endpoint request timed out",…} (a $connect upgrade fails with 504).
  std::chrono::milliseconds timeout{29'000};
  /// Routes with an `integration`: its integration request and response as a REST method's
  /// (request_parameters, request_models + validation, request_templates by the message's
  /// media type — application/json for text messages, application/octet-stream for binary —
  /// passthrough, integration_responses, hooks). Authorizers and API keys belong to $connect:
  /// set them in websocket_stage_options; here they are a config_error.
  method_options integration_request{};
};

/// Identity of a WebSocket API and how it routes messages.
struct websocket_api_options {
  std::string name = "websocket";
  std::string id{};  ///< $context.apiId; generated when empty
  /// `$request.body.PATH` (a JSON path into the message), or text with `${request.body.PATH}`
  /// parts; a message that is not JSON or matches no route goes to `$default`.
  std::string route_selection_expression = "$request.body.action";
};

/// A WebSocket API under construction: route keys, each with an integration. Copies share one
/// API; a WebSocketStage takes a snapshot of it when made.
class WebSocketApi {
 public:
  explicit WebSocketApi(websocket_api_options options = {});
  /// Adds a route ("$connect", "$disconnect", "$default" or a custom key). Throws config_error
  /// for an empty key, a route defined twice, or two_way on $connect / $disconnect.
  WebSocketApi& route(std::string key, websocket_handler handler,
                      websocket_route_options options = {});
  WebSocketApi& route(std::string key, async_websocket_handler handler,
                      websocket_route_options options = {});
  /// Adds a route served by any integration (http, http_proxy, mock, aws_service,
  /// lambda_invoke …). A message becomes a POST with the message as its body, $context
  /// carrying connectionId, routeKey, eventType, messageId and connectedAt; $connect runs
  /// with the upgrade request's method, headers and query string. The integration's status
  /// decides $connect (non-2xx refuses the upgrade); a two-way route sends its body back.
  WebSocketApi& route(std::string key, integration target, websocket_route_options options = {});

 private:
  friend struct detail::access;
  const std::shared_ptr<detail::websocket_api_state>& state() const noexcept { return state_; }
  std::shared_ptr<detail::websocket_api_state> state_{};
};

/// What a post to a connection came to.
enum class post_status {
  ok,
  gone,            ///< unknown, closing or closed connection (HTTP 410 GoneException)
  too_large,       ///< over 128 KiB (HTTP 413 PayloadTooLargeException)
  limit_exceeded,  ///< the connection's send queue is full (HTTP 429 LimitExceededException)
};

/// A connection as AWS's GetConnection reports it.
struct connection_info {
  std::chrono::system_clock::time_point connected_at{};
  std::chrono::system_clock::time_point last_active_at{};
  std::string source_ip{};
  std::string user_agent{};
};

/// The connections of a WebSocket stage (AWS's @connections API), usable from any thread and
/// from integrations.
class ConnectionManager {
 public:
  explicit ConnectionManager(std::shared_ptr<detail::websocket_stage_state> state) noexcept
      : state_(std::move(state)) {}
  /// Sends `data` to a connection: a text message when it is UTF-8, else binary.
  post_status post(std::string_view connection_id, std::string data) const;
  /// The connection's info, or nullopt when it is gone.
  std::optional<connection_info> info(std::string_view connection_id) const;
  /// Closes the connection with 1000; false when it is gone.
  bool disconnect(std::string_view connection_id) const;
  /// The ids of the open connections.
  std::vector<std::string> ids() const;

 private:
  std::shared_ptr<detail::websocket_stage_state> state_{};
};

/// Settings of a WebSocket stage; the limits default to AWS's.
struct websocket_stage_options {
  std::size_t max_frame_bytes = 32 * 1024;     ///< a larger frame closes with 1009
  std::size_t max_message_bytes = 128 * 1024;  ///< a larger message closes with 1009
  std::chrono::seconds idle_timeout{600};
  std::chrono::seconds max_duration{7200};
  std::size_t max_queued_bytes = 1024 * 1024;  ///< outgoing bytes per connection
  /// Protects POST|GET|DELETE /{stage}/@connections/{id} (IAM or any authorizer); empty: none.
  Authorizer management_authorizer{};
  /// Runs on every upgrade before $connect (a custom TOKEN/REQUEST authorizer, JWT or IAM):
  /// a refusal fails the upgrade with its 401/403; what it returns reaches every event of the
  /// connection as requestContext.authorizer. Empty: none.
  Authorizer connect_authorizer{};
  /// $connect needs an API key (x-api-key, or the authorizer's usageIdentifierKey) of a usage
  /// plan attached with UsagePlan::attach(WebSocketStage&), else 403; the plan's throttle and
  /// quota then count connections.
  bool api_key_required = false;
  /// Throttles upgrades ($connect) of this stage: over it the upgrade fails with 429.
  std::optional<throttle_settings> connect_throttle{};
  /// Throttles each connection's messages: one over it is not routed, and the client gets
  /// {"message":"Too Many Requests","connectionId":…,"requestId":…}. nullopt: no limit.
  std::optional<throttle_settings> message_throttle{};
  /// Detailed metrics (AWS's detailedMetricsEnabled): besides the stage's series, one per
  /// route (Gateway::metrics). Off by default, as at AWS.
  bool metrics_enabled = false;
};

/// A deployed WebSocket API, served by Gateway::mount at wss://host/{name} with its
/// @connections endpoint under /{name}/@connections/. Copies share one stage.
class WebSocketStage {
 public:
  /// Throws config_error unless `name` is 1–128 characters of [A-Za-z0-9_-].
  WebSocketStage(std::string name, const WebSocketApi& api, websocket_stage_options options = {});
  const std::string& name() const noexcept;
  /// The stage's connections.
  ConnectionManager connections() const noexcept { return ConnectionManager(state_); }
  /// Logs every connect, message and disconnect of the stage, one line each, as `settings` say
  /// (with the variables of WebSocket APIs: eventType, routeKey, connectionId …), or stops
  /// logging (nullopt). Throws config_error naming the stage for a bad format or an AccessLog
  /// without a destination.
  WebSocketStage& access_log(std::optional<access_log_settings> settings);

 private:
  friend struct detail::access;
  const std::shared_ptr<detail::websocket_stage_state>& state() const noexcept { return state_; }
  std::shared_ptr<detail::websocket_stage_state> state_{};
};

}  // namespace gatehouse
