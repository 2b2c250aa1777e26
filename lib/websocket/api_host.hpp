#pragma once

// The WebSocket API behind gatehouse's listener: the mounted WebSocket stages, the upgrade with
// its $connect route, the sessions' message routing, and the connections' registry.

#include "net/cancellation.hpp"
#include "observe/meter.hpp"
#include "observe/metrics.hpp"
#include "throttle/token_bucket.hpp"
#include "websocket/session.hpp"

#include <gatehouse/http.hpp>
#include <gatehouse/stage.hpp>
#include <gatehouse/websocket_api.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gatehouse::auth {
struct authorization;
}

namespace gatehouse::detail {

class pipeline;

/// A route: a C++ handler (sync or async), or an integration run through the pipeline on the
/// stage's hidden routes stage at `path`.
struct websocket_route {
  websocket_handler sync;
  async_websocket_handler async;
  integration target;
  std::string path;  // "/route/N" on the routes stage, for routes with an integration
  websocket_route_options options;
  std::size_t ordinal = 0;  // the N: the order it was added in (its metrics series)
};

struct websocket_api_state {
  websocket_api_options options;
  std::map<std::string, websocket_route, std::less<>> routes;
  const websocket_route* find(std::string_view key) const {
    auto it = routes.find(key);
    return it == routes.end() ? nullptr : &it->second;
  }
};

/// One open connection of a WebSocket stage.
struct websocket_connection {
  std::string id;
  std::chrono::system_clock::time_point connected_at;
  std::atomic<std::int64_t> last_active_ms{0};
  std::atomic<int> in_flight{0};  // messages whose integration has not finished
  std::string source_ip, user_agent, domain_name;
  std::string principal_id, authorizer_json;        // what connect_authorizer found out
  std::shared_ptr<const auth::authorization> auth;  // the same, for integration routes
  throttle::bucket_state message_bucket;            // message_throttle; on the session's strand
  std::string api_key_id;                           // the API key $connect accepted, for metering
  std::weak_ptr<websocket::session> session;
  asio::any_io_executor executor;
};

/// Sets what websocket_event::connections() reaches.
struct websocket_event_access {
  static void set_stage(websocket_event& ev, const websocket_stage_state& st) noexcept {
    ev.stage_state_ = &st;
  }
};

// Shared from this for websocket_event::connections().
struct websocket_stage_state : std::enable_shared_from_this<websocket_stage_state> {
  std::string name;
  std::shared_ptr<const websocket_api_state> api;
  websocket_stage_options options;
  /// The HTTP stage $connect and the routes with integrations run on (hidden: no client
  /// reaches it by path): GET /connect, POST /route/N.
  std::optional<Stage> routes;
  /// The gateway's pipeline, once mounted (weak: the pipeline's stages hold this state).
  std::weak_ptr<const pipeline> gateway;
  mutable std::mutex mutex;  // guards connections
  std::unordered_map<std::string, std::shared_ptr<websocket_connection>> connections;
  std::atomic<std::size_t> open_sessions{0};  // sessions started and not yet closed
  /// The gateway's metrics and this stage's series in them, set once when mounted (null: none).
  std::shared_ptr<observe::metrics> metrics;
  observe::websocket_series series;
  /// The gateway's metering and this stage's series in it, set once when mounted (null: none).
  std::shared_ptr<observe::meter> meter;
  observe::meter_series meter_series = 0;

  std::shared_ptr<websocket_connection> find(std::string_view id) const;
};

}  // namespace gatehouse::detail

namespace gatehouse {
class Stage;
/// The HTTP stage serving POST|GET|DELETE /{stage}/@connections/{connectionId} of a WebSocket
/// stage, with its management authorizer.
Stage management_stage(const WebSocketStage& stage);
}  // namespace gatehouse

namespace gatehouse::detail {
class pipeline;
}

namespace gatehouse::websocket {

/// The WebSocket stages of a server. Thread-safe.
class hub {
 public:
  /// Adds a stage; throws config_error for a name already mounted.
  void mount(std::shared_ptr<detail::websocket_stage_state> stage);
  /// The stage an upgrade request is for (GET /{stage}), else null: the request goes to the
  /// HTTP routes (where the stage's @connections endpoint is).
  std::shared_ptr<detail::websocket_stage_state> route(const request& req) const;
  /// Closes every connection with 1001.
  void close_all() const;
  /// WebSocket sessions open on every stage (they count toward max_connections).
  std::size_t open_sessions() const;

 private:
  std::atomic<bool> any_{false};
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<detail::websocket_stage_state>> stages_;
};

/// An upgrade $connect accepted: the connection to start once the 101 is written.
struct pending_connection {
  std::shared_ptr<detail::websocket_stage_state> stage;
  std::shared_ptr<detail::websocket_connection> connection;
};

/// The answer to an upgrade request: a refusal, or a 101 with the connection to start.
struct upgrade_attempt {
  response res;
  std::shared_ptr<pending_connection> accepted;
};

/// Checks the handshake, runs the stage's GET /connect through the pipeline (authorizer, API
/// key, throttles; the integration of a $connect route with one), then a $connect handler.
/// `cancel`: the caller's cancellation of the pipeline's steps (reply_target::cancel).
asio::awaitable<upgrade_attempt> try_upgrade(std::shared_ptr<detail::websocket_stage_state> stage,
                                             const request& req, net::cancel_handle cancel = {});

/// The head of a 101 response, as bytes.
std::string switching_head(const response& res);

/// Starts the session of an accepted connection on its stream.
void start_session(const pending_connection& p, asio::ip::tcp::socket socket,
                   std::string already_read);
void start_session(const pending_connection& p, net::tls_stream stream, std::string already_read);
void start_session(const pending_connection& p, asio::ssl::stream<asio::ip::tcp::socket> stream,
                   std::string already_read);

}  // namespace gatehouse::websocket
