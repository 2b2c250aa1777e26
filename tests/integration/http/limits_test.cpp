// The limits of gatehouse's own HTTP/1.1 server (server_limits): sizes, timeouts, connection
// count. Each test configures small limits, trips one, then checks another client is served.

#include "harness.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using opt_sv = std::optional<std::string_view>;

gatehouse::server_limits small_limits() {
  gatehouse::server_limits l;
  l.max_header_bytes = 1024;
  l.max_uri_bytes = 512;
  l.max_body_bytes = 1000;
  l.header_timeout = 300ms;
  l.body_timeout = 300ms;
  l.idle_timeout = 300ms;
  return l;
}

// "/prod/echo" answers with the request body.
struct limited_gateway {
  test::running_gateway gw;
  unsigned short port;

  explicit limited_gateway(gatehouse::server_limits limits = small_limits())
      : gw({.limits = limits}) {
    port = gw.serve_plain(test::echo_stage());
  }

  // A fresh client is served normally.
  void check_still_serving() const {
    test::raw_client c(port, 5s);
    c.send("POST /prod/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok");
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "ok");
  }
};

std::string post(std::string_view body, std::string_view extra = "") {
  return "POST /prod/echo HTTP/1.1\r\nHost: a\r\n" + std::string(extra) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

std::string chunk(std::string_view data) {
  char size[16];
  std::snprintf(size, sizeof size, "%zx", data.size());
  return std::string(size) + "\r\n" + std::string(data) + "\r\n";
}

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

}  // namespace

TEST_CASE("http limits: header fields over max_header_bytes get 431 and close") {
  limited_gateway g;
  SECTION("one large header") {
    test::raw_client c(g.port, 5s);
    c.send("GET /prod/echo HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(1100, 'h') + "\r\n\r\n");
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->status == 431);
    CHECK(r->headers.get("Connection") == opt_sv("close"));
    CHECK(c.wait_closed());
  }
  SECTION("many headers that together are too large") {
    std::string head = "GET /prod/echo HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 100; ++i) head += "X-H" + std::to_string(i) + ": 0123456789\r\n";
    test::raw_client c(g.port, 5s);
    c.send(head + "\r\n");
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->status == 431);
    CHECK(c.wait_closed());
  }
  SECTION("just under the limit is served") {
    test::raw_client c(g.port, 5s);
    // Names and values besides the padding: Host, a, X-Big, Content-Length, 2 = 25 bytes.
    c.send("POST /prod/echo HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(999, 'h') +
           "\r\nContent-Length: 2\r\n\r\nok");
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  SECTION("a header section padded with whitespace is measured on the wire") {
    // Optional whitespace is not part of a field value, yet it is part of the head a client
    // makes the server read: 64 KiB of it must not pass a 1 KiB header limit.
    test::raw_client c(g.port, 5s);
    c.send("GET /prod/echo HTTP/1.1\r\nHost: a\r\nX-Pad:" + std::string(64 * 1024, ' ') +
           "x\r\n\r\n");
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->status == 431);
    CHECK(c.wait_closed());
  }
  g.check_still_serving();
}

TEST_CASE("http limits: a request target over max_uri_bytes gets 414 and close") {
  limited_gateway g;
  test::raw_client c(g.port, 5s);
  c.send("GET /prod/echo?q=" + std::string(600, 'u') + " HTTP/1.1\r\nHost: a\r\n\r\n");
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 414);
  CHECK(c.wait_closed());
  g.check_still_serving();
}

TEST_CASE("http limits: a Content-Length over max_body_bytes gets AWS's 413 before the body") {
  limited_gateway g;
  test::raw_client c(g.port, 5s);
  // Only the head is sent: the answer must not wait for a body it will refuse.
  c.send("POST /prod/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n");
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 413);
  CHECK(r->body == R"({"message":"Request Too Long"})");
  CHECK(r->headers.get("x-amzn-ErrorType") == opt_sv("RequestTooLargeException"));
  CHECK(r->headers.get("x-amzn-RequestId"));
  CHECK(r->headers.get("Connection") == opt_sv("close"));
  CHECK(c.wait_closed());
  g.check_still_serving();
}

TEST_CASE("http limits: a body of exactly max_body_bytes is served") {
  limited_gateway g;
  test::raw_client c(g.port, 5s);
  std::string body(1000, 'z');
  c.send(post(body));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == body);
}

TEST_CASE("http limits: a chunked body growing past max_body_bytes gets 413") {
  limited_gateway g;
  test::raw_client c(g.port, 5s);
  c.send("POST /prod/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::optional<test::reply> r;
  // Chunks of 300 bytes: the fourth goes past 1000.
  for (int i = 0; i < 4; ++i) c.send(chunk(std::string(300, 'c')));
  r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 413);
  CHECK(r->body == R"({"message":"Request Too Long"})");
  CHECK(r->headers.get("x-amzn-ErrorType") == opt_sv("RequestTooLargeException"));
  CHECK(c.wait_closed());
  g.check_still_serving();
}

TEST_CASE("http limits: a client that stalls in the middle of its head gets 408 and close") {
  limited_gateway g;
  test::raw_client c(g.port, 10s);
  auto start = clock_type::now();
  c.send("GET /prod/echo HTTP/1.1\r\nHost: a\r\nX-Slo");
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 408);
  CHECK(r->headers.get("Connection") == opt_sv("close"));
  CHECK(c.wait_closed());
  CHECK(seconds_since(start) < 5.0);
  g.check_still_serving();
}

TEST_CASE("http limits: a slow drip of head bytes does not extend the header timeout") {
  limited_gateway g;
  // A socket of our own: we must notice the answer while still dripping.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(g.port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string head = "GET /prod/echo HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 40; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
  auto start = clock_type::now();
  // One byte every 50 ms (the whole head would take ~20 s) until the server answers.
  bool readable = false;
  for (std::size_t i = 0; i < head.size() && !readable && seconds_since(start) < 5.0; ++i) {
    ::send(fd, &head[i], 1, MSG_NOSIGNAL);
    pollfd p{fd, POLLIN, 0};
    readable = ::poll(&p, 1, 50) == 1;
  }
  auto answered_after = seconds_since(start);
  std::string got;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) != 1) break;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  CHECK(readable);
  CHECK(answered_after < 3.0);  // 300 ms header timeout; far less than the drip would take
  CHECK(got.rfind("HTTP/1.1 408 ", 0) == 0);
  g.check_still_serving();
}

TEST_CASE("http limits: a client that stalls in the middle of its body is closed") {
  limited_gateway g;
  test::raw_client c(g.port, 10s);
  auto start = clock_type::now();
  c.send("POST /prod/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
  // body_timeout is 300 ms; the server may answer 408 first or just close.
  auto r = c.read_reply();
  if (r) CHECK(r->status == 408);
  CHECK(c.wait_closed());
  CHECK(seconds_since(start) < 5.0);
  g.check_still_serving();
}

TEST_CASE("http limits: an idle keep-alive connection is closed after idle_timeout") {
  limited_gateway g;
  test::raw_client c(g.port, 5s);
  c.send(post("one"));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->body == "one");
  auto start = clock_type::now();
  CHECK(c.wait_closed());
  auto waited = seconds_since(start);
  CHECK(waited >= 0.2);  // not before the idle timeout (300 ms, with some slack for the tick)
  CHECK(waited < 4.0);
  g.check_still_serving();
}

TEST_CASE("http limits: activity keeps a keep-alive connection open past idle_timeout") {
  limited_gateway g;
  test::raw_client c(g.port, 5s);
  auto start = clock_type::now();
  int served = 0;
  while (seconds_since(start) < 1.0) {  // > 3 idle timeouts in all, 100 ms between requests
    c.send(post("again"));
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->body == "again");
    ++served;
    std::this_thread::sleep_for(100ms);
  }
  CHECK(served >= 5);
}

TEST_CASE("http limits: a client that connects and sends nothing is closed") {
  limited_gateway g;
  test::raw_client c(g.port, 5s);
  auto start = clock_type::now();
  CHECK(c.wait_closed());
  CHECK(seconds_since(start) < 4.0);
  g.check_still_serving();
}

TEST_CASE("http limits: connections over max_connections are closed at once") {
  auto limits = small_limits();
  limits.idle_timeout = 5s;
  limits.header_timeout = 5s;
  limits.max_connections = 2;
  limited_gateway g(limits);
  test::raw_client a(g.port, 5s), b(g.port, 5s);
  // Both are established and counted once they have been answered.
  for (auto* c : {&a, &b}) {
    c->send(post("hi"));
    auto r = c->read_reply();
    REQUIRE(r);
    CHECK(r->body == "hi");
  }
  {
    test::raw_client third(g.port, 5s);
    auto start = clock_type::now();
    third.send(post("no"));
    CHECK_FALSE(third.read_reply());
    CHECK(seconds_since(start) < 2.0);
  }
  for (auto* c : {&a, &b}) {
    c->send(post("still"));
    auto r = c->read_reply();
    REQUIRE(r);
    CHECK(r->body == "still");
  }
  // Once one leaves, a new client gets its place (the server notices the close shortly).
  a.close();
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    test::raw_client d(g.port, 2s);
    d.send(post("next"));
    auto r = d.read_reply();
    served = r && r->body == "next";
    if (!served) std::this_thread::sleep_for(50ms);
  }
  CHECK(served);
}
