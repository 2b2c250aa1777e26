// How gatehouse's own server stops: graceful stop (drain requests in flight, close idle
// connections, refuse new ones), immediate stop, destroying a Gateway that still has
// connections, and serving on several io_context threads at once.

#include "eventually.hpp"
#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using gatehouse::proxy_event;
using gatehouse::proxy_result;

// A coroutine handler that takes `delay` (on a timer, not blocking its thread) and counts the
// requests that entered it.
gatehouse::integration slow(std::chrono::milliseconds delay, std::atomic<int>& started) {
  return gatehouse::function(
      [delay, &started](const proxy_event&) -> asio::awaitable<proxy_result> {
        started.fetch_add(1);
        asio::steady_timer timer(co_await asio::this_coro::executor, delay);
        co_await timer.async_wait(asio::use_awaitable);
        co_return proxy_result{.body = "slow"};
      });
}

gatehouse::Stage make_stage(std::chrono::milliseconds slow_delay, std::atomic<int>& started) {
  gatehouse::Router api;
  api.route("GET", "/slow", slow(slow_delay, started));
  api.route("GET", "/fast", gatehouse::mock({.body = "fast"}));
  api.route("GET", "/echo/{word}", gatehouse::function([](const proxy_event& ev) {
              return proxy_result{.body = std::string(*ev.path_parameter("word"))};
            }));
  return gatehouse::Stage("prod", api.deploy());
}

gatehouse::gateway_options quiet() {
  gatehouse::gateway_options o;
  o.log = [](gatehouse::log_level, std::string_view) {};
  return o;
}

using test::eventually;

// True once a TCP connect to the port is refused (the listener is closed). A connect that still
// lands in the old backlog must be closed without an answer.
bool refuses_connections(unsigned short port, std::chrono::milliseconds within) {
  auto deadline = clock_type::now() + within;
  for (;;) {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    asio::error_code ec;
    s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec == asio::error::connection_refused) return true;
    if (!ec) {
      s.close(ec);
    }
    if (clock_type::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
}

// Records how often and when a stop completion ran.
struct stop_probe {
  std::atomic<int> calls{0};
  std::promise<void> done;
  std::future<void> future = done.get_future();
  clock_type::time_point at;
  auto handler() {
    return [this] {
      at = clock_type::now();
      if (calls.fetch_add(1) == 0) done.set_value();
    };
  }
};

}  // namespace

TEST_CASE(
    "lifecycle: async_stop drains a request in flight, closes idle connections, refuses "
    "new ones",
    "[lifecycle]") {
  std::atomic<int> started{0};
  test::running_gateway gw(quiet());
  auto port = gw.serve_plain(make_stage(300ms, started));

  test::raw_client idle(port, 5s);
  idle.send(test::get("/prod/fast"));
  auto first = idle.read_reply();
  REQUIRE(first);
  CHECK(first->status == 200);
  CHECK_FALSE(first->headers.contains("Connection"));  // keep-alive: now idle

  test::raw_client busy(port, 5s);
  busy.send(test::get("/prod/slow"));
  REQUIRE(eventually([&] { return started.load() == 1; }, 2s));

  stop_probe probe;
  auto t0 = clock_type::now();
  gw.gateway().async_stop(2s, probe.handler());

  // The idle connection is closed at once, well before the slow request is done. (When the
  // drain catches it just before it noticed its last write complete, the server half-closes
  // and waits for the client to close its side, as a real client does on EOF.)
  CHECK(idle.wait_closed());
  CHECK(clock_type::now() - t0 < 250ms);
  idle.close();
  // Nobody new gets in.
  CHECK(refuses_connections(port, 1s));

  // The request in flight finishes, told that the connection closes.
  auto r = busy.read_reply();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "slow");
  CHECK(r->headers.get("Connection") == "close");
  CHECK(busy.wait_closed());
  // The connection is not gone until the client has seen the end of it.
  CHECK(probe.calls.load() == 0);
  busy.close();

  REQUIRE(probe.future.wait_for(2s) == std::future_status::ready);
  CHECK(probe.at - t0 < 1500ms);  // all connections gone: no waiting for the 2 s deadline
  CHECK(gw.gateway().connection_count() == 0);
  std::this_thread::sleep_for(50ms);
  CHECK(probe.calls.load() == 1);
}

TEST_CASE(
    "lifecycle: async_stop closes a request slower than the drain deadline at the "
    "deadline",
    "[lifecycle]") {
  std::atomic<int> started{0};
  test::running_gateway gw(quiet());
  auto port = gw.serve_plain(make_stage(1500ms, started));

  test::raw_client busy(port, 5s);
  busy.send(test::get("/prod/slow"));
  REQUIRE(eventually([&] { return started.load() == 1; }, 2s));

  stop_probe probe;
  auto t0 = clock_type::now();
  gw.gateway().async_stop(300ms, probe.handler());

  CHECK_FALSE(busy.read_reply().has_value());  // closed without an answer
  auto closed_after = clock_type::now() - t0;
  CHECK(closed_after >= 250ms);
  CHECK(closed_after < 1000ms);

  REQUIRE(probe.future.wait_for(3s) == std::future_status::ready);
  CHECK(probe.at - t0 >= 250ms);
  CHECK(probe.at - t0 < 1000ms);  // at the deadline, not when the handler gets round to it
  std::this_thread::sleep_for(50ms);
  CHECK(probe.calls.load() == 1);
}

TEST_CASE("lifecycle: async_stop with nothing open completes at once, with any token",
          "[lifecycle]") {
  std::atomic<int> started{0};
  test::running_gateway gw(quiet());
  auto port = gw.serve_plain(make_stage(10ms, started));
  {
    test::raw_client c(port, 5s);
    c.send(test::get("/prod/fast"));
    REQUIRE(c.read_reply());
  }
  REQUIRE(eventually([&] { return gw.gateway().connection_count() == 0; }, 2s));

  auto t0 = clock_type::now();
  std::future<void> f = gw.gateway().async_stop(5s, asio::use_future);
  REQUIRE(f.wait_for(2s) == std::future_status::ready);
  CHECK(clock_type::now() - t0 < 1s);
  CHECK(refuses_connections(port, 1s));

  // Asking again, after it stopped, completes too.
  stop_probe probe;
  gw.gateway().async_stop(5s, probe.handler());
  REQUIRE(probe.future.wait_for(2s) == std::future_status::ready);
}

TEST_CASE("lifecycle: two async_stop calls while draining both complete", "[lifecycle]") {
  std::atomic<int> started{0};
  test::running_gateway gw(quiet());
  auto port = gw.serve_plain(make_stage(300ms, started));
  test::raw_client busy(port, 5s);
  busy.send(test::get("/prod/slow"));
  REQUIRE(eventually([&] { return started.load() == 1; }, 2s));

  stop_probe a, b;
  gw.gateway().async_stop(2s, a.handler());
  gw.gateway().async_stop(2s, b.handler());
  auto r = busy.read_reply();
  REQUIRE(r);
  CHECK(r->status == 200);
  busy.close();
  CHECK(a.future.wait_for(2s) == std::future_status::ready);
  CHECK(b.future.wait_for(2s) == std::future_status::ready);
}

TEST_CASE("lifecycle: Gateway::stop closes every connection at once", "[lifecycle][threads]") {
  std::atomic<int> started{0};
  test::running_gateway gw(quiet());
  auto port = gw.serve_plain(make_stage(500ms, started));

  test::raw_client idle(port, 5s);
  idle.send(test::get("/prod/fast"));
  REQUIRE(idle.read_reply());
  test::raw_client partial(port, 5s);
  partial.send("GET /prod/fast HTTP/1.1\r\nHo");
  test::raw_client busy(port, 5s);
  busy.send(test::get("/prod/slow"));
  REQUIRE(eventually([&] { return started.load() == 1; }, 2s));
  REQUIRE(eventually([&] { return gw.gateway().connection_count() == 3; }, 2s));

  auto t0 = clock_type::now();
  gw.gateway().stop();
  CHECK(idle.wait_closed());
  CHECK(partial.wait_closed());
  CHECK_FALSE(busy.read_reply().has_value());  // no waiting for the handler
  CHECK(clock_type::now() - t0 < 400ms);
  CHECK(refuses_connections(port, 1s));
  CHECK(eventually([&] { return gw.gateway().connection_count() == 0; }, 2s));

  // Stopping twice, and a graceful stop after an immediate one, are harmless.
  gw.gateway().stop();
  stop_probe probe;
  gw.gateway().async_stop(1s, probe.handler());
  CHECK(probe.future.wait_for(2s) == std::future_status::ready);
  // A stopped gateway does not listen again.
  CHECK_THROWS_AS(gw.gateway().listen("127.0.0.1:0", gatehouse::plain_http),
                  gatehouse::config_error);
}

namespace {
// A Gateway on an io_context run by `threads` threads, built by hand so that the test decides
// the order of destruction.
struct manual_gateway {
  explicit manual_gateway(int n) : work(io.get_executor()) {
    gw = std::make_unique<gatehouse::Gateway>(io, quiet());
    for (int i = 0; i < n; ++i) threads.emplace_back([this] { io.run(); });
  }
  ~manual_gateway() {
    io.stop();
    for (auto& t : threads)
      if (t.joinable()) t.join();
  }
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::unique_ptr<gatehouse::Gateway> gw;
  std::vector<std::thread> threads;
};
}  // namespace

TEST_CASE("lifecycle: destroying a Gateway with connections open neither crashes nor hangs",
          "[lifecycle][threads]") {
  std::atomic<int> started{0};
  auto m = std::make_unique<manual_gateway>(2);
  m->gw->mount(make_stage(400ms, started));
  auto plain = m->gw->listen("127.0.0.1:0", gatehouse::plain_http).port();
  auto tls = m->gw->listen("127.0.0.1:0", gatehouse::tls::self_signed()).port();

  test::raw_client idle(plain, 5s);
  idle.send(test::get("/prod/fast"));
  REQUIRE(idle.read_reply());
  test::raw_client partial(plain, 5s);
  partial.send("GET /prod/fast HTTP/1.1\r\n");
  test::raw_client busy(plain, 5s);
  busy.send(test::get("/prod/slow"));
  test::raw_client handshaking(tls, 5s);  // TCP only, no ClientHello
  REQUIRE(eventually([&] { return started.load() == 1; }, 2s));
  REQUIRE(eventually([&] { return m->gw->connection_count() == 4; }, 2s));

  auto t0 = clock_type::now();
  m->gw.reset();  // closes listeners and connections at once
  CHECK(clock_type::now() - t0 < 200ms);
  CHECK(idle.wait_closed());
  CHECK(partial.wait_closed());
  CHECK(handshaking.wait_closed());
  CHECK_FALSE(busy.read_reply().has_value());
  CHECK(refuses_connections(plain, 1s));
  CHECK(refuses_connections(tls, 1s));

  // The handler in flight still finishes on the io_context; then the loop runs out of work.
  m->work.reset();
  t0 = clock_type::now();
  for (auto& t : m->threads) t.join();
  CHECK(clock_type::now() - t0 < 2s);
  m.reset();
}

TEST_CASE("lifecycle: destroying a Gateway, then its io_context, with requests in flight",
          "[lifecycle][threads]") {
  std::atomic<int> started{0};
  auto m = std::make_unique<manual_gateway>(2);
  m->gw->mount(make_stage(10s, started));
  auto plain = m->gw->listen("127.0.0.1:0", gatehouse::plain_http).port();
  auto tls = m->gw->listen("127.0.0.1:0", gatehouse::tls::self_signed()).port();

  std::vector<std::unique_ptr<test::raw_client>> busy;
  for (int i = 0; i < 3; ++i) {
    busy.push_back(std::make_unique<test::raw_client>(plain, 5s));
    busy.back()->send(test::get("/prod/slow"));
  }
  test::raw_client idle(plain, 5s);
  idle.send(test::get("/prod/fast"));
  REQUIRE(idle.read_reply());
  test::raw_client handshaking(tls, 5s);
  REQUIRE(eventually([&] { return started.load() == 3; }, 2s));

  // The Gateway goes first while its handlers still wait on their timers, then the loop is
  // stopped with that work pending, and the io_context destroys what is left.
  m->gw.reset();
  auto t0 = clock_type::now();
  m.reset();
  CHECK(clock_type::now() - t0 < 2s);
  for (auto& c : busy) CHECK(c->wait_closed());
  CHECK(idle.wait_closed());
  CHECK(handshaking.wait_closed());
}

TEST_CASE("lifecycle: destroying an io_context-stopped Gateway with connections open",
          "[lifecycle]") {
  std::atomic<int> started{0};
  auto m = std::make_unique<manual_gateway>(1);
  m->gw->mount(make_stage(10s, started));
  auto plain = m->gw->listen("127.0.0.1:0", gatehouse::plain_http).port();
  test::raw_client busy(plain, 5s);
  busy.send(test::get("/prod/slow"));
  test::raw_client idle(plain, 5s);
  idle.send(test::get("/prod/fast"));
  REQUIRE(idle.read_reply());
  REQUIRE(eventually([&] { return started.load() == 1; }, 2s));

  // The loop stops first; the Gateway is destroyed with nothing running its executor.
  m->io.stop();
  for (auto& t : m->threads) t.join();
  auto t0 = clock_type::now();
  m->gw.reset();
  m.reset();
  CHECK(clock_type::now() - t0 < 2s);
  CHECK(busy.wait_closed());
  CHECK(idle.wait_closed());
}

TEST_CASE("lifecycle: 4 io threads serve 8 keep-alive clients x 200 requests correctly",
          "[lifecycle][threads]") {
  std::atomic<int> started{0};
  test::running_gateway gw(quiet(), 4);
  auto port = gw.serve_plain(make_stage(1ms, started));

  constexpr int clients = 8, requests = 200;
  std::atomic<int> ok{0};
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      test::raw_client c(port, 10s);
      for (int i = 0; i < requests; ++i) {
        auto word = fmt::format("c{}r{}", t, i);
        // Every fourth request is two pipelined ones.
        bool pipelined = i % 4 == 3;
        c.send(test::get("/prod/echo/" + word) +
               (pipelined ? test::get("/prod/echo/" + word + "p") : std::string()));
        for (int k = 0; k < (pipelined ? 2 : 1); ++k) {
          auto r = c.read_reply();
          auto expected = k == 0 ? word : word + "p";
          if (r && r->status == 200 && r->body == expected && !r->headers.contains("Connection")) {
            ok.fetch_add(1);
          } else {
            std::lock_guard lock(failures_mutex);
            failures.push_back(expected + ": " +
                               (r ? std::to_string(r->status) + " " + r->body : "no reply"));
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  INFO((failures.empty() ? "" : failures.front()));
  CHECK(failures.empty());
  CHECK(ok.load() == clients * (requests + requests / 4));
  CHECK(eventually([&] { return gw.gateway().connection_count() == 0; }, 2s));
}

TEST_CASE(
    "lifecycle: one io thread under ASIO_CONCURRENCY_HINT_UNSAFE_IO serves clients and "
    "stops on a posted async_stop",
    "[lifecycle]") {
  // The hint by which a one-thread host drops Asio's socket locks (petstore uses it): gatehouse
  // must then touch its sockets from the io thread only, including on stop.
  asio::io_context io{ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::atomic<int> started{0};
  auto gw = std::make_unique<gatehouse::Gateway>(io, quiet());
  gw->mount(make_stage(20ms, started));
  const auto port = gw->listen("127.0.0.1:0", gatehouse::plain_http).port();
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });

  constexpr int clients = 4, requests = 100;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t)
    threads.emplace_back([&, t] {
      test::raw_client c(port, 10s);
      for (int i = 0; i < requests; ++i) {
        auto word = fmt::format("c{}r{}", t, i);
        c.send(test::get("/prod/echo/" + word) + test::get("/prod/echo/" + word + "p"));
        for (const auto& expected : {word, word + "p"}) {
          auto r = c.read_reply();
          if (r && r->status == 200 && r->body == expected) ok.fetch_add(1);
        }
      }
    });
  for (auto& t : threads) t.join();
  CHECK(ok.load() == clients * requests * 2);

  // A request in flight drains; the stop is posted to the io thread, as the hint requires.
  test::raw_client busy(port, 5s);
  busy.send(test::get("/prod/slow"));
  REQUIRE(eventually([&] { return started.load() == 1; }, 2s));
  std::promise<void> stopped;
  asio::post(io, [&] { gw->async_stop(2s, [&] { stopped.set_value(); }); });
  auto r = busy.read_reply();
  REQUIRE(r);
  CHECK(r->body == "slow");
  CHECK(stopped.get_future().wait_for(3s) == std::future_status::ready);
  asio::post(io, [&] { gw.reset(); });
  work.reset();
  runner.join();
  CHECK_FALSE(gw);
}
