// The Gateway facade: mounts stages into the pipeline and opens the ways in.

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
#include <asio/strand.hpp>

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
  std::error_code aec;
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
  Stage management = management_stage(stage);
  impl_->pipeline->mount(management.state());
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

std::size_t Gateway::connection_count() const noexcept { return impl_->server->connection_count(); }

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
