// The Gateway facade: mounts stages into the pipeline and opens the ways in.

#include "http/serializer.hpp"
#include "net/client_core.hpp"
#include "net/serial_executor.hpp"
#include "net/server.hpp"
#include "net/tls_context.hpp"
#include "pipeline/pipeline.hpp"
#include "throttle/token_bucket.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/gateway.hpp>
#include <gatehouse/websocket_api.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <fmt/format.h>

#include <charconv>

namespace gatehouse {

namespace detail {
class gateway_impl {
 public:
  gateway_impl(asio::any_io_executor ex, gateway_options options)
      : executor(std::move(ex)),
        pipeline(std::make_shared<detail::pipeline>(executor, options)),
        server(std::make_shared<net::server>(executor, pipeline, options.limits)) {}
  asio::any_io_executor executor;
  std::shared_ptr<detail::pipeline> pipeline;
  std::shared_ptr<net::server> server;
};
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
  impl_->pipeline->mount(stage.state());
  return *this;
}

Gateway& Gateway::mount(const WebSocketStage& stage) {
  auto& st = *stage.state();
  {
    std::lock_guard lock(st.mutex);
    if (!st.gateway.expired())
      throw config_error(fmt::format("WebSocket stage '{}' is mounted already", st.name));
  }
  Stage management = management_stage(stage);
  impl_->pipeline->mount(management.state());
  impl_->pipeline->mount(st.routes->state(), /*hidden=*/true);
  {
    std::lock_guard lock(st.mutex);
    st.gateway = impl_->pipeline;
  }
  impl_->server->websockets().mount(stage.state());
  return *this;
}

asio::ip::tcp::endpoint Gateway::listen(std::string_view address, tls::config tls,
                                        listen_options options) {
  auto at = parse_address(address);
  return impl_->server->listen(at, net::make_server_context(tls),
                               std::move(options.private_endpoint));
}

asio::ip::tcp::endpoint Gateway::listen(std::string_view address, plain_http_t,
                                        listen_options options) {
  return impl_->server->listen(parse_address(address), nullptr,
                               std::move(options.private_endpoint));
}

void Gateway::stop() {
  impl_->server->websockets().close_all();
  impl_->server->stop_now();
  impl_->pipeline->client().core()->abort_all();
}

http_client& Gateway::client() noexcept { return impl_->pipeline->client(); }

ApiKeys& Gateway::api_keys() noexcept { return impl_->pipeline->api_keys(); }

void Gateway::flush_cache(const Stage& stage) { impl_->pipeline->flush_cache(*stage.state()); }

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

void Gateway::start_dispatch(request req, detail::callback<response> done) {
  // The request lives in the coroutine frame; the pipeline keeps itself alive through it.
  asio::co_spawn(
      net::serial_executor(impl_->executor),
      [p = impl_->pipeline, req = std::move(req),
       done = std::move(done)]() mutable -> asio::awaitable<void> {
        response res = co_await p->run(req);
        done(std::move(res));
      },
      asio::detached);
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
// session or closes the connection.
template <class Stream>
asio::awaitable<void> hand_over(std::shared_ptr<net::server> server, request req, Stream stream,
                                std::string already_read, detail::callback<response> done) {
  asio::error_code ec;
  if (req.source_ip.empty()) {
    auto remote = lowest(stream).remote_endpoint(ec);
    if (!ec) req.source_ip = remote.address().to_string();
  }
  websocket::upgrade_attempt attempt;
  if (auto stage = server->websockets().route(req)) {
    attempt = co_await websocket::try_upgrade(std::move(stage), req);
  } else {
    attempt.res.status = 400;
    attempt.res.headers.add("Content-Type", "application/json");
    attempt.res.body = "{\"message\":\"Not a WebSocket upgrade of a mounted stage\"}";
  }
  std::string out;
  if (attempt.accepted) {
    out = websocket::switching_head(attempt.res);
  } else {
    wire::write_head(attempt.res, /*keep_alive=*/false, out, /*http10=*/false);
    out += attempt.res.body;
  }
  co_await asio::async_write(stream, asio::buffer(out),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (!ec && attempt.accepted) {
    websocket::start_session(*attempt.accepted, std::move(stream), std::move(already_read));
  } else {
    lowest(stream).shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    lowest(stream).close(ec);
  }
  done(std::move(attempt.res));
}
}  // namespace

void Gateway::start_upgrade(request req, asio::ip::tcp::socket socket, std::string already_read,
                            detail::callback<response> done) {
  auto ex = socket.get_executor();
  asio::co_spawn(net::serial_executor(ex),
                 hand_over(impl_->server, std::move(req), std::move(socket),
                           std::move(already_read), std::move(done)),
                 asio::detached);
}

void Gateway::start_upgrade(request req, asio::ssl::stream<asio::ip::tcp::socket> stream,
                            std::string already_read, detail::callback<response> done) {
  auto ex = stream.get_executor();
  asio::co_spawn(net::serial_executor(ex),
                 hand_over(impl_->server, std::move(req), std::move(stream),
                           std::move(already_read), std::move(done)),
                 asio::detached);
}

void Gateway::start_stop(std::chrono::milliseconds drain, detail::callback<detail::nothing> done) {
  impl_->server->websockets().close_all();
  // Once drained, the backend connections go too: nothing of the gateway keeps the host's
  // io_context busy afterwards.
  impl_->server->stop_gracefully(
      drain, detail::callback<detail::nothing>(
                 [p = impl_->pipeline, done = std::move(done)](detail::nothing n) mutable {
                   p->client().core()->abort_all();
                   done(n);
                 }));
}

}  // namespace gatehouse
