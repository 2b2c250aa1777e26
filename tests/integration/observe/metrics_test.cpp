// AWS's metrics end to end: a gateway on loopback with a REST API, an HTTP API and a WebSocket
// API gets a known mix of requests (2xx, 4xx, 5xx, cache hits and misses, throttled 429s,
// unauthorized 401s, unknown routes and stages, WebSocket connects and messages) from raw
// clients; every metric must equal what the test sent. The exposition its metrics listener
// serves is read with curl and checked by promtool, the OpenMetrics parser of
// python3-prometheus-client and a search for duplicate series.

#include "backend.hpp"
#include "exposition_checks.hpp"
#include "harness.hpp"
#include "ws_client.hpp"

#include <gatehouse/gatehouse.hpp>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace gatehouse;
using namespace std::chrono_literals;

namespace {

proxy_result answer(int status, std::string body = {}) {
  proxy_result r;
  r.status_code = status;
  r.body = std::move(body);
  return r;
}

Stage rest_stage(const std::string& backend) {
  Router api({.name = "shop", .id = "shop000001"});
  api.route("GET", "/ok", function([](const proxy_event&) { return answer(200, "ok"); }));
  api.route("GET", "/missing", function([](const proxy_event&) { return answer(404, "no"); }));
  api.route("GET", "/boom", function([](const proxy_event&) { return answer(500, "boom"); }));
  api.route("GET", "/slow", function([](const proxy_event&) {
              std::this_thread::sleep_for(120ms);  // past the 100 ms bucket
              return answer(200, "slow");
            }));
  api.route("GET", "/cached", function([](const proxy_event&) { return answer(200, "c"); }));
  api.route("GET", "/limited", function([](const proxy_event&) { return answer(200, "l"); }));
  Authorizer token({.name = "token"},
                   [](const authorizer_request&) { return authorizer_result::allow("someone"); });
  api.route("GET", "/private", function([](const proxy_event&) { return answer(200, "p"); }),
            {.authorizer = token});
  api.route("GET", "/proxy", http_proxy("http://" + backend + "/echo"));
  Stage prod("prod", api.deploy());
  // A cache that keeps nothing but GET /cached (the stage's TTL is 0).
  prod.cache(cache_settings{.ttl = 0s});
  prod.method("GET /cached", {.cache_ttl = 300s, .metrics_enabled = true});
  prod.method("GET /ok", {.metrics_enabled = true});
  prod.method("GET /limited", {.throttle = throttle_settings{0, 1}});  // one request, then 429
  return prod;
}

Stage http_stage() {
  Router api({.name = "orders", .id = "orders0001", .type = api_type::http});
  api.route("POST", "/orders",
            function([](const proxy_event&) { return answer(201, R"({"ok":true})"); }));
  api.route("GET", "/fail", function([](const proxy_event&) { return answer(500, "x"); }));
  Stage v2("v2", api.deploy());
  v2.metrics_enabled(true);  // AWS's detailedMetricsEnabled for every route
  return v2;
}

WebSocketStage websocket_stage() {
  WebSocketApi chat({.name = "chat", .id = "chat000001"});
  chat.route("$connect", websocket_handler([](const websocket_event& ev) {
               return answer(ev.query("deny") ? 403 : 200);
             }));
  chat.route("echo", websocket_handler([](const websocket_event& ev) {
               return answer(200, std::string(ev.body));
             }),
             {.two_way = true});
  chat.route("boom", websocket_handler([](const websocket_event&) -> proxy_result {
               throw std::runtime_error("boom");
             }));
  chat.route("bad", websocket_handler([](const websocket_event&) { return answer(500); }));
  return WebSocketStage("ws", chat, {.metrics_enabled = true});
}

std::string get(std::string_view target, std::string_view headers = {}) {
  return std::string("GET ") + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         std::string(headers) + "\r\n";
}

int status_of(unsigned short port, const std::string& raw, std::size_t* body_size = nullptr) {
  auto r = test::roundtrip(port, raw);
  REQUIRE(r);
  if (body_size) *body_size = r->body.size();
  return r->status;
}

std::string line_of(std::string_view name, std::string_view labels, std::uint64_t value) {
  return fmt::format("\n{}{{{}}} {}\n", name, labels, value);
}

}  // namespace

TEST_CASE("after a known mix of requests every metric equals what was sent [threads]",
          "[threads]") {
  test::backend backend;
  test::running_gateway rg({}, 2);
  auto& gw = rg.gateway();
  gw.mount(rest_stage(backend.address()));
  gw.mount(http_stage());
  auto ws = websocket_stage();
  gw.mount(ws);
  const auto port = gw.listen("127.0.0.1:0", plain_http).port();
  const auto metrics_port = gw.listen_metrics("127.0.0.1:0").port();

  // Before any request the stages' series exist, at 0.
  {
    const auto s = gw.metrics();
    REQUIRE(s.find("prod"));
    CHECK(s.find("prod")->count == 0);
    REQUIRE(s.find("prod", "GET /ok"));
    REQUIRE(s.find("v2", "POST /orders"));
    REQUIRE(s.find("ws", "echo"));
    CHECK(s.find("prod", "GET /boom") == nullptr);  // no detailed metrics there
  }

  // REST.
  for (int i = 0; i < 3; ++i) CHECK(status_of(port, get("/prod/ok")) == 200);
  for (int i = 0; i < 2; ++i) CHECK(status_of(port, get("/prod/missing")) == 404);
  CHECK(status_of(port, get("/prod/boom")) == 500);
  CHECK(status_of(port, get("/prod/slow")) == 200);
  for (int i = 0; i < 4; ++i) CHECK(status_of(port, get("/prod/cached")) == 200);
  CHECK(status_of(port, get("/prod/limited")) == 200);
  for (int i = 0; i < 2; ++i) CHECK(status_of(port, get("/prod/limited")) == 429);
  for (int i = 0; i < 2; ++i) CHECK(status_of(port, get("/prod/private")) == 401);
  CHECK(status_of(port, get("/prod/proxy")) == 200);
  CHECK(status_of(port, get("/prod/nothing")) == 403);
  CHECK(status_of(port, get("/elsewhere/x")) == 403);  // no such stage

  // HTTP API: DataProcessed counts request and response bodies.
  std::uint64_t data = 0;
  std::size_t body = 0;
  const std::string order =
      "POST /v2/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nabcde";
  for (int i = 0; i < 2; ++i) {
    CHECK(status_of(port, order, &body) == 201);
    data += 5 + body;
  }
  CHECK(status_of(port, get("/v2/fail"), &body) == 500);
  data += body;
  CHECK(status_of(port, get("/v2/nope"), &body) == 404);
  data += body;

  // WebSocket: three connects (one refused by $connect), a handshake the gateway refuses, and
  // messages each way.
  test::ws_client c1(port, {.path = "/ws"}), c2(port, {.path = "/ws"});
  REQUIRE(c1.upgraded());
  REQUIRE(c2.upgraded());
  {
    test::ws_client denied(port, {.path = "/ws?deny=1"});
    CHECK(denied.status() == 403);
  }
  {
    auto r = test::roundtrip(port,
                             "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\n\r\n");  // no key, no version
    REQUIRE(r);
    CHECK(r->status == 426);  // Upgrade Required: no Sec-WebSocket-Version
  }
  {
    // Refused by the server before any API: a malformed head (400) and headers too large
    // (431). Neither is a request of an API.
    auto bad = test::roundtrip(port, "GET /prod/x HTTP/1.1\r\nHost: x\r\nNo colon\r\n\r\n");
    REQUIRE(bad);
    CHECK(bad->status == 400);
    auto big = test::roundtrip(port, "GET /prod/x HTTP/1.1\r\nHost: x\r\nX-Big: " +
                                         std::string(64 * 1024, 'b') + "\r\n\r\n");
    REQUIRE(big);
    CHECK(big->status == 431);
  }
  for (int i = 0; i < 3; ++i) {
    c1.text(R"({"action":"echo"})");
    CHECK(c1.next().payload == R"({"action":"echo"})");
  }
  c1.text(R"({"action":"bad"})");   // its integration answers 500: nothing comes back
  c1.text(R"({"action":"boom"})");  // its integration throws: an error message comes back
  CHECK(c1.next().payload.find("Internal server error") != std::string::npos);
  c1.text(R"({"action":"nope"})");  // no such route and no $default
  CHECK(c1.next().payload.find("Forbidden") != std::string::npos);
  for (const auto& id : ws.connections().ids())
    CHECK(ws.connections().post(id, "hi") == post_status::ok);
  CHECK(c1.next().payload == "hi");
  CHECK(c2.next().payload == "hi");

  const auto s = gw.metrics();
  const auto* prod = s.find("prod");
  REQUIRE(prod);
  CHECK(prod->type == metrics_api_type::rest);
  CHECK(prod->api_name == "shop");
  CHECK(prod->api_id == "shop000001");
  CHECK(prod->count == 18);
  CHECK(prod->errors_4xx == 7);  // 2 × 404, 2 × 429, 2 × 401, 1 × 403
  CHECK(prod->errors_5xx == 1);
  CHECK(prod->cache_hits == 3);
  CHECK(prod->cache_misses == 1);
  CHECK(prod->latency.count == 18);
  CHECK(prod->latency.sum_ms >= 120);
  // Integrations ran for 3 ok, 2 missing, boom, slow, the cache's miss, the admitted
  // /limited and the proxy.
  CHECK(prod->integration_latency.count == 10);
  std::uint64_t over_100ms = 0;
  for (std::size_t i = 7; i < prod->integration_latency.buckets.size(); ++i)
    over_100ms += prod->integration_latency.buckets[i];
  CHECK(over_100ms == 1);  // /slow
  const auto* ok = s.find("prod", "GET /ok");
  REQUIRE(ok);
  CHECK(ok->method == "GET");
  CHECK(ok->resource == "/ok");
  CHECK(ok->count == 3);
  CHECK(ok->errors_4xx == 0);
  CHECK(ok->integration_latency.count == 3);
  const auto* cached = s.find("prod", "GET /cached");
  REQUIRE(cached);
  CHECK(cached->count == 4);
  CHECK(cached->cache_hits == 3);
  CHECK(cached->cache_misses == 1);
  CHECK(cached->integration_latency.count == 1);
  CHECK(s.find("prod", "GET /limited") == nullptr);

  const auto* v2 = s.find("v2");
  REQUIRE(v2);
  CHECK(v2->type == metrics_api_type::http);
  CHECK(v2->count == 4);
  CHECK(v2->errors_4xx == 1);
  CHECK(v2->errors_5xx == 1);
  CHECK(v2->data_processed == data);
  CHECK(v2->cache_hits == 0);
  const auto* orders = s.find("v2", "POST /orders");
  REQUIRE(orders);
  CHECK(orders->route == "POST /orders");
  CHECK(orders->count == 2);
  CHECK(s.find("v2", "GET /fail")->errors_5xx == 1);

  const auto* chat = s.find("ws");
  REQUIRE(chat);
  CHECK(chat->type == metrics_api_type::websocket);
  CHECK(chat->connects == 3);
  CHECK(chat->messages == 13);      // in: 3 echo, bad, boom, nope; out: 3 echoes, 2 errors, 2 posts
  CHECK(chat->client_errors == 2);  // the bad handshake, the unrouted message
  CHECK(chat->integration_errors == 2);         // the refused $connect, bad's 500
  CHECK(chat->execution_errors == 1);           // boom
  CHECK(chat->integration_latency.count == 8);  // 3 $connect, 3 echo, bad, boom
  CHECK(chat->count == 0);
  const auto* connect = s.find("ws", "$connect");
  REQUIRE(connect);
  CHECK(connect->connects == 3);
  CHECK(connect->integration_errors == 1);
  CHECK(s.find("ws", "echo")->messages == 6);
  CHECK(s.find("ws", "boom")->execution_errors == 1);
  CHECK(s.find("ws", "boom")->messages == 2);
  CHECK(s.find("ws", "bad")->integration_errors == 1);

  CHECK(s.gateway.unmatched_requests == 1);
  CHECK(s.gateway.requests_refused == 2);
  // The two WebSocket sessions, once the server has seen the other clients go.
  CHECK(test::backend::wait_for([&] { return gw.metrics().gateway.connections_open == 2; }));
  CHECK(s.gateway.upstream_connections_open == 1);
  CHECK(s.gateway.upstream_connections_idle == 1);
  CHECK(s.gateway.requests_abandoned == gw.abandoned_requests());
  CHECK(s.gateway.tls_handshakes == 0);

  // The listener serves the same numbers, in both formats, valid and without duplicates.
  const std::string url = fmt::format("http://127.0.0.1:{}/metrics", metrics_port);
  const std::string text = test::shell("curl -s " + url);
  CHECK(text.find(line_of("gatehouse_rest_requests_total",
                          R"(api="shop",api_id="shop000001",stage="prod")", 18)) !=
        std::string::npos);
  CHECK(text.find(line_of("gatehouse_http_api_data_processed_bytes_total",
                          R"(api="orders",api_id="orders0001",stage="v2")", data)) !=
        std::string::npos);
  CHECK(text.find(line_of("gatehouse_websocket_route_messages_total",
                          R"(api="chat",api_id="chat000001",stage="ws",route="echo")", 6)) !=
        std::string::npos);
  CHECK(text.find("gatehouse_unmatched_requests_total 1\n") != std::string::npos);
  CHECK(text.find("gatehouse_requests_refused_total 2\n") != std::string::npos);
  CHECK(text.find("@connections") == std::string::npos);  // AWS's management API has none
  test::check_exposition(url);
}

TEST_CASE("the metrics listener serves GET /metrics and nothing of the APIs") {
  test::running_gateway rg({}, 1);
  auto& gw = rg.gateway();
  const auto api_port = rg.serve_plain(test::echo_stage());
  const auto port = gw.listen_metrics("127.0.0.1:0").port();
  CHECK(status_of(api_port, get("/prod/echo")) == 200);

  auto text = test::roundtrip(port, get("/metrics"));
  REQUIRE(text);
  CHECK(text->status == 200);
  CHECK(text->headers.get("Content-Type") ==
        std::optional<std::string_view>("text/plain; version=0.0.4; charset=utf-8"));
  CHECK(text->body.find("gatehouse_rest_requests_total{api=") != std::string::npos);
  CHECK(text->headers.get("x-amzn-RequestId") == std::nullopt);
  auto om = test::roundtrip(port, get("/metrics?x=1", "Accept: application/openmetrics-text\r\n"));
  REQUIRE(om);
  CHECK(om->headers.get("Content-Type") ==
        std::optional<std::string_view>(
            "application/openmetrics-text; version=1.0.0; charset=utf-8"));
  CHECK(om->body.ends_with("# EOF\n"));
  test::raw_client head_client(port);
  head_client.send("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  auto head = head_client.read_reply(/*head_only=*/true);
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->headers.get("Content-Length") != std::nullopt);
  CHECK(status_of(port, get("/prod/echo")) == 404);  // the APIs are not served here
  CHECK(status_of(port, get("/")) == 404);
  auto post =
      test::roundtrip(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(post);
  CHECK(post->status == 405);
  CHECK(post->headers.get("Allow") == std::optional<std::string_view>("GET, HEAD"));
  // Nor is /metrics served on the APIs' listener: it is a path like any other there.
  CHECK(status_of(api_port, get("/metrics")) == 403);
  // Scrapes are no API requests: the stage's count stays at the one request sent.
  CHECK(gw.metrics().find("prod")->count == 1);
  CHECK_THROWS_AS(gw.listen_metrics("127.0.0.1:99999"), config_error);

  // A host's own server answers scrapes with metrics_response.
  request scrape;
  scrape.method = "GET";
  scrape.target = "/anywhere";
  scrape.headers.add("Accept", "application/openmetrics-text; version=1.0.0");
  auto res = gw.metrics_response(scrape);
  CHECK(res.status == 200);
  CHECK(res.body.ends_with("# EOF\n"));
  scrape.method = "DELETE";
  CHECK(gw.metrics_response(scrape).status == 405);
}

TEST_CASE("with metrics off no series is kept, and the exposition stays valid") {
  gateway_options options;
  options.metrics = false;
  test::running_gateway rg(options, 1);
  auto& gw = rg.gateway();
  const auto port = rg.serve_plain(test::echo_stage());
  const auto metrics_port = gw.listen_metrics("127.0.0.1:0").port();
  CHECK(status_of(port, get("/prod/echo")) == 200);
  CHECK(status_of(port, get("/nostage")) == 403);
  const auto s = gw.metrics();
  CHECK(s.apis.empty());
  CHECK(s.gateway.unmatched_requests == 0);
  test::check_exposition(fmt::format("http://127.0.0.1:{}/metrics", metrics_port));
}

TEST_CASE("a store's own statistics reach the metrics") {
  struct counting_store : store {
    std::shared_ptr<store> inner = make_memory_store();
    std::optional<admission_result> try_admit(const admission& a, time_point now) override {
      return inner->try_admit(a, now);
    }
    cache_lookup try_cache_get(std::string_view ns, std::string_view key, time_point now) override {
      return inner->try_cache_get(ns, key, now);
    }
    void cache_put(std::string_view ns, std::string_view key, std::shared_ptr<const std::string> d,
                   time_point expires, std::size_t capacity) override {
      inner->cache_put(ns, key, std::move(d), expires, capacity);
    }
    void cache_flush(std::string_view ns) override { inner->cache_flush(ns); }
    std::int64_t counter(std::string_view key, time_point now) override {
      return inner->counter(key, now);
    }
    void put(std::string_view key, std::string value) override {
      inner->put(key, std::move(value));
    }
    std::optional<std::string> get(std::string_view key) override { return inner->get(key); }
    bool erase(std::string_view key) override { return inner->erase(key); }
    std::vector<std::pair<std::string, std::string>> scan(std::string_view prefix) override {
      return inner->scan(prefix);
    }
    store_statistics statistics() const noexcept override { return {42, 3}; }
  };
  gateway_options options;
  options.store = std::make_shared<counting_store>();
  test::running_gateway rg(options, 1);
  const auto s = rg.gateway().metrics();
  CHECK(s.gateway.store_round_trips == 42);
  CHECK(s.gateway.store_failures == 3);
  const auto text = to_exposition(s, exposition_format::prometheus);
  CHECK(text.find("\ngatehouse_store_round_trips_total 42\n") != std::string::npos);
  CHECK(text.find("\ngatehouse_store_failures_total 3\n") != std::string::npos);
}

TEST_CASE("many stages and a redeploy keep their own series [threads]", "[threads]") {
  // More stages than a thread's memo has places per group: their requests alternate.
  test::running_gateway rg({}, 2);
  auto& gw = rg.gateway();
  constexpr int count = 40;
  std::vector<Stage> stages;
  for (int i = 0; i < count; ++i) {
    Router api({.name = fmt::format("api{}", i), .id = fmt::format("api{:07}", i)});
    api.route("GET", "/x", function([](const proxy_event&) { return answer(200, "x"); }));
    stages.emplace_back(fmt::format("s{}", i), api.deploy());
    gw.mount(stages.back());
  }
  const auto port = gw.listen("127.0.0.1:0", plain_http).port();
  test::raw_client a(port), b(port);
  for (int round = 0; round < 3; ++round)
    for (int i = 0; i < count; ++i) {
      auto& c = i % 2 ? a : b;
      c.send(get(fmt::format("/s{}/x", i)));
      auto r = c.read_reply();
      REQUIRE(r);
      CHECK(r->status == 200);
    }
  // A redeploy with another route, and detailed metrics turned on: the stage's series goes on,
  // the new route gets one.
  Router next({.name = "api0", .id = "api0000000"});
  next.route("GET", "/y", function([](const proxy_event&) { return answer(200, "y"); }));
  stages[0].deploy(next.deploy());
  stages[0].metrics_enabled(true);
  CHECK(status_of(port, get("/s0/y")) == 200);
  CHECK(status_of(port, get("/s0/x")) == 403);
  const auto s = gw.metrics();
  for (int i = 1; i < count; ++i) {
    const auto* m = s.find(fmt::format("s{}", i));
    REQUIRE(m);
    CHECK(m->api_name == fmt::format("api{}", i));
    CHECK(m->count == 3);
  }
  REQUIRE(s.find("s0"));
  CHECK(s.find("s0")->count == 5);
  CHECK(s.find("s0")->errors_4xx == 1);
  REQUIRE(s.find("s0", "GET /y"));
  CHECK(s.find("s0", "GET /y")->count == 1);
  CHECK(s.apis.size() == count + 1);
}
