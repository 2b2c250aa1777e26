#include "cache/stage_cache.hpp"
#include "pipeline/exchange.hpp"
#include "routing/deployment.hpp"
#include "util/access.hpp"

#include <gatehouse/gatehouse.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using Catch::Matchers::Contains;
using gatehouse::cache_settings;
using gatehouse::config_error;
using gatehouse::Deployment;
using gatehouse::method_options;
using gatehouse::method_setting;
using gatehouse::Router;
using gatehouse::Stage;

using namespace std::chrono_literals;

namespace {
gatehouse::integration answer() { return gatehouse::mock({.status = 200}); }

// The message of the config_error `f` throws; "<no config_error>" when it throws none.
std::string config_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const config_error& e) {
    return e.what();
  }
  return "<no config_error>";
}

Deployment pets_api() {
  Router r;
  r.route("GET", "/pets", answer());
  r.route("POST", "/pets", answer());
  r.route("GET", "/pets/{petId}", answer());
  r.route("DELETE", "/pets/{petId}", answer());
  return r.deploy();
}

// The settings the stage resolved for a route, from its current snapshot.
gatehouse::detail::route_settings resolved(const Stage& stage, std::string_view route) {
  auto snap = gatehouse::detail::access::state(stage)->load();
  auto i = snap->deployment->routes.find(route);
  REQUIRE(i.has_value());
  REQUIRE(*i < snap->routes.size());
  return snap->routes[*i];
}

// Whether a request with `method` to `route` goes through the stage cache (the pipeline's test).
bool caches(const Stage& stage, std::string_view route, std::string method) {
  auto snap = gatehouse::detail::access::state(stage)->load();
  auto i = snap->deployment->routes.find(route);
  REQUIRE(i.has_value());
  gatehouse::request req;
  req.method = std::move(method);
  gatehouse::detail::exchange ex(req, {});
  ex.stage = snap;
  ex.match.index = *i;
  return gatehouse::cache::applies(ex);
}
}  // namespace

TEST_CASE("Stage::cache accepts a TTL of 0 to 3600 s and some capacity", "[cache]") {
  Stage stage("prod", pets_api());

  SECTION("a TTL outside 0 to 3600 s") {
    for (auto ttl : {-1s, 3601s, -3600s, 86400s}) {
      CAPTURE(ttl.count());
      const auto what = config_error_of([&] { stage.cache(cache_settings{.ttl = ttl}); });
      CHECK_THAT(what, Contains("stage 'prod'") && Contains("0 to 3600"));
      CHECK_THAT(what, Contains(std::to_string(ttl.count())));
    }
    // Nothing changed: the stage still has no cache.
    CHECK_FALSE(gatehouse::detail::access::state(stage)->load()->cache.has_value());
    CHECK_FALSE(caches(stage, "GET /pets", "GET"));
  }
  SECTION("a failed change keeps the cache the stage had") {
    stage.cache(cache_settings{.ttl = 60s});
    CHECK_THROWS_AS(stage.cache(cache_settings{.ttl = 3601s}), config_error);
    REQUIRE(gatehouse::detail::access::state(stage)->load()->cache.has_value());
    CHECK(gatehouse::detail::access::state(stage)->load()->cache->ttl == 60s);
    CHECK(resolved(stage, "GET /pets").cache_ttl == 60s);
  }
  SECTION("0 and 3600 s") {
    CHECK_NOTHROW(stage.cache(cache_settings{.ttl = 0s}));
    CHECK(gatehouse::detail::access::state(stage)->load()->cache->ttl == 0s);
    CHECK_NOTHROW(stage.cache(cache_settings{.ttl = 3600s}));
    CHECK(gatehouse::detail::access::state(stage)->load()->cache->ttl == 3600s);
    CHECK(resolved(stage, "GET /pets").cache_ttl == 3600s);
  }
  SECTION("a capacity of 0 bytes") {
    const auto what = config_error_of([&] { stage.cache(cache_settings{.capacity_bytes = 0}); });
    CHECK_THAT(what, Contains("stage 'prod'") && Contains("capacity"));
    CHECK_NOTHROW(stage.cache(cache_settings{.capacity_bytes = 1}));
  }
  SECTION("turned off again") {
    stage.cache(cache_settings{});
    REQUIRE(caches(stage, "GET /pets", "GET"));
    stage.cache(std::nullopt);
    CHECK_FALSE(gatehouse::detail::access::state(stage)->load()->cache.has_value());
    CHECK_FALSE(caches(stage, "GET /pets", "GET"));
  }
}

TEST_CASE("Stage::method accepts a cache TTL of 0 to 3600 s", "[cache]") {
  Stage stage("prod", pets_api());
  for (auto ttl : {3601s, -1s}) {
    CAPTURE(ttl.count());
    const auto what =
        config_error_of([&] { stage.method("GET /pets", method_setting{.cache_ttl = ttl}); });
    CHECK_THAT(what, Contains("stage 'prod'") && Contains("GET /pets") && Contains("0 to 3600"));
  }
  CHECK_NOTHROW(stage.method("GET /pets", method_setting{.cache_ttl = 3600s}));
  CHECK_NOTHROW(stage.method("GET /pets", method_setting{.cache_ttl = 0s}));
  // A method the deployment lacks.
  CHECK_THROWS_AS(stage.method("GET /cats", method_setting{.caching = true}), config_error);
}

TEST_CASE("Router::route checks cache key parameters", "[cache]") {
  Router r;
  auto with = [](std::vector<std::string> params) {
    return method_options{.cache_key_parameters = std::move(params)};
  };

  SECTION("valid ones") {
    CHECK_NOTHROW(r.route("GET", "/pets", answer(), with({"method.request.querystring.type"})));
    CHECK_NOTHROW(r.route("GET", "/pets/{petId}", answer(),
                          with({"method.request.path.petId", "method.request.header.Accept",
                                "method.request.querystring.page"})));
    CHECK_NOTHROW(r.route("GET", "/files/{path+}", answer(), with({"method.request.path.path"})));
    Stage stage("prod", r.deploy());
    CHECK(gatehouse::detail::access::state(stage)->load()->deployment->routes.size() == 3);
  }
  SECTION("invalid ones name the route") {
    for (std::string bad :
         {"querystring.type", "method.request.body.x", "method.request.querystring.",
          "method.request.path.", "method.request.header.", "method.request.", "",
          "Method.Request.Querystring.type", "method.response.header.Accept"}) {
      CAPTURE(bad);
      const auto what = config_error_of([&] { r.route("GET", "/pets", answer(), with({bad})); });
      CHECK_THAT(what, Contains("route GET /pets") && Contains("cache key parameter"));
    }
  }
  SECTION("a path parameter the route lacks") {
    const auto what = config_error_of(
        [&] { r.route("GET", "/pets/{petId}", answer(), with({"method.request.path.nope"})); });
    CHECK_THAT(what, Contains("route GET /pets/{petId}") && Contains("method.request.path.nope"));
    // Nor a parameter of another route.
    r.route("GET", "/owners/{ownerId}", answer());
    CHECK_THROWS_AS(r.route("GET", "/pets", answer(), with({"method.request.path.ownerId"})),
                    config_error);
  }
  SECTION("a refused route is not added: it can be defined again") {
    CHECK_THROWS_AS(r.route("GET", "/pets", answer(), with({"querystring.type"})), config_error);
    CHECK_NOTHROW(r.route("GET", "/pets", answer(), with({"method.request.querystring.type"})));
    Stage stage("prod", r.deploy());
    CHECK(gatehouse::detail::access::state(stage)->load()->deployment->routes.size() == 1);
  }
}

TEST_CASE("resolved cache settings: GET methods are cached by default", "[cache]") {
  Stage stage("prod", pets_api());

  SECTION("without a stage cache nothing is cached") {
    for (auto route : {"GET /pets", "POST /pets", "GET /pets/{petId}"}) {
      CAPTURE(route);
      CHECK_FALSE(resolved(stage, route).cached);
      CHECK_FALSE(caches(stage, route, route[0] == 'G' ? "GET" : "POST"));
    }
  }
  SECTION("with one, GETs are cached with the stage's TTL and others are not") {
    stage.cache(cache_settings{.ttl = 120s});
    for (auto route : {"GET /pets", "GET /pets/{petId}"}) {
      CAPTURE(route);
      const auto rs = resolved(stage, route);
      CHECK(rs.cached);
      CHECK_FALSE(rs.cache_all_methods);
      CHECK(rs.cache_ttl == 120s);
      CHECK_FALSE(rs.cache_encrypted);
      CHECK(caches(stage, route, "GET"));
    }
    CHECK_FALSE(resolved(stage, "POST /pets").cache_all_methods);
    CHECK_FALSE(caches(stage, "POST /pets", "POST"));
    CHECK_FALSE(caches(stage, "DELETE /pets/{petId}", "DELETE"));
  }
  SECTION("caching = true caches other methods") {
    stage.cache(cache_settings{.ttl = 120s});
    stage.method("POST /pets", method_setting{.caching = true});
    const auto rs = resolved(stage, "POST /pets");
    CHECK(rs.cached);
    CHECK(rs.cache_all_methods);
    CHECK(rs.cache_ttl == 120s);
    CHECK(caches(stage, "POST /pets", "POST"));
    CHECK_FALSE(caches(stage, "DELETE /pets/{petId}", "DELETE"));  // only that method
  }
  SECTION("caching = false turns a GET off") {
    stage.cache(cache_settings{.ttl = 120s});
    stage.method("GET /pets", method_setting{.caching = false});
    CHECK_FALSE(resolved(stage, "GET /pets").cached);
    CHECK_FALSE(caches(stage, "GET /pets", "GET"));
    CHECK(caches(stage, "GET /pets/{petId}", "GET"));  // the other GET still is
  }
  SECTION("a method's TTL replaces the stage's") {
    stage.cache(cache_settings{.ttl = 120s});
    stage.method("GET /pets/{petId}", method_setting{.cache_ttl = 15s});
    CHECK(resolved(stage, "GET /pets/{petId}").cache_ttl == 15s);
    CHECK(resolved(stage, "GET /pets").cache_ttl == 120s);
    CHECK(caches(stage, "GET /pets/{petId}", "GET"));
  }
  SECTION("a method setting made before the cache applies once it is on") {
    stage.method("GET /pets", method_setting{.cache_ttl = 30s, .cache_encrypted = true});
    CHECK_FALSE(caches(stage, "GET /pets", "GET"));
    stage.cache(cache_settings{.ttl = 120s});
    CHECK(resolved(stage, "GET /pets").cache_ttl == 30s);
    CHECK(resolved(stage, "GET /pets").cache_encrypted);
    CHECK(caches(stage, "GET /pets", "GET"));
  }
  SECTION("a TTL of 0 caches nothing") {
    SECTION("the stage's") {
      stage.cache(cache_settings{.ttl = 0s});
      stage.method("POST /pets", method_setting{.caching = true});
      for (auto route : {"GET /pets", "GET /pets/{petId}", "POST /pets"}) {
        CAPTURE(route);
        CHECK_FALSE(resolved(stage, route).cached);
      }
      CHECK_FALSE(caches(stage, "GET /pets", "GET"));
      CHECK_FALSE(caches(stage, "POST /pets", "POST"));
    }
    SECTION("a method's") {
      stage.cache(cache_settings{.ttl = 120s});
      stage.method("GET /pets", method_setting{.caching = true, .cache_ttl = 0s});
      CHECK_FALSE(resolved(stage, "GET /pets").cached);
      CHECK_FALSE(caches(stage, "GET /pets", "GET"));
      CHECK(caches(stage, "GET /pets/{petId}", "GET"));
    }
  }
  SECTION("encryption comes from the stage unless a method says otherwise") {
    stage.cache(cache_settings{.ttl = 120s, .encrypted = true});
    stage.method("GET /pets/{petId}", method_setting{.cache_encrypted = false});
    CHECK(resolved(stage, "GET /pets").cache_encrypted);
    CHECK(resolved(stage, "POST /pets").cache_encrypted);
    CHECK_FALSE(resolved(stage, "GET /pets/{petId}").cache_encrypted);

    stage.cache(cache_settings{.ttl = 120s, .encrypted = false});
    stage.method("GET /pets", method_setting{.cache_encrypted = true});
    CHECK(resolved(stage, "GET /pets").cache_encrypted);
    CHECK_FALSE(resolved(stage, "POST /pets").cache_encrypted);
    CHECK_FALSE(resolved(stage, "GET /pets/{petId}").cache_encrypted);
  }
  SECTION("an encryption key given is the one the stage uses") {
    std::array<std::uint8_t, 32> key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i + 1);
    stage.cache(cache_settings{.encrypted = true, .encryption_key = key});
    CHECK(gatehouse::detail::access::state(stage)->load()->cache_key == key);
  }
  SECTION("a random key otherwise, not all zero") {
    stage.cache(cache_settings{.encrypted = true});
    CHECK(gatehouse::detail::access::state(stage)->load()->cache_key !=
          std::array<std::uint8_t, 32>{});
  }
}

TEST_CASE("resolved cache settings: stages have namespaces of their own", "[cache]") {
  Router r({.name = "pets", .id = "abc123"});
  r.route("GET", "/pets", answer());
  const Deployment d = r.deploy();
  Stage prod("prod", d), beta("beta", d);
  prod.cache(cache_settings{});
  beta.cache(cache_settings{});
  CHECK(gatehouse::detail::access::state(prod)->load()->cache_namespace !=
        gatehouse::detail::access::state(beta)->load()->cache_namespace);
  CHECK_THAT(gatehouse::detail::access::state(prod)->load()->cache_namespace,
             Contains("abc123") && Contains("prod"));
}

TEST_CASE("cache_statistics lists every route, with no hits or misses at first", "[cache]") {
  Stage stage("prod", pets_api());
  stage.cache(cache_settings{});
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> got;
  for (const auto& m : stage.cache_statistics()) got[m.method] = {m.hits, m.misses};
  const std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> want{
      {"GET /pets", {0, 0}},
      {"POST /pets", {0, 0}},
      {"GET /pets/{petId}", {0, 0}},
      {"DELETE /pets/{petId}", {0, 0}}};
  CHECK(got == want);
  CHECK(stage.cache_statistics().size() == 4);

  SECTION("a redeploy adds the new routes") {
    Router r;
    r.route("GET", "/pets", answer());
    r.route("PUT", "/pets/{petId}", answer());
    stage.deploy(r.deploy());
    got.clear();
    for (const auto& m : stage.cache_statistics()) got[m.method] = {m.hits, m.misses};
    CHECK(got.contains("PUT /pets/{petId}"));
    CHECK(got.contains("GET /pets"));
  }
}
