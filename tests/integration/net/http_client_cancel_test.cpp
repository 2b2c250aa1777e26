// http_client::async_request honours its completion handler's cancellation slot: a call to a
// backend that never answers, or one waiting for a free pooled connection, ends at once with
// operation_aborted; its connection is closed, not pooled. A slot that fires after completion
// (or from another thread, racing completion) does nothing more.

#include "cancel_timer.hpp"
#include "client_env.hpp"
#include "hangup_backend.hpp"

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

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using gatehouse::response;

using test::eventually;

gatehouse::client_request get(const test::silent_backend& b, std::string path) {
  gatehouse::client_request r;
  r.url = "http://127.0.0.1:" + std::to_string(b.port()) + path;
  return r;
}

struct outcome {
  asio::error_code ec;
  response res;
};

// Runs `f` on the client's io_context and waits for it: the slots the tests bind are used on the
// io_context's thread (except where a test says otherwise).
template <class F>
void on_io(test::client_env& env, F f) {
  std::promise<void> p;
  asio::post(env.io, [&] {
    f();
    p.set_value();
  });
  p.get_future().wait();
}

}  // namespace

TEST_CASE("http_client: a cancellation slot fired after 200 ms ends the call at once",
          "[http_client][cancel]") {
  test::silent_backend backend;
  test::client_env env;
  test::cancel_timer cancel(env.io.get_executor());
  outcome got;
  on_io(env, [&] {
    env.client->async_request(
        get(backend, "/hang"),
        asio::bind_cancellation_slot(cancel.slot(), [&](asio::error_code ec, response r) {
          got = {ec, std::move(r)};
          cancel.completed();
        }));
    cancel.start(200ms);
  });
  REQUIRE(cancel.wait_completed(5s));
  CHECK(got.ec == asio::error::operation_aborted);
  INFO("from the start " << cancel.total().count() << " ms, from the signal "
                         << cancel.latency().count() << " us");
  CHECK(cancel.total() >= 190ms);
  CHECK(cancel.total() < 1500ms);  // well under 300 ms unless the machine is very busy
  CHECK(cancel.latency() < 1000ms);
  CHECK(backend.requests() == 1);
  // The connection is closed, not pooled.
  CHECK(eventually([&] { return backend.closed() == 1; }, 2s));
  CHECK(eventually([&] { return env.client->connection_count() == 0; }, 2s));
}

TEST_CASE("http_client: `||` with a 200 ms timer in a coroutine", "[http_client][cancel]") {
  test::silent_backend backend;
  test::client_env env;
  std::promise<void> finished;
  std::size_t winner = 9, fast_winner = 9;
  asio::error_code seen = asio::error::eof;
  clock_type::duration took{};
  response fast;
  asio::co_spawn(
      env.io,
      [&]() -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        auto ex = co_await asio::this_coro::executor;
        auto call = [&](std::string path, asio::error_code& ec,
                        response& out) -> asio::awaitable<void> {
          out = co_await env.client->async_request(get(backend, path),
                                                   asio::redirect_error(asio::use_awaitable, ec));
        };
        asio::steady_timer t(ex, 200ms);
        response ignored;
        const auto start = clock_type::now();
        auto r = co_await (call("/hang", seen, ignored) || t.async_wait(asio::use_awaitable));
        took = clock_type::now() - start;
        winner = r.index();
        // A call that is answered wins against a timer of 5 s.
        asio::steady_timer t2(ex, 5s);
        asio::error_code fast_ec;
        auto r2 = co_await (call("/answer", fast_ec, fast) || t2.async_wait(asio::use_awaitable));
        fast_winner = r2.index();
        finished.set_value();
      },
      asio::detached);
  REQUIRE(finished.get_future().wait_for(10s) == std::future_status::ready);
  CHECK(winner == 1);
  CHECK(seen == asio::error::operation_aborted);
  INFO("the race took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                        << " ms");
  CHECK(took < 1500ms);
  CHECK(eventually([&] { return backend.closed() == 1; }, 2s));
  CHECK(fast_winner == 0);
  CHECK(fast.status == 200);
  CHECK(fast.body == "ok");
}

TEST_CASE("http_client: a call waiting for a free pooled connection gives its wait up",
          "[http_client][cancel]") {
  test::silent_backend backend;
  gatehouse::http_client_options options;
  options.max_connections_per_upstream = 1;
  test::client_env env(options);
  asio::cancellation_signal holder_signal, waiter_signal;
  std::promise<outcome> holder, waiter;
  on_io(env, [&] {
    env.client->async_request(
        get(backend, "/hang"),
        asio::bind_cancellation_slot(holder_signal.slot(), [&](asio::error_code ec, response r) {
          holder.set_value({ec, std::move(r)});
        }));
  });
  REQUIRE(eventually([&] { return backend.requests() == 1; }));
  on_io(env, [&] {
    env.client->async_request(
        get(backend, "/answer"),
        asio::bind_cancellation_slot(waiter_signal.slot(), [&](asio::error_code ec, response r) {
          waiter.set_value({ec, std::move(r)});
        }));
  });
  std::this_thread::sleep_for(100ms);
  const auto emitted = clock_type::now();
  on_io(env, [&] { waiter_signal.emit(asio::cancellation_type::terminal); });
  auto w = waiter.get_future();
  REQUIRE(w.wait_for(2s) == std::future_status::ready);
  CHECK(clock_type::now() - emitted < 1000ms);
  CHECK(w.get().ec == asio::error::operation_aborted);
  // The call that holds the connection goes on: nothing was closed, nothing new was opened.
  std::this_thread::sleep_for(50ms);
  CHECK(backend.closed() == 0);
  CHECK(backend.accepted() == 1);
  CHECK(env.client->connection_count() == 1);

  on_io(env, [&] { holder_signal.emit(asio::cancellation_type::terminal); });
  auto h = holder.get_future();
  REQUIRE(h.wait_for(2s) == std::future_status::ready);
  CHECK(h.get().ec == asio::error::operation_aborted);
  CHECK(eventually([&] { return backend.closed() == 1; }));
  CHECK(eventually([&] { return env.client->connection_count() == 0; }));
  // The slot is free again.
  auto r = env.call(get(backend, "/answer"), 5s);
  CHECK_FALSE(r.ec);
  CHECK(r.res.status == 200);
}

TEST_CASE("http_client: a slot that fires after completion changes nothing",
          "[http_client][cancel]") {
  test::silent_backend backend;
  test::client_env env;
  asio::cancellation_signal signal;
  std::promise<outcome> done;
  on_io(env, [&] {
    env.client->async_request(
        get(backend, "/answer"),
        asio::bind_cancellation_slot(signal.slot(), [&](asio::error_code ec, response r) {
          done.set_value({ec, std::move(r)});
        }));
  });
  auto f = done.get_future();
  REQUIRE(f.wait_for(5s) == std::future_status::ready);
  auto o = f.get();
  CHECK_FALSE(o.ec);
  CHECK(o.res.status == 200);
  on_io(env, [&] { signal.emit(asio::cancellation_type::all); });
  std::this_thread::sleep_for(50ms);
  // The connection went back to the pool and serves the next call.
  CHECK(env.client->connection_count() == 1);
  CHECK(backend.closed() == 0);
  auto r = env.call(get(backend, "/answer"), 5s);
  CHECK_FALSE(r.ec);
  CHECK(backend.accepted() == 1);
}

TEST_CASE("http_client: cancelled from another thread while calls start and complete",
          "[http_client][cancel][threads]") {
  test::silent_backend backend;
  test::client_env env;
  // Calls started and cancelled from this thread while the client's thread runs them: some are
  // cancelled before they begin, some while they wait, some race their own completion.
  constexpr int count = 30;
  std::vector<std::unique_ptr<asio::cancellation_signal>> signals;
  std::atomic<int> completions{0}, aborted{0};
  std::vector<std::atomic<int>> per(count);
  for (int i = 0; i < count; ++i) {
    signals.push_back(std::make_unique<asio::cancellation_signal>());
    env.client->async_request(
        get(backend, i % 3 == 0 ? "/answer" : "/hang"),
        asio::bind_cancellation_slot(signals.back()->slot(), [&, i](asio::error_code ec, response) {
          ++per[i];
          ++completions;
          if (ec == asio::error::operation_aborted) ++aborted;
        }));
    if (i % 3 == 1) signals.back()->emit(asio::cancellation_type::terminal);  // at once
  }
  std::this_thread::sleep_for(100ms);
  const auto emitted = clock_type::now();
  for (auto& s : signals) s->emit(asio::cancellation_type::terminal);
  REQUIRE(eventually([&] { return completions == count; }, 5s));
  CHECK(clock_type::now() - emitted < 1500ms);
  CHECK(aborted >= count / 3 * 2);  // every call to /hang; an /answer may race its cancellation
  for (auto& s : signals) s->emit(asio::cancellation_type::terminal);
  signals.clear();
  std::this_thread::sleep_for(20ms);
  for (auto& n : per) CHECK(n == 1);
  // Every cancelled call's connection is closed; answered ones may stay pooled.
  CHECK(eventually([&] { return backend.accepted() - backend.closed() <= count / 3; }));
}
