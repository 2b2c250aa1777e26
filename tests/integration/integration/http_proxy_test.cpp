// HTTP integrations through a real gateway: a client talks to gatehouse's plain HTTP listener,
// which proxies to the test backend on loopback. AWS's HTTP_PROXY (method, path, query, headers
// and body through; hop-by-hop headers out; X-Forwarded-* in; the backend's answer back with
// Date/Server/Connection/Content-Length remapped to x-amzn-Remapped-*), the non-proxy HTTP
// integration with request parameter mapping, keep-alive pooling toward the backend, and the
// INTEGRATION_TIMEOUT / INTEGRATION_FAILURE gateway responses.

#include "backend.hpp"
#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using fields = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kProxyUrl = "http://${stageVariables.backend}/{proxy}";
constexpr const char* kNetworkError = "Network error communicating with endpoint";
constexpr const char* kTimedOut = "Endpoint request timed out";

// A gateway serving stage "prod" (backend = the test backend) over plain HTTP:
//   ANY  /legacy/{proxy+}  HTTP_PROXY → http://${stageVariables.backend}/{proxy}
//   GET  /other/{proxy+}   the same, on another route
//   GET  /timed/{proxy+}   the same with a 200 ms integration timeout
//   GET  /down/{proxy+}    HTTP_PROXY → ${stageVariables.down}, where nothing listens
//   GET  /pets/{petId}     HTTP_PROXY → …/echo/pets/{petId}
//   GET  /items/{itemId}   HTTP → GET …/echo/items/{id}, id ← method.request.path.itemId
//   POST /fixed            HTTP → POST …/echo/fixed with mapped header and query parameters
struct proxy_env {
  explicit proxy_env(int threads = 2, gatehouse::gateway_options options = {})
      : gw(std::move(options), threads) {
    gatehouse::Router api;
    api.route("ANY", "/legacy/{proxy+}", gatehouse::http_proxy(kProxyUrl));
    api.route("GET", "/other/{proxy+}", gatehouse::http_proxy(kProxyUrl));
    api.route("GET", "/timed/{proxy+}", gatehouse::http_proxy(kProxyUrl, {.timeout = 200ms}));
    api.route("GET", "/down/{proxy+}",
              gatehouse::http_proxy("http://${stageVariables.down}/{proxy}"));
    api.route("GET", "/pets/{petId}",
              gatehouse::http_proxy("http://${stageVariables.backend}/echo/pets/{petId}"));
    api.route("GET", "/items/{itemId}",
              gatehouse::http("GET", "http://${stageVariables.backend}/echo/items/{id}",
                              {.request_parameters = {{"integration.request.path.id",
                                                       "method.request.path.itemId"}}}));
    api.route(
        "POST", "/fixed",
        gatehouse::http(
            "POST", "http://${stageVariables.backend}/echo/fixed",
            {.request_parameters = {
                 {"integration.request.header.x-user", "method.request.querystring.user"},
                 {"integration.request.querystring.mode", "'static'"},
                 {"integration.request.header.x-stage", "stageVariables.backend"},
                 {"integration.request.header.x-from-header", "method.request.header.X-Client"},
                 {"integration.request.header.x-request-id", "context.requestId"}}}));
    gatehouse::Stage prod("prod", api.deploy());
    prod.variable("backend", backend.address());
    prod.variable("down", "127.0.0.1:" + std::to_string(test::unused_port()));
    port = gw.serve_plain(prod);
  }

  // One request on a fresh client connection.
  std::optional<test::reply> send(std::string_view method, std::string_view target,
                                  const fields& headers = {}, std::string_view body = {}) {
    return test::fetch(port, test::request_text(method, target, headers, body));
  }

  test::backend backend;  // declared first: it outlives the gateway that calls it
  test::running_gateway gw;
  unsigned short port = 0;
};

std::string str(std::optional<std::string_view> v) { return v ? std::string(*v) : "<none>"; }

// The values of a header, split at commas and trimmed: "a, b" and two fields a, b alike.
std::vector<std::string> values(const gatehouse::header_map& h, std::string_view name) {
  std::vector<std::string> out;
  for (auto v : h.get_all(name)) {
    std::string s(v);
    std::size_t at = 0;
    for (;;) {
      auto comma = s.find(',', at);
      std::string part = s.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      part.erase(0, part.find_first_not_of(" \t"));
      part.erase(part.find_last_not_of(" \t") + 1);
      out.push_back(part);
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
  }
  return out;
}

long long ms_since(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t).count();
}

// Checks that `r` is AWS's INTEGRATION_FAILURE or INTEGRATION_TIMEOUT gateway response.
void check_gateway_error(const std::optional<test::reply>& r, const std::string& message) {
  REQUIRE(r);
  INFO("body: " << r->body);
  CHECK(r->status == 504);
  CHECK(test::json_message(r->body) == message);
  CHECK(str(r->headers.get("x-amzn-ErrorType")) == "InternalServerErrorException");
  CHECK(r->headers.contains("x-amzn-RequestId"));
  CHECK(str(r->headers.get("content-type")).find("application/json") == 0);
}

// A file removed on destruction.
struct temp_file {
  temp_file() {
    std::string pattern = (fs::temp_directory_path() / "gatehouse-proxy-XXXXXX").string();
    int fd = ::mkstemp(pattern.data());
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    ::close(fd);
    path = pattern;
  }
  ~temp_file() {
    std::error_code ec;
    fs::remove(path, ec);
  }
  fs::path path;
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("http_proxy: every method is forwarded with path, raw query, headers and body",
          "[http_proxy]") {
  proxy_env env;
  const std::string query = "?x=1&y=two&y=three&z=a%20b";
  for (std::string method : {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    INFO(method);
    bool with_body = method == "POST" || method == "PUT" || method == "PATCH";
    std::string body = with_body ? "{\"method\":\"" + method + "\"}" : "";
    fields h = {{"X-Custom", "value-" + method}, {"X-Multi", "1"}, {"X-Multi", "2"}};
    if (with_body) h.push_back({"Content-Type", "application/json"});
    auto r = env.send(method, "/prod/legacy/echo/a/b/c" + query, h, body);
    REQUIRE(r);
    CHECK(r->status == 200);
    auto e = test::parse_echo(r->body);
    REQUIRE(e);
    CHECK(e->method == method);
    CHECK(e->target == "/echo/a/b/c" + query);
    CHECK(str(e->headers.get("x-custom")) == "value-" + method);
    CHECK(values(e->headers, "x-multi") == std::vector<std::string>{"1", "2"});
    CHECK(e->body == body);
    if (with_body) {
      CHECK(str(e->headers.get("content-type")) == "application/json");
      CHECK(str(e->headers.get("content-length")) == std::to_string(body.size()));
    }
    CHECK(str(r->headers.get("x-backend")) == "echo");
  }

  SECTION("HEAD") {
    auto before = env.backend.requests();
    auto r = test::fetch(env.port, test::request_text("HEAD", "/prod/legacy/big/5000?h=1"));
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body.empty());
    REQUIRE(env.backend.requests() == before + 1);
    auto last = env.backend.last_request();
    REQUIRE(last);
    CHECK(last->method == "HEAD");
    CHECK(last->target == "/big/5000?h=1");
  }
  SECTION("with curl") {
    int status = -1;
    auto out = test::shell(
        "curl -sS --max-time 20 -X PATCH -H 'X-From: curl' --data-binary "
        "'patched' 'http://127.0.0.1:" +
            std::to_string(env.port) + "/prod/legacy/echo/curl?q=1' 2>&1",
        &status);
    CHECK(status == 0);
    auto e = test::parse_echo(out);
    REQUIRE(e);
    CHECK(e->method == "PATCH");
    CHECK(e->target == "/echo/curl?q=1");
    CHECK(str(e->headers.get("x-from")) == "curl");
    CHECK(e->body == "patched");
  }
}

TEST_CASE("http_proxy: hop-by-hop headers stay on the client's hop", "[http_proxy]") {
  proxy_env env;
  auto r = env.send("GET", "/prod/legacy/echo/hop",
                    {{"Connection", "keep-alive, X-Drop-Me"},
                     {"Keep-Alive", "timeout=5"},
                     {"X-Drop-Me", "1"},
                     {"TE", "trailers"},
                     {"Upgrade", "h2c"},
                     {"Proxy-Authorization", "Basic Zm9vOmJhcg=="},
                     {"X-Keep-Me", "2"}});
  REQUIRE(r);
  REQUIRE(r->status == 200);
  auto e = test::parse_echo(r->body);
  REQUIRE(e);
  INFO(r->body);
  CHECK(str(e->headers.get("x-keep-me")) == "2");
  CHECK_FALSE(e->headers.contains("keep-alive"));
  CHECK_FALSE(e->headers.contains("x-drop-me"));
  CHECK_FALSE(e->headers.contains("te"));
  CHECK_FALSE(e->headers.contains("upgrade"));
  CHECK_FALSE(e->headers.contains("proxy-authorization"));
  // The gateway may say Connection: keep-alive on its own hop, but not pass on the client's.
  for (auto& v : values(e->headers, "connection")) CHECK_FALSE(gatehouse::iequals(v, "x-drop-me"));
}

TEST_CASE("http_proxy: X-Forwarded-For/-Proto/-Host are added and Host is the backend's",
          "[http_proxy]") {
  proxy_env env;
  SECTION("the client's address is appended to an X-Forwarded-For it sent") {
    auto r = env.send("GET", "/prod/legacy/echo/fwd",
                      {{"Host", "api.example.test"}, {"X-Forwarded-For", "203.0.113.9"}});
    REQUIRE(r);
    REQUIRE(r->status == 200);
    auto e = test::parse_echo(r->body);
    REQUIRE(e);
    INFO(r->body);
    CHECK(values(e->headers, "x-forwarded-for") ==
          std::vector<std::string>{"203.0.113.9", "127.0.0.1"});
    CHECK(str(e->headers.get("x-forwarded-proto")) == "http");
    CHECK(str(e->headers.get("x-forwarded-host")) == "api.example.test");
    CHECK(e->headers.get_all("host").size() == 1);
    CHECK(str(e->headers.get("host")) == env.backend.address());
  }
  SECTION("without one, it is the client's address alone") {
    auto r = env.send("GET", "/prod/legacy/echo/fwd", {{"Host", "other.example.test"}});
    REQUIRE(r);
    REQUIRE(r->status == 200);
    auto e = test::parse_echo(r->body);
    REQUIRE(e);
    INFO(r->body);
    CHECK(values(e->headers, "x-forwarded-for") == std::vector<std::string>{"127.0.0.1"});
    CHECK(str(e->headers.get("x-forwarded-host")) == "other.example.test");
    CHECK(str(e->headers.get("host")) == env.backend.address());
  }
}

TEST_CASE("http_proxy: the backend's status, headers and body come back", "[http_proxy]") {
  proxy_env env;
  for (int status : {200, 201, 404, 500, 503}) {
    INFO(status);
    auto r = env.send("GET", "/prod/legacy/status/" + std::to_string(status));
    REQUIRE(r);
    CHECK(r->status == status);
    CHECK(r->body == "status " + std::to_string(status) + "\n");
    // A backend's 5xx is its answer, not a gateway error.
    CHECK_FALSE(r->headers.contains("x-amzn-ErrorType"));
    CHECK(r->headers.contains("x-amzn-RequestId"));
    auto cookies = r->headers.get_all("set-cookie");
    REQUIRE(cookies.size() == 2);
    CHECK(cookies[0] == "a=1; Path=/");
    CHECK(cookies[1] == "b=2; Path=/");
    CHECK(str(r->headers.get("x-backend")) == "status");
    CHECK(str(r->headers.get("content-type")) == "text/plain");
    // AWS remaps the backend's Server, Date, Connection and Content-Length.
    CHECK(str(r->headers.get("x-amzn-Remapped-Server")) == "test-backend/1.0");
    CHECK(r->headers.contains("x-amzn-Remapped-Date"));
    CHECK(str(r->headers.get("x-amzn-Remapped-Connection")) == "keep-alive");
    CHECK(str(r->headers.get("x-amzn-Remapped-Content-Length")) == std::to_string(r->body.size()));
    CHECK(str(r->headers.get("server")) != "test-backend/1.0");
  }
  SECTION("204 has no body") {
    auto r = env.send("GET", "/prod/legacy/status/204");
    REQUIRE(r);
    CHECK(r->status == 204);
    CHECK(r->body.empty());
  }
}

TEST_CASE("http_proxy: a 10 MB request body reaches the backend intact", "[http_proxy]") {
  proxy_env env;
  const std::string body = test::pattern_bytes(10'000'000);

  SECTION("Content-Length framed") {
    auto r = test::fetch(env.port,
                         test::request_text("POST", "/prod/legacy/echo/upload",
                                            {{"Content-Type", "application/octet-stream"}}, body),
                         60s);
    REQUIRE(r);
    REQUIRE(r->status == 200);
    auto e = test::parse_echo(r->body);
    REQUIRE(e);
    CHECK(e->body_size == body.size());
    CHECK(e->body_hash == test::fnv1a_hex(body));
  }
  SECTION("from curl (which sends Expect: 100-continue)") {
    temp_file in, out;
    std::ofstream(in.path, std::ios::binary) << body;
    int status = -1;
    auto code =
        test::shell("curl -sS --max-time 60 -o '" + out.path.string() +
                        "' -w '%{http_code}' -H 'Content-Type: application/octet-stream' "
                        "--data-binary @'" +
                        in.path.string() + "' 'http://127.0.0.1:" + std::to_string(env.port) +
                        "/prod/legacy/echo/curl-upload' 2>&1",
                    &status);
    CHECK(status == 0);
    CHECK(code == "200");
    auto e = test::parse_echo(read_all(out.path));
    REQUIRE(e);
    CHECK(e->body_size == body.size());
    CHECK(e->body_hash == test::fnv1a_hex(body));
    // Expect is the client's business with the gateway, not the backend's.
    CHECK_FALSE(e->headers.contains("expect"));
  }
}

TEST_CASE("http_proxy: a 10 MB response and a chunked response come back whole", "[http_proxy]") {
  proxy_env env;
  SECTION("Content-Length, 10 MB") {
    const std::size_t n = 10'000'000;
    auto r = test::fetch(env.port, test::request_text("GET", "/prod/legacy/big/10000000"), 60s);
    REQUIRE(r);
    CHECK(r->status == 200);
    REQUIRE(r->body.size() == n);
    CHECK(test::fnv1a_hex(r->body) == test::fnv1a_hex(test::pattern_bytes(n)));
  }
  SECTION("chunked") {
    for (std::size_t n : {std::size_t{10}, std::size_t{1'000'003}}) {
      INFO(n);
      auto r = test::fetch(env.port,
                           test::request_text("GET", "/prod/legacy/chunked/" + std::to_string(n)));
      REQUIRE(r);
      CHECK(r->status == 200);
      REQUIRE(r->body.size() == n);
      CHECK(test::fnv1a_hex(r->body) == test::fnv1a_hex(test::pattern_bytes(n)));
    }
  }
}

TEST_CASE("http_proxy: sequential requests share one kept-alive backend connection",
          "[http_proxy]") {
  proxy_env env;
  SECTION("on one client connection") {
    test::http_conn c(env.port);
    for (int i = 0; i < 50; ++i) {
      auto r = c.exchange(test::request_text("GET", "/prod/legacy/echo/" + std::to_string(i)));
      REQUIRE(r);
      REQUIRE(r->status == 200);
    }
  }
  SECTION("on a new client connection each time") {
    for (int i = 0; i < 50; ++i) {
      auto r = env.send("GET", "/prod/legacy/echo/" + std::to_string(i));
      REQUIRE(r);
      REQUIRE(r->status == 200);
    }
  }
  CHECK(env.backend.requests() == 50);
  INFO("backend connections: " << env.backend.connections_accepted());
  CHECK(env.backend.connections_accepted() <= 2);
}

TEST_CASE("http_proxy: path parameters are substituted in the URL", "[http_proxy]") {
  proxy_env env;
  SECTION("HTTP_PROXY with {petId}") {
    auto r = env.send("GET", "/prod/pets/42");
    REQUIRE(r);
    REQUIRE(r->status == 200);
    auto e = test::parse_echo(r->body);
    REQUIRE(e);
    CHECK(e->target == "/echo/pets/42");
  }
  SECTION("HTTP with integration.request.path.id mapped from method.request.path.itemId") {
    auto r = env.send("GET", "/prod/items/9");
    REQUIRE(r);
    REQUIRE(r->status == 200);
    auto last = env.backend.last_request();
    REQUIRE(last);
    CHECK(last->method == "GET");
    CHECK(last->target == "/echo/items/9");
  }
}

TEST_CASE("http: the non-proxy integration sends exactly what request_parameters map",
          "[http_proxy]") {
  proxy_env env;
  auto r = env.send("POST", "/prod/fixed?user=alice&other=1",
                    {{"X-Client", "yes"}, {"Content-Type", "text/plain"}}, "payload");
  REQUIRE(r);
  CHECK(r->status == 200);
  auto last = env.backend.last_request();
  REQUIRE(last);
  INFO("response: " << r->body);
  CHECK(last->method == "POST");
  CHECK(last->target == "/echo/fixed?mode=static");
  CHECK(str(last->headers.get("x-user")) == "alice");
  CHECK(str(last->headers.get("x-stage")) == env.backend.address());
  CHECK_FALSE(last->headers.contains("x-client"));
  CHECK(str(last->headers.get("x-from-header")) == "yes");
  CHECK(str(last->headers.get("x-request-id")) == str(r->headers.get("x-amzn-RequestId")));
  CHECK(last->headers.contains("x-request-id"));
  CHECK(str(last->headers.get("host")) == env.backend.address());
  // The client's body goes as it is (mapping templates come later).
  CHECK(last->body == "payload");
  // The backend's body and Content-Type come back; its other headers are not mapped.
  auto e = test::parse_echo(r->body);
  REQUIRE(e);
  CHECK(e->target == "/echo/fixed?mode=static");
  CHECK(str(r->headers.get("content-type")) == "text/plain; charset=utf-8");
  CHECK_FALSE(r->headers.contains("x-backend"));
}

TEST_CASE("http_proxy: composition errors are config_error", "[http_proxy]") {
  using gatehouse::config_error;
  SECTION("timeout outside 50 ms – 29 s") {
    for (auto t : {0ms, 49ms, 29'001ms, 60'000ms, -1ms}) {
      INFO(t.count());
      CHECK_THROWS_AS(gatehouse::http_proxy(kProxyUrl, {.timeout = t}), config_error);
      CHECK_THROWS_AS(gatehouse::http("GET", kProxyUrl, {.timeout = t}), config_error);
    }
    CHECK_NOTHROW(gatehouse::http_proxy(kProxyUrl, {.timeout = 50ms}));
    CHECK_NOTHROW(gatehouse::http_proxy(kProxyUrl, {.timeout = 29'000ms}));
    CHECK_NOTHROW(gatehouse::http("GET", kProxyUrl, {.timeout = 50ms}));
  }
  SECTION("a URL that is not http(s)://host…") {
    for (std::string url : {"", "ftp://example.com/{proxy}", "http:///{proxy}", "http://",
                            "https://", "example.com/{proxy}", "//example.com/x", "not a url"}) {
      INFO("url: '" << url << "'");
      CHECK_THROWS_AS(gatehouse::http_proxy(url), config_error);
      CHECK_THROWS_AS(gatehouse::http("GET", url), config_error);
    }
    CHECK_NOTHROW(gatehouse::http_proxy("https://${stageVariables.backend}/{proxy}"));
    CHECK_NOTHROW(gatehouse::http_proxy("http://127.0.0.1:8080/a/{proxy}?b=c"));
    CHECK_NOTHROW(gatehouse::http("POST", "https://example.com/x"));
  }
  SECTION("a request parameter with an unknown target or source") {
    CHECK_THROWS_AS(
        gatehouse::http(
            "GET", kProxyUrl,
            {.request_parameters = {{"integration.request.header.x", "method.request.nowhere.y"}}}),
        config_error);
    CHECK_THROWS_AS(
        gatehouse::http("GET", kProxyUrl,
                        {.request_parameters = {{"integration.response.header.x", "'static'"}}}),
        config_error);
  }
  SECTION("a stage that lacks a stage variable the URL uses") {
    gatehouse::Router api;
    api.route("ANY", "/legacy/{proxy+}", gatehouse::http_proxy(kProxyUrl));
    gatehouse::Stage prod("prod", api.deploy());
    test::running_gateway gw;
    CHECK_THROWS_AS(gw.gateway().mount(prod), config_error);
  }
}

TEST_CASE("http_proxy: a backend slower than the timeout is INTEGRATION_TIMEOUT", "[http_proxy]") {
  proxy_env env;
  auto start = clock_type::now();
  auto r = env.send("GET", "/prod/timed/slow/2000");
  auto elapsed = ms_since(start);
  check_gateway_error(r, kTimedOut);
  INFO("elapsed " << elapsed << " ms");
  CHECK(elapsed < 1600);
  // The backend connection that still owed an answer is closed, not pooled: once the backend
  // has written its late answer it finds the connection gone.
  CHECK(test::backend::wait_for([&] { return env.backend.open_connections() == 0; }, 8s));
  // Within the timeout, the same route answers, with its own answer.
  auto ok = env.send("GET", "/prod/timed/echo/quick");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  auto e = test::parse_echo(ok->body);
  REQUIRE(e);
  CHECK(e->target == "/echo/quick");
}

TEST_CASE("http_proxy: a slow backend call does not hold up other requests", "[http_proxy]") {
  proxy_env env(/*threads=*/1);
  auto slow =
      std::async(std::launch::async, [&] { return env.send("GET", "/prod/legacy/slow/3000"); });
  REQUIRE(test::backend::wait_for([&] { return env.backend.requests() >= 1; }, 10s));

  for (std::string target : {"/prod/other/echo/fast", "/prod/legacy/echo/fast"}) {
    INFO(target);
    auto start = clock_type::now();
    auto r = env.send("GET", target);
    auto elapsed = ms_since(start);
    REQUIRE(r);
    CHECK(r->status == 200);
    INFO("elapsed " << elapsed << " ms");
    CHECK(elapsed < 2000);
  }
  CHECK(slow.wait_for(0s) != std::future_status::ready);
  REQUIRE(slow.wait_for(20s) == std::future_status::ready);
  auto r = slow.get();
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE("http_proxy: a backend that cannot be talked to is INTEGRATION_FAILURE", "[http_proxy]") {
  proxy_env env;
  SECTION("nothing listens") {
    auto start = clock_type::now();
    check_gateway_error(env.send("GET", "/prod/down/anything"), kNetworkError);
    CHECK(ms_since(start) < 5000);
  }
  SECTION("it answers garbage") {
    check_gateway_error(env.send("GET", "/prod/legacy/garbage"), kNetworkError);
  }
  SECTION("it closes without answering") {
    check_gateway_error(env.send("GET", "/prod/legacy/close"), kNetworkError);
  }
  SECTION("it resets the connection") {
    check_gateway_error(env.send("GET", "/prod/legacy/reset"), kNetworkError);
  }
  // And the gateway goes on proxying.
  auto ok = env.send("GET", "/prod/legacy/echo/still-fine");
  REQUIRE(ok);
  CHECK(ok->status == 200);
}

TEST_CASE("http_proxy: redirects and interim responses pass through as HTTP says", "[http_proxy]") {
  proxy_env env;
  SECTION("a redirect is the client's to follow") {
    auto r = env.send("GET", "/prod/legacy/status/301");
    REQUIRE(r);
    CHECK(r->status == 301);
    CHECK(str(r->headers.get("location")) == "/elsewhere");
    CHECK(env.backend.requests() == 1);
  }
  SECTION("1xx interim responses from the backend are not the answer") {
    auto r = env.send("GET", "/prod/legacy/interim");
    REQUIRE(r);
    CHECK(r->status == 200);
    auto e = test::parse_echo(r->body);
    REQUIRE(e);
    CHECK(e->target == "/interim");
  }
}

TEST_CASE("http_proxy: a backend body delimited by the connection's end comes back whole",
          "[http_proxy]") {
  // Neither Content-Length nor chunked: the body ends when the backend closes (RFC 9112 §6.3).
  // That end is the response's end, not a failure.
  proxy_env env;
  const std::size_t n = 300'000;
  auto r = env.send("GET", "/prod/legacy/until-close/" + std::to_string(n));
  REQUIRE(r);
  CHECK(r->status == 200);
  REQUIRE(r->body.size() == n);
  CHECK(r->body == test::pattern_bytes(n));
}

TEST_CASE("http_proxy: concurrent clients each get the answer to their own request",
          "[http_proxy]") {
  proxy_env env;
  std::vector<std::future<int>> clients;
  for (int c = 0; c < 8; ++c) {
    clients.push_back(std::async(std::launch::async, [&env, c] {
      int good = 0;
      test::http_conn conn(env.port);
      for (int i = 0; i < 10; ++i) {
        std::string path = "/echo/c" + std::to_string(c) + "/" + std::to_string(i);
        std::string body = "body of " + path;
        auto r = conn.exchange(test::request_text("POST", "/prod/legacy" + path, {}, body));
        if (!r || r->status != 200) continue;
        auto e = test::parse_echo(r->body);
        if (e && e->target == path && e->body == body) ++good;
      }
      return good;
    }));
  }
  int good = 0;
  for (auto& f : clients) {
    REQUIRE(f.wait_for(60s) == std::future_status::ready);
    good += f.get();
  }
  CHECK(good == 80);
  CHECK(env.backend.requests() == 80);
  INFO("backend connections: " << env.backend.connections_accepted());
  CHECK(env.backend.connections_accepted() <= 8);
}

TEST_CASE("http_proxy: a stage variable changed after mounting applies to later requests",
          "[http_proxy]") {
  test::backend first, second;
  gatehouse::Router api;
  api.route("ANY", "/legacy/{proxy+}", gatehouse::http_proxy(kProxyUrl));
  gatehouse::Stage prod("prod", api.deploy());
  prod.variable("backend", first.address());
  test::running_gateway gw;
  auto port = gw.serve_plain(prod);

  auto r = test::fetch(port, test::request_text("GET", "/prod/legacy/echo/one"));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(first.requests() == 1);

  prod.variable("backend", second.address());
  r = test::fetch(port, test::request_text("GET", "/prod/legacy/echo/two"));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(first.requests() == 1);
  CHECK(second.requests() == 1);
  auto e = test::parse_echo(r->body);
  REQUIRE(e);
  CHECK(str(e->headers.get("host")) == second.address());

  SECTION("a value that makes the URL invalid is API_CONFIGURATION_ERROR (500)") {
    using gatehouse::response_type;
    prod.variable("backend", "not a host name");
    r = test::fetch(port, test::request_text("GET", "/prod/legacy/echo/three"));
    REQUIRE(r);
    INFO("body: " << r->body);
    CHECK(r->status == 500);
    CHECK(str(r->headers.get("x-amzn-ErrorType")) ==
          gatehouse::error_type_header(response_type::api_configuration_error));
    CHECK(test::json_message(r->body) ==
          std::string(gatehouse::default_message(response_type::api_configuration_error)));
    CHECK(first.requests() + second.requests() == 2);
  }
}
