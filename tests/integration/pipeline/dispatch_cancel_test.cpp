// Gateway::async_dispatch honours its completion handler's cancellation slot: a host that cancels
// (bind_cancellation_slot with a signal from a timer, or `||` with a timer in a coroutine) gets
// operation_aborted at once, the step the request waits on is cancelled as when a listener's
// client goes away (the backend sees its connection closed, an authorizer's wait ends), and the
// request counts in abandoned_requests(). A dispatch after the gateway began to stop completes
// with shut_down and a 503.

#include "cancel_timer.hpp"
#include "hangup_backend.hpp"
#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using gatehouse::response;

using test::eventually;

long long ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

gatehouse::request get(std::string target, std::string authorization = {}) {
  gatehouse::request r;
  r.method = "GET";
  r.target = std::move(target);
  r.headers.add("Host", "api.example.com");
  if (!authorization.empty()) r.headers.add("Authorization", std::move(authorization));
  r.source_ip = "198.51.100.7";
  return r;
}

// A gateway (two threads) whose stage "prod" has GET /wait/{proxy+} (HTTP_PROXY to a backend
// that never answers, 29 s), GET /short/{proxy+} (the same with an 800 ms timeout), GET /hello
// (a mock) and GET /guarded (a mock behind a custom authorizer that waits 20 s unless
// cancelled).
struct dispatch_env {
  test::silent_backend backend;
  test::running_gateway gw;
  std::atomic<int> authorizer_started{0}, authorizer_ended{0};

  dispatch_env() {
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
    api.route(
        "GET", "/short/{proxy+}",
        gatehouse::http_proxy("http://${stageVariables.backend}/{proxy}", {.timeout = 800ms}));
    api.route("GET", "/hello", gatehouse::mock({.body = "hello"}));
    api.route("GET", "/guarded", gatehouse::mock({.body = "in"}), {.authorizer = slow_authorizer});
    gatehouse::Stage prod("prod", api.deploy());
    prod.variable("backend", "127.0.0.1:" + std::to_string(backend.port()));
    gw.gateway().mount(prod);
  }

  gatehouse::Gateway& gateway() { return gw.gateway(); }

  // A dispatch of /prod/hello, waited for: the gateway still serves.
  void check_still_serving() {
    auto f = gateway().async_dispatch(get("/prod/hello"), asio::use_future);
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    auto r = f.get();
    CHECK(r.status == 200);
    CHECK(r.body == "hello");
  }
};

// What a completion handler saw.
struct outcome {
  asio::error_code ec;
  response res;
};

}  // namespace

TEST_CASE("dispatch: a cancellation slot fired after 200 ms gives the request up at once",
          "[dispatch][cancel]") {
  dispatch_env env;
  std::string target, authorization;
  SECTION("waiting on a backend that never answers") { target = "/prod/wait/hang"; }
  SECTION("waiting on a custom authorizer") {
    target = "/prod/guarded";
    authorization = "token";
  }
  test::cancel_timer cancel(env.gw.io().get_executor());
  outcome got;
  // Started on the io_context, where the timer's signal fires: the slot is the host's, used on
  // its threads.
  asio::post(env.gw.io(), [&] {
    env.gateway().async_dispatch(
        get(target, authorization),
        asio::bind_cancellation_slot(cancel.slot(), [&](asio::error_code ec, response r) {
          got = {ec, std::move(r)};
          cancel.completed();
        }));
    cancel.start(200ms);
  });
  REQUIRE(cancel.wait_completed(5s));
  CHECK(got.ec == asio::error::operation_aborted);
  CHECK(got.res.body.empty());
  INFO("from the start " << cancel.total().count() << " ms, from the signal "
                         << cancel.latency().count() << " us");
  CHECK(cancel.total() >= 190ms);
  CHECK(cancel.total() < 1500ms);  // well under 300 ms unless the machine is very busy
  CHECK(cancel.latency() < 1000ms);
  if (authorization.empty()) {
    // The backend sees its connection closed at once, and no second attempt.
    CHECK(eventually([&] { return env.backend.closed() == 1; }, 2s));
    CHECK(env.backend.accepted() == 1);
  } else {
    CHECK(env.authorizer_started == 1);
    CHECK(eventually([&] { return env.authorizer_ended == 1; }, 2s));
  }
  CHECK(eventually([&] { return env.gateway().abandoned_requests() == 1; }, 2s));
  env.check_still_serving();
  CHECK(env.gateway().abandoned_requests() == 1);
}

TEST_CASE("dispatch: `||` with a 200 ms timer in a coroutine", "[dispatch][cancel]") {
  dispatch_env env;
  std::promise<void> finished;
  std::size_t winner = 9;
  asio::error_code seen = asio::error::eof;
  clock_type::duration took{};
  response fast;
  std::size_t fast_winner = 9;
  asio::co_spawn(
      env.gw.io(),
      [&]() -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        auto ex = co_await asio::this_coro::executor;
        auto dispatch = [&](std::string target, asio::error_code& ec,
                            response& out) -> asio::awaitable<void> {
          out = co_await env.gateway().async_dispatch(
              get(std::move(target)), asio::redirect_error(asio::use_awaitable, ec));
        };
        // The timer wins against a silent backend: the dispatch is cancelled.
        asio::steady_timer t(ex, 200ms);
        response ignored;
        const auto start = clock_type::now();
        auto r = co_await (dispatch("/prod/wait/race", seen, ignored) ||
                           t.async_wait(asio::use_awaitable));
        took = clock_type::now() - start;
        winner = r.index();
        // A dispatch that answers wins against a timer of 5 s.
        asio::steady_timer t2(ex, 5s);
        asio::error_code fast_ec;
        auto r2 =
            co_await (dispatch("/prod/hello", fast_ec, fast) || t2.async_wait(asio::use_awaitable));
        fast_winner = r2.index();
        finished.set_value();
      },
      asio::detached);
  REQUIRE(finished.get_future().wait_for(10s) == std::future_status::ready);
  CHECK(winner == 1);
  CHECK(seen == asio::error::operation_aborted);
  INFO("the race took " << ms(took) << " ms");
  CHECK(took < 1500ms);
  CHECK(eventually([&] { return env.backend.closed() == 1; }, 2s));
  CHECK(eventually([&] { return env.gateway().abandoned_requests() == 1; }, 2s));
  CHECK(fast_winner == 0);
  CHECK(fast.status == 200);
  CHECK(fast.body == "hello");
}

TEST_CASE("dispatch: a slot that fires after completion or with total alone stops nothing",
          "[dispatch][cancel]") {
  dispatch_env env;
  auto& io = env.gw.io();
  asio::cancellation_signal signal;  // used on the io_context's threads only, through post
  auto run = [&](auto f) {
    std::promise<void> p;
    asio::post(io, [&] {
      f();
      p.set_value();
    });
    p.get_future().wait();
  };
  std::promise<outcome> first;
  run([&] {
    env.gateway().async_dispatch(
        get("/prod/hello"),
        asio::bind_cancellation_slot(signal.slot(), [&](asio::error_code ec, response r) {
          first.set_value({ec, std::move(r)});
        }));
  });
  auto f1 = first.get_future();
  REQUIRE(f1.wait_for(5s) == std::future_status::ready);
  auto o1 = f1.get();
  CHECK_FALSE(o1.ec);
  CHECK(o1.res.status == 200);
  // Completed: the slot still holds the dispatch's handler, which now does nothing.
  run([&] { signal.emit(asio::cancellation_type::terminal); });
  run([&] { signal.emit(asio::cancellation_type::all); });
  std::this_thread::sleep_for(50ms);
  CHECK(env.gateway().abandoned_requests() == 0);

  // The same slot for the next dispatch: total alone is not honoured (a request under way cannot
  // promise it had no effect), so it ends at its own 800 ms timeout, with a 504 and no error.
  std::promise<outcome> second;
  const auto start = clock_type::now();
  run([&] {
    env.gateway().async_dispatch(
        get("/prod/short/x"),
        asio::bind_cancellation_slot(signal.slot(), [&](asio::error_code ec, response r) {
          second.set_value({ec, std::move(r)});
        }));
  });
  REQUIRE(eventually([&] { return env.backend.requests() == 1; }));
  run([&] { signal.emit(asio::cancellation_type::total); });
  auto f2 = second.get_future();
  REQUIRE(f2.wait_for(5s) == std::future_status::ready);
  auto o2 = f2.get();
  CHECK_FALSE(o2.ec);
  CHECK(o2.res.status == 504);
  CHECK(clock_type::now() - start >= 700ms);
  CHECK(env.gateway().abandoned_requests() == 0);

  // Partial is honoured like terminal.
  std::promise<outcome> third;
  run([&] {
    env.gateway().async_dispatch(
        get("/prod/wait/partial"),
        asio::bind_cancellation_slot(signal.slot(), [&](asio::error_code ec, response r) {
          third.set_value({ec, std::move(r)});
        }));
  });
  REQUIRE(eventually([&] { return env.backend.requests() == 2; }));
  run([&] { signal.emit(asio::cancellation_type::partial); });
  auto f3 = third.get_future();
  REQUIRE(f3.wait_for(2s) == std::future_status::ready);
  CHECK(f3.get().ec == asio::error::operation_aborted);
  CHECK(eventually([&] { return env.gateway().abandoned_requests() == 1; }));
  CHECK(eventually([&] { return env.backend.closed() == 2; }));
  run([&] { signal.emit(asio::cancellation_type::terminal); });  // once more: nothing
  env.check_still_serving();
  CHECK(env.gateway().abandoned_requests() == 1);
}

TEST_CASE("dispatch: cancelled from another thread while dispatches complete",
          "[dispatch][cancel][threads]") {
  dispatch_env env;
  // Dispatches started and cancelled from this thread while the io_context's two threads run
  // them: some complete first (mocks), some are cancelled while they wait (the backend), and
  // some cancellations race their completion. Each completes exactly once.
  constexpr int count = 40;
  std::vector<std::unique_ptr<asio::cancellation_signal>> signals;
  std::atomic<int> completions{0}, aborted{0}, answered{0};
  std::vector<std::atomic<int>> per(count);
  for (int i = 0; i < count; ++i) {
    signals.push_back(std::make_unique<asio::cancellation_signal>());
    const bool slow = i % 2 == 0;
    env.gateway().async_dispatch(
        get(slow ? "/prod/wait/t" + std::to_string(i) : "/prod/hello"),
        asio::bind_cancellation_slot(signals.back()->slot(),
                                     [&, i](asio::error_code ec, response r) {
                                       ++per[i];
                                       ++completions;
                                       if (ec == asio::error::operation_aborted)
                                         ++aborted;
                                       else if (!ec && r.status == 200)
                                         ++answered;
                                     }));
  }
  REQUIRE(eventually([&] { return env.backend.requests() == count / 2; }));
  const auto emitted = clock_type::now();
  for (auto& s : signals) s->emit(asio::cancellation_type::terminal);
  REQUIRE(eventually([&] { return completions == count; }, 5s));
  INFO("all completed " << ms(clock_type::now() - emitted) << " ms after the signals");
  CHECK(clock_type::now() - emitted < 1500ms);
  CHECK(aborted == count / 2);
  CHECK(answered == count / 2);
  CHECK(eventually([&] { return env.backend.closed() == count / 2; }));
  CHECK(eventually([&] { return env.gateway().abandoned_requests() == count / 2; }));
  // Emitting again (and destroying the signals) after completion does nothing.
  for (auto& s : signals) s->emit(asio::cancellation_type::terminal);
  signals.clear();
  std::this_thread::sleep_for(20ms);
  for (auto& n : per) CHECK(n == 1);
  env.check_still_serving();
}

TEST_CASE("dispatch: after async_stop began: shut_down with a 503 to send", "[dispatch][cancel]") {
  dispatch_env env;
  std::promise<void> stopped;
  env.gateway().async_stop(1s, [&] { stopped.set_value(); });
  REQUIRE(stopped.get_future().wait_for(5s) == std::future_status::ready);
  std::promise<outcome> p;
  env.gateway().async_dispatch(get("/prod/hello"), [&](asio::error_code ec, response r) {
    p.set_value({ec, std::move(r)});
  });
  auto f = p.get_future();
  REQUIRE(f.wait_for(5s) == std::future_status::ready);
  auto o = f.get();
  CHECK(o.ec == asio::error::shut_down);
  CHECK(o.res.status == 503);
  CHECK(o.res.body == "{\"message\":\"Service Unavailable\"}");
  CHECK(o.res.headers.get("x-amzn-ErrorType") == "ServiceUnavailableException");
  CHECK(o.res.headers.get("x-amzn-RequestId").has_value());
  // use_future sees the error as an exception.
  auto thrown = env.gateway().async_dispatch(get("/prod/hello"), asio::use_future);
  REQUIRE(thrown.wait_for(5s) == std::future_status::ready);
  CHECK_THROWS(thrown.get());
  CHECK(env.gateway().abandoned_requests() == 0);
}
