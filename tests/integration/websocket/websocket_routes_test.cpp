// WebSocket routes beyond C++ handlers: routes served by integrations (HTTP, mock) with
// $context, handler timeouts, $connect with API keys and throttles, per-connection message
// throttling, connections counted toward max_connections, and the hand-over of a connection by
// a host that parses HTTP itself (async_upgrade).

#include "backend.hpp"
#include "ws_client.hpp"

#include <gatehouse/gatehouse.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <optional>
#include <string>
#include <thread>

using namespace gatehouse;
using namespace gatehouse::websocket;
using namespace std::chrono_literals;

namespace {

// A gateway serving one WebSocket stage "ws" over plain HTTP on its own thread.
struct served {
  asio::io_context io;
  std::optional<Gateway> gw;
  std::optional<WebSocketStage> stage;
  std::uint16_t port = 0;
  std::thread thread;

  served(const WebSocketApi& api, websocket_stage_options options = {},
         gateway_options gopts = {}) {
    stage.emplace("ws", api, std::move(options));
    gw.emplace(io, std::move(gopts));
    gw->mount(*stage);
  }
  void start() {
    port = gw->listen("127.0.0.1:0", plain_http).port();
    thread = std::thread([this] { io.run(); });
  }
  ~served() {
    asio::post(io, [this] { gw->stop(); });
    io.stop();
    if (thread.joinable()) thread.join();
  }
};

// Waits up to 2 s for `value` to become `expected` (set on another thread).
bool becomes(const std::atomic<int>& value, int expected) {
  for (int i = 0; i < 200 && value.load() != expected; ++i) std::this_thread::sleep_for(10ms);
  return value.load() == expected;
}

test::ws_client open(std::uint16_t port, std::string_view path = "/ws",
                     std::string_view headers = {}) {
  return test::ws_client(port, {.path = path, .headers = headers});
}

}  // namespace

TEST_CASE("routes served by HTTP and mock integrations get the WebSocket $context",
          "[websocket-routes]") {
  test::backend backend;
  WebSocketApi api;
  http_options to_echo;
  to_echo.request_parameters = {{"integration.request.header.x-connection", "context.connectionId"},
                                {"integration.request.header.x-route", "context.routeKey"},
                                {"integration.request.header.x-event", "context.eventType"}};
  api.route("$default", http("POST", backend.url("/echo"), to_echo), {.two_way = true});
  // A mock whose answer an integration response template rewrites, with $context.
  websocket_route_options templated{.two_way = true};
  templated.integration_request.integration_responses = {
      {.response_templates = {
           {"application/json",
            R"t({"said":"$input.path('$.text')","route":"$context.routeKey","id":"$context.connectionId"})t"}}}};
  api.route("say", mock({.body = R"({"text":"hi"})"}), templated);
  http_options slow;
  slow.timeout = 100ms;
  api.route("slow", http("GET", backend.url("/slow/3000"), slow), {.two_way = true});
  api.route("oneway", http("POST", backend.url("/echo")));
  served s(api);
  s.start();

  auto c = open(s.port);
  REQUIRE(c.status() == 101);
  c.text(R"({"action":"anything","n":1})");
  auto r = c.next();
  REQUIRE(r.kind == decode_event::text);
  auto echo = test::parse_echo(r.payload);
  REQUIRE(echo);
  CHECK(echo->method == "POST");
  CHECK(echo->body == R"({"action":"anything","n":1})");
  CHECK(echo->headers.get("x-route").value_or("") == "$default");
  CHECK(echo->headers.get("x-event").value_or("") == "MESSAGE");
  const std::string id(echo->headers.get("x-connection").value_or(""));
  CHECK(id.size() == 16);
  CHECK(s.stage->connections().info(id));

  c.text(R"({"action":"say","text":"hi"})");
  r = c.next();
  CHECK(r.payload.find(R"("said":"hi")") != std::string::npos);
  CHECK(r.payload.find(R"("route":"say")") != std::string::npos);
  CHECK(r.payload.find(R"("id":")" + id + "\"") != std::string::npos);

  // A backend slower than the integration's timeout: the client hears so.
  c.text(R"({"action":"slow"})");
  r = c.next();
  CHECK(r.payload.find("Endpoint request timed out") != std::string::npos);
  CHECK(r.payload.find(id) != std::string::npos);

  // A one-way route calls the backend and sends nothing back.
  const auto before = backend.requests();
  c.text(R"({"action":"oneway"})");
  c.text(R"({"action":"x"})");  // then a two-way one: the next frame is its answer
  r = c.next();
  CHECK(test::parse_echo(r.payload));
  CHECK(backend.requests() >= before + 2);
}

TEST_CASE("a $connect integration decides the upgrade", "[websocket-routes]") {
  test::backend backend;
  // The backend's path takes a status from the upgrade's query string, which is required.
  websocket_route_options with_code;
  with_code.integration_request.request_parameters = {{"method.request.querystring.code", true}};
  with_code.integration_request.validation = request_validation::parameters;
  http_options o;
  o.request_parameters = {{"integration.request.path.code", "method.request.querystring.code"}};
  WebSocketApi api;
  api.route("$connect", http("GET", backend.url("/status/{code}"), o), with_code);
  api.route("$default", mock({}), {.two_way = true});
  served s(api);
  s.start();
  CHECK(open(s.port, "/ws?code=403").status() == 403);
  CHECK(open(s.port, "/ws?code=500").status() == 500);
  CHECK(open(s.port, "/ws").status() == 400);  // the required parameter is missing
  auto ok = open(s.port, "/ws?code=200");
  CHECK(ok.status() == 101);
}

TEST_CASE("coroutine handlers time out", "[websocket-routes]") {
  auto sleeper = [](const websocket_event& ev) -> asio::awaitable<proxy_result> {
    asio::steady_timer t(co_await asio::this_coro::executor, 10s);
    co_await t.async_wait(asio::use_awaitable);
    co_return proxy_result{.body = std::string(ev.body)};
  };
  SECTION("on a message") {
    WebSocketApi api;
    api.route("$default", sleeper, {.two_way = true, .timeout = 100ms});
    served s(api);
    s.start();
    auto c = open(s.port);
    REQUIRE(c.status() == 101);
    c.text("hello");
    auto r = c.next();
    CHECK(r.payload.find("Endpoint request timed out") != std::string::npos);
  }
  SECTION("on $connect: 504") {
    WebSocketApi api;
    api.route("$connect", sleeper, {.timeout = 100ms});
    served s(api);
    s.start();
    CHECK(open(s.port).status() == 504);
  }
  SECTION("bad timeouts are config errors") {
    WebSocketApi api;
    CHECK_THROWS_AS(api.route("$default", sleeper, {.timeout = 10ms}), config_error);
    CHECK_THROWS_AS(api.route("$default", sleeper, {.timeout = 30s}), config_error);
  }
}

TEST_CASE("$connect takes API keys and throttles; messages are throttled per connection",
          "[websocket-routes]") {
  WebSocketApi api;
  api.route("$default",
            [](const websocket_event& ev) { return proxy_result{.body = std::string(ev.body)}; },
            {.two_way = true});
  SECTION("API keys of an attached plan") {
    served s(api, {.api_key_required = true});
    UsagePlan plan({.name = "ws"});
    plan.attach(*s.stage);
    auto key = s.gw->api_keys().create({.name = "k", .usage_plan_ids = {plan.id()}});
    s.start();
    CHECK(open(s.port).status() == 403);
    CHECK(open(s.port, "/ws", "x-api-key: not-a-key-of-this-plan-000\r\n").status() == 403);
    auto c = open(s.port, "/ws", "x-api-key: " + *key.value + "\r\n");
    CHECK(c.status() == 101);
  }
  SECTION("connect throttle") {
    served s(api, {.connect_throttle = throttle_settings{0.001, 2}});
    s.start();
    auto a = open(s.port);
    auto b = open(s.port);
    auto c = open(s.port);
    CHECK(a.status() == 101);
    CHECK(b.status() == 101);
    CHECK(c.status() == 429);
  }
  SECTION("message throttle") {
    served s(api, {.message_throttle = throttle_settings{0.001, 2}});
    s.start();
    auto c = open(s.port);
    REQUIRE(c.status() == 101);
    c.text("1");
    CHECK(c.next().payload == "1");
    c.text("2");
    CHECK(c.next().payload == "2");
    c.text("3");
    auto r = c.next();
    CHECK(r.payload.find("Too Many Requests") != std::string::npos);
    // Another connection has its own bucket.
    auto d = open(s.port);
    d.text("4");
    CHECK(d.next().payload == "4");
  }
  SECTION("route settings that belong to $connect are config errors") {
    WebSocketApi bad;
    websocket_route_options o;
    o.integration_request.api_key_required = true;
    CHECK_THROWS_AS(bad.route("$default", mock({}), o), config_error);
    CHECK_THROWS_AS(WebSocketStage("ws", api, {.message_throttle = throttle_settings{-1, 1}}),
                    config_error);
  }
}

TEST_CASE("WebSocket sessions count toward max_connections", "[websocket-routes]") {
  WebSocketApi api;
  api.route("$default", [](const websocket_event&) { return proxy_result{}; });
  gateway_options g;
  g.limits.max_connections = 2;
  served s(api, {}, g);
  s.start();
  auto a = open(s.port);
  auto b = open(s.port);
  REQUIRE(a.status() == 101);
  REQUIRE(b.status() == 101);
  CHECK(s.gw->connection_count() == 2);
  test::ws_client c(s.port, {.path = "/ws"});
  CHECK(c.status() != 101);  // closed on accept
  a.close_socket();
  for (int i = 0; i < 100 && s.gw->connection_count() > 1; ++i) std::this_thread::sleep_for(20ms);
  CHECK(s.gw->connection_count() == 1);
  auto d = open(s.port);
  CHECK(d.status() == 101);
}

TEST_CASE("a host that parses HTTP itself hands upgrades over with async_upgrade",
          "[websocket-routes]") {
  asio::io_context io;
  Gateway gw(io);
  WebSocketApi api;
  api.route("$connect", [](const websocket_event& ev) {
    return proxy_result{.status_code = ev.query("deny") ? 401 : 200};
  });
  api.route("$default",
            [](const websocket_event& ev) {
              return proxy_result{.body = "host:" + std::string(ev.source_ip) + ":" +
                                          std::string(ev.body)};
            },
            {.two_way = true});
  WebSocketStage stage("ws", api);
  gw.mount(stage);

  // The host's own server: reads a request head, asks the gateway, hands the socket over.
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::atomic<int> last_status{0};
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (;;) {
          auto socket = co_await acceptor.async_accept(asio::use_awaitable);
          asio::streambuf buf;
          co_await asio::async_read_until(socket, buf, "\r\n\r\n", asio::use_awaitable);
          std::string text(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
          auto end = text.find("\r\n\r\n") + 4;
          request req;
          std::size_t line_end = text.find("\r\n");
          auto line = text.substr(0, line_end);
          req.method = line.substr(0, line.find(' '));
          req.target = line.substr(req.method.size() + 1, line.rfind(' ') - req.method.size() - 1);
          for (std::size_t at = line_end + 2; at < end - 2;) {
            auto eol = text.find("\r\n", at);
            auto field = text.substr(at, eol - at);
            auto colon = field.find(':');
            req.headers.add(field.substr(0, colon), field.substr(colon + 2));
            at = eol + 2;
          }
          REQUIRE(gw.is_websocket_upgrade(req));
          response res = co_await gw.async_upgrade(std::move(req), std::move(socket),
                                                   text.substr(end), asio::use_awaitable);
          last_status = res.status;
        }
      },
      asio::detached);
  const auto port = acceptor.local_endpoint().port();
  std::thread t([&] { io.run(); });

  {
    // The first frame arrives with the request: the host passes it on.
    auto first = test::masked_frame(opcode::text, "early");
    test::ws_client c(port, {.path = "/ws", .first_bytes = first});
    REQUIRE(c.status() == 101);
    CHECK(c.next().payload == "host:127.0.0.1:early");
    c.text("later");
    CHECK(c.next().payload == "host:127.0.0.1:later");
    CHECK(becomes(last_status, 101));
  }
  {
    test::ws_client refused(port, {.path = "/ws?deny=1"});
    CHECK(refused.status() == 401);
    CHECK(refused.wait_eof());
    CHECK(becomes(last_status, 401));
  }
  request plain;
  plain.method = "GET";
  plain.target = "/ws";
  CHECK_FALSE(gw.is_websocket_upgrade(plain));

  asio::post(io, [&] {
    acceptor.close();
    gw.stop();
  });
  io.stop();
  t.join();
}

TEST_CASE("a WebSocket stage is mounted on one gateway only", "[websocket-routes]") {
  asio::io_context io;
  Gateway a(io), b(io);
  WebSocketApi api;
  api.route("$default", [](const websocket_event&) { return proxy_result{}; });
  WebSocketStage stage("ws", api);
  a.mount(stage);
  CHECK_THROWS_AS(b.mount(stage), config_error);
}
