// Gateway::async_upgrade honours its completion handler's cancellation slot: an upgrade whose
// $connect waits (a slow coroutine handler, an integration whose backend never answers) is
// given up at once: the host's connection is closed without an answer, the $connect's step is
// cancelled, and the upgrade completes with operation_aborted. Once the 101 is written the
// upgrade has completed and the session lives on. After the gateway began to stop, an upgrade
// is refused with 503 and completes with shut_down.

#include "cancel_timer.hpp"
#include "hangup_backend.hpp"
#include "harness.hpp"
#include "ws_client.hpp"

#include <gatehouse/gatehouse.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using asio::ip::tcp;
using gatehouse::response;

using test::eventually;

// The upgrade request a host parsed (the RFC 6455 sample key, which ws_client checks).
gatehouse::request upgrade_request(std::string target) {
  gatehouse::request r;
  r.method = "GET";
  r.target = std::move(target);
  r.headers.add("Host", "127.0.0.1");
  r.headers.add("Upgrade", "websocket");
  r.headers.add("Connection", "Upgrade");
  r.headers.add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
  r.headers.add("Sec-WebSocket-Version", "13");
  return r;
}

struct outcome {
  asio::error_code ec;
  response res;
};

// A gateway (two threads) with three WebSocket stages: "slow" (a $connect coroutine that waits
// 20 s unless cancelled), "proxied" ($connect through HTTP_PROXY to a backend that never
// answers) and "open" ($connect accepts; $default echoes). The host's own acceptor hands the
// connections over; ws_client is the browser.
struct upgrade_env {
  test::silent_backend backend;
  test::running_gateway gw;
  std::atomic<int> connect_started{0}, connect_ended{0};
  tcp::acceptor acceptor{gw.io(), {asio::ip::make_address("127.0.0.1"), 0}};

  upgrade_env() {
    gatehouse::WebSocketApi slow;
    slow.route(
        "$connect",
        gatehouse::async_websocket_handler(
            [this](const gatehouse::websocket_event&) -> asio::awaitable<gatehouse::proxy_result> {
              struct count_end {
                std::atomic<int>& n;
                ~count_end() { ++n; }
              } end{connect_ended};
              ++connect_started;
              asio::steady_timer timer(co_await asio::this_coro::executor, 20s);
              co_await timer.async_wait(asio::use_awaitable);  // throws when cancelled
              co_return gatehouse::proxy_result{};
            }));
    gatehouse::WebSocketApi proxied;
    proxied.route(
        "$connect",
        gatehouse::http_proxy("http://127.0.0.1:" + std::to_string(backend.port()) + "/connect"));
    gatehouse::WebSocketApi open;
    open.route("$connect",
               [](const gatehouse::websocket_event&) { return gatehouse::proxy_result{}; });
    open.route("$default",
               [](const gatehouse::websocket_event& ev) {
                 return gatehouse::proxy_result{.body = "echo:" + std::string(ev.body)};
               },
               {.two_way = true});
    gw.gateway().mount(gatehouse::WebSocketStage("slow", slow));
    gw.gateway().mount(gatehouse::WebSocketStage("proxied", proxied));
    gw.gateway().mount(gatehouse::WebSocketStage("open", open));
  }

  gatehouse::Gateway& gateway() { return gw.gateway(); }
  unsigned short port() const { return acceptor.local_endpoint().port(); }
  // The host's side of a client that connected: accepted here, on this thread.
  tcp::socket take() { return acceptor.accept(); }
};

// A client that connects and sends nothing: the host has "read" its request already.
std::unique_ptr<test::ws_client> connect(upgrade_env& env) {
  return std::make_unique<test::ws_client>(env.port());
}

}  // namespace

TEST_CASE("upgrade: a cancellation slot fired after 200 ms closes the connection at once",
          "[websocket][cancel]") {
  upgrade_env env;
  std::string target;
  SECTION("while a $connect coroutine waits") { target = "/slow"; }
  SECTION("while a $connect integration waits on its backend") { target = "/proxied"; }
  auto client = connect(env);
  auto socket = env.take();
  test::cancel_timer cancel(env.gw.io().get_executor());
  outcome got;
  std::promise<void> started;
  asio::post(env.gw.io(), [&, s = std::move(socket)]() mutable {
    env.gateway().async_upgrade(
        upgrade_request(target), std::move(s), "",
        asio::bind_cancellation_slot(cancel.slot(), [&](asio::error_code ec, response r) {
          got = {ec, std::move(r)};
          cancel.completed();
        }));
    cancel.start(200ms);
    started.set_value();
  });
  started.get_future().wait();
  REQUIRE(cancel.wait_completed(5s));
  CHECK(got.ec == asio::error::operation_aborted);
  INFO("from the start " << cancel.total().count() << " ms, from the signal "
                         << cancel.latency().count() << " us");
  CHECK(cancel.total() >= 190ms);
  CHECK(cancel.total() < 1500ms);
  // The browser sees its connection closed, with no answer at all.
  CHECK(client->wait_eof(2s));
  CHECK_FALSE(client->read_head());
  CHECK(client->status() == 0);
  if (target == "/slow") {
    CHECK(env.connect_started == 1);
    CHECK(eventually([&] { return env.connect_ended == 1; }, 2s));
  } else {
    CHECK(eventually([&] { return env.backend.closed() == 1; }, 2s));
    CHECK(eventually([&] { return env.gateway().abandoned_requests() == 1; }, 2s));
  }
  CHECK(env.gateway().connection_count() == 0);
}

TEST_CASE("upgrade: `||` with a 200 ms timer in a coroutine", "[websocket][cancel]") {
  upgrade_env env;
  auto client = connect(env);
  auto socket = env.take();
  std::promise<void> finished;
  std::size_t winner = 9;
  asio::error_code seen = asio::error::eof;
  clock_type::duration took{};
  asio::co_spawn(
      env.gw.io(),
      [&, s = std::move(socket)]() mutable -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        auto upgrade = [&]() -> asio::awaitable<void> {
          co_await env.gateway().async_upgrade(upgrade_request("/proxied"), std::move(s), "",
                                               asio::redirect_error(asio::use_awaitable, seen));
        };
        asio::steady_timer t(co_await asio::this_coro::executor, 200ms);
        const auto start = clock_type::now();
        auto r = co_await (upgrade() || t.async_wait(asio::use_awaitable));
        took = clock_type::now() - start;
        winner = r.index();
        finished.set_value();
      },
      asio::detached);
  REQUIRE(finished.get_future().wait_for(10s) == std::future_status::ready);
  CHECK(winner == 1);
  CHECK(seen == asio::error::operation_aborted);
  INFO("the race took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                        << " ms");
  CHECK(took < 1500ms);
  CHECK(client->wait_eof(2s));
  CHECK(eventually([&] { return env.backend.closed() == 1; }, 2s));
  CHECK(eventually([&] { return env.gateway().abandoned_requests() == 1; }, 2s));
}

TEST_CASE("upgrade: once the 101 is written the session lives on whatever the slot does",
          "[websocket][cancel]") {
  upgrade_env env;
  auto client = connect(env);
  auto socket = env.take();
  asio::cancellation_signal signal;
  std::promise<outcome> done;
  asio::post(env.gw.io(), [&, s = std::move(socket)]() mutable {
    env.gateway().async_upgrade(
        upgrade_request("/open"), std::move(s), "",
        asio::bind_cancellation_slot(signal.slot(), [&](asio::error_code ec, response r) {
          done.set_value({ec, std::move(r)});
        }));
  });
  REQUIRE(client->read_head());
  CHECK(client->status() == 101);
  auto f = done.get_future();
  REQUIRE(f.wait_for(5s) == std::future_status::ready);
  auto o = f.get();
  CHECK_FALSE(o.ec);
  CHECK(o.res.status == 101);
  std::promise<void> emitted;
  asio::post(env.gw.io(), [&] {
    signal.emit(asio::cancellation_type::all);
    emitted.set_value();
  });
  emitted.get_future().wait();
  client->text("still here");
  auto reply = client->next(2s);
  CHECK(reply.payload == "echo:still here");
  CHECK(env.gateway().connection_count() == 1);
}

TEST_CASE("upgrade: cancelled from another thread at once", "[websocket][cancel][threads]") {
  upgrade_env env;
  // The host starts the upgrade and cancels it from its own thread, racing the io_context's two
  // threads that run it: before it began, or while its $connect waits.
  for (int i = 0; i < 6; ++i) {
    auto client = connect(env);
    auto socket = env.take();
    asio::cancellation_signal signal;
    std::promise<outcome> done;
    env.gateway().async_upgrade(
        upgrade_request(i % 2 ? "/slow" : "/proxied"), std::move(socket), "",
        asio::bind_cancellation_slot(signal.slot(), [&](asio::error_code ec, response r) {
          done.set_value({ec, std::move(r)});
        }));
    if (i >= 2) std::this_thread::sleep_for(50ms);
    signal.emit(asio::cancellation_type::terminal);
    auto f = done.get_future();
    REQUIRE(f.wait_for(2s) == std::future_status::ready);
    CHECK(f.get().ec == asio::error::operation_aborted);
    CHECK(client->wait_eof(2s));
    signal.emit(asio::cancellation_type::terminal);  // after completion: nothing
  }
  CHECK(eventually([&] { return env.connect_ended == env.connect_started; }, 2s));
  CHECK(eventually([&] { return env.backend.closed() == env.backend.accepted(); }, 2s));
  CHECK(env.gateway().connection_count() == 0);
}

TEST_CASE("upgrade: after stop: a 503 and shut_down", "[websocket][cancel]") {
  upgrade_env env;
  env.gateway().stop();
  const int fd = test::connect_loopback(env.port());
  REQUIRE(fd >= 0);
  auto socket = env.take();
  std::promise<outcome> done;
  env.gateway().async_upgrade(upgrade_request("/open"), std::move(socket), "",
                              [&](asio::error_code ec, response r) {
                                done.set_value({ec, std::move(r)});
                              });
  auto f = done.get_future();
  REQUIRE(f.wait_for(5s) == std::future_status::ready);
  auto o = f.get();
  CHECK(o.ec == asio::error::shut_down);
  CHECK(o.res.status == 503);
  // What the browser gets: the 503, then the end of the connection.
  std::string got;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) != 1) break;
    char buf[1024];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      got += "<eof>";
      break;
    }
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  CHECK(got.starts_with("HTTP/1.1 503 "));
  CHECK(got.ends_with("{\"message\":\"Service Unavailable\"}<eof>"));
}
