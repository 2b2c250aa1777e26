// Every path that parses JSON from outside (a validated body, a mapping template's $input and
// $util.parseJson, a Lambda-style JSON result, an authorizer's JSON output and its policy, a JWT,
// a WebSocket message's route selection) takes 1 MB worst cases (deep objects, deep mixed
// nesting, deep arrays, wide objects, long strings, many keys) on a gateway with one I/O thread,
// while a second client is served on that thread: none of them may hold it for long. Before
// this test, a 240 KB {"a":{"a":…}} body held it for 7 s.

#include "harness.hpp"
#include "ws_client.hpp"

#include <gatehouse/gatehouse.hpp>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr std::size_t one_mb = 1024 * 1024;

struct worst_case {
  std::string name;
  std::string json;
  bool too_deep = false;  // nested past 1,000 levels: not JSON to gatehouse
};

// `open` × n, `middle`, `close` × n, with n as large as `size` allows.
std::string nest(std::string_view open, std::string_view middle, std::string_view close,
                 std::size_t size) {
  const std::size_t n = (size - middle.size()) / (open.size() + close.size());
  std::string s;
  s.reserve(size);
  for (std::size_t i = 0; i < n; ++i) s.append(open);
  s.append(middle);
  for (std::size_t i = 0; i < n; ++i) s.append(close);
  return s;
}

// `item` repeated, comma-separated, inside `open` … `close`, to about `size` bytes.
std::string repeat(std::string_view open, std::string_view item, std::string_view close,
                   std::size_t size) {
  std::string s(open);
  s.reserve(size + item.size() + 8);
  while (s.size() + item.size() + close.size() + 1 < size) {
    if (s.size() > open.size()) s.push_back(',');
    s.append(item);
  }
  s.append(close);
  return s;
}

std::vector<worst_case> worst_cases(std::size_t size) {
  std::vector<worst_case> out;
  out.push_back({"deep objects", nest("{\"a\":", "1", "}", size), true});
  out.push_back({"deep mixed nesting", nest("{\"a\":[", "1", "]}", size), true});
  out.push_back({"deep arrays", nest("[", "1", "]", size), true});
  // As deep as accepted (1,000 levels), again and again: every level is walked.
  const std::string deep_999 = nest("{\"a\":", "{}", "}", 998 * 6 + 2);
  const std::string mixed_499 = nest("{\"a\":[", "{}", "]}", 499 * 8 + 2);
  out.push_back({"deepest accepted objects, repeated", repeat("[", deep_999, "]", size)});
  out.push_back({"deepest accepted mixed nesting, repeated", repeat("[", mixed_499, "]", size)});
  std::string wide = "{";
  for (int i = 0; wide.size() + 32 < size; ++i) wide += fmt::format("\"k{}\":{{\"a\":[1]}},", i);
  wide += "\"type\":\"dog\"}";
  out.push_back({"wide object", std::move(wide)});
  out.push_back({"long string", "{\"type\":\"" + std::string(size - 12, 'a') + "\"}"});
  out.push_back({"many equal keys", repeat("{", "\"type\":\"x\"", "}", size)});
  out.push_back({"many small arrays", repeat("[", "[[],[1],{}]", "]", size)});
  return out;
}

std::string post(std::string_view target, std::string_view body,
                 std::string_view extra_headers = {}) {
  return fmt::format(
      "POST {} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n{}Content-Length: "
      "{}\r\n\r\n{}",
      target, extra_headers, body.size(), body);
}

std::string base64url(std::string_view in) {
  static constexpr char digits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) out.push_back(digits[(acc >> (bits -= 6)) & 63]);
  }
  if (bits) out.push_back(digits[(acc << (6 - bits)) & 63]);
  return out;
}

// A client served on the gateway's one I/O thread meanwhile: the longest it waited for an
// answer, over how many requests.
class prober {
 public:
  explicit prober(unsigned short port)
      : thread_([this, port] {
          test::raw_client c(port, 20s);
          while (!stop_) {
            const auto start = std::chrono::steady_clock::now();
            c.send(test::get("/prod/ping"));
            auto r = c.read_reply();
            const auto took = std::chrono::steady_clock::now() - start;
            if (!r || r->status != 200) {
              failed_ = true;
              return;
            }
            longest_us_ = std::max<long long>(
                longest_us_, std::chrono::duration_cast<std::chrono::microseconds>(took).count());
            ++count_;
          }
        }) {}
  ~prober() { finish(); }
  void finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  long long longest_ms() const { return longest_us_ / 1000; }
  int count() const { return count_; }
  bool failed() const { return failed_; }

 private:
  std::atomic<bool> stop_{false}, failed_{false};
  std::atomic<long long> longest_us_{0};
  std::atomic<int> count_{0};
  std::thread thread_;
};

// 50 ms is the goal for any one request's hold on an I/O thread (release: at most about 40 ms
// here). The hold is measured as the I/O thread's CPU time, which a loaded machine does not
// stretch; the ASan build is several times slower, so the test allows twenty times the goal:
// what it must catch is a cost that grows faster than the input, which took seconds to minutes
// on these bodies. The other client's wall-clock wait only has to stay short of a hang.
constexpr long long longest_allowed_ms = 1000;
constexpr long long longest_wait_allowed_ms = 10'000;

}  // namespace

TEST_CASE("1 MB JSON worst cases on every JSON path never hold the I/O thread",
          "[pipeline][hostile-json]") {
  gatehouse::Router api;
  api.route("GET", "/ping", gatehouse::mock({.body = "pong"}),
            {.integration_responses = {{.status = 200}}});

  // Validation: a recursive model that follows every level and element, with a pattern.
  api.model("Tree", R"({"type":["object","array"],
      "properties":{"a":{"$ref":"#"},"type":{"type":"string","pattern":"^[a-z]+$"}},
      "items":{"$ref":"#"},"additionalProperties":{"$ref":"#"}})");
  gatehouse::method_options validated;
  validated.request_models = {{"application/json", "Tree"}};
  validated.validation = gatehouse::request_validation::body;
  api.route("POST", "/validated", gatehouse::mock({.body = "ok"}), [&] {
    auto o = validated;
    o.integration_responses = {{.status = 200}};
    return o;
  }());

  // Mapping templates: $input.json, $input.path, $util.parseJson over the body.
  gatehouse::method_options mapped;
  mapped.request_templates = {
      {"application/json",
       R"({"all":$input.json('$'),"a":$input.json('$.a'),"first":$input.path('$[0]'),)"
       R"("n":$input.path('$').size(),"again":$util.parseJson($input.body).size()})"}};
  mapped.integration_responses = {{.status = 200}};
  api.route("POST", "/mapped", gatehouse::mock({.body = "ok"}), mapped);

  // A function integration answering Lambda's JSON text: the body it got, as a proxy result.
  api.route("POST", "/lambda", gatehouse::function([](const gatehouse::proxy_event& ev) {
              return std::string(ev.body());
            }));

  gatehouse::function_options v2;
  v2.format = gatehouse::payload_format::v2;
  api.route("POST", "/lambda2",
            gatehouse::function(
                [](const gatehouse::proxy_event& ev) { return std::string(ev.body()); }, v2));

  // An authorizer whose (Lambda-style) JSON output is the request's body: parsed, then its
  // policy document evaluated by the pipeline.
  gatehouse::authorizer_options by_body;
  by_body.type = gatehouse::authorizer_type::request;
  by_body.identity_sources = {"method.request.header.x-id"};
  by_body.result_ttl = 0s;
  gatehouse::Authorizer json_output(by_body, [](const gatehouse::authorizer_request& r) {
    std::string why;
    auto body = r.request().header("x-out");
    auto result = gatehouse::authorizer_result::from_json(body ? *body : "", &why);
    return result ? *result : gatehouse::authorizer_result::reject();
  });
  gatehouse::method_options authorized{.authorizer = json_output};
  api.route("POST", "/authorized", gatehouse::mock({.body = "ok"}), [&] {
    auto o = authorized;
    o.integration_responses = {{.status = 200}};
    return o;
  }());

  // A JWT authorizer: tokens whose header and payload are worst cases (as large as a header
  // may be).
  gatehouse::jwt_options jwt;
  jwt.issuer = "https://issuer.example";
  jwt.audiences = {"aud"};
  jwt.jwks = R"({"keys":[{"kty":"EC","crv":"P-256","kid":"k",)"
             R"("x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
             R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})";
  api.route(
      "GET", "/jwt", gatehouse::mock({.body = "ok"}),
      {.authorizer = gatehouse::Authorizer::jwt(jwt), .integration_responses = {{.status = 200}}});

  // WebSocket: route selection by $request.body.action over 1 MB messages.
  gatehouse::WebSocketApi ws_api;
  ws_api.route(
      "$default",
      [](const gatehouse::websocket_event&) { return gatehouse::proxy_result{.body = "default"}; },
      {.two_way = true});
  ws_api.route(
      "go", [](const gatehouse::websocket_event&) { return gatehouse::proxy_result{.body = "go"}; },
      {.two_way = true});
  gatehouse::WebSocketStage ws("ws", ws_api,
                               {.max_frame_bytes = 2 * one_mb, .max_message_bytes = 2 * one_mb});

  test::running_gateway gw({}, 1);  // one I/O thread: whatever holds it holds every client
  gw.gateway().mount(ws);
  const auto port = gw.serve_plain(gatehouse::Stage("prod", api.deploy()));

  const auto cases = worst_cases(one_mb);
  prober probe(port);
  std::vector<std::string> outcomes;
  long long longest_hold_ms = 0;  // the I/O thread's CPU time for one request, at most
  // Each route's answers: a client error or success, and AWS's 502 for a Lambda result that is
  // not a proxy result and 500 for an authorizer output that is malformed.
  auto send = [&](std::string_view route, const worst_case& c, const std::string& request,
                  std::vector<int> allowed) {
    const auto start = std::chrono::steady_clock::now();
    const auto cpu_start = gw.io_cpu_time();
    test::raw_client client(port, 30s);
    client.send(request);
    auto r = client.read_reply();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    const auto hold =
        std::chrono::duration_cast<std::chrono::milliseconds>(gw.io_cpu_time() - cpu_start).count();
    longest_hold_ms = std::max<long long>(longest_hold_ms, hold);
    outcomes.push_back(fmt::format("{} {}: {} in {} ms ({} ms of the I/O thread)", route, c.name,
                                   r ? r->status : 0, ms, hold));
    INFO(outcomes.back());
    REQUIRE(r);
    CHECK(std::find(allowed.begin(), allowed.end(), r->status) != allowed.end());
  };
  for (const auto& c : cases) {
    send("POST /validated", c, post("/prod/validated", c.json), {200, 400});
    send("POST /mapped", c, post("/prod/mapped", c.json), {200});
    send("POST /lambda", c, post("/prod/lambda", c.json), {502});
    // Payload format 2.0 takes any JSON as the body of a 200; too deep is not JSON.
    send("POST /lambda2", c, post("/prod/lambda2", c.json), {c.too_deep ? 502 : 200});
  }
  // Header-borne JSON: as much as the 10 KB header limit leaves.
  for (const auto& c : worst_cases(8 * 1024)) {
    send("POST /authorized", c,
         post("/prod/authorized", "{}", fmt::format("x-id: 1\r\nx-out: {}\r\n", c.json)),
         {401, 500});
    const std::string policy = R"({"principalId":"p","policyDocument":)" + c.json + "}";
    send("POST /authorized (policy)", c,
         post("/prod/authorized", "{}", fmt::format("x-id: 1\r\nx-out: {}\r\n", policy)),
         {401, 500});
    const std::string token = base64url(c.json) + "." + base64url(c.json) + ".c2ln";
    send("GET /jwt", c,
         fmt::format("GET /prod/jwt HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\n\r\n",
                     token.substr(0, 9000)),
         {401});
  }
  {
    test::ws_client client(port, {.path = "/ws"});
    REQUIRE(client.upgraded());
    for (const auto& c : cases) {
      const auto start = std::chrono::steady_clock::now();
      const auto cpu_start = gw.io_cpu_time();
      client.text(c.json);
      auto got = client.next(30s);
      const auto hold =
          std::chrono::duration_cast<std::chrono::milliseconds>(gw.io_cpu_time() - cpu_start)
              .count();
      longest_hold_ms = std::max<long long>(longest_hold_ms, hold);
      outcomes.push_back(fmt::format("websocket {}: {} in {} ms ({} ms of the I/O thread)", c.name,
                                     got.payload.substr(0, 20),
                                     std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - start)
                                         .count(),
                                     hold));
      INFO(outcomes.back());
      CHECK(got.payload == "default");
    }
  }
  probe.finish();
  std::string all;
  for (const auto& o : outcomes) all += o + "\n";
  INFO(all);
  INFO("the other client waited at most " << probe.longest_ms() << " ms over " << probe.count()
                                          << " requests");
  CHECK_FALSE(probe.failed());
  CHECK(probe.count() > 0);
  INFO("one request held the I/O thread for at most " << longest_hold_ms << " ms of CPU time");
  CHECK(longest_hold_ms < longest_allowed_ms);
  CHECK(probe.longest_ms() < longest_wait_allowed_ms);
}
