// Clients that go away while their request waits (issue 20): the step it waits on (an HTTP
// integration's backend call, a custom authorizer) is cancelled at once, the backend connection
// closed, the request counted (Gateway::abandoned_requests), and the gateway serves on. Bytes a
// client sends meanwhile (a pipelined request) are kept and answered in order.

#include "backend.hpp"
#include "eventually.hpp"
#include "hangup_backend.hpp"
#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using test::silent_backend;

gatehouse::gateway_options quiet() {
  gatehouse::gateway_options o;
  o.log = [](gatehouse::log_level, std::string_view) {};
  return o;
}

using test::eventually;

// A client socket connected to 127.0.0.1:port (blocking), or -1.
int connect_to(unsigned short port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, std::string_view bytes) {
  return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

// What the server sends until it closes (or `within` passes): "" when it closed at once.
std::string read_until_closed(int fd, std::chrono::milliseconds within) {
  std::string got;
  auto deadline = clock_type::now() + within;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1)
      return got + "<open>";
    char buf[4096];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return got;
    got.append(buf, static_cast<std::size_t>(n));
  }
}

// A gateway whose stage "prod" has GET /wait/{proxy+} (HTTP_PROXY to the silent backend, AWS's
// 29 s timeout), GET /echo/{word} (a function) and GET /guarded (a mock behind a custom
// authorizer that waits 20 s on a timer unless cancelled).
struct hangup_env {
  silent_backend backend;
  test::running_gateway gw{quiet()};
  unsigned short port = 0;
  std::atomic<int> authorizer_started{0}, authorizer_ended{0};

  hangup_env() {
    gatehouse::Authorizer slow_authorizer(
        {.name = "slow", .result_ttl = 0s, .timeout = 29s},
        [this](
            const gatehouse::authorizer_request&) -> asio::awaitable<gatehouse::authorizer_result> {
          struct count_end {
            std::atomic<int>& n;
            ~count_end() { ++n; }
          } end{authorizer_ended};
          ++authorizer_started;
          asio::steady_timer timer(co_await asio::this_coro::executor, 20s);
          co_await timer.async_wait(asio::use_awaitable);  // throws when cancelled
          co_return gatehouse::authorizer_result::allow("user");
        });
    gatehouse::Router api;
    api.route("GET", "/wait/{proxy+}",
              gatehouse::http_proxy("http://${stageVariables.backend}/{proxy}"));
    api.route("GET", "/echo/{word}", gatehouse::function([](const gatehouse::proxy_event& ev) {
                return gatehouse::proxy_result{.body = std::string(*ev.path_parameter("word"))};
              }));
    api.route("GET", "/guarded", gatehouse::mock({.body = "in"}), {.authorizer = slow_authorizer});
    gatehouse::Stage prod("prod", api.deploy());
    prod.variable("backend", "127.0.0.1:" + std::to_string(backend.port()));
    port = gw.serve_plain(prod);
  }

  void check_still_serving() {
    auto r = test::roundtrip(port, test::get("/prod/echo/alive"));
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "alive");
  }
  void check_all_released() {
    CHECK(eventually([&] { return gw.gateway().connection_count() == 0; }));
  }
};

}  // namespace

TEST_CASE("hang-up: a client gone while its request waits on a backend cancels the call") {
  hangup_env env;
  int fd = connect_to(env.port);
  REQUIRE(fd >= 0);
  REQUIRE(send_all(fd, test::get("/prod/wait/hang")));
  REQUIRE(eventually([&] { return env.backend.requests() == 1; }));
  CHECK(env.backend.closed() == 0);

  std::string how;
  SECTION("closed") {
    how = "close";
    ::close(fd);
  }
  SECTION("reset") {
    how = "reset";
    linger l{1, 0};  // SO_LINGER 0: close() sends a reset
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
  }
  SECTION("half-closed: taken as gone too, and the connection closes without an answer") {
    how = "half-close";
    ::shutdown(fd, SHUT_WR);
  }
  INFO(how);
  const auto gone = clock_type::now();
  // The backend sees its connection closed at once, not after the 29 s integration timeout.
  REQUIRE(eventually([&] { return env.backend.closed() == 1; }, 5s));
  CHECK(clock_type::now() - gone < 5s);
  CHECK(eventually([&] { return env.gw.gateway().abandoned_requests() == 1; }));
  if (how == "half-close") {
    CHECK(read_until_closed(fd, 5s).empty());
    ::close(fd);
  }
  CHECK(env.backend.accepted() == 1);  // not tried again on a new connection
  env.check_still_serving();
  env.check_all_released();
  CHECK(env.gw.gateway().abandoned_requests() == 1);
}

TEST_CASE("hang-up: a cancelled call on a kept-alive backend connection is not retried") {
  hangup_env env;
  // One answered call leaves a pooled connection, which the next call reuses.
  auto first = test::roundtrip(env.port, test::get("/prod/wait/answer"));
  REQUIRE(first);
  CHECK(first->status == 200);
  REQUIRE(env.backend.accepted() == 1);

  int fd = connect_to(env.port);
  REQUIRE(fd >= 0);
  REQUIRE(send_all(fd, test::get("/prod/wait/hang")));
  REQUIRE(eventually([&] { return env.backend.requests() == 2; }));
  ::close(fd);
  REQUIRE(eventually([&] { return env.backend.closed() == 1; }, 5s));
  CHECK(eventually([&] { return env.gw.gateway().abandoned_requests() == 1; }));
  std::this_thread::sleep_for(100ms);
  CHECK(env.backend.accepted() == 1);
  CHECK(env.backend.requests() == 2);
  env.check_still_serving();
  env.check_all_released();
}

TEST_CASE("hang-up: a client gone while a custom authorizer works cancels the authorizer") {
  hangup_env env;
  int fd = connect_to(env.port);
  REQUIRE(fd >= 0);
  REQUIRE(send_all(fd, "GET /prod/guarded HTTP/1.1\r\nHost: a\r\nAuthorization: token\r\n\r\n"));
  REQUIRE(eventually([&] { return env.authorizer_started == 1; }));
  ::close(fd);
  CHECK(eventually([&] { return env.authorizer_ended == 1; }, 5s));
  CHECK(eventually([&] { return env.gw.gateway().abandoned_requests() == 1; }));
  env.check_still_serving();
  env.check_all_released();
}

TEST_CASE("hang-up: a request sent while another waits is kept and answered in order") {
  test::backend slow;  // /slow/MS answers after MS milliseconds
  test::running_gateway gw(quiet());
  gatehouse::Router api;
  api.route("GET", "/wait/{proxy+}",
            gatehouse::http_proxy("http://${stageVariables.backend}/{proxy}"));
  api.route("GET", "/echo/{word}", gatehouse::function([](const gatehouse::proxy_event& ev) {
              return gatehouse::proxy_result{.body = std::string(*ev.path_parameter("word"))};
            }));
  gatehouse::Stage prod("prod", api.deploy());
  prod.variable("backend", slow.address());
  auto port = gw.serve_plain(prod);

  test::raw_client c(port, 10s);
  c.send(test::get("/prod/wait/slow/400"));
  REQUIRE(eventually([&] { return slow.requests() == 1; }));
  // The next requests come while the first waits: the server reads them then, and keeps them.
  c.send(test::get("/prod/echo/second") + test::get("/prod/echo/third"));
  auto r1 = c.read_reply();
  auto r2 = c.read_reply();
  auto r3 = c.read_reply();
  REQUIRE(r1);
  REQUIRE(r2);
  REQUIRE(r3);
  CHECK(r1->status == 200);
  CHECK(r1->body.find("/slow/400") != std::string::npos);
  CHECK(r2->body == "second");
  CHECK(r3->body == "third");
  CHECK(gw.gateway().abandoned_requests() == 0);
}
