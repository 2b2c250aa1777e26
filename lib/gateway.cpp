// The Gateway facade: mounts stages into the pipeline and opens the ways in.

#include "http/serializer.hpp"
#include "net/cancellation.hpp"
#include "net/client_core.hpp"
#include "net/serial_executor.hpp"
#include "net/server.hpp"
#include "net/tls_context.hpp"
#include "observe/metering_endpoint.hpp"
#include "observe/operator_endpoint.hpp"
#include "pipeline/gateway_responses.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/request_id.hpp"
#include "throttle/token_bucket.hpp"
#include "util/access.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/gateway.hpp>
#include <gatehouse/websocket_api.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <fmt/format.h>

#include <atomic>
#include <charconv>
#include <mutex>

namespace gatehouse {

namespace detail {
class gateway_impl {
 public:
  gateway_impl(asio::any_io_executor ex, gateway_options options)
      : executor(std::move(ex)),
        pipeline(std::make_shared<detail::pipeline>(executor, options)),
        server(std::make_shared<net::server>(executor, pipeline, options.limits)),
        metering(pipeline->observer().meter()) {}
  asio::any_io_executor executor;
  std::shared_ptr<detail::pipeline> pipeline;
  std::shared_ptr<net::server> server;
  /// What the operator listeners answer (made by the first listen_metrics).
  std::shared_ptr<observe::operator_endpoint> operator_paths;
  std::mutex operator_mutex;  // guards operator_paths

  metrics_snapshot metrics() const {
    const auto& observer = pipeline->observer();
    metrics_snapshot out = observer.metrics() ? observer.metrics()->snapshot() : metrics_snapshot{};
    auto& g = out.gateway;
    g.connections_open = server->connection_count();
    const auto core = detail::access::core(pipeline->client());
    g.upstream_connections_open = core->connection_count();
    g.upstream_connections_idle = core->idle_count();
    const auto st = pipeline->shared_store().statistics();
    g.store_round_trips = st.round_trips;
    g.store_failures = st.failures;
    g.requests_abandoned = pipeline->abandoned_requests();
    g.access_log_lines_dropped = observer.counters().access_log_lines_dropped();
    return out;
  }
  Metering metering;
  /// Starts metering's periodic flush: while the gateway listens (listeners keep the host's
  /// io_context busy anyway; a timer alone would keep it from returning).
  void listening() {
    if (const auto& m = pipeline->observer().meter()) m->start_timer();
  }
  /// At stop: the timer goes, and what the threads counted goes into the store.
  void stop_metering() {
    if (const auto& m = pipeline->observer().meter()) {
      m->stop_timer();
      m->flush();
    }
  }
  /// async_stop() or stop() began: dispatches and upgrades are refused from then on.
  std::atomic<bool> stopping{false};
};

namespace {
// A dispatch whose host may cancel it: the signals its waits are bound to, as a listener's
// connection has (the coroutine's own, and the one an HTTP integration's backend call takes).
struct dispatch_state final : cancellable {
  using cancellable::cancellable;
  asio::cancellation_signal step, call;
  void stop() override {
    call.emit(asio::cancellation_type::terminal);
    step.emit(asio::cancellation_type::terminal);
  }
};

// An upgrade whose host may cancel it: the same, and the connection it closes.
struct upgrade_state final : cancellable {
  using cancellable::cancellable;
  asio::cancellation_signal step, call;
  asio::ip::tcp::socket* socket = nullptr;  // the host's connection, while the upgrade has it
  void stop() override {
    call.emit(asio::cancellation_type::terminal);
    step.emit(asio::cancellation_type::terminal);
    if (socket) {
      asio::error_code ec;
      socket->shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      socket->close(ec);
    }
  }
};
}  // namespace
}  // namespace detail

namespace {
void check_limits(const server_limits& l) {
  using std::chrono::milliseconds;
  auto positive = [](milliseconds d, std::string_view name) {
    if (d <= milliseconds::zero())
      throw config_error(fmt::format("server limit {} must be positive", name));
  };
  positive(l.header_timeout, "header_timeout");
  positive(l.body_timeout, "body_timeout");
  positive(l.idle_timeout, "idle_timeout");
  positive(l.tls_handshake_timeout, "tls_handshake_timeout");
  if (l.max_header_bytes == 0 || l.max_uri_bytes == 0 || l.max_connections == 0)
    throw config_error(
        "server limits max_header_bytes, max_uri_bytes and max_connections must "
        "be positive");
}

asio::ip::tcp::endpoint parse_address(std::string_view address) {
  auto bad = [&](std::string_view why) {
    return config_error(fmt::format("listen address '{}': {}", address, why));
  };
  std::string_view host, port;
  if (!address.empty() && address.front() == '[') {
    auto close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() || address[close + 1] != ':')
      throw bad("use [IPv6]:port");
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    auto colon = address.rfind(':');
    if (colon == std::string_view::npos) throw bad("use host:port");
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || end != port.data() + port.size() || p > 65535)
    throw bad("the port is not a number from 0 to 65535");
  if (host == "localhost") host = "127.0.0.1";
  asio::error_code aec;
  auto addr = asio::ip::make_address(std::string(host), aec);
  if (aec) throw bad("the host is not an IP address (or localhost)");
  return {addr, static_cast<unsigned short>(p)};
}
}  // namespace

Gateway::Gateway(asio::io_context& io, gateway_options options)
    : Gateway(io.get_executor(), std::move(options)) {}

Gateway::Gateway(asio::any_io_executor executor, gateway_options options) {
  check_limits(options.limits);
  if (options.throttle) throttle::check_settings(*options.throttle, "gateway (account) throttle");
  impl_ = std::make_shared<detail::gateway_impl>(std::move(executor), std::move(options));
}

Gateway::~Gateway() {
  if (impl_) stop();
}

Gateway& Gateway::mount(Stage stage) {
  impl_->pipeline->mount(detail::access::state(stage));
  return *this;
}

Gateway& Gateway::mount(const WebSocketStage& stage) {
  auto& st = *detail::access::state(stage);
  {
    std::lock_guard lock(st.mutex);
    if (!st.gateway.expired())
      throw config_error(fmt::format("WebSocket stage '{}' is mounted already", st.name));
  }
  Stage management = management_stage(stage);
  impl_->pipeline->mount(detail::access::state(management));
  impl_->pipeline->mount(detail::access::state(*st.routes), /*hidden=*/true);
  {
    std::lock_guard lock(st.mutex);
    st.gateway = impl_->pipeline;
    if (const auto& m = impl_->pipeline->observer().metrics()) {
      std::vector<std::string> keys(st.api->routes.size());
      for (const auto& [key, route] : st.api->routes) keys[route.ordinal] = key;
      st.series = m->websocket_stage(st.api->options.name, st.api->options.id, st.name, keys,
                                     st.options.metrics_enabled);
      st.metrics = m;
    }
    if (const auto& m = impl_->pipeline->observer().meter()) {
      st.meter_series = m->websocket_series(st.api->options.name, st.api->options.id, st.name);
      st.meter = m;
    }
  }
  impl_->server->websockets().mount(detail::access::state(stage));
  return *this;
}

asio::ip::tcp::endpoint Gateway::listen(std::string_view address, tls::config tls,
                                        listen_options options) {
  auto at = parse_address(address);
  auto bound =
      impl_->server->listen(at, net::make_server_context(tls), std::move(options.private_endpoint));
  impl_->listening();
  return bound;
}

asio::ip::tcp::endpoint Gateway::listen(std::string_view address, plain_http_t,
                                        listen_options options) {
  auto bound =
      impl_->server->listen(parse_address(address), nullptr, std::move(options.private_endpoint));
  impl_->listening();
  return bound;
}

void Gateway::stop() {
  impl_->stopping.store(true, std::memory_order_release);
  impl_->server->websockets().close_all();
  impl_->server->stop_now();
  detail::access::core(impl_->pipeline->client())->abort_all();
  // The lines of the requests answered so far reach their files (or callbacks).
  impl_->pipeline->flush_access_logs();
  impl_->stop_metering();
}

Gateway& Gateway::export_traces(tracing_options options) {
  impl_->pipeline->export_traces(std::move(options));
  return *this;
}

tracing_statistics Gateway::trace_export_statistics() const noexcept {
  return impl_->pipeline->trace_export_statistics();
}

http_client& Gateway::client() noexcept { return impl_->pipeline->client(); }

ApiKeys& Gateway::api_keys() noexcept { return impl_->pipeline->api_keys(); }

void Gateway::flush_cache(const Stage& stage) {
  impl_->pipeline->flush_cache(*detail::access::state(stage));
}

std::size_t Gateway::connection_count() const noexcept {
  try {
    return impl_->server->connection_count();
  } catch (...) {  // a mutex that could not be locked
    return 0;
  }
}

std::uint64_t Gateway::abandoned_requests() const noexcept {
  return impl_->pipeline->abandoned_requests();
}

asio::any_io_executor Gateway::executor() const noexcept { return impl_->executor; }

metrics_snapshot Gateway::metrics() const { return impl_->metrics(); }

response Gateway::metrics_response(const request& req) const {
  if (auto refused = observe::refuse_method(req)) return std::move(*refused);
  return observe::exposition_response(impl_->metrics(), req);
}

Metering& Gateway::metering() noexcept { return impl_->metering; }

response Gateway::metering_response(const request& req) const {
  if (auto refused = observe::refuse_method(req)) return std::move(*refused);
  return observe::metering_response(impl_->pipeline->observer().meter().get(), req);
}

asio::ip::tcp::endpoint Gateway::listen_metrics(std::string_view address) {
  auto at = parse_address(address);
  std::shared_ptr<observe::operator_endpoint> paths;
  {
    std::lock_guard lock(impl_->operator_mutex);
    if (!impl_->operator_paths) {
      // Weak: the listener's connections must not keep the gateway alive.
      auto paths_made = std::make_shared<observe::operator_endpoint>();
      paths_made->add("/metrics",
                      [w = std::weak_ptr<detail::gateway_impl>(impl_)](const request& req) {
                        auto impl = w.lock();
                        if (!impl) return response{503, {}, {}};
                        return observe::exposition_response(impl->metrics(), req);
                      });
      paths_made->add(
          "/metering", [w = std::weak_ptr<detail::gateway_impl>(impl_)](const request& req) {
            auto impl = w.lock();
            if (!impl) return response{503, {}, {}};
            return observe::metering_response(impl->pipeline->observer().meter().get(), req);
          });
      impl_->operator_paths = std::move(paths_made);
    }
    paths = impl_->operator_paths;
  }
  auto bound = impl_->server->listen(at, nullptr, {}, std::move(paths));
  impl_->listening();
  return bound;
}

namespace {
// What a dispatch or an upgrade gets once the gateway is stopping: a draining server's 503.
response service_unavailable() {
  detail::gateway_error err{response_type::default_5xx, 503, "Service Unavailable"};
  err.error_type = "ServiceUnavailableException";
  response res = detail::render_gateway_error(err, nullptr);
  char id[37] = {};
  detail::make_request_id(id);
  res.headers.add("x-amzn-RequestId", std::string(id, 36));
  return res;
}
}  // namespace

std::shared_ptr<detail::cancellable> Gateway::new_dispatch_state() const {
  return std::make_shared<detail::dispatch_state>(net::serial_executor(impl_->executor));
}

void Gateway::start_dispatch(request req, detail::callback<asio::error_code, response> done,
                             std::shared_ptr<detail::cancellable> op) {
  auto state = std::static_pointer_cast<detail::dispatch_state>(std::move(op));
  if (state) state->done = std::move(done);
  if (impl_->stopping.load(std::memory_order_acquire)) {
    // Never completed inside the initiating call: posted.
    auto refuse = [state, done = std::move(done)]() mutable {
      if (state)
        state->complete(asio::error::shut_down, service_unavailable());
      else
        done(asio::error::shut_down, service_unavailable());
    };
    asio::post(state ? state->strand() : impl_->executor, std::move(refuse));
    return;
  }
  if (!state) {
    // Nobody can cancel it: the request lives in the coroutine frame; the pipeline keeps itself
    // alive through it.
    asio::co_spawn(
        net::serial_executor(impl_->executor),
        [p = impl_->pipeline, req = std::move(req),
         done = std::move(done)]() mutable -> asio::awaitable<void> {
          response res = co_await p->run(req);
          done(asio::error_code{}, std::move(res));
        },
        asio::detached);
    return;
  }
  // A cancellable one runs as a listener's request does: the pipeline answers into a reply
  // target whose cancellation is the host's. The completion handler keeps the state (and so
  // its signals) alive until the coroutine's last frame is gone.
  auto strand = state->strand();
  asio::co_spawn(
      std::move(strand),
      [p = impl_->pipeline, req = std::move(req), state]() mutable -> asio::awaitable<void> {
        // Once cancelled, a co_await must not throw: every step returns its error instead.
        co_await asio::this_coro::throw_if_cancelled(false);
        if (state->cancelled()) {  // before it began
          p->count_abandoned();
          co_return;
        }
        response res;
        char id[37] = {};
        detail::reply_target reply{res, id, state->handle(state->call)};
        reply.records_itself = true;
        co_await p->run(req, nullptr, nullptr, &reply);
        res.headers.add("x-amzn-RequestId", std::string(id, 36));
        p->answered(reply, observe::wire_size(res), res.body.size());
        state->complete({}, std::move(res));  // nothing when a cancellation completed it
      },
      asio::bind_cancellation_slot(state->step.slot(), [state](std::exception_ptr) {}));
}

bool Gateway::is_websocket_upgrade(const request& req) const {
  return impl_->server->websockets().route(req) != nullptr;
}

namespace {
asio::ip::tcp::socket& lowest(asio::ip::tcp::socket& s) { return s; }
asio::ip::tcp::socket& lowest(asio::ssl::stream<asio::ip::tcp::socket>& s) {
  return s.next_layer();
}

// Runs an upgrade a host handed over with its connection, answers on it, and starts the
// session or closes the connection. A cancellation before the answer is written closes the
// connection and completes the upgrade (upgrade_state::stop); what runs on here only winds down.
template <class Stream>
asio::awaitable<void> hand_over(std::shared_ptr<net::server> server, request req, Stream stream,
                                std::string already_read, bool stopping,
                                std::shared_ptr<detail::upgrade_state> state) {
  co_await asio::this_coro::throw_if_cancelled(false);
  auto close = [&] {
    asio::error_code ec;
    lowest(stream).shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    lowest(stream).close(ec);
  };
  if (state->cancelled()) {  // before it began
    close();
    co_return;
  }
  state->socket = &lowest(stream);
  struct let_go {
    detail::upgrade_state& s;
    ~let_go() { s.socket = nullptr; }
  } let_go{*state};

  asio::error_code ec;
  if (req.source_ip.empty()) {
    auto remote = lowest(stream).remote_endpoint(ec);
    if (!ec) req.source_ip = remote.address().to_string();
  }
  websocket::upgrade_attempt attempt;
  if (stopping) {
    attempt.res = service_unavailable();
  } else if (auto stage = server->websockets().route(req)) {
    attempt = co_await websocket::try_upgrade(std::move(stage), req, state->handle(state->call));
  } else {
    attempt.res.status = 400;
    attempt.res.headers.add("Content-Type", "application/json");
    attempt.res.body = "{\"message\":\"Not a WebSocket upgrade of a mounted stage\"}";
  }
  if (state->cancelled()) co_return;  // the connection is closed, the upgrade completed
  std::string out;
  if (attempt.accepted) {
    out = websocket::switching_head(attempt.res);
  } else {
    wire::write_head(attempt.res, /*keep_alive=*/false, out, /*http10=*/false);
    out += attempt.res.body;
  }
  co_await asio::async_write(stream, asio::buffer(out),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (state->cancelled()) co_return;
  if (!ec && attempt.accepted) {
    state->socket = nullptr;
    websocket::start_session(*attempt.accepted, std::move(stream), std::move(already_read));
  } else {
    close();
  }
  if (!ec && stopping) ec = asio::error::shut_down;
  state->complete(ec, std::move(attempt.res));
}

template <class Stream>
void spawn_upgrade(const std::shared_ptr<net::server>& server, request req, Stream stream,
                   std::string already_read, bool stopping,
                   detail::callback<asio::error_code, response> done,
                   std::shared_ptr<detail::cancellable> op) {
  // Upgrades are few: each has a state, whether or not its host can cancel it.
  auto state =
      op ? std::static_pointer_cast<detail::upgrade_state>(std::move(op))
         : std::make_shared<detail::upgrade_state>(net::serial_executor(stream.get_executor()));
  state->done = std::move(done);
  auto strand = state->strand();
  asio::co_spawn(std::move(strand),
                 hand_over(server, std::move(req), std::move(stream), std::move(already_read),
                           stopping, state),
                 asio::bind_cancellation_slot(state->step.slot(), [state](std::exception_ptr) {}));
}
}  // namespace

std::shared_ptr<detail::cancellable> Gateway::new_upgrade_state(
    const asio::any_io_executor& socket_executor) const {
  return std::make_shared<detail::upgrade_state>(net::serial_executor(socket_executor));
}

void Gateway::start_upgrade(request req, asio::ip::tcp::socket socket, std::string already_read,
                            detail::callback<asio::error_code, response> done,
                            std::shared_ptr<detail::cancellable> op) {
  spawn_upgrade(impl_->server, std::move(req), std::move(socket), std::move(already_read),
                impl_->stopping.load(std::memory_order_acquire), std::move(done), std::move(op));
}

void Gateway::start_upgrade(request req, asio::ssl::stream<asio::ip::tcp::socket> stream,
                            std::string already_read,
                            detail::callback<asio::error_code, response> done,
                            std::shared_ptr<detail::cancellable> op) {
  spawn_upgrade(impl_->server, std::move(req), std::move(stream), std::move(already_read),
                impl_->stopping.load(std::memory_order_acquire), std::move(done), std::move(op));
}

void Gateway::start_stop(std::chrono::milliseconds drain, detail::callback<detail::nothing> done) {
  impl_->stopping.store(true, std::memory_order_release);
  impl_->server->websockets().close_all();
  // Once drained, the backend connections go too: nothing of the gateway keeps the host's
  // io_context busy afterwards.
  impl_->server->stop_gracefully(
      drain, detail::callback<detail::nothing>(
                 [p = impl_->pipeline, done = std::move(done)](detail::nothing n) mutable {
                   detail::access::core(p->client())->abort_all();
                   p->flush_access_logs();  // no line of a drained request is left behind
                   if (const auto& m = p->observer().meter()) {
                     m->stop_timer();
                     m->flush();
                   }
                   done(n);
                 }));
}

}  // namespace gatehouse
