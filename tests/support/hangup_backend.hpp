#pragma once

// Test support for the hang-up tests: a backend on 127.0.0.1 that never answers (except
// GET /answer, which gets 200 with keep-alive) and notices at once when a connection is closed
// or reset, on its own thread. It counts connections accepted, request heads received and
// connections that ended.

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace test {

class silent_backend {
 public:
  silent_backend() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listener_, 64) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("silent_backend: cannot listen");
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~silent_backend() {
    stop_ = true;
    thread_.join();
    for (auto& c : conns_) ::close(c.fd);
    ::close(listener_);
  }
  silent_backend(const silent_backend&) = delete;
  silent_backend& operator=(const silent_backend&) = delete;

  unsigned short port() const noexcept { return port_; }
  int accepted() const noexcept { return accepted_; }
  int requests() const noexcept { return requests_; }
  int closed() const noexcept { return closed_; }

 private:
  struct conn {
    int fd;
    std::string in;
  };

  void run() {
    while (!stop_) {
      std::vector<pollfd> fds{{listener_, POLLIN, 0}};
      for (auto& c : conns_) fds.push_back({c.fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 10) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        int fd = ::accept(listener_, nullptr, nullptr);
        if (fd >= 0) {
          conns_.push_back({fd, {}});
          ++accepted_;
        }
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        auto& c = conns_[i - 1];
        char buf[4096];
        auto n = ::recv(c.fd, buf, sizeof buf, 0);
        if (n <= 0) {  // closed or reset
          ::close(c.fd);
          c.fd = -1;
          ++closed_;
          continue;
        }
        c.in.append(buf, static_cast<std::size_t>(n));
        for (auto end = c.in.find("\r\n\r\n"); end != std::string::npos;
             end = c.in.find("\r\n\r\n")) {
          const bool answer = c.in.rfind("GET /answer ", 0) == 0;
          c.in.erase(0, end + 4);
          ++requests_;
          if (answer) {
            static constexpr char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            ::send(c.fd, ok, sizeof ok - 1, MSG_NOSIGNAL);
          }
        }
      }
      std::erase_if(conns_, [](const conn& c) { return c.fd < 0; });
    }
  }

  int listener_ = -1;
  unsigned short port_ = 0;
  std::vector<conn> conns_;  // the backend thread's
  std::atomic<int> accepted_{0}, requests_{0}, closed_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace test
