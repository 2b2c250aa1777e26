#pragma once

// Test support: a gateway running on its own threads, a raw-socket HTTP client with timeouts,
// and a way to run real command-line clients (curl, openssl s_client).

#include <gatehouse/gatehouse.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace test {

/// A Gateway on an io_context run by `threads` threads; stopped and joined on destruction.
class running_gateway {
 public:
  explicit running_gateway(gatehouse::gateway_options options = {}, int threads = 2);
  ~running_gateway();
  running_gateway(const running_gateway&) = delete;

  gatehouse::Gateway& gateway() noexcept { return gw_; }
  asio::io_context& io() noexcept { return io_; }
  /// CPU time its I/O threads have used so far: how long work held them, whatever the load
  /// of the machine (wall time also counts the time the threads waited for a core).
  std::chrono::nanoseconds io_cpu_time() const;
  /// Mounts `stage` and listens on 127.0.0.1:0 over plain HTTP; returns the port.
  unsigned short serve_plain(const gatehouse::Stage& stage);
  /// Mounts `stage` and listens on 127.0.0.1:0 over HTTPS; returns the port.
  unsigned short serve_tls(const gatehouse::Stage& stage, const gatehouse::tls::config& tls);

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  gatehouse::Gateway gw_;
  std::vector<std::thread> threads_;
};

struct reply {
  int status = 0;
  gatehouse::header_map headers;
  std::string body;
};

/// A blocking HTTP/1.1 client on a raw socket, for exact bytes, pipelining and slow clients.
class raw_client {
 public:
  explicit raw_client(unsigned short port,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void send(std::string_view bytes);
  /// Reads one response (Content-Length framed; no body when `head_only`); nullopt on
  /// timeout or when the connection closed first.
  std::optional<reply> read_reply(bool head_only = false);
  /// True when the server closes the connection (EOF or reset) within the timeout.
  bool wait_closed();
  void close();

 private:
  bool fill();      // reads more into buf_; false on EOF, error or timeout
  bool readable();  // waits up to the timeout for input (or EOF)
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  std::chrono::milliseconds timeout_;
  std::string buf_;
};

/// Sends one request and reads its reply on a fresh connection.
std::optional<reply> roundtrip(unsigned short port, std::string_view raw_request);

/// Runs a shell command; returns its standard output, and its exit status in `status`.
std::string shell(const std::string& command, int* status = nullptr);

/// A stage "prod" whose route ANY /echo answers 200 with the request body.
gatehouse::Stage echo_stage();

/// A simple GET request for `target` (keep-alive).
std::string get(std::string_view target);

/// The path of ../shared/vectors relative to the source tree (set by CMake).
std::string vectors_dir();

}  // namespace test
