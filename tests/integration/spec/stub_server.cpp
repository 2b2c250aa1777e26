#include "stub_server.hpp"

#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include <sys/socket.h>

#include <cctype>
#include <cstdlib>

namespace test {

stub_server::stub_server(handler h)
    : handler_(std::move(h)),
      acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  accept_thread_ = std::thread([this] {
    for (;;) {
      auto socket = std::make_shared<asio::ip::tcp::socket>(io_);
      asio::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec) return;
      std::lock_guard lock(mutex_);
      sockets_.push_back(socket);
      threads_.emplace_back([this, socket] { serve(socket); });
    }
  });
}

stub_server::~stub_server() {
  // shutdown(2) wakes a thread blocked in accept or read on Linux; close(2) would not.
  ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
  accept_thread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    for (auto& s : sockets_) ::shutdown(s->native_handle(), SHUT_RDWR);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

std::vector<stub_request> stub_server::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void stub_server::serve(std::shared_ptr<asio::ip::tcp::socket> socket) {
  std::string buffer;
  for (;;) {
    asio::error_code ec;
    auto head_end = asio::read_until(*socket, asio::dynamic_buffer(buffer), "\r\n\r\n", ec);
    if (ec) return;
    stub_request req;
    std::string_view head(buffer.data(), head_end - 4);
    auto line_end = head.find("\r\n");
    std::string_view first = head.substr(0, line_end);
    auto sp1 = first.find(' '), sp2 = first.rfind(' ');
    req.method = first.substr(0, sp1);
    req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t length = 0;
    for (std::size_t at = line_end; at != std::string_view::npos && at < head.size();) {
      auto next = head.find("\r\n", at + 2);
      auto line = head.substr(at + 2, next == std::string_view::npos ? head.npos : next - at - 2);
      auto colon = line.find(':');
      if (colon != std::string_view::npos) {
        auto value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        std::string name(line.substr(0, colon));
        std::string lower = name;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower == "content-length")
          length = std::strtoul(std::string(value).c_str(), nullptr, 10);
        req.headers.add(std::move(name), std::string(value));
      }
      at = next;
    }
    buffer.erase(0, head_end);
    if (buffer.size() < length) {
      asio::read(*socket, asio::dynamic_buffer(buffer),
                 asio::transfer_exactly(length - buffer.size()), ec);
      if (ec) return;
    }
    req.body = buffer.substr(0, length);
    buffer.erase(0, length);
    stub_response res = handler_(req);
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(std::move(req));
    }
    std::string out = "HTTP/1.1 " + std::to_string(res.status) + " X\r\n";
    for (const auto& [n, v] : res.headers) out += n + ": " + v + "\r\n";
    out += "Content-Length: " + std::to_string(res.body.size()) + "\r\n\r\n" + res.body;
    asio::write(*socket, asio::buffer(out), ec);
    if (ec) return;
  }
}

}  // namespace test
