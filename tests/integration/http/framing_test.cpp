// Message framing on gatehouse's own HTTP/1.1 server: keep-alive, pipelining, chunked and
// Content-Length bodies, 100-continue, HEAD, Connection: close and HTTP/1.0, over loopback.

#include "harness.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using opt_sv = std::optional<std::string_view>;

// Short enough that a test that fails by waiting for a close does not wait a minute.
gatehouse::server_limits short_timeouts() {
  gatehouse::server_limits l;
  l.header_timeout = 2s;
  l.body_timeout = 2s;
  l.idle_timeout = 2s;
  return l;
}

// "/prod/echo" answers "<method> <path> <body>"; "/prod/hdr/{name}" answers the value of the
// header {name} or "<none>"; HEAD "/prod/head" answers a 5-byte body the server must not send.
struct echo_gateway {
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  test::running_gateway gw;
  unsigned short port;

  explicit echo_gateway(gatehouse::server_limits limits = short_timeouts())
      : gw({.limits = limits}) {
    gatehouse::Router api;
    auto echo = gatehouse::function([c = calls](const gatehouse::proxy_event& ev) {
      ++*c;
      gatehouse::proxy_result r;
      r.body = std::string(ev.http_method()) + " " + std::string(ev.path()) + " " +
               std::string(ev.body());
      return r;
    });
    api.route("ANY", "/echo", echo);
    api.route("ANY", "/echo/{rest+}", echo);
    api.route("GET", "/hdr/{name}",
              gatehouse::function([c = calls](const gatehouse::proxy_event& ev) {
                ++*c;
                gatehouse::proxy_result r;
                auto v = ev.header(*ev.path_parameter("name"));
                r.body = v ? std::string(*v) : "<none>";
                return r;
              }));
    api.route("HEAD", "/head", gatehouse::function([c = calls](const gatehouse::proxy_event&) {
                ++*c;
                gatehouse::proxy_result r;
                r.body = "hello";
                r.headers.add("X-Head", "yes");
                return r;
              }));
    gatehouse::Stage st{"prod", api.deploy()};
    port = gw.serve_plain(st);
  }
};

std::string post(std::string_view target, std::string_view body, std::string_view extra = "") {
  return "POST " + std::string(target) + " HTTP/1.1\r\nHost: a\r\n" + std::string(extra) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

}  // namespace

TEST_CASE("http framing: several requests on one keep-alive connection") {
  echo_gateway g;
  test::raw_client c(g.port, 5s);
  for (int i = 0; i < 5; ++i) {
    c.send(test::get("/prod/echo/n" + std::to_string(i)));
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "GET /echo/n" + std::to_string(i) + " ");
    CHECK_FALSE(r->headers.get("Connection"));
  }
  c.send(post("/prod/echo", "last"));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->body == "POST /echo last");
  CHECK(*g.calls == 6);
}

TEST_CASE("http framing: pipelined requests in one write are answered in order") {
  echo_gateway g;
  test::raw_client c(g.port, 5s);
  std::string batch;
  for (int i = 0; i < 8; ++i) {
    if (i % 2)
      batch += post("/prod/echo/p" + std::to_string(i), "body" + std::to_string(i));
    else
      batch += test::get("/prod/echo/p" + std::to_string(i));
  }
  batch +=
      "POST /prod/echo/chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  batch += test::get("/prod/echo/tail");
  c.send(batch);
  for (int i = 0; i < 8; ++i) {
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->status == 200);
    if (i % 2)
      CHECK(r->body == "POST /echo/p" + std::to_string(i) + " body" + std::to_string(i));
    else
      CHECK(r->body == "GET /echo/p" + std::to_string(i) + " ");
  }
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->body == "POST /echo/chunked abcde");
  r = c.read_reply();
  REQUIRE(r);
  CHECK(r->body == "GET /echo/tail ");
}

TEST_CASE("http framing: a pipelined batch that ends in Connection: close drops what follows") {
  echo_gateway g;
  test::raw_client c(g.port, 5s);
  c.send(test::get("/prod/echo/one") +
         "GET /prod/echo/two HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" +
         test::get("/prod/echo/three"));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->body == "GET /echo/one ");
  r = c.read_reply();
  REQUIRE(r);
  CHECK(r->body == "GET /echo/two ");
  CHECK(r->headers.get("Connection") == opt_sv("close"));
  CHECK_FALSE(c.read_reply());
  CHECK(c.wait_closed());
  CHECK(*g.calls == 2);
}

TEST_CASE("http framing: a request split into single bytes is reassembled") {
  echo_gateway g;
  test::raw_client c(g.port, 5s);
  std::string req =
      "POST /prod/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n";
  for (char ch : req) c.send(std::string_view(&ch, 1));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->body == "POST /echo wikipedia");
}

TEST_CASE("http framing: chunked request bodies are reassembled, extensions ignored") {
  echo_gateway g;
  test::raw_client c(g.port, 5s);
  std::string big(40000, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  std::string chunked;
  for (std::size_t off = 0; off < big.size(); off += 7000) {
    auto piece = big.substr(off, 7000);
    char size[16];
    std::snprintf(size, sizeof size, "%zx", piece.size());
    chunked += std::string(size) + (off ? "" : ";name=value") + "\r\n" + piece + "\r\n";
  }
  chunked += "0\r\n\r\n";
  c.send("PUT /prod/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked);
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "PUT /echo " + big);
  // The connection is still in sync afterwards.
  c.send(test::get("/prod/echo/after"));
  r = c.read_reply();
  REQUIRE(r);
  CHECK(r->body == "GET /echo/after ");
}

TEST_CASE("http framing: chunked trailer fields are not merged into the request headers") {
  // RFC 9110 6.5.1: a trailer must not be merged into the header section. A trailer that became
  // a header after the head was checked could carry credentials or framing past the checks.
  echo_gateway g;
  test::raw_client c(g.port, 5s);
  c.send(
      "GET /prod/hdr/X-Trailer HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\nhi\r\n0\r\nX-Trailer: smuggled\r\n\r\n");
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "<none>");
  c.send(test::get("/prod/hdr/X-Trailer"));  // and the next request starts clean
  r = c.read_reply();
  REQUIRE(r);
  CHECK(r->body == "<none>");
}

TEST_CASE("http framing: Content-Length bodies, including zero and a body across writes") {
  echo_gateway g;
  test::raw_client c(g.port, 5s);
  c.send(post("/prod/echo", ""));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->body == "POST /echo ");
  std::string body(100000, 'b');
  auto req = post("/prod/echo", body);
  c.send(req.substr(0, 50));
  std::this_thread::sleep_for(20ms);
  c.send(req.substr(50, 30000));
  std::this_thread::sleep_for(20ms);
  c.send(req.substr(30050));
  r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "POST /echo " + body);
}

TEST_CASE("http framing: Expect: 100-continue gets 100 before the body is sent") {
  echo_gateway g;
  test::raw_client c(g.port, 5s);
  c.send(
      "POST /prod/echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  auto interim = c.read_reply();
  REQUIRE(interim);
  CHECK(interim->status == 100);
  CHECK(*g.calls == 0);
  c.send("hello");
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "POST /echo hello");
  // No stray 100 for a request whose body arrived with its head.
  c.send(post("/prod/echo", "again", "Expect: 100-continue\r\n"));
  r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "POST /echo again");
}

TEST_CASE("http framing: no 100 Continue for an HTTP/1.0 request") {
  // RFC 9110 10.1.1: a server MUST ignore 100-continue in an HTTP/1.0 request.
  echo_gateway g;
  // Our own socket: raw_client cannot tell "nothing yet" (its reads wait for data or EOF).
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(g.port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string head =
      "POST /prod/echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";
  ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  pollfd p{fd, POLLIN, 0};
  CHECK(::poll(&p, 1, 300) == 0);  // nothing within 300 ms
  ::send(fd, "hello", 5, MSG_NOSIGNAL);
  std::string got;
  char buf[4096];
  for (;;) {
    pollfd q{fd, POLLIN, 0};
    if (::poll(&q, 1, 4000) != 1) break;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  CHECK(got.rfind("HTTP/1.1 200 ", 0) == 0);
  CHECK(got.find("100 Continue") == std::string::npos);
  CHECK(got.size() >= 16);
  CHECK(got.substr(got.size() - 16) == "POST /echo hello");
}

TEST_CASE("http framing: more than one Host field gets 400") {
  echo_gateway g;
  test::raw_client c(g.port, 5s);
  c.send("GET /prod/echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(c.wait_closed());
  CHECK(*g.calls == 0);
}

TEST_CASE("http framing: an expectation other than 100-continue gets 417 and close") {
  echo_gateway g;
  test::raw_client c(g.port, 5s);
  c.send(post("/prod/echo", "x", "Expect: something-else\r\n"));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 417);
  CHECK(c.wait_closed());
  CHECK(*g.calls == 0);
}

TEST_CASE("http framing: HEAD answers Content-Length and no body bytes") {
  echo_gateway g;
  test::raw_client c(g.port, 5s);
  c.send("HEAD /prod/head HTTP/1.1\r\nHost: a\r\n\r\n");
  auto r = c.read_reply(/*head_only=*/true);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->headers.get("Content-Length") == opt_sv("5"));
  CHECK(r->headers.get("X-Head") == opt_sv("yes"));
  // Had the body been sent, it would prefix the next response and break its status line.
  c.send(test::get("/prod/echo/next"));
  r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "GET /echo/next ");
}

TEST_CASE("http framing: Connection: close is answered with Connection: close, then closed") {
  echo_gateway g;
  test::raw_client c(g.port, 5s);
  c.send("GET /prod/echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->headers.get("Connection") == opt_sv("close"));
  CHECK(c.wait_closed());
}

TEST_CASE("http framing: HTTP/1.0 closes unless keep-alive is asked for") {
  echo_gateway g;
  {
    test::raw_client c(g.port, 5s);
    c.send("GET /prod/echo/ten HTTP/1.0\r\nHost: a\r\n\r\n");
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "GET /echo/ten ");
    CHECK(r->headers.get("Connection") == opt_sv("close"));
    CHECK(c.wait_closed());
  }
  {
    test::raw_client c(g.port, 5s);
    c.send("GET /prod/echo/a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->body == "GET /echo/a ");
    c.send("GET /prod/echo/b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    r = c.read_reply();
    REQUIRE(r);
    CHECK(r->body == "GET /echo/b ");
  }
}

TEST_CASE("http framing: Transfer-Encoding in an HTTP/1.0 request is refused") {
  // RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
  echo_gateway g;
  test::raw_client c(g.port, 5s);
  c.send("POST /prod/echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(c.wait_closed());
  CHECK(*g.calls == 0);
}

TEST_CASE("http framing: transfer codings other than a final chunked") {
  echo_gateway g;
  SECTION("an unknown coding before chunked is valid framing we do not decode: 501") {
    auto r = test::roundtrip(g.port,
                             "POST /prod/echo HTTP/1.1\r\nHost: a\r\n"
                             "Transfer-Encoding: gzip, chunked\r\n\r\n1\r\na\r\n0\r\n\r\n");
    REQUIRE(r);
    CHECK(r->status == 501);
  }
  SECTION("chunked not the final coding: the length is unknown, 400 (RFC 9112 6.3)") {
    for (auto te : {"gzip", "chunked, gzip", "identity", "chunked, chunked"}) {
      INFO(te);
      test::raw_client c(g.port, 5s);
      c.send(std::string("POST /prod/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ") + te +
             "\r\n\r\n1\r\na\r\n0\r\n\r\n");
      auto r = c.read_reply();
      REQUIRE(r);
      CHECK(r->status == 400);
      CHECK(c.wait_closed());
    }
  }
  CHECK(*g.calls == 0);
}

TEST_CASE("http framing: obs-fold header continuation lines are refused") {
  echo_gateway g;
  for (std::string head : {"X-A: one\r\n two\r\n", "X-A:\r\n two\r\n", "X-A: one\r\n\ttwo\r\n"}) {
    INFO(head);
    test::raw_client c(g.port, 5s);
    c.send("GET /prod/hdr/X-A HTTP/1.1\r\nHost: a\r\n" + head + "\r\n");
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(c.wait_closed());
  }
  {  // the fold split over writes, each byte alone
    test::raw_client c(g.port, 5s);
    for (char ch : std::string("GET /prod/hdr/X-A HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n"))
      c.send(std::string_view(&ch, 1));
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->status == 400);
  }
  CHECK(*g.calls == 0);
}

TEST_CASE("http framing: HTTP versions other than 1.x get 505") {
  echo_gateway g;
  for (std::string line :
       {"GET /prod/echo HTTP/2.0", "GET /prod/echo HTTP/0.9", "GET /prod/echo"}) {
    INFO(line);
    test::raw_client c(g.port, 5s);
    c.send(line + "\r\nHost: a\r\n\r\n");
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->status == 505);
    CHECK(c.wait_closed());
  }
  CHECK(*g.calls == 0);
}

TEST_CASE("http framing: Expect: 100-continue with a body over the limit gets 413, not 100") {
  auto limits = short_timeouts();
  limits.max_body_bytes = 100;
  echo_gateway g(limits);
  test::raw_client c(g.port, 5s);
  c.send(
      "POST /prod/echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 101\r\n\r\n");
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 413);
  CHECK(c.wait_closed());
}

TEST_CASE("http framing: Expect: 100-continue with a chunked body") {
  echo_gateway g;
  test::raw_client c(g.port, 5s);
  c.send(
      "POST /prod/echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
      "Transfer-Encoding: chunked\r\n\r\n");
  auto interim = c.read_reply();
  REQUIRE(interim);
  CHECK(interim->status == 100);
  c.send("3\r\nabc\r\n0\r\n\r\n");
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "POST /echo abc");
}

TEST_CASE("http framing: pipelined requests with large bodies stay in order") {
  echo_gateway g;
  test::raw_client c(g.port, 5s);
  std::string batch;
  std::vector<std::string> bodies;
  for (int i = 0; i < 4; ++i) {
    bodies.push_back(
        std::string(static_cast<std::size_t>(70000 + i * 1000), static_cast<char>('k' + i)));
    batch += post("/prod/echo/big" + std::to_string(i), bodies.back());
    batch += test::get("/prod/echo/small" + std::to_string(i));
  }
  c.send(batch);
  for (int i = 0; i < 4; ++i) {
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->body ==
          "POST /echo/big" + std::to_string(i) + " " + bodies[static_cast<std::size_t>(i)]);
    r = c.read_reply();
    REQUIRE(r);
    CHECK(r->body == "GET /echo/small" + std::to_string(i) + " ");
  }
}
