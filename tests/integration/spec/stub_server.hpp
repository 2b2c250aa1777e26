#pragma once

// A stand-in for the services an imported API calls (a backend at the document's URI, the
// Lambda Invoke API): HTTP/1.1 on 127.0.0.1:0, one thread per connection, keep-alive, every
// request recorded and answered by the test's handler.

#include <gatehouse/http.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace test {

struct stub_request {
  std::string method;
  std::string target;
  gatehouse::header_map headers;
  std::string body;
};

struct stub_response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

class stub_server {
 public:
  using handler = std::function<stub_response(const stub_request&)>;
  explicit stub_server(handler h);
  ~stub_server();
  stub_server(const stub_server&) = delete;
  stub_server& operator=(const stub_server&) = delete;

  unsigned short port() const noexcept { return port_; }
  /// "http://127.0.0.1:PORT"
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<stub_request> requests() const;

 private:
  void serve(std::shared_ptr<asio::ip::tcp::socket> socket);
  handler handler_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  mutable std::mutex mutex_;
  std::vector<stub_request> requests_;
  std::vector<std::shared_ptr<asio::ip::tcp::socket>> sockets_;
  std::vector<std::thread> threads_;
  std::thread accept_thread_;
};

}  // namespace test
