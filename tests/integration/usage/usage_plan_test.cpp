// Usage plans, API keys, throttling and quotas end to end: a real gateway on loopback, raw
// HTTP/1.1 requests over keep-alive connections, and the key registry's usage reports.

#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using gatehouse::method_options;
using gatehouse::quota_period;
using gatehouse::quota_settings;
using gatehouse::throttle_settings;

// What the gateway answers when it refuses, as summary() writes it.
const std::string forbidden = R"(403 ForbiddenException {"message":"Forbidden"})";
const std::string throttled = R"(429 TooManyRequestsException {"message":"Too Many Requests"})";
const std::string limit_exceeded = R"(429 LimitExceededException {"message":"Limit Exceeded"})";

// A rate this small gives no token back while a test runs: a refill cannot hide a wrong count.
constexpr double glacial = 0.001;

// GET /a and GET /b need an API key; GET /open does not. Each answers its own name.
gatehouse::Deployment keyed_api() {
  gatehouse::Router api;
  const method_options keyed{.api_key_required = true};
  api.route("GET", "/a", gatehouse::mock({.body = "a"}), keyed);
  api.route("GET", "/b", gatehouse::mock({.body = "b"}), keyed);
  api.route("GET", "/open", gatehouse::mock({.body = "open"}));
  return api.deploy();
}

// GET /a and GET /b, neither needs a key.
gatehouse::Deployment open_api() {
  gatehouse::Router api;
  api.route("GET", "/a", gatehouse::mock({.body = "a"}));
  api.route("GET", "/b", gatehouse::mock({.body = "b"}));
  return api.deploy();
}

gatehouse::gateway_options with_account_throttle(std::optional<throttle_settings> account,
                                                 std::shared_ptr<gatehouse::store> store = {}) {
  gatehouse::gateway_options o;
  o.throttle = account;
  o.store = std::move(store);
  return o;
}

std::string request(std::string_view target, std::string_view key = {},
                    std::string_view header = "x-api-key") {
  std::string r = "GET ";
  r.append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  if (!key.empty()) r.append(header).append(": ").append(key).append("\r\n");
  return r.append("\r\n");
}

// "200 - a", "429 TooManyRequestsException {…}": status, x-amzn-ErrorType and body at once.
std::string summary(const test::reply& r) {
  if (r.status == 0) return "<no reply>";
  auto type = r.headers.get("x-amzn-ErrorType");
  return std::to_string(r.status) + " " + std::string(type.value_or("-")) + " " + r.body;
}

// The Retry-After header as whole seconds; -1 when absent or not a number.
long long retry_after(const test::reply& r) {
  auto v = r.headers.get("Retry-After");
  if (!v || v->empty() ||
      !std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  return std::stoll(std::string(*v));
}

// `n` copies of `what`; `+` joins such runs into the sequence of answers a test expects.
std::vector<std::string> times(int n, const std::string& what) {
  return std::vector<std::string>(static_cast<std::size_t>(n), what);
}
std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// One keep-alive connection to the gateway.
class client {
 public:
  explicit client(unsigned short port) : raw_(port) {}

  test::reply get(std::string_view target, std::string_view key = {},
                  std::string_view header = "x-api-key") {
    raw_.send(request(target, key, header));
    auto r = raw_.read_reply();
    return r ? std::move(*r) : test::reply{};
  }
  std::string call(std::string_view target, std::string_view key = {}) {
    return summary(get(target, key));
  }
  std::vector<std::string> calls(int n, std::string_view target, std::string_view key = {}) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back(call(target, key));
    return out;
  }
  test::raw_client& raw() { return raw_; }

 private:
  test::raw_client raw_;
};

std::chrono::year_month_day today() {
  return std::chrono::year_month_day{
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
}

double seconds_to_utc_midnight() {
  auto now = std::chrono::system_clock::now();
  auto midnight = std::chrono::floor<std::chrono::days>(now) + std::chrono::days{1};
  return std::chrono::duration<double>(midnight - now).count();
}

// Daily quotas and reports start afresh at UTC midnight: keep a test from straddling it.
void keep_off_midnight() {
  auto now = std::chrono::system_clock::now();
  auto midnight = std::chrono::floor<std::chrono::days>(now) + std::chrono::days{1};
  if (midnight - now < 60s) std::this_thread::sleep_until(midnight + 1s);
}

// A key's days in a report as "used/remaining" ("used/null" without a quota).
std::vector<std::string> days_of(const gatehouse::usage_report& report, const std::string& id) {
  std::vector<std::string> out;
  auto it = report.items.find(id);
  if (it == report.items.end()) return {"<no such key in the report>"};
  for (const auto& d : it->second)
    out.push_back(std::to_string(d.used) + "/" +
                  (d.remaining ? std::to_string(*d.remaining) : std::string("null")));
  return out;
}

// `clients` keep-alive connections send `each` copies of `req` as fast as they can, all at
// once. Returns how often each answer came, as "n × summary" joined by "; " (ordered by summary);
// a request without an answer counts as "<no reply>".
std::string hammer(unsigned short port, const std::string& req, int clients, int each) {
  std::vector<std::unique_ptr<test::raw_client>> connections;
  for (int i = 0; i < clients; ++i)
    connections.push_back(std::make_unique<test::raw_client>(port, 10s));
  std::vector<std::map<std::string, int>> seen(static_cast<std::size_t>(clients));
  std::latch start(clients);
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t)
    threads.emplace_back([&, t] {
      auto& conn = *connections[static_cast<std::size_t>(t)];
      auto& counts = seen[static_cast<std::size_t>(t)];
      start.arrive_and_wait();
      for (int i = 0; i < each; ++i) {
        conn.send(req);
        auto r = conn.read_reply();
        if (!r) {
          counts["<no reply>"] += each - i;
          return;
        }
        ++counts[summary(*r)];
      }
    });
  for (auto& t : threads) t.join();
  std::map<std::string, int> total;
  for (const auto& counts : seen)
    for (const auto& [what, n] : counts) total[what] += n;
  std::string out;
  for (const auto& [what, n] : total)
    out.append(out.empty() ? "" : "; ").append(std::to_string(n)).append(" × ").append(what);
  return out;
}

}  // namespace

// --- 1. API keys -----------------------------------------------------------------------------

TEST_CASE("usage: a method that requires an API key wants an enabled key of a plan on its stage",
          "[usage]") {
  auto deployment = keyed_api();
  gatehouse::Stage prod("prod", deployment), beta("beta", deployment);
  gatehouse::UsagePlan gold({.name = "gold"}), silver({.name = "silver"});
  gold.attach(prod);
  silver.attach(beta);
  test::running_gateway gw;
  auto port = gw.serve_plain(prod);
  gw.serve_plain(beta);
  auto& keys = gw.gateway().api_keys();
  auto good = keys.create({.name = "good", .usage_plan_ids = {gold.id()}});
  auto other = keys.create({.name = "other", .usage_plan_ids = {silver.id()}});
  auto loose = keys.create({.name = "loose"});  // in no plan
  REQUIRE(good.value);
  REQUIRE(other.value);
  REQUIRE(loose.value);
  client c(port);

  // A method without api_key_required needs nothing.
  CHECK(c.call("/prod/open") == "200 - open");

  // No key at all.
  auto r = c.get("/prod/a");
  CHECK(summary(r) == forbidden);
  CHECK(r.headers.get("Content-Type") == "application/json");
  CHECK_FALSE(r.headers.contains("Retry-After"));
  // An empty one.
  c.raw().send("GET /prod/a HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: \r\n\r\n");
  auto empty = c.raw().read_reply();
  REQUIRE(empty);
  CHECK(summary(*empty) == forbidden);
  // An unknown one.
  CHECK(c.call("/prod/a", "Unknown0Key0Of0Forty0Characters000000000") == forbidden);

  // A good one, under any spelling of the header name.
  CHECK(c.call("/prod/a", *good.value) == "200 - a");
  CHECK(summary(c.get("/prod/b", *good.value, "X-API-Key")) == "200 - b");
  CHECK(summary(c.get("/prod/a", *good.value, "X-Api-Key")) == "200 - a");
  // A key in another header is no key.
  CHECK(summary(c.get("/prod/a", *good.value, "x-api-keys")) == forbidden);

  // A key whose plan is on another stage only.
  CHECK(c.call("/prod/a", *other.value) == forbidden);
  CHECK(c.call("/beta/a", *other.value) == "200 - a");
  CHECK(c.call("/beta/a", *good.value) == forbidden);

  // A key in no plan; then in the stage's plan; then out of it again.
  CHECK(c.call("/prod/a", *loose.value) == forbidden);
  keys.add_to_plan(loose.id, gold);
  CHECK(c.call("/prod/a", *loose.value) == "200 - a");
  CHECK(keys.remove_from_plan(loose.id, gold));
  CHECK(c.call("/prod/a", *loose.value) == forbidden);

  // Disabled, then enabled again.
  REQUIRE(keys.disable(good.id));
  CHECK(keys.get(good.id).value().enabled == false);
  CHECK(c.call("/prod/a", *good.value) == forbidden);
  REQUIRE(keys.enable(good.id));
  CHECK(c.call("/prod/a", *good.value) == "200 - a");

  // Deleted.
  REQUIRE(keys.remove(good.id));
  CHECK_FALSE(keys.remove(good.id));
  CHECK_FALSE(keys.get(good.id));
  CHECK(c.call("/prod/a", *good.value) == forbidden);
  CHECK(c.call("/prod/open", *good.value) == "200 - open");  // a key a method ignores
  CHECK(c.call("/beta/a", *other.value) == "200 - a");       // the others still work
}

// --- 2. Throttling ---------------------------------------------------------------------------

TEST_CASE("usage: the account throttle covers every method of every stage", "[usage][throttle]") {
  test::running_gateway gw(with_account_throttle(throttle_settings{1, 3}));
  auto port = gw.serve_plain(gatehouse::Stage("prod", open_api()));
  gw.serve_plain(gatehouse::Stage("beta", open_api()));
  client c(port), d(port);

  CHECK(c.call("/prod/a") == "200 - a");
  CHECK(d.call("/beta/b") == "200 - b");
  auto third = c.get("/prod/b");
  CHECK(summary(third) == "200 - b");
  CHECK_FALSE(third.headers.contains("Retry-After"));
  auto r = d.get("/prod/a");  // a fourth request, on another connection
  CHECK(summary(r) == throttled);
  CHECK(r.headers.get("Content-Type") == "application/json");
  CHECK(r.headers.get("Retry-After") == "1");  // rate 1: a token is back within a second
  CHECK(c.call("/beta/a") == throttled);
}

TEST_CASE("usage: the stage's default throttle gives each method its own bucket",
          "[usage][throttle]") {
  gatehouse::Stage prod("prod", open_api());
  prod.throttle(throttle_settings{glacial, 2});
  test::running_gateway gw;
  client c(gw.serve_plain(prod));

  CHECK(c.calls(2, "/prod/a") == times(2, "200 - a"));
  auto r = c.get("/prod/a");
  CHECK(summary(r) == throttled);
  // 1 token at 0.001 a second: 1000 s, less the little time the test has taken.
  CHECK(retry_after(r) >= 990);
  CHECK(retry_after(r) <= 1000);
  // GET /b has its own bucket, full.
  CHECK(c.calls(3, "/prod/b") == times(2, "200 - b") + times(1, throttled));
  CHECK(c.call("/prod/a") == throttled);
}

TEST_CASE("usage: a method setting replaces the stage's default for that method only",
          "[usage][throttle]") {
  // prod: default burst 1, GET /a burst 3. beta: no default, GET /a burst 1.
  gatehouse::Stage prod("prod", open_api()), beta("beta", open_api());
  prod.throttle(throttle_settings{glacial, 1});
  prod.method("GET /a", {.throttle = throttle_settings{glacial, 3}});
  beta.method("GET /a", {.throttle = throttle_settings{glacial, 1}});
  CHECK_THROWS_AS(prod.method("GET /nowhere", {.throttle = throttle_settings{1, 1}}),
                  gatehouse::config_error);
  CHECK_THROWS_AS(prod.method("GET /a", {.throttle = throttle_settings{-1, 1}}),
                  gatehouse::config_error);
  test::running_gateway gw;
  auto port = gw.serve_plain(prod);
  gw.serve_plain(beta);
  client c(port);

  CHECK(c.calls(4, "/prod/a") == times(3, "200 - a") + times(1, throttled));
  CHECK(c.calls(2, "/prod/b") == times(1, "200 - b") + times(1, throttled));
  // Another stage's GET /a has its own bucket; GET /b there has no limit but the account's.
  CHECK(c.calls(2, "/beta/a") == times(1, "200 - a") + times(1, throttled));
  CHECK(c.calls(6, "/beta/b") == times(6, "200 - b"));
}

TEST_CASE("usage: a usage plan's throttle is per API key, across the plan's stages",
          "[usage][throttle]") {
  auto deployment = keyed_api();
  gatehouse::Stage prod("prod", deployment), beta("beta", deployment);
  gatehouse::UsagePlan plan({.name = "p", .throttle = throttle_settings{glacial, 2}});
  plan.attach(prod).attach(beta);
  test::running_gateway gw;
  auto port = gw.serve_plain(prod);
  gw.serve_plain(beta);
  auto& keys = gw.gateway().api_keys();
  auto a = *keys.create({.name = "a", .usage_plan_ids = {plan.id()}}).value;
  auto b = *keys.create({.name = "b", .usage_plan_ids = {plan.id()}}).value;
  client c(port), d(port);

  // Key a: one request on each stage spends its burst of 2.
  CHECK(c.call("/prod/a", a) == "200 - a");
  CHECK(d.call("/beta/b", a) == "200 - b");
  auto r = c.get("/prod/b", a);
  CHECK(summary(r) == throttled);
  CHECK(retry_after(r) >= 990);
  CHECK(retry_after(r) <= 1000);
  CHECK(d.call("/beta/a", a) == throttled);
  // Key b has a bucket of its own.
  CHECK(c.calls(3, "/beta/a", b) == times(2, "200 - a") + times(1, throttled));
  // A method that needs no key is not held by the plan.
  CHECK(c.calls(3, "/prod/open", a) == times(3, "200 - open"));
}

TEST_CASE("usage: a plan's per-method throttle applies on top of the plan's throttle",
          "[usage][throttle]") {
  gatehouse::Stage prod("prod", keyed_api());
  gatehouse::UsagePlan plan({.name = "p", .throttle = throttle_settings{glacial, 3}});
  CHECK_THROWS_AS(plan.attach(prod, {{"GET /nowhere", throttle_settings{1, 1}}}),
                  gatehouse::config_error);
  CHECK_THROWS_AS(plan.attach(prod, {{"GET /a", throttle_settings{1, -1}}}),
                  gatehouse::config_error);
  plan.attach(prod, {{"GET /a", throttle_settings{glacial, 1}}});
  test::running_gateway gw;
  auto port = gw.serve_plain(prod);
  auto& keys = gw.gateway().api_keys();
  auto a = *keys.create({.name = "a", .usage_plan_ids = {plan.id()}}).value;
  auto b = *keys.create({.name = "b", .usage_plan_ids = {plan.id()}}).value;
  client c(port);

  CHECK(c.calls(2, "/prod/a", a) == times(1, "200 - a") + times(1, throttled));
  // GET /b has only the plan's limit: 3, of which GET /a took 1.
  CHECK(c.calls(3, "/prod/b", a) == times(2, "200 - b") + times(1, throttled));
  // The per-method bucket is per key too.
  CHECK(c.calls(2, "/prod/a", b) == times(1, "200 - a") + times(1, throttled));
  CHECK(c.calls(3, "/prod/b", b) == times(2, "200 - b") + times(1, throttled));
}

TEST_CASE("usage: a request refused at one level takes no token from another",
          "[usage][throttle]") {
  SECTION("refused by the stage's method throttle, after the plan's bucket") {
    gatehouse::Stage prod("prod", keyed_api());
    prod.method("GET /a", {.throttle = throttle_settings{glacial, 1}});
    gatehouse::UsagePlan plan({.name = "p", .throttle = throttle_settings{glacial, 3}});
    plan.attach(prod);
    test::running_gateway gw;
    client c(gw.serve_plain(prod));
    auto key = *gw.gateway().api_keys().create({.name = "k", .usage_plan_ids = {plan.id()}}).value;

    CHECK(c.calls(5, "/prod/a", key) == times(1, "200 - a") + times(4, throttled));
    // Had the 4 refusals taken the plan's tokens, GET /b would be refused at once.
    CHECK(c.calls(3, "/prod/b", key) == times(2, "200 - b") + times(1, throttled));
  }

  SECTION("refused by the account throttle, observed through a shared store") {
    // Two gateways share one store: the first has an account limit of 2, the second none.
    auto store = gatehouse::make_memory_store();
    gatehouse::Stage prod("prod", keyed_api());
    gatehouse::UsagePlan plan({.name = "p", .throttle = throttle_settings{glacial, 5}});
    plan.attach(prod);
    test::running_gateway tight(with_account_throttle(throttle_settings{glacial, 2}, store));
    client c(tight.serve_plain(prod));
    auto key =
        *tight.gateway().api_keys().create({.name = "k", .usage_plan_ids = {plan.id()}}).value;
    CHECK(c.calls(5, "/prod/a", key) == times(2, "200 - a") + times(3, throttled));

    // The second gateway finds the key in the store; the plan's bucket has 5 - 2 tokens left.
    test::running_gateway loose(with_account_throttle(std::nullopt, store));
    client d(loose.serve_plain(prod));
    CHECK(d.calls(4, "/prod/a", key) == times(3, "200 - a") + times(1, throttled));
  }

  SECTION("refused by the quota, after every bucket") {
    gatehouse::Stage prod("prod", keyed_api());
    gatehouse::UsagePlan plan({.name = "p", .quota = quota_settings{1, quota_period::day}});
    plan.attach(prod);
    keep_off_midnight();
    test::running_gateway gw(with_account_throttle(throttle_settings{glacial, 4}));
    client c(gw.serve_plain(prod));
    auto key = *gw.gateway().api_keys().create({.name = "k", .usage_plan_ids = {plan.id()}}).value;

    CHECK(c.calls(5, "/prod/a", key) == times(1, "200 - a") + times(4, limit_exceeded));
    // The account's bucket lost only the admitted request's token.
    CHECK(c.calls(4, "/prod/open") == times(3, "200 - open") + times(1, throttled));
  }
}

// --- 3. Quotas -------------------------------------------------------------------------------

TEST_CASE("usage: a daily quota admits its limit, then 429 Limit Exceeded until UTC midnight",
          "[usage]") {
  keep_off_midnight();
  gatehouse::Stage prod("prod", keyed_api());
  gatehouse::UsagePlan plan({.name = "p", .quota = quota_settings{5, quota_period::day}});
  plan.attach(prod);
  test::running_gateway gw;
  auto port = gw.serve_plain(prod);
  auto& keys = gw.gateway().api_keys();
  auto a = keys.create({.name = "a", .usage_plan_ids = {plan.id()}});
  auto b = keys.create({.name = "b", .usage_plan_ids = {plan.id()}});
  client c(port);

  // Across methods: the quota is per key.
  CHECK(c.calls(3, "/prod/a", *a.value) == times(3, "200 - a"));
  CHECK(c.calls(2, "/prod/b", *a.value) == times(2, "200 - b"));
  auto r = c.get("/prod/a", *a.value);
  const double expected = seconds_to_utc_midnight();
  CHECK(summary(r) == limit_exceeded);
  CHECK(r.headers.get("Content-Type") == "application/json");
  INFO("Retry-After: " << r.headers.get("Retry-After").value_or("<none>") << ", expected about "
                       << expected);
  CHECK(std::abs(static_cast<double>(retry_after(r)) - expected) <= 5);
  CHECK(c.calls(2, "/prod/b", *a.value) == times(2, limit_exceeded));
  // Another key has its own quota.
  CHECK(c.calls(6, "/prod/a", *b.value) == times(5, "200 - a") + times(1, limit_exceeded));

  // Refused requests are not counted.
  auto report = keys.usage(plan, today(), today());
  CHECK(days_of(report, a.id) == std::vector<std::string>{"5/0"});
  CHECK(days_of(report, b.id) == std::vector<std::string>{"5/0"});
}

TEST_CASE("usage: a quota's offset shortens the plan's first period", "[usage]") {
  keep_off_midnight();
  gatehouse::Stage prod("prod", keyed_api());
  gatehouse::UsagePlan plan({.name = "p", .quota = quota_settings{10, quota_period::day, 4}});
  plan.attach(prod);
  CHECK_THROWS_AS(gatehouse::UsagePlan({.quota = quota_settings{3, quota_period::day, 4}}),
                  gatehouse::config_error);
  test::running_gateway gw;
  client c(gw.serve_plain(prod));
  auto key = gw.gateway().api_keys().create({.name = "k", .usage_plan_ids = {plan.id()}});

  CHECK(c.calls(8, "/prod/a", *key.value) == times(6, "200 - a") + times(2, limit_exceeded));
  auto report = gw.gateway().api_keys().usage(plan, today(), today());
  CHECK(days_of(report, key.id) == std::vector<std::string>{"6/0"});
}

TEST_CASE("usage: a quota is exact under concurrent requests", "[usage][threads]") {
  keep_off_midnight();
  const int gateway_threads = GENERATE(2, 4);
  CAPTURE(gateway_threads);
  gatehouse::Stage prod("prod", keyed_api());
  gatehouse::UsagePlan plan({.name = "p", .quota = quota_settings{200, quota_period::day}});
  plan.attach(prod);
  test::running_gateway gw({}, gateway_threads);
  auto port = gw.serve_plain(prod);
  auto key = gw.gateway().api_keys().create({.name = "k", .usage_plan_ids = {plan.id()}});

  // 8 connections × 60 requests: no other answer, and none missing.
  CHECK(hammer(port, request("/prod/a", *key.value), 8, 60) ==
        "200 × 200 - a; 280 × " + limit_exceeded);
  auto report = gw.gateway().api_keys().usage(plan, today(), today());
  CHECK(days_of(report, key.id) == std::vector<std::string>{"200/0"});
}

TEST_CASE("usage: a plan's throttle is exact under concurrent requests",
          "[usage][throttle][threads]") {
  keep_off_midnight();
  gatehouse::Stage prod("prod", keyed_api());
  SECTION("throttle alone") {
    gatehouse::UsagePlan plan({.name = "p", .throttle = throttle_settings{glacial, 150}});
    plan.attach(prod);
    test::running_gateway gw({}, 4);
    auto port = gw.serve_plain(prod);
    auto key = gw.gateway().api_keys().create({.name = "k", .usage_plan_ids = {plan.id()}});
    CHECK(hammer(port, request("/prod/a", *key.value), 8, 60) ==
          "150 × 200 - a; 330 × " + throttled);
  }
  SECTION("throttle and quota: a request over the quota gives its token back") {
    // Burst 300 and quota 200: were the tokens of the 280 refused requests kept, the last 180
    // would be throttled instead.
    gatehouse::UsagePlan plan({.name = "p",
                               .throttle = throttle_settings{glacial, 300},
                               .quota = quota_settings{200, quota_period::day}});
    plan.attach(prod);
    test::running_gateway gw({}, 4);
    auto port = gw.serve_plain(prod);
    auto key = gw.gateway().api_keys().create({.name = "k", .usage_plan_ids = {plan.id()}});
    CHECK(hammer(port, request("/prod/a", *key.value), 8, 60) ==
          "200 × 200 - a; 280 × " + limit_exceeded);
    // 100 tokens are left.
    client c(port);
    CHECK(c.calls(2, "/prod/b", *key.value) == times(2, limit_exceeded));
  }
}

// --- 4. Usage reports ------------------------------------------------------------------------

TEST_CASE("usage: the usage report counts admitted requests per key and day", "[usage]") {
  keep_off_midnight();
  auto deployment = keyed_api();
  gatehouse::Stage prod("prod", deployment), beta("beta", deployment);
  gatehouse::UsagePlan plan({.name = "p",
                             .throttle = throttle_settings{glacial, 4},
                             .quota = quota_settings{100, quota_period::day}});
  gatehouse::UsagePlan free({.name = "free"});  // no quota: nothing remains to count down
  plan.attach(prod);
  free.attach(beta);
  test::running_gateway gw;
  auto port = gw.serve_plain(prod);
  gw.serve_plain(beta);
  auto& keys = gw.gateway().api_keys();
  auto a = keys.create({.name = "a", .usage_plan_ids = {plan.id()}});
  auto b = keys.create({.name = "b", .usage_plan_ids = {plan.id(), free.id()}});
  client c(port);

  // a: 4 admitted, 2 throttled. b: 2 admitted on prod, 3 under the free plan on beta, and 3 on a
  // method that needs no key.
  CHECK(c.calls(6, "/prod/a", *a.value) == times(4, "200 - a") + times(2, throttled));
  CHECK(c.calls(2, "/prod/b", *b.value) == times(2, "200 - b"));
  CHECK(c.calls(3, "/beta/b", *b.value) == times(3, "200 - b"));
  CHECK(c.calls(3, "/prod/open", *b.value) == times(3, "200 - open"));

  const auto to = today();
  const auto from = std::chrono::year_month_day{std::chrono::sys_days{to} - std::chrono::days{2}};
  auto report = keys.usage(plan, to, to);
  CHECK(report.usage_plan_id == plan.id());
  CHECK(report.start == to);
  CHECK(report.end == to);
  CHECK(days_of(report, a.id) == std::vector<std::string>{"4/96"});
  CHECK(days_of(report, b.id) == std::vector<std::string>{"2/98"});

  // Three days: the earlier two saw nothing.
  report = keys.usage(plan, from, to);
  CHECK(days_of(report, a.id) == std::vector<std::string>{"0/100", "0/100", "4/96"});
  CHECK(days_of(report, b.id) == std::vector<std::string>{"0/100", "0/100", "2/98"});

  // One key only.
  report = keys.usage(plan, from, to, b.id);
  CHECK(report.items.size() == 1);
  CHECK(days_of(report, b.id) == std::vector<std::string>{"0/100", "0/100", "2/98"});

  // The free plan counts b's use there apart, with nothing remaining to report.
  auto free_report = keys.usage(free, to, to);
  CHECK(free_report.items.size() == 1);
  CHECK(days_of(free_report, b.id) == std::vector<std::string>{"3/null"});

  // As AWS's GetUsage JSON.
  rapidjson::Document doc;
  const std::string json = keys.usage(plan, from, to).to_json();
  INFO(json);
  doc.Parse(json.data(), json.size());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  CHECK(doc["usagePlanId"].GetString() == plan.id());
  char from_text[16], to_text[16];
  std::snprintf(from_text, sizeof from_text, "%04d-%02u-%02u", static_cast<int>(from.year()),
                static_cast<unsigned>(from.month()), static_cast<unsigned>(from.day()));
  std::snprintf(to_text, sizeof to_text, "%04d-%02u-%02u", static_cast<int>(to.year()),
                static_cast<unsigned>(to.month()), static_cast<unsigned>(to.day()));
  CHECK(std::string(doc["startDate"].GetString()) == from_text);
  CHECK(std::string(doc["endDate"].GetString()) == to_text);
  REQUIRE(doc["values"].IsObject());
  CHECK(doc["values"].MemberCount() == 2);
  REQUIRE(doc["values"].HasMember(a.id.c_str()));
  const auto& days = doc["values"][a.id.c_str()];
  REQUIRE(days.IsArray());
  REQUIRE(days.Size() == 3);
  CHECK(days[0][0].GetInt64() == 0);
  CHECK(days[0][1].GetInt64() == 100);
  CHECK(days[2][0].GetInt64() == 4);
  CHECK(days[2][1].GetInt64() == 96);

  const std::string free_json = free_report.to_json();
  INFO(free_json);
  doc.Parse(free_json.data(), free_json.size());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc["values"].HasMember(b.id.c_str()));
  CHECK(doc["values"][b.id.c_str()][0][0].GetInt64() == 3);
  CHECK(doc["values"][b.id.c_str()][0][1].IsNull());

  // A range that ends before it starts.
  CHECK_THROWS_AS(keys.usage(plan, to, from), gatehouse::config_error);
}

// --- 5. The key in the proxy event -----------------------------------------------------------

TEST_CASE("usage: a function integration sees the API key and its id", "[usage]") {
  std::atomic<int> calls{0};
  auto handler = [&](const gatehouse::proxy_event& ev) {
    ++calls;
    gatehouse::proxy_result r;
    r.headers.add("X-Seen-Key-Id", std::string(ev.context().api_key_id));
    r.body = ev.to_json();
    return r;
  };
  gatehouse::Router api;
  api.route("GET", "/whoami", gatehouse::function(handler), {.api_key_required = true});
  api.route("GET", "/anyone", gatehouse::function(handler));
  gatehouse::Stage prod("prod", api.deploy());
  gatehouse::UsagePlan plan({.name = "p"});
  plan.attach(prod);
  test::running_gateway gw;
  client c(gw.serve_plain(prod));
  auto key = gw.gateway().api_keys().create({.name = "k", .usage_plan_ids = {plan.id()}});

  auto r = c.get("/prod/whoami", *key.value);
  REQUIRE(r.status == 200);
  CHECK(r.headers.get("X-Seen-Key-Id") == key.id);
  rapidjson::Document doc;
  doc.Parse(r.body.data(), r.body.size());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.HasMember("requestContext"));
  const auto& identity = doc["requestContext"]["identity"];
  REQUIRE(identity.IsObject());
  REQUIRE(identity["apiKey"].IsString());
  CHECK(identity["apiKey"].GetString() == *key.value);
  REQUIRE(identity["apiKeyId"].IsString());
  CHECK(identity["apiKeyId"].GetString() == key.id);

  // A method that needs no key reports none, even when the request carries one.
  r = c.get("/prod/anyone", *key.value);
  REQUIRE(r.status == 200);
  doc.Parse(r.body.data(), r.body.size());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(doc["requestContext"]["identity"]["apiKey"].IsNull());
  CHECK(doc["requestContext"]["identity"]["apiKeyId"].IsNull());

  // A refused request never reaches the function.
  CHECK(calls == 2);
  CHECK(c.call("/prod/whoami") == forbidden);
  CHECK(calls == 2);
}

// --- 6. CSV import ---------------------------------------------------------------------------

TEST_CASE("usage: keys imported from CSV work at once; a bad file imports nothing", "[usage]") {
  auto deployment = keyed_api();
  gatehouse::Stage prod("prod", deployment), beta("beta", deployment);
  gatehouse::UsagePlan gold({.name = "gold"}), silver({.name = "silver"});
  gold.attach(prod);
  silver.attach(beta);
  test::running_gateway gw;
  auto port = gw.serve_plain(prod);
  gw.serve_plain(beta);
  auto& keys = gw.gateway().api_keys();
  client c(port);

  const std::string v1 = "CsvKeyOne0123456789012345678901";  // 31 characters
  auto ids =
      keys.import_csv("name,key,enabled,usageplanIds\nk1," + v1 + ",true," + gold.id() + "\n");
  REQUIRE(ids.size() == 1);
  auto k1 = keys.get(ids[0]);
  REQUIRE(k1);
  CHECK(k1->name == "k1");
  CHECK(k1->enabled);
  CHECK(k1->usage_plan_ids == std::vector<std::string>{gold.id()});
  CHECK_FALSE(k1->value);
  CHECK(c.call("/prod/a", v1) == "200 - a");
  CHECK(c.call("/beta/a", v1) == forbidden);

  // Columns in any order and case; two plans in one quoted field; a disabled key.
  const std::string v2 = "CsvKeyTwo0123456789012345678901";
  const std::string v3 = "CsvKeyThree012345678901234567890";
  ids = keys.import_csv("Key,NAME,UsagePlanIds,Enabled,Description\r\n" + v2 + ",k2,\"" +
                        gold.id() + "," + silver.id() + "\",,two plans\r\n" + v3 + ",k3," +
                        gold.id() + ",false,off\r\n");
  REQUIRE(ids.size() == 2);
  CHECK(c.call("/prod/a", v2) == "200 - a");
  CHECK(c.call("/beta/b", v2) == "200 - b");
  CHECK(c.call("/prod/a", v3) == forbidden);

  // Importing a value again updates its key.
  ids = keys.import_csv("name,key,enabled,usageplanIds\nk1 again," + v1 + ",false," + gold.id() +
                        "\n");
  REQUIRE(ids.size() == 1);
  CHECK(ids[0] == k1->id);
  CHECK(keys.get(k1->id).value().name == "k1 again");
  CHECK(c.call("/prod/a", v1) == forbidden);
  const auto count = keys.list().size();
  CHECK(count == 3);

  // One bad row (line 3: a key too short) spoils the file.
  const std::string v4 = "CsvKeyFour01234567890123456789012";
  const std::string v5 = "CsvKeyFive01234567890123456789012";
  auto row = [](std::string_view name, std::string_view key, const std::string& rest) {
    return std::string(name) + "," + std::string(key) + "," + rest + "\n";
  };
  const std::string bad = "name,key,enabled,usageplanIds\n" + row("g1", v4, "true," + gold.id()) +
                          row("g2", "Short0123456789", "true," + gold.id()) +
                          row("g3", v5, "true," + gold.id());
  std::string message;
  try {
    keys.import_csv(bad);
  } catch (const gatehouse::config_error& e) {
    message = e.what();
  }
  INFO(message);
  CHECK(message.find("line 3") != std::string::npos);
  CHECK(message.find("line 2") == std::string::npos);
  CHECK(message.find("line 4") == std::string::npos);
  CHECK(c.call("/prod/a", v4) == forbidden);
  CHECK(c.call("/prod/a", v5) == forbidden);
  CHECK(keys.list().size() == count);

  // A row naming a plan on no stage of this gateway: line 2 here.
  message.clear();
  try {
    keys.import_csv("name,key,usageplanids\ng4," + v4 + ",nosuchplan\ng5," + v5 + "," + gold.id() +
                    "\n");
  } catch (const gatehouse::config_error& e) {
    message = e.what();
  }
  INFO(message);
  CHECK(message.find("line 2") != std::string::npos);
  CHECK(message.find("nosuchplan") != std::string::npos);
  CHECK(message.find("line 3") == std::string::npos);
  CHECK(c.call("/prod/a", v5) == forbidden);
  CHECK(keys.list().size() == count);
}
