// Redeploying a stage while it serves, several stages at once, and stage variables, over real
// keep-alive connections on loopback.

#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using gatehouse::proxy_event;
using gatehouse::proxy_result;

// Version 1 answers from a mock, version 2 from a function: a redeploy swaps integration kinds.
gatehouse::Deployment version_1() {
  gatehouse::Router api;
  api.route("GET", "/version", gatehouse::mock({.body = "1"}));
  return api.deploy();
}
gatehouse::Deployment version_2() {
  gatehouse::Router api;
  api.route("GET", "/version",
            gatehouse::function([](const proxy_event&) { return proxy_result{.body = "2"}; }));
  api.route("GET", "/only-in-2", gatehouse::mock({.body = "new"}));
  return api.deploy();
}

gatehouse::gateway_options quiet() {
  gatehouse::gateway_options o;
  o.log = [](gatehouse::log_level, std::string_view) {};
  o.throttle.reset();  // the load here may pass AWS's account limit of 10,000 a second
  return o;
}

std::string body_of(unsigned short port, std::string_view target) {
  auto r = test::roundtrip(port, test::get(target));
  if (!r) return "<no reply>";
  return std::to_string(r->status) + " " + r->body;
}

}  // namespace

TEST_CASE("redeploy: 200 redeploys under load lose or fail no request", "[redeploy][threads]") {
  auto v1 = version_1();
  auto v2 = version_2();
  gatehouse::Stage prod("prod", v1);
  test::running_gateway gw(quiet());
  auto port = gw.serve_plain(prod);

  constexpr int clients = 4;
  std::atomic<bool> deploying{true};
  std::atomic<int> answered_1{0}, answered_2{0};
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  std::vector<std::string> last_answers(clients);
  auto fail = [&](std::string what) {
    std::lock_guard lock(failures_mutex);
    failures.push_back(std::move(what));
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      test::raw_client c(port, 10s);
      auto ask = [&]() -> std::optional<std::string> {
        c.send(test::get("/prod/version"));
        auto r = c.read_reply();
        if (!r) {
          fail("no reply");
          return std::nullopt;
        }
        if (r->status != 200 || (r->body != "1" && r->body != "2") ||
            r->headers.contains("Connection")) {
          fail(std::to_string(r->status) + " " + r->body);
          return std::nullopt;
        }
        (r->body == "1" ? answered_1 : answered_2).fetch_add(1);
        return r->body;
      };
      while (deploying.load()) {
        if (!ask()) return;
      }
      // Asked after the last deploy returned: the last deployment answers.
      if (auto last = ask()) last_answers[t] = *last;
    });
  }

  // 200 deploys, alternating, over about a second; the last one is version 1.
  for (int i = 0; i < 200; ++i) {
    prod.deploy(i % 2 == 0 ? v2 : v1);
    std::this_thread::sleep_for(5ms);
  }
  deploying.store(false);
  for (auto& t : threads) t.join();

  INFO((failures.empty() ? "" : failures.front()));
  CHECK(failures.empty());
  CHECK(answered_1.load() > 0);
  CHECK(answered_2.load() > 0);
  for (const auto& a : last_answers) CHECK(a == "1");
  CHECK(body_of(port, "/prod/version") == "200 1");
  CHECK(body_of(port, "/prod/only-in-2") == "403 {\"message\":\"Missing Authentication Token\"}");

  prod.deploy(v2);
  CHECK(body_of(port, "/prod/version") == "200 2");
  CHECK(body_of(port, "/prod/only-in-2") == "200 new");
  INFO("answers: " << answered_1.load() << " from 1, " << answered_2.load() << " from 2");
}

TEST_CASE("redeploy: two stages mounted at once serve their own deployments", "[redeploy]") {
  auto v1 = version_1();
  auto v2 = version_2();
  gatehouse::Stage prod("prod", v1);
  gatehouse::Stage beta("beta", v2);
  test::running_gateway gw(quiet());
  gw.gateway().mount(beta);
  auto port = gw.serve_plain(prod);

  test::raw_client c(port, 5s);
  auto ask = [&](std::string_view target) {
    c.send(test::get(target));
    auto r = c.read_reply();
    return r ? std::to_string(r->status) + " " + r->body : std::string("<no reply>");
  };
  CHECK(ask("/prod/version") == "200 1");
  CHECK(ask("/beta/version") == "200 2");
  CHECK(ask("/beta/only-in-2") == "200 new");
  CHECK(ask("/prod/only-in-2") == "403 {\"message\":\"Missing Authentication Token\"}");
  CHECK(ask("/gamma/version") == "403 {\"message\":\"Missing Authentication Token\"}");

  // Redeploying one stage leaves the other alone.
  beta.deploy(v1);
  CHECK(ask("/prod/version") == "200 1");
  CHECK(ask("/beta/version") == "200 1");
  prod.deploy(v2);
  CHECK(ask("/prod/version") == "200 2");
  CHECK(ask("/beta/version") == "200 1");

  // A stage name is mounted once per gateway, even through another Stage object.
  CHECK_THROWS_AS(gw.gateway().mount(gatehouse::Stage("prod", v1)), gatehouse::config_error);
  CHECK(ask("/prod/version") == "200 2");
}

TEST_CASE("redeploy: a mock answer follows Stage::variable changes", "[redeploy]") {
  gatehouse::Router api;
  gatehouse::header_map headers;
  headers.add("X-Greeting", "${stageVariables.greeting}");
  api.route("GET", "/greet",
            gatehouse::mock(
                {.headers = headers, .body = "{\"say\":\"${stageVariables.greeting}, world\"}"}));
  gatehouse::Stage prod("prod", api.deploy());
  prod.variable("greeting", "hello");
  test::running_gateway gw(quiet());
  auto port = gw.serve_plain(prod);

  test::raw_client c(port, 5s);
  auto greet = [&]() -> test::reply {
    c.send(test::get("/prod/greet"));
    auto r = c.read_reply();
    return r ? *r : test::reply{};
  };
  auto r = greet();
  CHECK(r.status == 200);
  CHECK(r.body == "{\"say\":\"hello, world\"}");
  CHECK(r.headers.get("X-Greeting") == "hello");
  CHECK(r.headers.get("Content-Type") == "application/json");

  prod.variable("greeting", "bonjour");
  CHECK(prod.variable("greeting") == "bonjour");
  r = greet();
  CHECK(r.body == "{\"say\":\"bonjour, world\"}");
  CHECK(r.headers.get("X-Greeting") == "bonjour");

  // Another copy of the Stage is the same stage.
  gatehouse::Stage alias = prod;
  alias.variable("greeting", "hallo");
  CHECK(greet().body == "{\"say\":\"hallo, world\"}");
  CHECK(prod.variable("greeting") == "hallo");
  CHECK_FALSE(prod.variable("nope").has_value());
}

TEST_CASE("redeploy: an undefined stage variable is a config_error naming it", "[redeploy]") {
  gatehouse::Router uses_backend;
  uses_backend.route("GET", "/x", gatehouse::mock({.body = "${stageVariables.backend}"}));
  gatehouse::Router plain;
  plain.route("GET", "/x", gatehouse::mock({.body = "plain"}));

  test::running_gateway gw(quiet());
  gatehouse::Stage prod("prod", uses_backend.deploy());
  CHECK_THROWS_WITH(gw.gateway().mount(prod),
                    Catch::Contains("backend") && Catch::Contains("prod"));

  // Defined now, it mounts and serves.
  prod.variable("backend", "b1");
  auto port = gw.serve_plain(prod);
  CHECK(body_of(port, "/prod/x") == "200 b1");

  // Once mounted, every change is checked again: a deployment that needs a variable the stage
  // lacks is refused, and the stage keeps serving what it had.
  gatehouse::Router needs_more;
  needs_more.route("GET", "/x", gatehouse::mock({.body = "${stageVariables.region}"}));
  CHECK_THROWS_WITH(prod.deploy(needs_more.deploy()), Catch::Contains("region"));
  CHECK(body_of(port, "/prod/x") == "200 b1");
  prod.variable("region", "eu");
  prod.deploy(needs_more.deploy());
  CHECK(body_of(port, "/prod/x") == "200 eu");

  // A header reference counts as much as a body reference.
  gatehouse::Router header_ref;
  gatehouse::header_map h;
  h.add("X-Tier", "${stageVariables.tier}");
  header_ref.route("GET", "/x", gatehouse::mock({.headers = h, .body = "ok"}));
  gatehouse::Stage beta("beta", header_ref.deploy());
  CHECK_THROWS_WITH(gw.gateway().mount(beta), Catch::Contains("tier"));
  // A failed mount does not mount it half-way.
  CHECK(body_of(port, "/beta/x") == "403 {\"message\":\"Missing Authentication Token\"}");

  // Bad variable names and malformed references are refused at composition.
  CHECK_THROWS_AS(prod.variable("not-valid", "x"), gatehouse::config_error);
  CHECK_THROWS_AS(gatehouse::mock({.body = "${stageVariables.}"}), gatehouse::config_error);

  // An unmounted stage may be set up in any order; the check happens at mount.
  gatehouse::Stage gamma("gamma", uses_backend.deploy());
  gamma.deploy(plain.deploy()).deploy(uses_backend.deploy());
  gamma.variable("backend", "b3");
  gw.gateway().mount(gamma);
  CHECK(body_of(port, "/gamma/x") == "200 b3");
}

TEST_CASE("redeploy: variable changes under load are atomic per request", "[redeploy][threads]") {
  gatehouse::Router api;
  gatehouse::header_map h;
  h.add("X-Value", "${stageVariables.value}");
  api.route("GET", "/v", gatehouse::mock({.headers = h, .body = "${stageVariables.value}"}));
  gatehouse::Stage prod("prod", api.deploy());
  prod.variable("value", "v0");
  test::running_gateway gw(quiet());
  auto port = gw.serve_plain(prod);

  std::atomic<bool> running{true};
  std::atomic<int> bad{0}, seen{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      test::raw_client c(port, 10s);
      while (running.load()) {
        c.send(test::get("/prod/v"));
        auto r = c.read_reply();
        // Header and body come from the same snapshot of the variables.
        if (!r || r->status != 200 || r->headers.get("X-Value") != r->body || r->body.size() < 2 ||
            r->body[0] != 'v') {
          bad.fetch_add(1);
          return;
        }
        seen.fetch_add(1);
      }
    });
  }
  for (int i = 1; i <= 200; ++i) {
    prod.variable("value", fmt::format("v{}", i));
    std::this_thread::sleep_for(2ms);
  }
  running.store(false);
  for (auto& t : threads) t.join();
  CHECK(bad.load() == 0);
  CHECK(seen.load() > 0);
  CHECK(body_of(port, "/prod/v") == "200 v200");
}
