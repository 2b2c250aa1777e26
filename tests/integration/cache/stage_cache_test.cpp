// The stage cache end to end (AWS's stage cache): a real gateway on loopback, raw HTTP/1.1
// requests over keep-alive connections, and function integrations that count their calls.
// Keys, TTLs, what is never kept, coalescing of concurrent misses, invalidation with
// Cache-Control: max-age=0, flushing, encryption, and the cache's place after the API key
// check and the throttle.

#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <rapidjson/document.h>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using gatehouse::cache_control_strategy;
using gatehouse::cache_settings;
using gatehouse::method_options;
using gatehouse::method_setting;
using gatehouse::proxy_event;
using gatehouse::proxy_result;

using header_list = std::vector<std::pair<std::string, std::string>>;

std::string request(std::string_view method, std::string_view target,
                    const header_list& headers = {}, std::string_view body = {}) {
  std::string r(method);
  r.append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  for (const auto& [name, value] : headers)
    r.append(name).append(": ").append(value).append("\r\n");
  if (method != "GET" || !body.empty())
    r.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  return r.append("\r\n").append(body);
}

// "200 call 1", "500 oops": status and body at once; "<no reply>" when none came.
std::string summary(const test::reply& r) {
  if (r.status == 0) return "<no reply>";
  return std::to_string(r.status) + " " + r.body;
}

// The x-cache header of a reply, "-" without one.
std::string x_cache(const test::reply& r) {
  return std::string(r.headers.get("x-cache").value_or("-"));
}

// One keep-alive connection to the gateway.
class client {
 public:
  explicit client(unsigned short port) : raw_(port, 5s) {}

  test::reply send(std::string_view method, std::string_view target,
                   const header_list& headers = {}, std::string_view body = {}) {
    raw_.send(request(method, target, headers, body));
    auto r = raw_.read_reply();
    return r ? std::move(*r) : test::reply{};
  }
  test::reply get(std::string_view target, const header_list& headers = {}) {
    return send("GET", target, headers);
  }
  std::string call(std::string_view target, const header_list& headers = {}) {
    return summary(get(target, headers));
  }

 private:
  test::raw_client raw_;
};

// A function integration that counts its calls; `make` builds the answer to call number n.
using maker = std::function<proxy_result(const proxy_event&, int n)>;
gatehouse::integration counting(std::atomic<int>& calls, maker make = {}) {
  return gatehouse::function([&calls, make = std::move(make)](const proxy_event& ev) {
    int n = calls.fetch_add(1) + 1;
    if (make) return make(ev, n);
    return proxy_result{.body = "call " + std::to_string(n)};
  });
}

// A coroutine integration that counts its calls and holds each open for `hold` on a timer;
// answers `status` with "<stage> call n".
gatehouse::integration slow_counting(std::atomic<int>& calls, std::chrono::milliseconds hold,
                                     int status = 200) {
  return gatehouse::function(
      [&calls, hold, status](const proxy_event& ev) -> asio::awaitable<proxy_result> {
        int n = calls.fetch_add(1) + 1;
        std::string stage(ev.context().stage);  // the event is not to be used after a co_await
        asio::steady_timer timer(co_await asio::this_coro::executor, hold);
        co_await timer.async_wait(asio::use_awaitable);
        co_return proxy_result{.status_code = status, .body = stage + " call " + std::to_string(n)};
      });
}

gatehouse::Stage cached_stage(std::string name, const gatehouse::Deployment& deployment,
                              cache_settings settings = {}) {
  gatehouse::Stage s(std::move(name), deployment);
  s.cache(std::move(settings));
  return s;
}

// A method's cache statistics as "hits/misses"; "<none>" when the stage does not list it.
std::string stats(const gatehouse::Stage& stage, std::string_view method) {
  for (const auto& m : stage.cache_statistics())
    if (m.method == method) return std::to_string(m.hits) + "/" + std::to_string(m.misses);
  return "<none>";
}

// `n` connections, each on its own thread, send `req` at the same moment (connections are open
// before anyone sends). Replies in connection order; status 0 for none within the timeout.
std::vector<test::reply> all_at_once(unsigned short port, const std::vector<std::string>& reqs) {
  const auto n = reqs.size();
  std::vector<std::unique_ptr<test::raw_client>> connections;
  for (std::size_t i = 0; i < n; ++i)
    connections.push_back(std::make_unique<test::raw_client>(port, 5s));
  std::vector<test::reply> replies(n);
  std::latch start(static_cast<std::ptrdiff_t>(n));
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      connections[i]->send(reqs[i]);
      if (auto r = connections[i]->read_reply()) replies[i] = std::move(*r);
    });
  for (auto& t : threads) t.join();
  return replies;
}

// How often each summary came, as "n × summary" joined by "; ".
std::string tally(const std::vector<test::reply>& replies,
                  const std::function<std::string(const test::reply&)>& what = summary) {
  std::map<std::string, int> counts;
  for (const auto& r : replies) ++counts[what(r)];
  std::string out;
  for (const auto& [w, n] : counts)
    out.append(out.empty() ? "" : "; ").append(std::to_string(n)).append(" × ").append(w);
  return out;
}

constexpr std::size_t one_mb = 1'048'576;

}  // namespace

// --- 1. Hits ---------------------------------------------------------------------------------

TEST_CASE("cache: identical GETs within the TTL call the integration once", "[cache]") {
  std::atomic<int> calls{0};
  gatehouse::Router api;
  api.route("GET", "/items", counting(calls, [](const proxy_event&, int n) {
              proxy_result r{.status_code = 201, .body = "call " + std::to_string(n)};
              r.headers.add("Content-Type", "text/plain");
              r.headers.add("X-Custom", "kept");
              return r;
            }));
  auto prod = cached_stage("prod", api.deploy(), {.ttl = 300s, .hit_header = true});
  test::running_gateway gw;
  auto port = gw.serve_plain(prod);
  client c(port);

  std::vector<std::string> answers, cache_headers, request_ids;
  for (int i = 0; i < 20; ++i) {
    auto r = c.get("/prod/items");
    answers.push_back(summary(r));
    cache_headers.push_back(x_cache(r));
    CHECK(r.headers.get("X-Custom") == "kept");  // the whole response is kept, not just the body
    CHECK(r.headers.get("Content-Type") == "text/plain");
    auto ids = r.headers.get_all("x-amzn-RequestId");
    CHECK(ids.size() == 1);  // each answer its own request id, never the stored one as well
    if (!ids.empty()) request_ids.emplace_back(ids.front());
  }
  CHECK(calls == 1);
  CHECK(answers == std::vector<std::string>(20, "201 call 1"));
  std::vector<std::string> expected_headers(20, "Hit");
  expected_headers[0] = "Miss";
  CHECK(cache_headers == expected_headers);
  std::sort(request_ids.begin(), request_ids.end());
  CHECK(std::unique(request_ids.begin(), request_ids.end()) == request_ids.end());
  CHECK(stats(prod, "GET /items") == "19/1");

  // Another connection finds the same entry.
  client d(port);
  CHECK(d.call("/prod/items") == "201 call 1");
  CHECK(calls == 1);
  CHECK(stats(prod, "GET /items") == "20/1");
}

TEST_CASE("cache: without hit_header no x-cache header is added", "[cache]") {
  std::atomic<int> calls{0};
  gatehouse::Router api;
  api.route("GET", "/items", counting(calls));
  auto prod = cached_stage("prod", api.deploy());
  test::running_gateway gw;
  client c(gw.serve_plain(prod));
  auto first = c.get("/prod/items");
  auto second = c.get("/prod/items");
  CHECK(summary(first) == "200 call 1");
  CHECK(summary(second) == "200 call 1");
  CHECK_FALSE(first.headers.contains("x-cache"));
  CHECK_FALSE(second.headers.contains("x-cache"));
  CHECK(calls == 1);
}

// --- 2. Expiry -------------------------------------------------------------------------------

TEST_CASE("cache: an entry expires after the method's TTL", "[cache]") {
  std::atomic<int> calls{0}, other_calls{0};
  gatehouse::Router api;
  api.route("GET", "/items", counting(calls));
  api.route("GET", "/other", counting(other_calls));
  auto prod = cached_stage("prod", api.deploy(), {.ttl = 300s});
  prod.method("GET /items", method_setting{.cache_ttl = 1s});
  test::running_gateway gw;
  client c(gw.serve_plain(prod));

  CHECK(c.call("/prod/items") == "200 call 1");
  CHECK(c.call("/prod/other") == "200 call 1");
  CHECK(c.call("/prod/items") == "200 call 1");
  std::this_thread::sleep_for(1100ms);
  CHECK(c.call("/prod/items") == "200 call 2");  // expired: a new call
  CHECK(c.call("/prod/items") == "200 call 2");  // and kept again
  CHECK(calls == 2);
  CHECK(c.call("/prod/other") == "200 call 1");  // the stage's 300 s still holds for the others
  CHECK(other_calls == 1);
}

// --- 3. Keys ---------------------------------------------------------------------------------

TEST_CASE("cache: query string cache key parameters split entries, other parameters do not",
          "[cache]") {
  std::atomic<int> calls{0};
  gatehouse::Router api;
  api.route("GET", "/items",
            counting(calls,
                     [](const proxy_event& ev, int n) {
                       return proxy_result{.body = "type=" + ev.query("type").value_or("<none>") +
                                                   " call " + std::to_string(n)};
                     }),
            method_options{.cache_key_parameters = {"method.request.querystring.type"}});
  auto prod = cached_stage("prod", api.deploy());
  test::running_gateway gw;
  client c(gw.serve_plain(prod));

  CHECK(c.call("/prod/items?type=a") == "200 type=a call 1");
  CHECK(c.call("/prod/items?type=b") == "200 type=b call 2");
  CHECK(calls == 2);
  // Unselected parameters share the entry of the selected ones (AWS).
  CHECK(c.call("/prod/items?type=a&page=2") == "200 type=a call 1");
  CHECK(c.call("/prod/items?page=7&type=b") == "200 type=b call 2");
  CHECK(c.call("/prod/items?type=a") == "200 type=a call 1");
  CHECK(calls == 2);
  // Absent and empty are two more keys.
  CHECK(c.call("/prod/items") == "200 type=<none> call 3");
  CHECK(c.call("/prod/items?page=2") == "200 type=<none> call 3");
  CHECK(c.call("/prod/items?type=") == "200 type= call 4");
  // The key is the decoded value.
  CHECK(c.call("/prod/items?type=x%20y") == "200 type=x y call 5");
  CHECK(c.call("/prod/items?type=x+y") == "200 type=x y call 5");
  CHECK(calls == 5);
  // So is the name; empty parts and a name without '=' are skipped.
  CHECK(c.call("/prod/items?t%79pe=a") == "200 type=a call 1");
  CHECK(c.call("/prod/items?&&type=b&") == "200 type=b call 2");
  CHECK(c.call("/prod/items?typ&type=a&types=c") == "200 type=a call 1");
  CHECK(calls == 5);
}

TEST_CASE("cache: a repeated query parameter keys on the value the integration sees", "[cache]") {
  // The REST proxy event carries a repeated parameter's last value (queryStringParameters);
  // an entry filled for ?type=a&type=b was made for type=b and must not answer ?type=a.
  std::atomic<int> calls{0};
  gatehouse::Router api;
  api.route("GET", "/items",
            counting(calls,
                     [](const proxy_event& ev, int n) {
                       return proxy_result{.body = "type=" + ev.query("type").value_or("<none>") +
                                                   " call " + std::to_string(n)};
                     }),
            method_options{.cache_key_parameters = {"method.request.querystring.type"}});
  auto prod = cached_stage("prod", api.deploy());
  test::running_gateway gw;
  client c(gw.serve_plain(prod));

  CHECK(c.call("/prod/items?type=a&type=b") == "200 type=b call 1");
  // Whatever the entry, each answer is one made for the request's own type.
  auto without_call = [](std::string s) { return s.substr(0, s.rfind(" call ")); };
  CHECK(without_call(c.call("/prod/items?type=a")) == "200 type=a");
  CHECK(without_call(c.call("/prod/items?type=b")) == "200 type=b");
  CHECK(without_call(c.call("/prod/items?type=b&type=a")) == "200 type=a");
}

TEST_CASE("cache: a repeated header keys on the value the proxy event carries", "[cache]") {
  // The REST proxy event's `headers` carries a repeated header's last value; an entry filled
  // for X-Tenant: a, X-Tenant: b was made for tenant b and must not answer X-Tenant: a.
  std::atomic<int> calls{0};
  gatehouse::Router api;
  api.route(
      "GET", "/tenant",
      counting(calls,
               [](const proxy_event& ev, int n) {
                 rapidjson::Document event;
                 event.Parse(ev.to_json().c_str());
                 std::string tenant = "<none>";
                 if (!event.HasParseError() && event.HasMember("headers") &&
                     event["headers"].IsObject() && event["headers"].HasMember("X-Tenant"))
                   tenant = event["headers"]["X-Tenant"].GetString();
                 return proxy_result{.body = "tenant=" + tenant + " call " + std::to_string(n)};
               }),
      method_options{.cache_key_parameters = {"method.request.header.X-Tenant"}});
  auto prod = cached_stage("prod", api.deploy());
  test::running_gateway gw;
  client c(gw.serve_plain(prod));

  CHECK(c.call("/prod/tenant", {{"X-Tenant", "a"}, {"X-Tenant", "b"}}) == "200 tenant=b call 1");
  auto without_call = [](std::string s) { return s.substr(0, s.rfind(" call ")); };
  CHECK(without_call(c.call("/prod/tenant", {{"X-Tenant", "a"}})) == "200 tenant=a");
  CHECK(without_call(c.call("/prod/tenant", {{"X-Tenant", "b"}})) == "200 tenant=b");
}

TEST_CASE("cache: header and path cache key parameters split entries", "[cache]") {
  std::atomic<int> tenant_calls{0}, item_calls{0}, thing_calls{0};
  gatehouse::Router api;
  api.route(
      "GET", "/tenant",
      counting(tenant_calls,
               [](const proxy_event& ev, int n) {
                 return proxy_result{
                     .body = "tenant=" + std::string(ev.header("X-Tenant").value_or("<none>")) +
                             " call " + std::to_string(n)};
               }),
      method_options{.cache_key_parameters = {"method.request.header.X-Tenant"}});
  api.route("GET", "/items/{id}",
            counting(item_calls,
                     [](const proxy_event& ev, int n) {
                       return proxy_result{.body = "id=" + std::string(*ev.path_parameter("id")) +
                                                   " call " + std::to_string(n)};
                     }),
            method_options{.cache_key_parameters = {"method.request.path.id"}});
  // No key parameter: every id shares one entry, as AWS.
  api.route("GET", "/things/{id}", counting(thing_calls, [](const proxy_event& ev, int n) {
              return proxy_result{.body = "id=" + std::string(*ev.path_parameter("id")) + " call " +
                                          std::to_string(n)};
            }));
  auto prod = cached_stage("prod", api.deploy());
  test::running_gateway gw;
  client c(gw.serve_plain(prod));

  CHECK(c.call("/prod/tenant", {{"X-Tenant", "a"}}) == "200 tenant=a call 1");
  CHECK(c.call("/prod/tenant", {{"X-Tenant", "b"}}) == "200 tenant=b call 2");
  CHECK(c.call("/prod/tenant", {{"x-tenant", "a"}}) == "200 tenant=a call 1");  // any spelling
  CHECK(c.call("/prod/tenant", {{"X-Tenant", "b"}, {"X-Other", "1"}}) == "200 tenant=b call 2");
  CHECK(c.call("/prod/tenant") == "200 tenant=<none> call 3");
  CHECK(c.call("/prod/tenant", {{"X-Tenant", "a"}}) == "200 tenant=a call 1");
  CHECK(tenant_calls == 3);

  CHECK(c.call("/prod/items/1") == "200 id=1 call 1");
  CHECK(c.call("/prod/items/2") == "200 id=2 call 2");
  CHECK(c.call("/prod/items/1") == "200 id=1 call 1");
  CHECK(c.call("/prod/items/1?x=y") == "200 id=1 call 1");
  CHECK(item_calls == 2);

  CHECK(c.call("/prod/things/1") == "200 id=1 call 1");
  CHECK(c.call("/prod/things/2") == "200 id=1 call 1");
  CHECK(thing_calls == 1);
}

TEST_CASE("cache: two stages of one API never share entries", "[cache]") {
  std::atomic<int> calls{0};
  gatehouse::Router api;
  api.route(
      "GET", "/items", counting(calls, [](const proxy_event& ev, int n) {
        return proxy_result{.body = std::string(ev.context().stage) + " call " + std::to_string(n)};
      }));
  auto deployment = api.deploy();
  auto prod = cached_stage("prod", deployment);
  auto beta = cached_stage("beta", deployment);
  test::running_gateway gw;
  auto port = gw.serve_plain(prod);
  gw.serve_plain(beta);
  client c(port);

  CHECK(c.call("/prod/items") == "200 prod call 1");
  CHECK(c.call("/beta/items") == "200 beta call 2");
  CHECK(c.call("/prod/items") == "200 prod call 1");
  CHECK(c.call("/beta/items") == "200 beta call 2");
  CHECK(calls == 2);
  CHECK(stats(prod, "GET /items") == "1/1");
  CHECK(stats(beta, "GET /items") == "1/1");
}

// --- 4. What is not cached -------------------------------------------------------------------

TEST_CASE("cache: only GET by default; a method setting turns caching on or off", "[cache]") {
  std::atomic<int> post_calls{0}, order_calls{0}, off_calls{0}, zero_calls{0};
  gatehouse::Router api;
  api.route("POST", "/items", counting(post_calls));
  api.route("POST", "/orders", counting(order_calls));
  api.route("GET", "/off", counting(off_calls));
  api.route("GET", "/zero", counting(zero_calls));
  auto prod = cached_stage("prod", api.deploy(), {.hit_header = true});
  prod.method("POST /orders", method_setting{.caching = true});
  prod.method("GET /off", method_setting{.caching = false});
  prod.method("GET /zero", method_setting{.cache_ttl = 0s});
  test::running_gateway gw;
  client c(gw.serve_plain(prod));

  auto p1 = c.send("POST", "/prod/items", {}, "x");
  auto p2 = c.send("POST", "/prod/items", {}, "x");
  CHECK(summary(p1) == "200 call 1");
  CHECK(summary(p2) == "200 call 2");
  CHECK_FALSE(p2.headers.contains("x-cache"));  // not a cached method at all
  CHECK(post_calls == 2);

  auto o1 = c.send("POST", "/prod/orders", {}, "x");
  auto o2 = c.send("POST", "/prod/orders", {}, "x");
  CHECK(summary(o1) == "200 call 1");
  CHECK(summary(o2) == "200 call 1");
  CHECK(x_cache(o1) == "Miss");
  CHECK(x_cache(o2) == "Hit");
  CHECK(order_calls == 1);

  auto g1 = c.get("/prod/off");
  auto g2 = c.get("/prod/off");
  CHECK(summary(g1) == "200 call 1");
  CHECK(summary(g2) == "200 call 2");
  CHECK_FALSE(g2.headers.contains("x-cache"));
  CHECK(off_calls == 2);

  CHECK(c.call("/prod/zero") == "200 call 1");
  CHECK(c.call("/prod/zero") == "200 call 2");
  CHECK(zero_calls == 2);
}

TEST_CASE("cache: errors, cookies, no-store, private and bodies over 1 MB are not kept",
          "[cache]") {
  // Each route answers one kind of response; every route is called twice.
  struct kind {
    std::string path;
    std::function<proxy_result()> answer;
    bool kept;
  };
  auto with_header = [](std::string name, std::string value) {
    return [name, value] {
      proxy_result r{.body = "body"};
      r.headers.add(name, value);
      return r;
    };
  };
  const std::vector<kind> kinds = {
      {"/ok", [] { return proxy_result{.body = "ok"}; }, true},
      {"/created", [] { return proxy_result{.status_code = 201, .body = "created"}; }, true},
      {"/e500", [] { return proxy_result{.status_code = 500, .body = "oops"}; }, false},
      {"/e404", [] { return proxy_result{.status_code = 404, .body = "nothing"}; }, false},
      {"/e400", [] { return proxy_result{.status_code = 400, .body = "bad"}; }, false},
      {"/r302",
       [] {
         proxy_result r{.status_code = 302};
         r.headers.add("Location", "/elsewhere");
         return r;
       },
       false},
      {"/cookie-header", with_header("Set-Cookie", "session=1"), false},
      {"/cookie-header-lower", with_header("set-cookie", "session=1"), false},
      {"/cookie-field", [] { return proxy_result{.cookies = {"session=1"}, .body = "body"}; },
       false},
      {"/no-store", with_header("Cache-Control", "no-store"), false},
      {"/no-store-listed", with_header("Cache-Control", "public, max-age=60, No-Store"), false},
      {"/private", with_header("Cache-Control", "private"), false},
      {"/private-field", with_header("Cache-Control", "private=\"X-Secret\""), false},
      {"/public", with_header("Cache-Control", "public, max-age=60"), true},
      {"/exactly-1mb", [] { return proxy_result{.body = std::string(one_mb, 'x')}; }, true},
      {"/over-1mb", [] { return proxy_result{.body = std::string(one_mb + 1, 'x')}; }, false},
  };
  std::map<std::string, std::atomic<int>> calls;
  for (const auto& k : kinds) calls[k.path] = 0;
  gatehouse::Router api;
  for (const auto& k : kinds) {
    auto& counter = calls[k.path];
    auto answer = k.answer;
    api.route("GET", k.path,
              counting(counter, [answer](const proxy_event&, int) { return answer(); }));
  }
  auto prod = cached_stage("prod", api.deploy(), {.hit_header = true});
  test::running_gateway gw;
  client c(gw.serve_plain(prod));

  for (const auto& k : kinds) {
    INFO(k.path);
    auto first = c.get("/prod" + k.path);
    auto second = c.get("/prod" + k.path);
    auto expected = k.answer();
    CHECK(first.status == expected.status_code);
    CHECK(second.status == expected.status_code);
    CHECK(second.body.size() == expected.body.size());
    CHECK(x_cache(first) == "Miss");
    CHECK(x_cache(second) == (k.kept ? "Hit" : "Miss"));
    CHECK(calls[k.path] == (k.kept ? 1 : 2));
  }
}

// --- 5. Coalescing ---------------------------------------------------------------------------

TEST_CASE("cache: concurrent misses for one key make one integration call", "[cache][threads]") {
  std::atomic<int> calls{0};
  gatehouse::Router api;
  api.route("GET", "/items", slow_counting(calls, 200ms));
  auto prod = cached_stage("prod", api.deploy(), {.hit_header = true});
  test::running_gateway gw({}, 4);
  auto port = gw.serve_plain(prod);

  auto replies = all_at_once(port, std::vector<std::string>(50, test::get("/prod/items")));
  CHECK(calls == 1);
  CHECK(tally(replies) == "50 × 200 prod call 1");
  CHECK(tally(replies, x_cache) == "49 × Hit; 1 × Miss");
  CHECK(stats(prod, "GET /items") == "49/1");
  client c(port);
  CHECK(c.call("/prod/items") == "200 prod call 1");
  CHECK(calls == 1);
}

TEST_CASE("cache: concurrent misses for different keys are not coalesced", "[cache][threads]") {
  std::atomic<int> calls{0};
  gatehouse::Router api;
  api.route("GET", "/items", slow_counting(calls, 100ms),
            method_options{.cache_key_parameters = {"method.request.querystring.type"}});
  auto prod = cached_stage("prod", api.deploy());
  test::running_gateway gw({}, 4);
  auto port = gw.serve_plain(prod);

  std::vector<std::string> reqs;
  for (int i = 0; i < 20; ++i)
    reqs.push_back(test::get(i % 2 ? "/prod/items?type=b" : "/prod/items?type=a"));
  auto replies = all_at_once(port, reqs);
  CHECK(calls == 2);
  std::vector<std::string> a, b;
  for (std::size_t i = 0; i < replies.size(); ++i) (i % 2 ? b : a).push_back(summary(replies[i]));
  // Each key's ten answers are one response, and the two keys' responses differ.
  CHECK(std::count(a.begin(), a.end(), a.front()) == 10);
  CHECK(std::count(b.begin(), b.end(), b.front()) == 10);
  CHECK(a.front() != b.front());
}

TEST_CASE("cache: concurrent misses on two stages are not coalesced", "[cache][threads]") {
  std::atomic<int> calls{0};
  gatehouse::Router api, other_api;
  api.route("GET", "/items", slow_counting(calls, 200ms));
  other_api.route("GET", "/items", slow_counting(calls, 200ms));
  auto deployment = api.deploy();
  std::optional<gatehouse::Stage> prod, beta;
  SECTION("of one API") {
    prod = cached_stage("prod", deployment);
    beta = cached_stage("beta", deployment);
  }
  SECTION("of two APIs with the same resource") {
    prod = cached_stage("prod", deployment);
    beta = cached_stage("beta", other_api.deploy());
  }
  test::running_gateway gw({}, 4);
  auto port = gw.serve_plain(*prod);
  gw.serve_plain(*beta);

  std::vector<std::string> reqs;
  for (int i = 0; i < 20; ++i) reqs.push_back(test::get(i % 2 ? "/beta/items" : "/prod/items"));
  auto replies = all_at_once(port, reqs);
  std::vector<test::reply> on_prod, on_beta;
  for (std::size_t i = 0; i < replies.size(); ++i)
    (i % 2 ? on_beta : on_prod).push_back(replies[i]);
  // Every answer comes from its own stage's integration call.
  auto stage_of = [](const test::reply& r) {
    return std::to_string(r.status) + " " + r.body.substr(0, r.body.find(' '));
  };
  CHECK(tally(on_prod, stage_of) == "10 × 200 prod");
  CHECK(tally(on_beta, stage_of) == "10 × 200 beta");
  CHECK(calls == 2);
}

TEST_CASE("cache: when the leading miss has nothing to keep, every waiter is still answered",
          "[cache][threads]") {
  std::atomic<int> calls{0};
  gatehouse::Router api;
  api.route("GET", "/fails", slow_counting(calls, 150ms, 500));
  api.route("GET", "/throws", gatehouse::function([&calls](const proxy_event&) -> proxy_result {
              calls.fetch_add(1);
              std::this_thread::sleep_for(100ms);  // holds the miss open; then the call fails
              throw std::runtime_error("boom");
            }));
  auto prod = cached_stage("prod", api.deploy());
  test::running_gateway gw({}, 4);
  auto port = gw.serve_plain(prod);

  SECTION("a 500 from the integration") {
    auto started = std::chrono::steady_clock::now();
    auto replies = all_at_once(port, std::vector<std::string>(50, test::get("/prod/fails")));
    auto took = std::chrono::steady_clock::now() - started;
    // Nothing was kept, so each request called the integration itself.
    CHECK(calls == 50);
    std::size_t answered = 0;
    for (const auto& r : replies)
      if (r.status == 500 && r.body.starts_with("prod call ")) ++answered;
    CHECK(answered == 50);
    CHECK(took < 3s);
  }
  SECTION("a handler that throws (502)") {
    auto replies = all_at_once(port, std::vector<std::string>(8, test::get("/prod/throws")));
    CHECK(calls == 8);
    std::size_t answered = 0;
    for (const auto& r : replies)
      if (r.status == 502) ++answered;
    CHECK(answered == 8);
  }
}

// --- 6. Invalidation -------------------------------------------------------------------------

TEST_CASE("cache: Cache-Control max-age=0 invalidates when no authorization is required",
          "[cache]") {
  std::atomic<int> calls{0};
  gatehouse::Router api;
  api.route("GET", "/items",
            counting(calls, [](const proxy_event&,
                               int n) { return proxy_result{.body = "n=" + std::to_string(n)}; }),
            method_options{.cache_key_parameters = {"method.request.querystring.type"}});
  auto prod =
      cached_stage("prod", api.deploy(), {.require_authorization = false, .hit_header = true});
  test::running_gateway gw;
  client c(gw.serve_plain(prod));
  const header_list invalidate = {{"Cache-Control", "max-age=0"}};

  CHECK(c.call("/prod/items") == "200 n=1");
  CHECK(c.call("/prod/items?type=b") == "200 n=2");
  CHECK(c.call("/prod/items") == "200 n=1");
  auto r = c.get("/prod/items", invalidate);
  CHECK(summary(r) == "200 n=3");  // straight to the integration
  CHECK(x_cache(r) == "Miss");
  CHECK_FALSE(r.headers.contains("Warning"));
  auto later = c.get("/prod/items");
  CHECK(summary(later) == "200 n=3");  // the entry was replaced
  CHECK(x_cache(later) == "Hit");
  CHECK(c.call("/prod/items?type=b") == "200 n=2");  // other keys keep theirs
  // The directive among others, any spelling of the header name.
  CHECK(c.call("/prod/items", {{"cache-control", "no-cache, MAX-AGE=0"}}) == "200 n=4");
  CHECK(c.call("/prod/items") == "200 n=4");
  // Other max-ages are no invalidation.
  CHECK(c.call("/prod/items", {{"Cache-Control", "max-age=10"}}) == "200 n=4");
  CHECK(calls == 4);
}

TEST_CASE("cache: invalidation needs permission when authorization is required", "[cache]") {
  struct seen_call {
    std::string stage, method, resource;
    bool admin;
  };
  std::mutex mutex;
  std::vector<seen_call> seen;
  std::atomic<int> calls{0};
  gatehouse::Router api;
  api.route("GET", "/items/{id}",
            counting(calls,
                     [](const proxy_event& ev, int n) {
                       return proxy_result{.body = std::string(*ev.path_parameter("id")) +
                                                   " n=" + std::to_string(n)};
                     }),
            method_options{.cache_key_parameters = {"method.request.path.id"}});
  auto make_settings = [&](cache_control_strategy strategy) {
    return cache_settings{.require_authorization = true,
                          .authorize_invalidation =
                              [&](const gatehouse::cache_invalidation& inv) {
                                bool admin = inv.req.headers.get("X-Admin") == "yes";
                                std::lock_guard lock(mutex);
                                seen.push_back({std::string(inv.stage), std::string(inv.method),
                                                std::string(inv.resource_path), admin});
                                return admin;
                              },
                          .unauthorized = strategy,
                          .hit_header = true};
  };
  const header_list invalidate = {{"Cache-Control", "max-age=0"}};
  const header_list admin_invalidate = {{"Cache-Control", "max-age=0"}, {"X-Admin", "yes"}};
  const header_list not_admin_invalidate = {{"Cache-Control", "max-age=0"}, {"X-Admin", "no"}};

  SECTION("fail_with_403") {
    auto prod =
        cached_stage("prod", api.deploy(), make_settings(cache_control_strategy::fail_with_403));
    test::running_gateway gw;
    client c(gw.serve_plain(prod));
    CHECK(c.call("/prod/items/1") == "200 1 n=1");
    auto refused = c.get("/prod/items/1", invalidate);
    CHECK(refused.status == 403);
    CHECK(refused.body == R"({"Message":"User is not authorized to access this resource"})");
    CHECK(refused.headers.get("x-amzn-ErrorType") == "AccessDeniedException");
    CHECK(summary(c.get("/prod/items/1", not_admin_invalidate)) == "403 " + refused.body);
    CHECK(calls == 1);  // no call for a refused invalidation
    // Refused also when nothing is cached for the key yet.
    CHECK(c.get("/prod/items/2", invalidate).status == 403);
    CHECK(calls == 1);
    // The admin may.
    CHECK(c.call("/prod/items/1", admin_invalidate) == "200 1 n=2");
    CHECK(c.call("/prod/items/1") == "200 1 n=2");
    CHECK(calls == 2);
    // The callback was asked once per request that asked to invalidate, with the route.
    std::lock_guard lock(mutex);
    REQUIRE(seen.size() == 4);
    for (const auto& s : seen) {
      CHECK(s.stage == "prod");
      CHECK(s.method == "GET");
      CHECK(s.resource == "/items/{id}");
    }
    CHECK(seen[3].admin);
  }
  SECTION("ignore_with_warning") {
    auto prod = cached_stage("prod", api.deploy(),
                             make_settings(cache_control_strategy::ignore_with_warning));
    test::running_gateway gw;
    client c(gw.serve_plain(prod));
    CHECK(c.call("/prod/items/1") == "200 1 n=1");
    auto refused = c.get("/prod/items/1", invalidate);
    CHECK(summary(refused) == "200 1 n=1");  // served from the cache
    CHECK(x_cache(refused) == "Hit");
    auto warning = refused.headers.get("Warning");
    REQUIRE(warning);
    CHECK(warning->find("Cache-control headers were ignored") != std::string_view::npos);
    CHECK(calls == 1);
    // A plain request gets no Warning.
    auto plain = c.get("/prod/items/1");
    CHECK(summary(plain) == "200 1 n=1");
    CHECK_FALSE(plain.headers.contains("Warning"));
    // A refused invalidation on a miss is served by the integration, with the Warning.
    auto miss = c.get("/prod/items/2", not_admin_invalidate);
    CHECK(summary(miss) == "200 2 n=2");
    CHECK(miss.headers.contains("Warning"));
    auto kept = c.get("/prod/items/2");
    CHECK(summary(kept) == "200 2 n=2");
    CHECK_FALSE(kept.headers.contains("Warning"));  // the Warning is not kept with the entry
    // The admin may.
    auto allowed = c.get("/prod/items/1", admin_invalidate);
    CHECK(summary(allowed) == "200 1 n=3");
    CHECK_FALSE(allowed.headers.contains("Warning"));
    CHECK(c.call("/prod/items/1") == "200 1 n=3");
    CHECK(calls == 3);
  }
  SECTION("ignore") {
    auto prod = cached_stage("prod", api.deploy(), make_settings(cache_control_strategy::ignore));
    test::running_gateway gw;
    client c(gw.serve_plain(prod));
    CHECK(c.call("/prod/items/1") == "200 1 n=1");
    auto refused = c.get("/prod/items/1", invalidate);
    CHECK(summary(refused) == "200 1 n=1");
    CHECK(x_cache(refused) == "Hit");
    CHECK_FALSE(refused.headers.contains("Warning"));
    CHECK(calls == 1);
    CHECK(c.call("/prod/items/1", admin_invalidate) == "200 1 n=2");
    CHECK(c.call("/prod/items/1") == "200 1 n=2");
    CHECK(calls == 2);
  }
}

TEST_CASE("cache: with authorization required and no callback nobody may invalidate", "[cache]") {
  std::atomic<int> calls{0};
  gatehouse::Router api;
  api.route("GET", "/items", counting(calls));
  auto prod = cached_stage("prod", api.deploy());  // defaults: required, ignore_with_warning
  test::running_gateway gw;
  client c(gw.serve_plain(prod));
  CHECK(c.call("/prod/items") == "200 call 1");
  auto r = c.get("/prod/items", {{"Cache-Control", "max-age=0"}, {"X-Admin", "yes"}});
  CHECK(summary(r) == "200 call 1");
  CHECK(r.headers.get("Warning").value_or("").find("Cache-control headers were ignored") !=
        std::string_view::npos);
  CHECK(calls == 1);
}

// --- 7. Flush --------------------------------------------------------------------------------

TEST_CASE("cache: flush_cache empties one stage's cache only", "[cache]") {
  std::atomic<int> calls{0};
  gatehouse::Router api;
  api.route(
      "GET", "/items", counting(calls, [](const proxy_event& ev, int n) {
        return proxy_result{.body = std::string(ev.context().stage) + " call " + std::to_string(n)};
      }));
  auto deployment = api.deploy();
  auto prod = cached_stage("prod", deployment);
  auto beta = cached_stage("beta", deployment);
  test::running_gateway gw;
  auto port = gw.serve_plain(prod);
  gw.serve_plain(beta);
  client c(port);

  CHECK(c.call("/prod/items") == "200 prod call 1");
  CHECK(c.call("/beta/items") == "200 beta call 2");
  gw.gateway().flush_cache(prod);
  CHECK(c.call("/prod/items") == "200 prod call 3");
  CHECK(c.call("/prod/items") == "200 prod call 3");
  CHECK(c.call("/beta/items") == "200 beta call 2");
  CHECK(calls == 3);
  gw.gateway().flush_cache(beta);
  CHECK(c.call("/beta/items") == "200 beta call 4");
  CHECK(c.call("/prod/items") == "200 prod call 3");
  CHECK(calls == 4);
}

// --- 8. Encryption ---------------------------------------------------------------------------

TEST_CASE("cache: an encrypted cache answers hits as a plain one", "[cache]") {
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  std::atomic<int> calls{0}, plain_calls{0};
  gatehouse::Router api;
  api.route("GET", "/items", counting(calls, [binary](const proxy_event&, int n) {
              proxy_result r{.body = binary + " call " + std::to_string(n)};
              r.headers.add("Content-Type", "application/octet-stream");
              r.headers.add("X-Custom", "kept");
              return r;
            }));
  api.route("GET", "/plain", counting(plain_calls));
  auto deployment = api.deploy();

  auto check_hits = [&](gatehouse::Stage stage) {
    calls = 0;
    plain_calls = 0;
    test::running_gateway gw;
    client c(gw.serve_plain(stage));
    for (int i = 0; i < 5; ++i) {
      auto r = c.get("/" + stage.name() + "/items");
      CHECK(r.status == 200);
      CHECK(r.body == binary + " call 1");
      CHECK(r.headers.get("X-Custom") == "kept");
      CHECK(r.headers.get("Content-Type") == "application/octet-stream");
      CHECK(x_cache(r) == (i == 0 ? "Miss" : "Hit"));
    }
    CHECK(c.call("/" + stage.name() + "/plain") == "200 call 1");
    CHECK(c.call("/" + stage.name() + "/plain") == "200 call 1");
    CHECK(calls == 1);
    CHECK(plain_calls == 1);
  };

  SECTION("the stage's cache encrypted, with a random key") {
    check_hits(cached_stage("prod", deployment, {.encrypted = true, .hit_header = true}));
  }
  SECTION("with a given key") {
    std::array<std::uint8_t, 32> key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 7 + 1);
    check_hits(cached_stage("prod", deployment,
                            {.encrypted = true, .encryption_key = key, .hit_header = true}));
  }
  SECTION("one method encrypted by a method setting") {
    auto s = cached_stage("prod", deployment, {.hit_header = true});
    s.method("GET /items", method_setting{.cache_encrypted = true});
    check_hits(s);
  }
  SECTION("one method left plain in an encrypted cache") {
    auto s = cached_stage("prod", deployment, {.encrypted = true, .hit_header = true});
    s.method("GET /items", method_setting{.cache_encrypted = false});
    check_hits(s);
  }
}

// --- 9. Before the cache: API keys and throttling ---------------------------------------------

TEST_CASE("cache: a cached method still wants its API key", "[cache]") {
  std::atomic<int> calls{0};
  gatehouse::Router api;
  api.route("GET", "/items", counting(calls), method_options{.api_key_required = true});
  auto prod = cached_stage("prod", api.deploy(), {.hit_header = true});
  gatehouse::UsagePlan gold({.name = "gold"});
  gold.attach(prod);
  test::running_gateway gw;
  client c(gw.serve_plain(prod));
  auto key = gw.gateway().api_keys().create({.name = "k", .usage_plan_ids = {gold.id()}});
  REQUIRE(key.value);

  CHECK(c.call("/prod/items", {{"x-api-key", *key.value}}) == "200 call 1");
  CHECK(c.call("/prod/items", {{"x-api-key", *key.value}}) == "200 call 1");
  auto without = c.get("/prod/items");
  CHECK(summary(without) == R"(403 {"message":"Forbidden"})");
  CHECK_FALSE(without.headers.contains("x-cache"));
  CHECK(c.call("/prod/items", {{"x-api-key", "Unknown0Key0Of0Forty0Characters000000000"}}) ==
        R"(403 {"message":"Forbidden"})");
  CHECK(calls == 1);
  CHECK(stats(prod, "GET /items") == "1/1");
}

TEST_CASE("cache: a throttled request gets 429 even when its entry is cached", "[cache]") {
  std::atomic<int> calls{0};
  gatehouse::Router api;
  api.route("GET", "/items", counting(calls));
  auto prod = cached_stage("prod", api.deploy(), {.hit_header = true});
  gatehouse::gateway_options options;
  options.throttle = gatehouse::throttle_settings{0.001, 2};
  test::running_gateway gw(options);
  client c(gw.serve_plain(prod));

  CHECK(c.call("/prod/items") == "200 call 1");
  CHECK(c.call("/prod/items") == "200 call 1");
  auto r = c.get("/prod/items");
  CHECK(summary(r) == R"(429 {"message":"Too Many Requests"})");
  CHECK_FALSE(r.headers.contains("x-cache"));
  CHECK(calls == 1);
  CHECK(stats(prod, "GET /items") == "1/1");
}
