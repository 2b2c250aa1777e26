// Gateway::async_dispatch: a host that parsed the request itself runs it through the pipeline,
// with any Asio completion token. No listener and no socket are involved.

#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using gatehouse::proxy_event;
using gatehouse::proxy_result;

// Echoes what the pipeline told the handler, so that the test can see it.
gatehouse::Stage make_stage() {
  gatehouse::Router api;
  api.route("GET", "/hello", gatehouse::mock({.body = "hello"}));
  api.route("POST", "/items/{id}", gatehouse::function([](const proxy_event& ev) {
              proxy_result r;
              r.status_code = 201;
              r.headers.add("X-Item", std::string(*ev.path_parameter("id")));
              r.headers.add("X-Source-Ip", std::string(ev.context().source_ip));
              r.headers.add("X-Seen-Request-Id", std::string(ev.context().request_id));
              r.headers.add("X-Query", ev.query("q").value_or("<none>"));
              r.headers.add("X-Content-Type",
                            std::string(ev.header("content-type").value_or("<none>")));
              r.body = std::string(ev.body());
              return r;
            }));
  api.route("GET", "/later",
            gatehouse::function([](const proxy_event&) -> asio::awaitable<proxy_result> {
              asio::steady_timer t(co_await asio::this_coro::executor, 50ms);
              co_await t.async_wait(asio::use_awaitable);
              co_return proxy_result{.body = "later"};
            }));
  return gatehouse::Stage("prod", api.deploy());
}

gatehouse::gateway_options quiet() {
  gatehouse::gateway_options o;
  o.log = [](gatehouse::log_level, std::string_view) {};
  return o;
}

gatehouse::request get(std::string target) {
  gatehouse::request r;
  r.method = "GET";
  r.target = std::move(target);
  r.headers.add("Host", "api.example.com");
  r.source_ip = "198.51.100.7";
  return r;
}

bool is_uuid(std::string_view s) {
  static const std::regex uuid(
      "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  return std::regex_match(s.begin(), s.end(), uuid);
}

// An io_context on one thread for the duration of a test.
struct running_io {
  running_io() : work(io.get_executor()), thread([this] { io.run(); }) {}
  ~running_io() {
    work.reset();
    thread.join();
  }
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::thread thread;
};

}  // namespace

TEST_CASE("dispatch: a plain callback gets the response, without any listener", "[dispatch]") {
  asio::io_context io;
  gatehouse::Gateway gw(io, quiet());
  gw.mount(make_stage());

  gatehouse::request req;
  req.method = "POST";
  req.target = "/prod/items/a%20b?q=1&q=last";
  req.headers.add("Content-Type", "text/plain");
  req.body = "payload";
  req.source_ip = "203.0.113.9";

  int calls = 0;
  gatehouse::response res;
  asio::error_code error = asio::error::eof;
  gw.async_dispatch(std::move(req), [&](asio::error_code ec, gatehouse::response r) {
    ++calls;
    error = ec;
    res = std::move(r);
  });
  CHECK(calls == 0);  // completes on the io_context, never inline
  io.run();
  REQUIRE(calls == 1);
  CHECK_FALSE(error);
  CHECK(res.status == 201);
  CHECK(res.body == "payload");
  CHECK(res.headers.get("X-Item") == "a b");
  CHECK(res.headers.get("X-Source-Ip") == "203.0.113.9");
  CHECK(res.headers.get("X-Query") == "last");
  CHECK(res.headers.get("X-Content-Type") == "text/plain");
  auto id = res.headers.get("x-amzn-RequestId");
  REQUIRE(id);
  CHECK(is_uuid(*id));
  CHECK(res.headers.get("X-Seen-Request-Id") == id);
  CHECK(gw.connection_count() == 0);
}

TEST_CASE("dispatch: use_future from another thread", "[dispatch][threads]") {
  running_io rio;
  gatehouse::Gateway gw(rio.io, quiet());
  gw.mount(make_stage());

  std::future<gatehouse::response> hello = gw.async_dispatch(get("/prod/hello"), asio::use_future);
  std::future<gatehouse::response> later = gw.async_dispatch(get("/prod/later"), asio::use_future);
  REQUIRE(hello.wait_for(5s) == std::future_status::ready);
  auto r = hello.get();
  CHECK(r.status == 200);
  CHECK(r.body == "hello");
  CHECK(r.headers.get("Content-Type") == "application/json");
  REQUIRE(later.wait_for(5s) == std::future_status::ready);
  r = later.get();
  CHECK(r.status == 200);
  CHECK(r.body == "later");

  // Many at once, from several threads.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      std::vector<std::future<gatehouse::response>> fs;
      for (int i = 0; i < 50; ++i)
        fs.push_back(gw.async_dispatch(get("/prod/hello"), asio::use_future));
      for (auto& f : fs)
        if (f.wait_for(5s) == std::future_status::ready && f.get().body == "hello") ok++;
    });
  for (auto& t : threads) t.join();
  CHECK(ok.load() == 200);
}

TEST_CASE("dispatch: use_awaitable inside a co_spawned coroutine", "[dispatch]") {
  asio::io_context io;
  gatehouse::Gateway gw(io, quiet());
  gw.mount(make_stage());

  std::vector<std::string> bodies;
  std::vector<int> statuses;
  bool finished = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (auto target : {"/prod/hello", "/prod/later", "/nope/hello", "/prod/missing"}) {
          gatehouse::response r = co_await gw.async_dispatch(get(target), asio::use_awaitable);
          statuses.push_back(r.status);
          bodies.push_back(r.body);
        }
        finished = true;
      },
      asio::detached);
  io.run();
  REQUIRE(finished);
  CHECK(statuses == std::vector<int>{200, 200, 403, 403});
  CHECK(bodies[0] == "hello");
  CHECK(bodies[1] == "later");
  CHECK(bodies[2] == "{\"message\":\"Missing Authentication Token\"}");
  CHECK(bodies[3] == "{\"message\":\"Missing Authentication Token\"}");
}

TEST_CASE("dispatch: the completion runs on the handler's associated executor", "[dispatch]") {
  asio::io_context io;
  gatehouse::Gateway gw(io, quiet());
  gw.mount(make_stage());
  auto strand = asio::make_strand(io);
  bool on_strand = false;
  gw.async_dispatch(get("/prod/later"),
                    asio::bind_executor(strand, [&](asio::error_code, gatehouse::response r) {
                      on_strand = strand.running_in_this_thread() && r.body == "later";
                    }));
  io.run();
  CHECK(on_strand);
}

TEST_CASE("dispatch: an unknown stage is 403 Missing Authentication Token", "[dispatch]") {
  asio::io_context io;
  gatehouse::Gateway gw(io, quiet());
  gw.mount(make_stage());
  std::vector<gatehouse::response> out;
  for (auto target : {"/staging/hello", "/", "/prodx/hello", "/PROD/hello"})
    gw.async_dispatch(get(target), [&](asio::error_code ec, gatehouse::response r) {
      if (!ec) out.push_back(std::move(r));
    });
  io.run();
  REQUIRE(out.size() == 4);
  for (const auto& r : out) {
    CHECK(r.status == 403);
    CHECK(r.body == "{\"message\":\"Missing Authentication Token\"}");
    CHECK(r.headers.get("x-amzn-ErrorType") == "MissingAuthenticationTokenException");
    CHECK(r.headers.get("x-amzn-RequestId").has_value());
  }

  // With nothing mounted at all, too.
  asio::io_context io2;
  gatehouse::Gateway empty(io2, quiet());
  std::optional<gatehouse::response> r;
  empty.async_dispatch(get("/prod/hello"),
                       [&](asio::error_code, gatehouse::response x) { r = std::move(x); });
  io2.run();
  REQUIRE(r);
  CHECK(r->status == 403);
}

TEST_CASE("dispatch: x-amzn-RequestId is a fresh 36-character UUID per request", "[dispatch]") {
  asio::io_context io;
  gatehouse::Gateway gw(io, quiet());
  gw.mount(make_stage());
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    gw.async_dispatch(get(i % 2 ? "/prod/hello" : "/unknown/x"),
                      [&](asio::error_code, gatehouse::response r) {
                        auto values = r.headers.get_all("x-amzn-RequestId");
                        if (values.size() == 1) ids.emplace_back(values.front());
                      });
  }
  io.run();
  REQUIRE(ids.size() == 200);
  std::set<std::string> unique(ids.begin(), ids.end());
  CHECK(unique.size() == 200);
  for (const auto& id : ids) {
    INFO(id);
    CHECK(id.size() == 36);
    CHECK(is_uuid(id));
  }
}
