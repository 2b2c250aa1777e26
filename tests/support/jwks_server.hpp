#pragma once

// Identity-provider stand-ins for JWT authorizer tests: an HTTPS server of one JWKS whose body,
// status and delay the test sets, and a listener that only counts the connections made to it.
// Each runs on its own io_context and thread, on 127.0.0.1.

#include <gatehouse/tls.hpp>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

namespace test {

/// Serves GET /jwks.json over TLS on 127.0.0.1 with a body and status the test can change,
/// counting the connections and the fetches; anything else 404. Each answer closes its
/// connection.
class jwks_server {
 public:
  /// Listens on `port` (0: any) with `certificate` (empty: a fresh self-signed one).
  explicit jwks_server(std::string body, unsigned short port = 0,
                       gatehouse::tls::config certificate = {});
  ~jwks_server();
  jwks_server(const jwks_server&) = delete;

  void set(std::string body, int status = 200);
  /// Each answer to /jwks.json waits this long first (a timer: other connections go on).
  void set_delay(std::chrono::milliseconds delay) { delay_ = delay.count(); }
  /// GET /jwks.json requests answered (after a TLS handshake that succeeded).
  int fetches() const { return fetches_; }
  /// TCP connections accepted, whatever became of their handshake.
  int connections() const { return connections_; }
  unsigned short port() const { return port_; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/jwks.json"; }
  const std::string& certificate_pem() const { return certificate_.certificate_chain_pem; }

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(asio::ip::tcp::socket socket);

  gatehouse::tls::config certificate_;
  // Before io_: the sessions' TLS streams, which io_ destroys with their frames, use it.
  asio::ssl::context ssl_{asio::ssl::context::tls_server};
  asio::io_context io_{1};
  asio::ip::tcp::acceptor acceptor_{io_};
  unsigned short port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::string body_;
  int status_ = 200;
  std::atomic<int> fetches_{0};
  std::atomic<int> connections_{0};
  std::atomic<long long> delay_{0};
};

/// Accepts TCP connections on 127.0.0.1:0, counts them and resets each at once (SO_LINGER 0):
/// a JWKS host that is there but never answers, where a test can count connection attempts.
class counting_listener {
 public:
  counting_listener();
  ~counting_listener();
  counting_listener(const counting_listener&) = delete;

  int connections() const { return connections_; }
  unsigned short port() const { return port_; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/jwks.json"; }

 private:
  asio::awaitable<void> accept_loop();

  asio::io_context io_{1};
  asio::ip::tcp::acceptor acceptor_{io_};
  unsigned short port_ = 0;
  std::thread thread_;
  std::atomic<int> connections_{0};
};

}  // namespace test
