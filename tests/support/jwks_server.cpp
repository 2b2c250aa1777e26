#include "jwks_server.hpp"

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <array>

namespace test {

using asio::ip::tcp;

jwks_server::jwks_server(std::string body, unsigned short port, gatehouse::tls::config certificate)
    : certificate_(certificate.certificate_chain_pem.empty()
                       ? gatehouse::tls::self_signed({"localhost", "127.0.0.1"})
                       : std::move(certificate)),
      body_(std::move(body)) {
  ssl_.use_private_key(asio::buffer(certificate_.private_key_pem), asio::ssl::context::pem);
  ssl_.use_certificate_chain(asio::buffer(certificate_.certificate_chain_pem));
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(io_, accept_loop(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

jwks_server::~jwks_server() {
  asio::post(io_, [this] {
    asio::error_code ec;
    acceptor_.close(ec);
  });
  io_.stop();
  thread_.join();
}

void jwks_server::set(std::string body, int status) {
  std::lock_guard lock(mutex_);
  body_ = std::move(body);
  status_ = status;
}

asio::awaitable<void> jwks_server::accept_loop() {
  for (;;) {
    asio::error_code ec;
    auto socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!acceptor_.is_open()) co_return;
      continue;
    }
    ++connections_;
    asio::co_spawn(io_, session(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> jwks_server::session(tcp::socket socket) {
  asio::ssl::stream<tcp::socket> stream(std::move(socket), ssl_);
  asio::error_code ec;
  co_await stream.async_handshake(asio::ssl::stream_base::server,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  std::string in;
  std::array<char, 4096> chunk;
  while (in.find("\r\n\r\n") == std::string::npos && in.size() < 65536) {
    auto n = co_await stream.async_read_some(asio::buffer(chunk),
                                             asio::redirect_error(asio::use_awaitable, ec));
    if (ec || n == 0) co_return;
    in.append(chunk.data(), n);
  }
  std::string target;
  if (auto sp = in.find(' '); sp != std::string::npos)
    target = in.substr(sp + 1, in.find(' ', sp + 1) - sp - 1);
  int status = 404;
  std::string body = R"({"message":"no such thing"})";
  if (in.starts_with("GET ") && target == "/jwks.json") {
    ++fetches_;
    if (auto ms = delay_.load(); ms > 0) {
      asio::steady_timer timer(io_, std::chrono::milliseconds(ms));
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    std::lock_guard lock(mutex_);
    status = status_;
    body = body_;
  }
  std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " +
                    "application/json\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n\r\n" + body;
  co_await asio::async_write(stream, asio::buffer(out),
                             asio::redirect_error(asio::use_awaitable, ec));
  stream.next_layer().shutdown(tcp::socket::shutdown_both, ec);
  stream.next_layer().close(ec);
}

counting_listener::counting_listener() {
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(ep.protocol());
  acceptor_.bind(ep);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(io_, accept_loop(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

counting_listener::~counting_listener() {
  asio::post(io_, [this] {
    asio::error_code ec;
    acceptor_.close(ec);
  });
  io_.stop();
  thread_.join();
}

asio::awaitable<void> counting_listener::accept_loop() {
  for (;;) {
    asio::error_code ec;
    auto socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!acceptor_.is_open()) co_return;
      continue;
    }
    ++connections_;
    socket.set_option(asio::socket_base::linger(true, 0), ec);
    socket.close(ec);
  }
}

}  // namespace test
