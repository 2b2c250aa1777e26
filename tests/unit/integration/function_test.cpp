#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <rapidjson/document.h>
#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace gatehouse;

namespace {
response dispatch(test::running_gateway& g, std::string method, std::string target,
                  std::string body = {}, header_map headers = {}) {
  request req;
  req.method = std::move(method);
  req.target = std::move(target);
  req.body = std::move(body);
  req.headers = std::move(headers);
  req.source_ip = "192.0.2.7";
  return g.gateway().async_dispatch(std::move(req), asio::use_future).get();
}

struct served {
  test::running_gateway g;
  explicit served(Router& api) { g.gateway().mount(Stage{"prod", api.deploy()}); }
};
}  // namespace

TEST_CASE("a synchronous handler's proxy result becomes the response") {
  Router api;
  api.route("GET", "/pets/{petId}", function([](const proxy_event& ev) {
              proxy_result r;
              r.status_code = 201;
              r.headers.add("X-Pet", std::string(*ev.path_parameter("petId")));
              r.headers.add("Set-Cookie", "a=1");
              r.headers.add("Set-Cookie", "b=2");
              r.body = "pet " + std::string(*ev.path_parameter("petId")) + " " +
                       ev.query("q").value_or("-");
              return r;
            }));
  served s(api);
  auto res = dispatch(s.g, "GET", "/prod/pets/a%20b?q=x+y");
  CHECK(res.status == 201);
  CHECK(res.headers.get("X-Pet") == "a b");
  CHECK(res.headers.get_all("Set-Cookie").size() == 2);
  CHECK(res.headers.get("Content-Type") == "application/json");  // AWS's default
  CHECK(res.body == "pet a b x y");
}

TEST_CASE("a coroutine handler may wait without blocking the I/O thread") {
  Router api;
  api.route("GET", "/slow", function([](const proxy_event&) -> asio::awaitable<proxy_result> {
              asio::steady_timer t(co_await asio::this_coro::executor,
                                   std::chrono::milliseconds(50));
              co_await t.async_wait(asio::use_awaitable);
              proxy_result r;
              r.body = "done";
              co_return r;
            }));
  served s(api);
  CHECK(dispatch(s.g, "GET", "/prod/slow").body == "done");
}

TEST_CASE("a blocking handler runs on the executor it is given") {
  asio::thread_pool pool(1);
  std::atomic<std::thread::id> ran_on;
  Router api;
  api.route("GET", "/block",
            function(
                [&](const proxy_event&) {
                  ran_on = std::this_thread::get_id();
                  std::this_thread::sleep_for(std::chrono::milliseconds(20));
                  proxy_result r;
                  r.body = "blocked";
                  return r;
                },
                {.executor = pool.get_executor()}));
  served s(api);
  CHECK(dispatch(s.g, "GET", "/prod/block").body == "blocked");
  std::thread::id pool_thread;
  asio::post(pool, [&] { pool_thread = std::this_thread::get_id(); });
  pool.join();
  CHECK(ran_on.load() == pool_thread);
}

TEST_CASE("a throwing handler answers 502 and the gateway goes on") {
  Router api;
  api.route("GET", "/throw", function([](const proxy_event&) -> proxy_result {
              throw std::runtime_error("handler failure");
            }));
  api.route("GET", "/ok", mock({.body = "fine"}));
  std::vector<std::string> logs;
  std::mutex m;
  test::running_gateway g({.log = [&](log_level, std::string_view t) {
    std::lock_guard l(m);
    logs.emplace_back(t);
  }});
  g.gateway().mount(Stage{"prod", api.deploy()});
  auto res = dispatch(g, "GET", "/prod/throw");
  CHECK(res.status == 502);
  CHECK(res.body == R"({"message":"Internal server error"})");
  CHECK(dispatch(g, "GET", "/prod/ok").body == "fine");
  std::lock_guard l(m);
  REQUIRE(!logs.empty());
  CHECK(logs.front().find("handler failure") != std::string::npos);
}

TEST_CASE("malformed proxy results answer 502") {
  Router api;
  api.route("GET", "/bad-status", function([](const proxy_event&) {
              proxy_result r;
              r.status_code = 1000;
              return r;
            }));
  api.route("GET", "/bad-header", function([](const proxy_event&) {
              proxy_result r;
              r.headers.add("X-Evil", "a\r\nInjected: yes");
              return r;
            }));
  api.route("GET", "/bad-base64", function([](const proxy_event&) {
              proxy_result r;
              r.is_base64_encoded = true;
              r.body = "not base64!";
              return r;
            }));
  served s(api);
  for (auto path : {"/prod/bad-status", "/prod/bad-header", "/prod/bad-base64"}) {
    INFO(path);
    auto res = dispatch(s.g, "GET", path);
    CHECK(res.status == 502);
    CHECK(res.body == R"({"message":"Internal server error"})");
    CHECK_FALSE(res.headers.contains("Injected"));
  }
}

TEST_CASE("JSON results follow AWS's Lambda proxy rules") {
  auto json_route = [](Router& api, std::string path, std::string out,
                       payload_format f = payload_format::v1) {
    api.route("GET", path, function([out](const proxy_event&) { return out; }, {.format = f}));
  };
  Router api;
  json_route(
      api, "/ok",
      R"({"statusCode":202,"headers":{"X-A":"1","X-B":true},"multiValueHeaders":{"X-A":["2","3"]},"body":"hi"})");
  json_route(api, "/b64", R"({"statusCode":200,"body":"aGVsbG8=","isBase64Encoded":true})");
  json_route(api, "/nostatus", R"({"body":"x"})");
  json_route(api, "/notjson", "hello");
  json_route(api, "/array", "[1,2]");
  json_route(api, "/unknown-key", R"({"statusCode":200,"extra":1})");
  json_route(api, "/string-status", R"({"statusCode":"200"})");
  json_route(api, "/object-body", R"({"statusCode":200,"body":{"a":1}})");
  json_route(api, "/error", R"({"errorMessage":"boom","errorType":"Error"})");
  json_route(api, "/v2-inferred", R"({"hello":"world"})", payload_format::v2);
  json_route(api, "/v2-cookies", R"({"statusCode":200,"cookies":["a=1","b=2"],"body":"c"})",
             payload_format::v2);
  json_route(api, "/v2-notjson", "hello", payload_format::v2);
  served s(api);

  auto ok = dispatch(s.g, "GET", "/prod/ok");
  CHECK(ok.status == 202);
  CHECK(ok.headers.get_all("X-A") == std::vector<std::string_view>{"2", "3"});
  CHECK(ok.headers.get("X-B") == "true");
  CHECK(ok.body == "hi");
  CHECK(dispatch(s.g, "GET", "/prod/b64").body == "hello");
  auto nostatus = dispatch(s.g, "GET", "/prod/nostatus");
  CHECK(nostatus.status == 200);  // a missing statusCode means 200
  CHECK(nostatus.body == "x");
  for (auto path : {"/prod/notjson", "/prod/array", "/prod/unknown-key", "/prod/string-status",
                    "/prod/object-body", "/prod/error", "/prod/v2-notjson"}) {
    INFO(path);
    CHECK(dispatch(s.g, "GET", path).status == 502);
  }
  auto inferred = dispatch(s.g, "GET", "/prod/v2-inferred");
  CHECK(inferred.status == 200);
  CHECK(inferred.body == R"({"hello":"world"})");
  CHECK(inferred.headers.get("Content-Type") == "application/json");
  auto cookies = dispatch(s.g, "GET", "/prod/v2-cookies");
  CHECK(cookies.headers.get_all("Set-Cookie") == std::vector<std::string_view>{"a=1", "b=2"});
}

TEST_CASE("the v1 proxy event has AWS's REST shape") {
  std::string event;
  Router api({.name = "pets", .id = "abc123defg"});
  api.route("POST", "/pets/{petId}", function([&](const proxy_event& ev) {
              event = ev.to_json();
              return proxy_result{};
            }));
  test::running_gateway g;
  Stage prod{"prod", api.deploy()};
  prod.variable("color", "blue");
  g.gateway().mount(prod);
  header_map h;
  h.add("Host", "api.example.com");
  h.add("User-Agent", "tester/1.0");
  h.add("X-Multi", "a");
  h.add("X-Multi", "b");
  dispatch(g, "POST", "/prod/pets/7?type=dog&type=cat&page=2", R"({"a":1})", h);

  rapidjson::Document d;
  d.Parse(event.c_str());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(std::string(d["resource"].GetString()) == "/pets/{petId}");
  CHECK(std::string(d["path"].GetString()) == "/pets/7");
  CHECK(std::string(d["httpMethod"].GetString()) == "POST");
  CHECK(std::string(d["headers"]["X-Multi"].GetString()) == "b");
  CHECK(d["multiValueHeaders"]["X-Multi"].Size() == 2);
  CHECK(std::string(d["queryStringParameters"]["type"].GetString()) == "cat");
  CHECK(d["multiValueQueryStringParameters"]["type"].Size() == 2);
  CHECK(std::string(d["pathParameters"]["petId"].GetString()) == "7");
  CHECK(std::string(d["stageVariables"]["color"].GetString()) == "blue");
  CHECK(std::string(d["body"].GetString()) == R"({"a":1})");
  CHECK(d["isBase64Encoded"].GetBool() == false);
  const auto& rc = d["requestContext"];
  CHECK(std::string(rc["apiId"].GetString()) == "abc123defg");
  CHECK(std::string(rc["accountId"].GetString()) == "123456789012");
  CHECK(std::string(rc["stage"].GetString()) == "prod");
  CHECK(std::string(rc["path"].GetString()) == "/prod/pets/7");
  CHECK(std::string(rc["resourcePath"].GetString()) == "/pets/{petId}");
  CHECK(std::string(rc["domainName"].GetString()) == "api.example.com");
  CHECK(std::string(rc["domainPrefix"].GetString()) == "api");
  CHECK(std::string(rc["identity"]["sourceIp"].GetString()) == "192.0.2.7");
  CHECK(std::string(rc["identity"]["userAgent"].GetString()) == "tester/1.0");
  CHECK(std::string(rc["requestId"].GetString()).size() == 36);
  CHECK(rc["requestTimeEpoch"].IsInt64());
  CHECK(std::string(rc["protocol"].GetString()) == "HTTP/1.1");
}

TEST_CASE("the v1 event has null maps when empty and base64 bodies when binary") {
  std::string event;
  Router api;
  api.route("PUT", "/blob", function([&](const proxy_event& ev) {
              event = ev.to_json();
              return proxy_result{};
            }));
  served s(api);
  dispatch(s.g, "PUT", "/prod/blob", std::string("\xff\x00\x01", 3));
  rapidjson::Document d;
  d.Parse(event.c_str());
  REQUIRE_FALSE(d.HasParseError());
  // The only header is the trace API Gateway adds to every event.
  REQUIRE(d["headers"].IsObject());
  CHECK(d["headers"].MemberCount() == 1);
  CHECK(std::string(d["headers"]["X-Amzn-Trace-Id"].GetString()).rfind("Root=1-", 0) == 0);
  CHECK(d["queryStringParameters"].IsNull());
  CHECK(d["pathParameters"].IsNull());
  CHECK(d["stageVariables"].IsNull());
  CHECK(d["isBase64Encoded"].GetBool());
  CHECK(std::string(d["body"].GetString()) == "/wAB");
}

TEST_CASE("the v2 event has the HTTP API 2.0 shape") {
  std::string event;
  Router api({.type = api_type::http});
  api.route("GET", "/items/{id}",
            function(
                [&](const proxy_event& ev) {
                  event = ev.to_json();
                  return proxy_result{};
                },
                {.format = payload_format::v2}));
  served s(api);
  header_map h;
  h.add("Host", "x.example.com");
  h.add("X-Dup", "1");
  h.add("x-dup", "2");
  h.add("Cookie", "a=1; b=2");
  dispatch(s.g, "GET", "/prod/items/9?k=1&k=2", "", h);
  rapidjson::Document d;
  d.Parse(event.c_str());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(std::string(d["version"].GetString()) == "2.0");
  CHECK(std::string(d["routeKey"].GetString()) == "GET /items/{id}");
  CHECK(std::string(d["rawPath"].GetString()) == "/prod/items/9");
  CHECK(std::string(d["rawQueryString"].GetString()) == "k=1&k=2");
  CHECK(std::string(d["headers"]["x-dup"].GetString()) == "1,2");
  CHECK_FALSE(d["headers"].HasMember("cookie"));
  CHECK(d["cookies"].Size() == 2);
  CHECK(std::string(d["queryStringParameters"]["k"].GetString()) == "1,2");
  CHECK(std::string(d["pathParameters"]["id"].GetString()) == "9");
  CHECK(std::string(d["requestContext"]["http"]["method"].GetString()) == "GET");
  CHECK(std::string(d["requestContext"]["http"]["sourceIp"].GetString()) == "192.0.2.7");
  CHECK(std::string(d["requestContext"]["routeKey"].GetString()) == "GET /items/{id}");
  CHECK_FALSE(d.HasMember("multiValueHeaders"));
  CHECK_FALSE(d.HasMember("stageVariables"));
}

TEST_CASE("mock integrations answer fixed responses with stage variables filled in") {
  Router api;
  header_map h;
  h.add("X-Env", "${stageVariables.env}");
  api.route("GET", "/m",
            mock({.status = 418, .headers = h, .body = R"({"env":"${stageVariables.env}"})"}));
  test::running_gateway g;
  Stage st{"prod", api.deploy()};
  st.variable("env", "production");
  g.gateway().mount(st);
  auto res = dispatch(g, "GET", "/prod/m");
  CHECK(res.status == 418);
  CHECK(res.headers.get("X-Env") == "production");
  CHECK(res.body == R"({"env":"production"})");
  CHECK_THROWS_AS(mock({.status = 99}), config_error);
  CHECK_THROWS_AS(mock({.body = "${stageVariables.bad-name}"}), config_error);
}

TEST_CASE("a result nested a million levels deep is parsed without exhausting the stack") {
  // Found while fuzzing the proxy result parser: a recursive parse overflowed the stack.
  constexpr std::size_t depth = 1'000'000;
  const std::string nested = std::string(depth, '[') + std::string(depth, ']');
  std::string why;
  // Past 1,000 levels it is not JSON.
  CHECK_FALSE(proxy_result::from_json(nested, payload_format::v1, &why));
  CHECK(why.starts_with("not JSON (Nesting too deep."));
  CHECK_FALSE(proxy_result::from_json(nested, payload_format::v2, &why));
  const std::string deepest = std::string(1000, '[') + std::string(1000, ']');
  const auto v2 = proxy_result::from_json(deepest, payload_format::v2, &why);
  REQUIRE(v2);  // valid JSON without a statusCode: the body of a 200
  CHECK(v2->body.size() == 2000);
  CHECK_FALSE(proxy_result::from_json(
      R"({"statusCode":200,"headers":{"a":)" + deepest.substr(2, 1996) + "}}", payload_format::v1,
      &why));
  CHECK(why == "header 'a' is not a string");
}
