#pragma once

#include <gatehouse/api_keys.hpp>
#include <gatehouse/config.hpp>
#include <gatehouse/http.hpp>
#include <gatehouse/http_client.hpp>
#include <gatehouse/metering.hpp>
#include <gatehouse/metrics.hpp>
#include <gatehouse/stage.hpp>
#include <gatehouse/store.hpp>
#include <gatehouse/throttle.hpp>
#include <gatehouse/tls.hpp>
#include <gatehouse/tracing.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/dispatch.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace gatehouse {

/// Limits of gatehouse's own HTTP server. Defaults are AWS API Gateway's numbers.
struct server_limits {
  std::size_t max_header_bytes = 10240;              ///< request header fields, total → 431
  std::size_t max_uri_bytes = 10240;                 ///< request target → 414
  std::size_t max_body_bytes = 10 * 1024 * 1024;     ///< payload → 413 REQUEST_TOO_LARGE
  std::chrono::milliseconds header_timeout{10'000};  ///< to receive a request's head → 408
  std::chrono::milliseconds body_timeout{30'000};    ///< between body reads, and per write
  std::chrono::milliseconds idle_timeout{60'000};    ///< idle keep-alive connection → closed
  std::chrono::milliseconds tls_handshake_timeout{10'000};
  std::size_t max_connections = 10'000;  ///< further connections are closed on accept
};

/// Settings of one listener.
struct listen_options {
  /// Makes the listener a private endpoint with this id (like an interface VPC endpoint's
  /// "vpce-…"): its requests carry it as request::private_endpoint, so APIs of
  /// endpoint_type::private_endpoint serve them and resource policies can test aws:SourceVpce.
  std::string private_endpoint{};
};

enum class log_level { debug, info, warning, error };

/// Settings of a Gateway.
struct gateway_options {
  server_limits limits{};
  std::string account_id = "123456789012";  ///< $context.accountId
  std::string region = "us-east-1";
  /// The client HTTP integrations call backends with (pools, timeouts, trust store).
  http_client_options upstream{};
  /// The account-level throttle over every request of every stage (AWS's regional default:
  /// 10,000 a second, burst 5,000); nullopt turns it off.
  std::optional<throttle_settings> throttle = account_default_throttle;
  /// Where buckets, quotas and API keys live; an in-memory store when null.
  std::shared_ptr<gatehouse::store> store{};
  /// Where the gateway logs; by default warnings and errors go to stderr.
  std::function<void(log_level, std::string_view)> log{};
  /// Keeps AWS's metrics of every mounted stage and the gateway's own (Gateway::metrics,
  /// listen_metrics), per thread; false records none of them (for measuring what they cost).
  bool metrics = true;
  /// Meters calls and bytes per API, stage, API key and hour into the store (Gateway::metering,
  /// <gatehouse/metering.hpp>); false meters nothing (for measuring what it costs).
  bool metering = true;
  /// How often metering adds what the threads counted into the store (also on each report and
  /// when the gateway stops); at least 1 s.
  std::chrono::seconds metering_flush_interval{10};
};

class WebSocketStage;

namespace detail {
class gateway_impl;
struct nothing {};
}  // namespace detail

/// The gateway: mounts stages, serves them on its own listeners or through async_dispatch.
/// Runs on the host's io_context, on as many threads as the host runs it; each connection's
/// work stays on a strand. An io_context made with concurrency hint 1 (`asio::io_context{1}`)
/// promises a single thread, and then gatehouse leaves the strands out; with
/// ASIO_CONCURRENCY_HINT_UNSAFE_IO, Asio also leaves out its lock around each socket operation
/// (the fastest choice for a one-thread host; other threads may still post to the io_context).
class Gateway {
 public:
  explicit Gateway(asio::io_context& io, gateway_options options = {});
  explicit Gateway(asio::any_io_executor executor, gateway_options options = {});
  ~Gateway();  // closes listeners and connections at once; use async_stop to drain first
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  /// Serves a stage under /{stage name}/…; throws config_error for a name already mounted
  /// or an integration that uses a stage variable the stage does not define.
  Gateway& mount(Stage stage);
  /// Serves a WebSocket stage: upgrades at /{stage name}, its @connections endpoint under
  /// /{stage name}/@connections/{id}. Throws config_error for a name already mounted.
  Gateway& mount(const WebSocketStage& stage);

  /// Listens on "host:port" ("[::1]:0" for IPv6, port 0 for an ephemeral port) over HTTPS
  /// (TLS 1.2 or later, ALPN http/1.1). Returns the bound endpoint; throws config_error.
  asio::ip::tcp::endpoint listen(std::string_view address, tls::config tls,
                                 listen_options options = {});
  /// Listens over plain HTTP: only when asked for explicitly.
  asio::ip::tcp::endpoint listen(std::string_view address, plain_http_t,
                                 listen_options options = {});

  /// Runs a request a host has parsed itself through the pipeline.
  /// Completion: void(asio::error_code, response), like every Asio operation, so that a stopping
  /// gateway or a cancellation can be told from the API's own answers (5xx included):
  /// - no error: `response` is the pipeline's answer, whatever its status, with
  ///   x-amzn-RequestId; the host writes Date, Content-Length and connection handling itself.
  /// - asio::error::shut_down: the dispatch began after async_stop() or stop(); no step ran, and
  ///   `response` holds a 503 {"message":"Service Unavailable"} (x-amzn-ErrorType
  ///   ServiceUnavailableException) for the host to send, as a draining server answers. A
  ///   dispatch that began before is not part of the drain: it runs on, and a backend call it
  ///   still waits on when the stop completes is closed (its answer is then a 504).
  /// - asio::error::operation_aborted: the dispatch was cancelled; `response` is empty.
  ///
  /// Cancellation, through the completion handler's associated cancellation slot
  /// (bind_cancellation_slot, awaitable operators such as `||`, a coroutine's own cancellation):
  /// terminal and partial cancellation give the request up at once, as when the client of a
  /// listener's connection goes away. The step it waits on is cancelled (an HTTP integration's
  /// backend connection closed, a coroutine authorizer or handler sees its awaited operation
  /// fail with operation_aborted), no further step runs, the request counts in
  /// abandoned_requests(), and the dispatch completes at once with operation_aborted, before
  /// the cancelled step has wound down. A total cancellation alone is ignored (a request under
  /// way may already have reached its integration). The slot may fire from any thread, at any
  /// time: after completion it does nothing. The handler's associated allocator holds the
  /// completion while the request runs.
  template <class Token>
  auto async_dispatch(request req, Token&& token) {
    return asio::async_initiate<Token, void(asio::error_code, response)>(
        [this](auto handler, request r) {
          auto op = detail::connect_cancellation(handler, [this] { return new_dispatch_state(); });
          start_dispatch(std::move(r), detail::completion(handler, executor()), std::move(op));
        },
        token, std::move(req));
  }

  /// For hosts that parse requests themselves: true when `req` asks for a WebSocket upgrade
  /// of a mounted WebSocket stage (GET /{stage} with Upgrade: websocket); hand its connection
  /// to async_upgrade then.
  bool is_websocket_upgrade(const request& req) const;

  /// Takes over the connection a WebSocket upgrade request `req` came on: runs the upgrade
  /// ($connect with its authorizer, API key and throttle), writes the answer on it and, when
  /// accepted, serves the WebSocket session there; a refused or failed connection is closed.
  /// `already_read`: bytes the host read past the request (the first frames). The request's
  /// source_ip is taken from the socket when empty.
  /// Completion: void(asio::error_code, response) with what was sent: 101 with its headers when
  /// accepted, otherwise the refusal; the error is the write's, if it failed, and
  /// asio::error::shut_down after async_stop() or stop() (a 503 was sent and the connection
  /// closed, no $connect ran).
  /// Cancellation (terminal or partial, as for async_dispatch): before the answer is written
  /// the connection is closed at once, the $connect is given up (its step cancelled; counted in
  /// abandoned_requests() when it waited on one) and the upgrade completes with
  /// operation_aborted. The upgrade completes once its answer is written: a session that began
  /// lives on whatever its slot does later (close it through its stage's connections).
  template <class Token>
  auto async_upgrade(request req, asio::ip::tcp::socket socket, std::string already_read,
                     Token&& token) {
    return asio::async_initiate<Token, void(asio::error_code, response)>(
        [this](auto handler, request r, asio::ip::tcp::socket s, std::string rest) {
          auto op = detail::connect_cancellation(
              handler, [&] { return new_upgrade_state(s.get_executor()); });
          start_upgrade(std::move(r), std::move(s), std::move(rest),
                        detail::completion(handler, executor()), std::move(op));
        },
        token, std::move(req), std::move(socket), std::move(already_read));
  }
  /// The same over a TLS stream whose handshake is done (wss://).
  template <class Token>
  auto async_upgrade(request req, asio::ssl::stream<asio::ip::tcp::socket> stream,
                     std::string already_read, Token&& token) {
    return asio::async_initiate<Token, void(asio::error_code, response)>(
        [this](auto handler, request r, asio::ssl::stream<asio::ip::tcp::socket> s,
               std::string rest) {
          auto op = detail::connect_cancellation(
              handler, [&] { return new_upgrade_state(s.get_executor()); });
          start_upgrade(std::move(r), std::move(s), std::move(rest),
                        detail::completion(handler, executor()), std::move(op));
        },
        token, std::move(req), std::move(stream), std::move(already_read));
  }

  /// Graceful stop: stops accepting, lets requests in flight on the gateway's own listeners
  /// finish for up to `drain`, then closes every connection (WebSocket sessions at once, with
  /// 1001) and flushes the stages' access logs before it completes. Dispatches and upgrades begun
  /// from now on complete with asio::error::shut_down. Completion: void(). Not cancellable (the
  /// completion handler's cancellation slot is left alone): a stop once begun is not undone; stop()
  /// cuts the drain short.
  template <class Token>
  auto async_stop(std::chrono::milliseconds drain, Token&& token) {
    return asio::async_initiate<Token, void()>(
        [this](auto handler, std::chrono::milliseconds d) {
          auto ex = asio::get_associated_executor(handler, executor());
          start_stop(d, detail::callback<detail::nothing>(
                            [h = std::move(handler), ex](detail::nothing) mutable {
                              asio::dispatch(ex, std::move(h));
                            }));
        },
        token, drain);
  }

  /// Closes listeners and connections at once, then waits for the mounted stages' access logs
  /// to write the lines of the requests answered (up to their flush_timeout).
  void stop();

  /// How many client connections are open now, WebSocket sessions included (both count
  /// toward server_limits::max_connections).
  std::size_t connection_count() const noexcept;

  /// Requests given up because their client went away (closed or reset its connection) while
  /// they waited on a step (an integration, an authorizer …), or because the host cancelled
  /// their async_dispatch (or an upgrade's $connect): the step was cancelled (an HTTP
  /// integration's backend connection closed at once) and no further step ran. Since start.
  std::uint64_t abandoned_requests() const noexcept;

  asio::any_io_executor executor() const noexcept;

  /// The gateway's HTTP client (the pools its HTTP integrations use), for the host's own calls.
  http_client& client() noexcept;

  /// The gateway's API keys: create, import, enable, delete, join to usage plans, report usage.
  ApiKeys& api_keys() noexcept;

  /// Sets how stages with tracing on (Stage::tracing) sample requests and where the spans of
  /// sampled ones go (an OTLP/HTTP collector), replacing earlier settings; by default AWS's
  /// sampling rule and no export. Throws config_error for a bad setting.
  Gateway& export_traces(tracing_options options);
  /// What the span exporter did since export_traces.
  tracing_statistics trace_export_statistics() const noexcept;

  /// Empties a stage's cache (AWS's FlushStageCache); requests go to the integration until
  /// it fills again.
  void flush_cache(const Stage& stage);

  /// AWS's metrics of every mounted stage (and of the methods or routes of stages with
  /// metrics_enabled) and the gateway's own, since it started; see <gatehouse/metrics.hpp>.
  /// The stages' series are empty when gateway_options::metrics is off. Thread-safe.
  metrics_snapshot metrics() const;
  /// The metrics as a response to a scrape `req` that reached the host's own server, at a
  /// path of its choosing: 200 with Prometheus text or OpenMetrics (as its Accept header asks),
  /// 405 for a method other than GET and HEAD. The host writes framing and connection handling.
  response metrics_response(const request& req) const;
  /// Calls, bytes and units per API, stage, API key and hour, with their cost
  /// (<gatehouse/metering.hpp>): reports, flushes, the price table. Thread-safe.
  Metering& metering() noexcept;
  /// The metering report as a response to a GET `req` with ?from=…&to=…&format=json|csv (ISO
  /// 8601 or epoch seconds; by default everything, as JSON), 400 for bad parameters.
  response metering_response(const request& req) const;

  /// Opens a plain-HTTP operator listener on "host:port" (port 0: an ephemeral one) that serves
  /// GET /metrics as metrics_response does and GET /metering as metering_response does, and
  /// nothing of the APIs (404 elsewhere). Keep it on
  /// an address clients cannot reach (127.0.0.1, an internal network). Returns the bound
  /// endpoint; throws config_error. It stops with the gateway's other listeners.
  asio::ip::tcp::endpoint listen_metrics(std::string_view address);

 private:
  std::shared_ptr<detail::cancellable> new_dispatch_state() const;
  std::shared_ptr<detail::cancellable> new_upgrade_state(
      const asio::any_io_executor& socket_executor) const;
  void start_dispatch(request req, detail::callback<asio::error_code, response> done,
                      std::shared_ptr<detail::cancellable> op);
  void start_upgrade(request req, asio::ip::tcp::socket socket, std::string already_read,
                     detail::callback<asio::error_code, response> done,
                     std::shared_ptr<detail::cancellable> op);
  void start_upgrade(request req, asio::ssl::stream<asio::ip::tcp::socket> stream,
                     std::string already_read, detail::callback<asio::error_code, response> done,
                     std::shared_ptr<detail::cancellable> op);
  void start_stop(std::chrono::milliseconds drain, detail::callback<detail::nothing> done);
  std::shared_ptr<detail::gateway_impl> impl_{};
};

}  // namespace gatehouse
