// gatehouse::http_client on its own, against the test backend over plain HTTP on loopback:
// requests and responses, keep-alive pools, and one error code for each way a call fails.

#include "backend.hpp"
#include "client_env.hpp"
#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using gatehouse::client_errc;

using result = test::client_result;
using test::client_env;

gatehouse::client_request make(std::string method, std::string url, std::string body = {}) {
  gatehouse::client_request r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.body = std::move(body);
  return r;
}

std::string str(std::optional<std::string_view> v) { return v ? std::string(*v) : "<none>"; }

long long ms_since(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t).count();
}

}  // namespace

TEST_CASE("http_client: GET returns the backend's status, headers and body", "[http_client]") {
  test::backend b;
  client_env env;
  auto req = make("GET", b.url("/echo/items/7?color=red&size=2"));
  req.headers.add("X-Test", "yes");
  req.headers.add("X-Multi", "1");
  req.headers.add("X-Multi", "2");
  auto r = env.call(std::move(req));
  REQUIRE_FALSE(r.ec);
  CHECK(r.res.status == 200);
  CHECK(str(r.res.headers.get("content-type")) == "text/plain; charset=utf-8");
  CHECK(str(r.res.headers.get("x-backend")) == "echo");
  auto e = test::parse_echo(r.res.body);
  REQUIRE(e);
  CHECK(e->method == "GET");
  CHECK(e->target == "/echo/items/7?color=red&size=2");
  CHECK(str(e->headers.get("host")) == b.address());
  CHECK(str(e->headers.get("x-test")) == "yes");
  auto multi = e->headers.get_all("x-multi");
  REQUIRE(multi.size() == 2);
  CHECK(multi[0] == "1");
  CHECK(multi[1] == "2");
  CHECK(e->body_size == 0);
  CHECK(e->headers.get_all("host").size() == 1);
}

TEST_CASE("http_client: POST, PUT, PATCH and DELETE send the body with its length",
          "[http_client]") {
  test::backend b;
  client_env env;
  for (std::string method : {"POST", "PUT", "PATCH", "DELETE"}) {
    INFO(method);
    auto req = make(method, b.url("/echo/things"), "{\"name\":\"rex\"}");
    req.headers.add("Content-Type", "application/json");
    auto r = env.call(std::move(req));
    REQUIRE_FALSE(r.ec);
    CHECK(r.res.status == 200);
    auto e = test::parse_echo(r.res.body);
    REQUIRE(e);
    CHECK(e->method == method);
    CHECK(e->body == "{\"name\":\"rex\"}");
    CHECK(str(e->headers.get("content-length")) == "14");
    CHECK(str(e->headers.get("content-type")) == "application/json");
  }
  // An empty POST still says Content-Length: 0, so the server does not wait for a body.
  auto r = env.call(make("POST", b.url("/echo/empty")));
  REQUIRE_FALSE(r.ec);
  auto e = test::parse_echo(r.res.body);
  REQUIRE(e);
  CHECK(e->body_size == 0);
}

TEST_CASE("http_client: a 4xx or 5xx answer is a response, not an error", "[http_client]") {
  test::backend b;
  client_env env;
  for (int status : {201, 404, 500, 503}) {
    INFO(status);
    auto r = env.get(b.url("/status/" + std::to_string(status)));
    REQUIRE_FALSE(r.ec);
    CHECK(r.res.status == status);
    CHECK(r.res.body == "status " + std::to_string(status) + "\n");
    auto cookies = r.res.headers.get_all("set-cookie");
    REQUIRE(cookies.size() == 2);
    CHECK(cookies[0] == "a=1; Path=/");
    CHECK(cookies[1] == "b=2; Path=/");
    CHECK(str(r.res.headers.get("x-backend")) == "status");
    CHECK(str(r.res.headers.get("server")) == "test-backend/1.0");
  }
  auto r = env.get(b.url("/status/204"));
  REQUIRE_FALSE(r.ec);
  CHECK(r.res.status == 204);
  CHECK(r.res.body.empty());
  // All of them on one kept-alive connection.
  CHECK(b.connections_accepted() == 1);
}

TEST_CASE("http_client: HEAD reads no body, and the connection stays usable", "[http_client]") {
  test::backend b;
  client_env env;
  auto r = env.call(make("HEAD", b.url("/big/5000")), 10s);
  REQUIRE_FALSE(r.ec);
  CHECK(r.res.status == 200);
  CHECK(r.res.body.empty());
  CHECK(str(r.res.headers.get("content-length")) == "5000");
  auto again = env.get(b.url("/echo/after-head"));
  REQUIRE_FALSE(again.ec);
  CHECK(again.res.status == 200);
  auto e = test::parse_echo(again.res.body);
  REQUIRE(e);
  CHECK(e->target == "/echo/after-head");
  CHECK(b.connections_accepted() == 1);
}

TEST_CASE("http_client: large and chunked bodies arrive whole", "[http_client]") {
  test::backend b;
  client_env env;

  SECTION("a 10 MB response with Content-Length") {
    const std::size_t n = 10'000'000;
    auto r = env.get(b.url("/big/" + std::to_string(n)));
    REQUIRE_FALSE(r.ec);
    CHECK(r.res.status == 200);
    REQUIRE(r.res.body.size() == n);
    CHECK(test::fnv1a_hex(r.res.body) == test::fnv1a_hex(test::pattern_bytes(n)));
  }
  SECTION("a chunked response") {
    const std::size_t n = 3'000'001;
    auto r = env.get(b.url("/chunked/" + std::to_string(n)));
    REQUIRE_FALSE(r.ec);
    CHECK(r.res.status == 200);
    REQUIRE(r.res.body.size() == n);
    CHECK(test::fnv1a_hex(r.res.body) == test::fnv1a_hex(test::pattern_bytes(n)));
    // The connection survives a chunked response too.
    auto again = env.get(b.url("/chunked/10"));
    REQUIRE_FALSE(again.ec);
    CHECK(again.res.body == test::pattern_bytes(10));
    CHECK(b.connections_accepted() == 1);
  }
  SECTION("a 10 MB request body") {
    std::string body = test::pattern_bytes(10'000'000);
    auto r = env.call(make("POST", b.url("/echo/upload"), body));
    REQUIRE_FALSE(r.ec);
    auto e = test::parse_echo(r.res.body);
    REQUIRE(e);
    CHECK(e->body_size == body.size());
    CHECK(e->body_hash == test::fnv1a_hex(body));
  }
}

TEST_CASE("http_client: sequential calls reuse one pooled connection", "[http_client]") {
  test::backend b;
  client_env env;
  for (int i = 0; i < 20; ++i) {
    auto r = env.get(b.url("/echo/" + std::to_string(i)));
    REQUIRE_FALSE(r.ec);
    REQUIRE(r.res.status == 200);
  }
  CHECK(b.requests() == 20);
  CHECK(b.connections_accepted() == 1);
  CHECK(env.client->connection_count() == 1);

  // close_idle() closes it, on both ends.
  env.client->close_idle();
  CHECK(test::backend::wait_for([&] { return env.client->connection_count() == 0; }, 5s));
  CHECK(test::backend::wait_for([&] { return b.open_connections() == 0; }, 5s));
  // And the next call simply opens a new one.
  auto r = env.get(b.url("/echo/after-close-idle"));
  REQUIRE_FALSE(r.ec);
  CHECK(r.res.status == 200);
  CHECK(b.connections_accepted() == 2);
}

TEST_CASE("http_client: max_connections_per_upstream caps the pool; calls wait for a turn",
          "[http_client]") {
  test::backend b;
  client_env env({.max_connections_per_upstream = 2});
  std::vector<std::future<result>> calls;
  for (int i = 0; i < 8; ++i) calls.push_back(env.start(make("GET", b.url("/slow/150"))));
  for (auto& f : calls) {
    REQUIRE(f.wait_for(30s) == std::future_status::ready);
    auto r = f.get();
    REQUIRE_FALSE(r.ec);
    CHECK(r.res.status == 200);
  }
  CHECK(b.requests() == 8);
  CHECK(b.connections_accepted() <= 2);
  CHECK(env.client->connection_count() <= 2);
}

TEST_CASE("http_client: concurrent calls from several threads all complete",
          "[http_client][threads]") {
  test::backend b;
  client_env env;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        auto f =
            env.start(make("GET", b.url("/echo/t" + std::to_string(t) + "/" + std::to_string(i))));
        if (f.wait_for(30s) != std::future_status::ready) return;
        auto r = f.get();
        auto e = test::parse_echo(r.res.body);
        // Each call gets the answer to its own request.
        if (!r.ec && r.res.status == 200 && e &&
            e->target == "/echo/t" + std::to_string(t) + "/" + std::to_string(i))
          ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 40);
  CHECK(b.requests() == 40);
  CHECK(b.connections_accepted() <= 4);
}

TEST_CASE("http_client: connections the server closes are not reused", "[http_client]") {
  test::backend b;
  client_env env;

  SECTION("Connection: close in the response") {
    auto r = env.get(b.url("/bye"));
    REQUIRE_FALSE(r.ec);
    CHECK(r.res.body == "bye");
    auto again = env.get(b.url("/echo/next"));
    REQUIRE_FALSE(again.ec);
    CHECK(again.res.status == 200);
    CHECK(b.connections_accepted() == 2);
  }
  SECTION("closed while idle in the pool") {
    auto r = env.get(b.url("/close-after"));
    REQUIRE_FALSE(r.ec);
    CHECK(r.res.status == 200);
    // The backend closes that connection 100 ms after answering.
    REQUIRE(test::backend::wait_for([&] { return b.open_connections() == 0; }, 5s));
    std::this_thread::sleep_for(100ms);
    auto again = env.get(b.url("/echo/next"));
    REQUIRE_FALSE(again.ec);
    CHECK(again.res.status == 200);
    CHECK(b.requests() == 2);
  }
}

TEST_CASE("http_client: a malformed URL is bad_url", "[http_client]") {
  client_env env;
  for (std::string url : {"", "localhost:80/x", "ftp://127.0.0.1/x", "http://", "http:///path",
                          "http://127.0.0.1:99999/", "http://127.0.0.1:port/", "http://[::1/"}) {
    INFO("url: '" << url << "'");
    auto r = env.call(make("GET", url), 10s);
    CHECK(r.ec == client_errc::bad_url);
  }
}

TEST_CASE("http_client: nothing listening is connect_refused", "[http_client]") {
  client_env env;
  auto r = env.get("http://127.0.0.1:" + std::to_string(test::unused_port()) + "/x");
  CHECK(r.ec == client_errc::connect_refused);
}

TEST_CASE("http_client: a connection not made within connect_timeout is connect_timeout",
          "[http_client]") {
  test::blackhole hole;
  client_env env({.connect_timeout = 300ms});
  auto start = clock_type::now();
  auto r = env.get("http://127.0.0.1:" + std::to_string(hole.port()) + "/x");
  CHECK(r.ec == client_errc::connect_timeout);
  CHECK(ms_since(start) < 5000);
}

TEST_CASE("http_client: a host name that does not resolve is resolve_failed", "[http_client]") {
  client_env env;
  auto r = env.call(make("GET", "http://no-such-host.invalid/x"), 60s);
  CHECK(r.ec == client_errc::resolve_failed);
}

TEST_CASE("http_client: no answer within the timeout is timed_out", "[http_client]") {
  test::backend b;

  SECTION("the request's own timeout") {
    client_env env;
    auto req = make("GET", b.url("/slow/2500"));
    req.timeout = 300ms;
    auto start = clock_type::now();
    auto r = env.call(std::move(req), 10s);
    CHECK(r.ec == client_errc::timed_out);
    CHECK(ms_since(start) < 2000);
    // The connection that still owes an answer is closed, not pooled: once the backend has
    // written its late answer it finds the connection gone.
    CHECK(test::backend::wait_for([&] { return b.open_connections() == 0; }, 8s));
    // The client goes on working, and the late answer reaches nobody.
    auto again = env.get(b.url("/echo/after-timeout"));
    REQUIRE_FALSE(again.ec);
    CHECK(again.res.status == 200);
    auto e = test::parse_echo(again.res.body);
    REQUIRE(e);
    CHECK(e->target == "/echo/after-timeout");
  }
  SECTION("the client's default timeout") {
    client_env env({.timeout = 300ms});
    auto start = clock_type::now();
    auto r = env.call(make("GET", b.url("/slow/5000")), 10s);
    CHECK(r.ec == client_errc::timed_out);
    CHECK(ms_since(start) < 3000);
  }
}

TEST_CASE("http_client: an answer that is not HTTP is bad_response", "[http_client]") {
  test::backend b;
  client_env env;
  auto r = env.get(b.url("/garbage"));
  CHECK(r.ec == client_errc::bad_response);
}

TEST_CASE("http_client: a connection closed or reset before the answer is connection_reset",
          "[http_client]") {
  test::backend b;
  client_env env;
  SECTION("closed") {
    auto r = env.get(b.url("/close"));
    CHECK(r.ec == client_errc::connection_reset);
  }
  SECTION("reset") {
    auto r = env.get(b.url("/reset"));
    CHECK(r.ec == client_errc::connection_reset);
  }
}

TEST_CASE("http_client: a response over the limits is response_too_large", "[http_client]") {
  test::backend b;
  client_env env({.max_response_head_bytes = 4096, .max_response_body_bytes = 1000});
  SECTION("Content-Length body") {
    CHECK(env.get(b.url("/big/5000")).ec == client_errc::response_too_large);
  }
  SECTION("chunked body") {
    CHECK(env.get(b.url("/chunked/5000")).ec == client_errc::response_too_large);
  }
  SECTION("head") { CHECK(env.get(b.url("/bighead/10000")).ec == client_errc::response_too_large); }
  SECTION("exactly at the limit is fine") {
    auto r = env.get(b.url("/big/1000"));
    REQUIRE_FALSE(r.ec);
    CHECK(r.res.body == test::pattern_bytes(1000));
  }
}

TEST_CASE("http_client: destroying the client ends calls in flight with client_closed",
          "[http_client]") {
  test::backend b;
  client_env env;
  auto f = env.start(make("GET", b.url("/slow/5000")));
  REQUIRE(test::backend::wait_for([&] { return b.requests() == 1; }, 10s));
  // Destroyed on its own loop, as a host that owns it there would.
  std::promise<void> gone;
  asio::post(env.io, [&] {
    env.client.reset();
    gone.set_value();
  });
  REQUIRE(gone.get_future().wait_for(10s) == std::future_status::ready);
  REQUIRE(f.wait_for(3s) == std::future_status::ready);
  CHECK(f.get().ec == client_errc::client_closed);
}

TEST_CASE("http_client: every error code has its own message", "[http_client]") {
  const auto& cat = gatehouse::client_category();
  CHECK(std::string(cat.name()).size() > 0);
  std::set<std::string> messages;
  const client_errc all[] = {
      client_errc::bad_url,
      client_errc::resolve_failed,
      client_errc::connect_refused,
      client_errc::connect_failed,
      client_errc::connect_timeout,
      client_errc::tls_handshake_failed,
      client_errc::certificate_rejected,
      client_errc::connection_reset,
      client_errc::timed_out,
      client_errc::bad_response,
      client_errc::response_too_large,
      client_errc::client_closed,
  };
  for (auto e : all) {
    std::error_code ec = e;  // is_error_code_enum
    INFO(static_cast<int>(e));
    CHECK(ec);
    CHECK(ec.category() == cat);
    CHECK(ec == gatehouse::make_error_code(e));
    CHECK(ec == e);
    CHECK_FALSE(ec.message().empty());
    messages.insert(ec.message());
  }
  CHECK(messages.size() == std::size(all));
  CHECK(std::error_code(client_errc::timed_out) != std::error_code(client_errc::bad_response));
}

TEST_CASE("http_client: redirects are returned, not followed", "[http_client]") {
  test::backend b;
  client_env env;
  auto r = env.get(b.url("/status/301"));
  REQUIRE_FALSE(r.ec);
  CHECK(r.res.status == 301);
  CHECK(str(r.res.headers.get("location")) == "/elsewhere");
  CHECK(b.requests() == 1);
}

TEST_CASE("http_client: interim 1xx responses are skipped", "[http_client]") {
  test::backend b;
  client_env env;
  auto r = env.get(b.url("/interim"));
  REQUIRE_FALSE(r.ec);
  CHECK(r.res.status == 200);
  CHECK(str(r.res.headers.get("x-backend")) == "interim");
  auto e = test::parse_echo(r.res.body);
  REQUIRE(e);
  CHECK(e->target == "/interim");
}

TEST_CASE("http_client: a body delimited by the server's close arrives whole", "[http_client]") {
  // Neither Content-Length nor chunked: the body ends when the server closes (RFC 9112 §6.3).
  test::backend b;
  client_env env;
  const std::size_t n = 200'000;
  auto r = env.get(b.url("/until-close/" + std::to_string(n)));
  REQUIRE_FALSE(r.ec);
  CHECK(r.res.status == 200);
  REQUIRE(r.res.body.size() == n);
  CHECK(r.res.body == test::pattern_bytes(n));
  // That connection is spent; the next call opens another.
  auto again = env.get(b.url("/echo/next"));
  REQUIRE_FALSE(again.ec);
  CHECK(again.res.status == 200);
}

TEST_CASE("http_client: an IPv6 literal URL reaches a server on ::1", "[http_client]") {
  test::backend b({.host = "::1"});
  client_env env;
  auto r = env.get("http://[::1]:" + std::to_string(b.port()) + "/echo/v6");
  REQUIRE_FALSE(r.ec);
  CHECK(r.res.status == 200);
  auto e = test::parse_echo(r.res.body);
  REQUIRE(e);
  CHECK(e->target == "/echo/v6");
  CHECK(str(e->headers.get("host")) == "[::1]:" + std::to_string(b.port()));
}
