// WebSocket APIs on the gateway's own listener: $connect, route selection, two-way routes,
// $disconnect, the @connections endpoint and the message limit, with a raw-socket client.

#include "ws_client.hpp"

#include <gatehouse/gatehouse.hpp>

#include <fmt/format.h>
#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

using namespace gatehouse;
using namespace gatehouse::websocket;
using namespace std::chrono_literals;

namespace {

/// A client that asked for an upgrade on `path`, with the User-Agent that @connections reports.
test::ws_client upgrade(std::uint16_t port, std::string_view path) {
  return test::ws_client(port, {.path = path, .headers = "User-Agent: raw-test\r\n"});
}

/// One plain HTTP request; returns status and body.
std::pair<int, std::string> http(std::uint16_t port, std::string method, std::string path,
                                 std::string body = {}) {
  int fd = test::connect_loopback(port);
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string in;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (in.size() < 12) return {0, {}};
  auto end = in.find("\r\n\r\n");
  return {std::stoi(in.substr(9, 3)), end == std::string::npos ? "" : in.substr(end + 4)};
}

struct fixture {
  asio::io_context io;
  std::optional<Gateway> gw;
  std::optional<WebSocketStage> stage;
  std::uint16_t port = 0;
  std::thread thread;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> events;  // "routeKey|connectionId|…"

  void record(std::string e) {
    std::lock_guard lock(mutex);
    events.push_back(std::move(e));
    changed.notify_all();
  }
  bool wait_for(std::string_view prefix) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 5s, [&] {
      for (auto& e : events)
        if (e.starts_with(prefix)) return true;
      return false;
    });
  }
  std::string last_id() {
    std::lock_guard lock(mutex);
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (it->starts_with("$connect|")) return it->substr(9);
    return {};
  }

  explicit fixture(websocket_stage_options options = {}, bool tls = false) {
    WebSocketApi api({.name = "chat"});
    api.route("$connect", [this](const websocket_event& ev) {
      proxy_result r;
      if (ev.query("deny")) r.status_code = 403;
      CHECK(ev.event_type == websocket_event_type::connect);
      CHECK(ev.to_json().find("\"eventType\":\"CONNECT\"") != std::string::npos);
      if (r.status_code == 200) record("$connect|" + std::string(ev.connection_id));
      return r;
    });
    api.route("$disconnect", [this](const websocket_event& ev) {
      record(fmt::format("$disconnect|{}|{}", ev.connection_id, ev.disconnect_status_code));
      return proxy_result{};
    });
    api.route("echo",
              [](const websocket_event& ev) {
                proxy_result r;
                r.body = "echo:" + std::string(ev.body);
                return r;
              },
              {.two_way = true});
    api.route("$default", [this](const websocket_event& ev) {
      record("$default|" + std::string(ev.body));
      return proxy_result{.body = "not sent: one-way"};
    });
    api.route("boom",
              [](const websocket_event&) -> proxy_result { throw std::runtime_error("x"); });
    stage.emplace("production", api, std::move(options));
    gw.emplace(io);
    gw->mount(*stage);
    port = tls ? gw->listen("127.0.0.1:0", tls::self_signed()).port()
               : gw->listen("127.0.0.1:0", plain_http).port();
    thread = std::thread([this] { io.run(); });
  }
  ~fixture() {
    asio::post(io, [this] { gw->stop(); });
    io.stop();
    thread.join();
  }
};

}  // namespace

TEST_CASE("$connect accepts or refuses the upgrade", "[websocket-api]") {
  fixture f;
  auto ok = upgrade(f.port, "/production?name=ann");
  CHECK(ok.status() == 101);
  auto refused = upgrade(f.port, "/production?deny=1");
  CHECK(refused.status() == 403);
  auto unknown = upgrade(f.port, "/nostage");
  CHECK(unknown.status() != 101);
}

TEST_CASE("messages are routed by the selection expression", "[websocket-api]") {
  fixture f;
  auto c = upgrade(f.port, "/production");
  REQUIRE(c.status() == 101);
  c.text(R"({"action":"echo","x":1})");
  auto r = c.next();
  CHECK(r.kind == decode_event::text);
  CHECK(r.payload == R"(echo:{"action":"echo","x":1})");
  c.text("not json");
  CHECK(f.wait_for("$default|not json"));
  c.text(R"({"action":"nothing"})");
  CHECK(f.wait_for("$default|{\"action\":\"nothing\"}"));
  c.text(R"({"action":"boom"})");
  r = c.next();
  CHECK(r.payload.find("Internal server error") != std::string::npos);
  // One-way $default sent nothing: the next frame is the echo.
  c.text(R"({"action":"echo"})");
  r = c.next();
  CHECK(r.payload == R"(echo:{"action":"echo"})");
}

TEST_CASE("a message nested a million levels deep is routed without exhausting the stack",
          "[websocket-api]") {
  // The route selection parsed a client's message recursively: a deep one overflowed the stack.
  fixture f({.max_frame_bytes = 4 << 20, .max_message_bytes = 4 << 20});
  auto c = upgrade(f.port, "/production");
  REQUIRE(c.status() == 101);
  c.text(R"({"action":"nothing","deep":)" + std::string(1'000'000, '[') +
         std::string(1'000'000, ']') + "}");
  CHECK(f.wait_for(R"($default|{"action":"nothing","deep":[[[)"));
  c.text(R"({"action":"echo"})");
  CHECK(c.next().payload == R"(echo:{"action":"echo"})");
}

TEST_CASE("@connections posts, describes and deletes, and $disconnect runs",
          "[websocket-api][threads]") {
  fixture f;
  auto c = upgrade(f.port, "/production");
  REQUIRE(c.status() == 101);
  REQUIRE(f.wait_for("$connect|"));
  const std::string id = f.last_id();
  REQUIRE(id.size() == 16);

  auto [st, body] = http(f.port, "POST", "/production/@connections/" + id, "pushed");
  CHECK(st == 200);
  auto r = c.next();
  CHECK(r.payload == "pushed");
  CHECK(f.stage->connections().post(id, "direct") == post_status::ok);
  CHECK(c.next().payload == "direct");

  std::tie(st, body) = http(f.port, "GET", "/production/%40connections/" + id);
  CHECK(st == 200);
  CHECK(body.find("\"connectedAt\":\"") != std::string::npos);
  CHECK(body.find("\"userAgent\":\"raw-test\"") != std::string::npos);

  std::tie(st, body) =
      http(f.port, "POST", "/production/@connections/" + id, std::string(131073, 'x'));
  CHECK(st == 413);

  std::tie(st, body) = http(f.port, "DELETE", "/production/@connections/" + id);
  CHECK(st == 204);
  r = c.next_close();
  CHECK(r.code == 1000);
  c.send(opcode::close, std::string("\x03\xe8", 2));
  CHECK(f.wait_for("$disconnect|" + id + "|1000"));

  std::tie(st, body) = http(f.port, "POST", "/production/@connections/" + id, "late");
  CHECK(st == 410);
  CHECK(body.find("message") != std::string::npos);
  std::tie(st, body) = http(f.port, "GET", "/production/@connections/AAAAAAAAAAAAAAA=");
  CHECK(st == 410);
  CHECK(f.stage->connections().post(id, "x") == post_status::gone);
}

TEST_CASE("wss: a session on the gateway's TLS listener", "[websocket-api][threads]") {
  fixture f({}, true);
  // The first frame comes in the TLS record of the upgrade request: the session gets it.
  const std::string first = test::masked_frame(opcode::text, R"({"action":"echo","n":0})");
  test::ws_client c(f.port, {.path = "/production", .first_bytes = first, .tls = true});
  REQUIRE(c.status() == 101);
  CHECK(c.next().payload == R"(echo:{"action":"echo","n":0})");
  REQUIRE(f.wait_for("$connect|"));
  const std::string id = f.last_id();

  // Many messages in one write, answered in order; then one of 100 KiB in 32 KiB frames.
  std::string burst;
  for (int i = 1; i <= 50; ++i)
    burst += test::masked_frame(opcode::text, fmt::format(R"({{"action":"echo","n":{}}})", i));
  c.send_raw(burst);
  for (int i = 1; i <= 50; ++i)
    REQUIRE(c.next().payload == fmt::format(R"(echo:{{"action":"echo","n":{}}})", i));
  const std::string big = R"({"action":"echo","x":")" + std::string(100 * 1024, 'x') + "\"}";
  c.send(opcode::text, big, 32 * 1024);
  CHECK(c.next().payload == "echo:" + big);

  // A send from this thread, a ping, then the close handshake.
  CHECK(f.stage->connections().post(id, std::string(70 * 1024, 'p')) == post_status::ok);
  CHECK(c.next().payload == std::string(70 * 1024, 'p'));
  c.send(opcode::ping, "ping");
  auto r = c.next();
  CHECK(r.kind == decode_event::pong);
  CHECK(r.payload == "ping");
  c.send(opcode::close, close_payload(1000, "bye"));
  r = c.next();
  CHECK(r.kind == decode_event::close);
  CHECK(r.code == 1000);
  CHECK(c.wait_eof());
  CHECK(f.wait_for("$disconnect|" + id + "|1000"));
}

TEST_CASE("an oversized message closes with 1009", "[websocket-api]") {
  fixture f;
  auto c = upgrade(f.port, "/production");
  REQUIRE(c.status() == 101);
  REQUIRE(f.wait_for("$connect|"));
  const std::string id = f.last_id();
  c.text(std::string(128 * 1024 + 1, 'a'));
  auto r = c.next_close();
  CHECK(r.code == 1009);
  CHECK(f.wait_for("$disconnect|" + id + "|1009"));
}

TEST_CASE("authorizers guard $connect and @connections", "[websocket-api]") {
  asio::io_context io;
  std::mutex mutex;
  std::string seen_principal, seen_json;
  WebSocketApi api({.name = "guarded"});
  api.route("$default",
            [&](const websocket_event& ev) {
              std::lock_guard lock(mutex);
              seen_principal = ev.principal_id;
              seen_json = ev.to_json();
              return proxy_result{.body = "hi " + std::string(ev.principal_id)};
            },
            {.two_way = true});
  Authorizer on_connect({.name = "connect",
                         .type = authorizer_type::request,
                         .identity_sources = {"method.request.querystring.token"}},
                        [](const authorizer_request& r) {
                          auto token = r.request().query("token").value_or("");
                          if (token == "good") {
                            auto res = authorizer_result::allow("user-1");
                            res.context.emplace_back("team", std::string("blue"));
                            return res;
                          }
                          return authorizer_result::deny("nobody");
                        });
  Authorizer admin({.name = "admin"}, [](const authorizer_request& r) {
    if (r.authorization_token() == "admin") return authorizer_result::allow("admin");
    return authorizer_result::deny("nobody");
  });
  WebSocketStage stage("guarded", api,
                       {.management_authorizer = admin, .connect_authorizer = on_connect});
  Gateway gw(io);
  gw.mount(stage);
  const auto port = gw.listen("127.0.0.1:0", plain_http).port();
  std::thread runner([&] { io.run(); });

  {
    auto none = upgrade(port, "/guarded");
    CHECK(none.status() == 401);
    auto denied = upgrade(port, "/guarded?token=bad");
    CHECK(denied.status() == 403);
    auto ok = upgrade(port, "/guarded?token=good");
    REQUIRE(ok.status() == 101);
    ok.text("hello");
    auto r = ok.next();
    CHECK(r.payload == "hi user-1");
    {
      std::lock_guard lock(mutex);
      CHECK(seen_principal == "user-1");
      CHECK(seen_json.find(R"("authorizer":{"principalId":"user-1","team":"blue"})") !=
            std::string::npos);
    }
    const auto ids = stage.connections().ids();
    REQUIRE(ids.size() == 1);
    auto [st, body] = http(port, "GET", "/guarded/@connections/" + ids[0]);
    CHECK(st == 401);
    // A plain GET of the stage (no upgrade) does not reach the authorizer's route.
    std::tie(st, body) = http(port, "GET", "/guarded");
    CHECK(st != 200);
  }
  asio::post(io, [&] { gw.stop(); });
  io.stop();
  runner.join();
}
