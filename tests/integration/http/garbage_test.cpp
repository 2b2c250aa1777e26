// Garbage on gatehouse's own HTTP/1.1 server: whatever a client writes, the server answers 4xx
// or closes, never crashes or hangs, and the next client is served.

#include "harness.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

gatehouse::server_limits garbage_limits() {
  gatehouse::server_limits l;
  l.header_timeout = 300ms;
  l.body_timeout = 300ms;
  l.idle_timeout = 300ms;
  return l;
}

struct target_gateway {
  test::running_gateway gw;
  unsigned short port;

  explicit target_gateway(gatehouse::server_limits limits = garbage_limits())
      : gw({.limits = limits}) {
    port = gw.serve_plain(test::echo_stage());
  }

  // Every connection the garbage opened is released (none is leaked or stuck).
  void check_all_released() {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (gw.gateway().connection_count() > 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    CHECK(gw.gateway().connection_count() == 0);
  }

  void check_still_serving() const {
    auto r = test::roundtrip(port,
                             "POST /prod/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
                             "\r\nsane");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "sane");
  }
};

struct outcome {
  bool connected = false;
  bool closed = false;  // EOF or reset within the deadline
  std::string received;
};

// Writes `bytes` on a fresh connection (as far as the server lets it), then reads everything
// until the server closes or `deadline` passes.
outcome throw_at(unsigned short port, const std::string& bytes,
                 std::chrono::milliseconds deadline = 4000ms) {
  outcome out;
  // No Catch2 assertions in here: it also runs on client threads.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return out;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return out;
  }
  out.connected = true;
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server refused the rest: fine
    sent += static_cast<std::size_t>(n);
  }
  auto end = std::chrono::steady_clock::now() + deadline;
  char buf[16384];
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) != 1) continue;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      out.closed = true;
      break;
    }
    out.received.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

// The server either said nothing or answered with one 4xx (or 505 for a version), and closed.
void check_refused(const outcome& o) {
  CHECK(o.connected);
  CHECK(o.closed);
  if (!o.received.empty()) {
    INFO(o.received.substr(0, 200));
    CHECK((o.received.rfind("HTTP/1.1 4", 0) == 0 || o.received.rfind("HTTP/1.1 505 ", 0) == 0));
    CHECK(o.received.find("Connection: close\r\n") != std::string::npos);
  }
}

}  // namespace

TEST_CASE("http garbage: random bytes are refused or closed, and the server keeps serving") {
  target_gateway g;
  std::mt19937 rng(20260618);
  for (int round = 0; round < 40; ++round) {
    std::uniform_int_distribution<int> len(1, round < 30 ? 512 : 40000);
    std::uniform_int_distribution<int> byte(0, 255);
    std::string junk(static_cast<std::size_t>(len(rng)), '\0');
    for (auto& ch : junk) ch = static_cast<char>(byte(rng));
    // Half the rounds start like a real request, so the junk reaches the header parser.
    if (round % 2) junk = "GET /prod/echo HTTP/1.1\r\nHost: a\r\n" + junk;
    INFO("round " << round);
    check_refused(throw_at(g.port, junk));
  }
  g.check_still_serving();
  g.check_all_released();
}

TEST_CASE("http garbage: NUL and control bytes in the request line get 400") {
  target_gateway g;
  using namespace std::string_literals;
  for (const auto& line : {"GET /prod/e\0cho HTTP/1.1\r\n"s, "G\0ET /prod/echo HTTP/1.1\r\n"s,
                           "GET /prod/echo HTTP/1.1\0\r\n"s, "GET /prod/echo\0 HTTP/1.1\r\n"s,
                           "GET /prod/e\x7f"
                           "cho HTTP/1.1\r\n"s,
                           "GET\t/prod/echo HTTP/1.1\r\n"s, "\0\0\0\0\r\n"s}) {
    INFO(line);
    auto o = throw_at(g.port, line + "Host: a\r\n\r\n");
    check_refused(o);
    CHECK(o.received.rfind("HTTP/1.1 400 ", 0) == 0);
  }
  g.check_still_serving();
}

TEST_CASE("http garbage: odd request lines and targets get 4xx, never a route") {
  target_gateway g;
  for (std::string line :
       {"GET http://a/prod/echo HTTP/1.1", "CONNECT a:443 HTTP/1.1", "GET prod/echo HTTP/1.1",
        "BREW /prod/echo HTTP/1.1", "GET /prod/echo HTTP/1.1 extra", "GET /prod/echo",
        "GET /prod/echo HTTP/1.1\r\n:empty-name", "GET /prod/echo HTTP/1.1\r\nA: b\r\n: v",
        "GET /prod/echo HTTP/1.1\r\nno-colon", "GET /prod/echo HTTP/1.2", "GET /prod/echo HTTP/x.y",
        "GET /prod/echo HTTP/11.1", "PRI * HTTP/2.0\r\n\r\nSM"}) {
    // (Not here: "GET  /prod/echo HTTP/1.1" with two spaces. llhttp 8.1 takes it, which
    // RFC 9112 3 permits: "recipients MAY instead parse on whitespace-delimited word
    // boundaries"; the target itself still cannot hold a space, see vector 30.)
    INFO(line);
    auto o = throw_at(g.port, line + "\r\nHost: a\r\n\r\n");
    check_refused(o);
    CHECK_FALSE(o.received.empty());
  }
  g.check_still_serving();
}

TEST_CASE("http garbage: a huge number of tiny headers gets 431, not a stall") {
  target_gateway g;  // default header limits (10240)
  for (std::string line : {"a:b\r\n", "a:\r\n", "a:  \r\n"}) {
    INFO(line);
    std::string head = "GET /prod/echo HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 100000; ++i) head += line;
    auto start = std::chrono::steady_clock::now();
    auto o = throw_at(g.port, head + "\r\n");
    check_refused(o);
    CHECK(o.received.rfind("HTTP/1.1 431 ", 0) == 0);
    CHECK(std::chrono::steady_clock::now() - start < 4s);
  }
  g.check_still_serving();
}

TEST_CASE("http garbage: many garbage clients at once, then a normal one") {
  target_gateway g;
  std::vector<std::thread> clients;
  std::vector<outcome> results(16);
  for (int i = 0; i < 16; ++i)
    clients.emplace_back([&, i] {
      std::mt19937 rng(static_cast<unsigned>(i));
      std::string junk(2048, '\0');
      for (auto& ch : junk) ch = static_cast<char>(rng());
      if (i % 3 == 0) junk = "POST /prod/echo HTTP/1.1\r\nContent-Length: 5\r\n\r\n" + junk;
      results[static_cast<std::size_t>(i)] = throw_at(g.port, junk);
    });
  for (auto& t : clients) t.join();
  for (const auto& o : results) {
    // The i % 3 == 0 clients sent a valid request followed by junk: the first is answered.
    if (o.received.rfind("HTTP/1.1 200 ", 0) == 0) continue;
    check_refused(o);
  }
  g.check_still_serving();
  g.check_all_released();
}

TEST_CASE("http garbage: clients that vanish mid-request leave nothing behind") {
  target_gateway g;
  for (std::string part :
       {"GET /prod/ec", "GET /prod/echo HTTP/1.1\r\nHost: a\r\nX-A: b",
        "POST /prod/echo HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc",
        "POST /prod/echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"}) {
    INFO(part);
    test::raw_client c(g.port, 5s);
    c.send(part);
    c.close();
  }
  g.check_still_serving();
  g.check_all_released();
}

TEST_CASE("http garbage: a request followed by a half-close is still answered") {
  target_gateway g;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(g.port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string req = "POST /prod/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nhalf";
  REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
  ::shutdown(fd, SHUT_WR);  // like `nc -N`: nothing more to send, still reading
  std::string got;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 4000) != 1) break;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  CHECK(got.rfind("HTTP/1.1 200 ", 0) == 0);
  CHECK(got.size() >= 4);
  CHECK(got.substr(got.size() - 4) == "half");
  g.check_all_released();
}
