// Metering end to end: 8 clients at once send a REST API and an HTTP API a mix of requests with
// and without API keys — billed ones (2xx, 5xx, cache hits, bodies), invalid and missing keys,
// throttled and quota-refused ones, unauthorized ones, unmatched routes and stages — while
// another thread flushes and reports. Each client counts what it sent and every byte it
// received; the report must equal that tally exactly, in its struct, its JSON and its CSV. Then
// /metering on petstore's metrics listener, read with curl.

#include "child_process.hpp"
#include "harness.hpp"
#include "ws_client.hpp"

#include <gatehouse/gatehouse.hpp>

#include <fmt/format.h>
#include <asio/connect.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <map>
#include <mutex>
#include <regex>
#include <thread>
#include <tuple>
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

// What one row of the report should hold, as the clients saw it.
struct expected {
  std::uint64_t billed = 0, auth = 0, key = 0, throttled = 0, quota = 0, unmatched = 0;
  std::uint64_t request_bytes = 0, bytes_out = 0, units = 0;
};
using row_key = std::tuple<std::string, std::string, std::string>;  // api id, stage, key id

// A keep-alive client on a blocking socket that counts every byte it reads.
class counting_client {
 public:
  explicit counting_client(unsigned short port) : port_(port), socket_(io_) { connect(); }

  struct result {
    int status = 0;
    std::string error_type;   // x-amzn-ErrorType
    std::uint64_t bytes = 0;  // head and body as received
  };

  result send(std::string_view method, std::string_view target, std::string_view headers,
              std::string_view body = {}) {
    std::string req =
        fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\n{}", method, target, headers);
    if (!body.empty() || method == "POST")
      req += fmt::format("Content-Length: {}\r\n", body.size());
    req += "\r\n";
    req += body;
    asio::write(socket_, asio::buffer(req));
    const std::size_t head = asio::read_until(socket_, asio::dynamic_buffer(buf_), "\r\n\r\n");
    result r;
    const std::string_view h(buf_.data(), head);
    std::from_chars(h.data() + 9, h.data() + 12, r.status);
    std::size_t length = 0;
    bool close = false;
    for (std::size_t at = h.find("\r\n") + 2; at < head - 2;) {
      const auto end = h.find("\r\n", at);
      const std::string_view line = h.substr(at, end - at);
      const auto colon = line.find(':');
      std::string name(line.substr(0, colon));
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (name == "content-length")
        std::from_chars(value.data(), value.data() + value.size(), length);
      if (name == "x-amzn-errortype") r.error_type = std::string(value.substr(0, value.find(':')));
      if (name == "connection" && value == "close") close = true;
      at = end + 2;
    }
    if (buf_.size() < head + length)
      asio::read(socket_, asio::dynamic_buffer(buf_),
                 asio::transfer_exactly(head + length - buf_.size()));
    r.bytes = head + length;
    buf_.erase(0, head + length);
    if (close) {
      socket_.close();
      connect();
    }
    return r;
  }

 private:
  void connect() {
    socket_ = asio::ip::tcp::socket(io_);
    socket_.connect({asio::ip::make_address("127.0.0.1"), port_});
    buf_.clear();
  }
  unsigned short port_;
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  std::string buf_;
};

std::string field(const std::string& csv_line, std::size_t n) {
  std::size_t at = 0;
  for (std::size_t i = 0; i < n; ++i) at = csv_line.find(',', at) + 1;
  return csv_line.substr(at, csv_line.find(',', at) - at);
}

}  // namespace

TEST_CASE("8 concurrent clients: the metering report equals their own tally [threads]",
          "[threads]") {
  test::running_gateway rg({}, 3);
  auto& gw = rg.gateway();

  Router shop({.name = "shop", .id = "shop000001"});
  const method_options keyed{.api_key_required = true};
  shop.route("GET", "/ok", function([](const proxy_event&) { return answer(200, "ok"); }), keyed);
  shop.route("GET", "/limited", function([](const proxy_event&) { return answer(200, "l"); }),
             keyed);
  shop.route("GET", "/quota", function([](const proxy_event&) { return answer(200, "q"); }), keyed);
  shop.route("GET", "/boom", function([](const proxy_event&) { return answer(500, "boom"); }));
  shop.route("GET", "/cached", function([](const proxy_event&) { return answer(200, "cc"); }));
  shop.route("POST", "/echo",
             function([](const proxy_event& ev) { return answer(200, std::string(ev.body())); }));
  Authorizer token({.name = "token"}, [](const authorizer_request& r) {
    if (r.authorization_token() == "allow") return authorizer_result::allow("someone");
    if (r.authorization_token() == "deny") return authorizer_result::deny("someone");
    return authorizer_result::reject();
  });
  shop.route("GET", "/private", function([](const proxy_event&) { return answer(200, "p"); }),
             {.authorizer = token});
  Stage prod("prod", shop.deploy());
  prod.cache(cache_settings{.ttl = 0s});
  prod.method("GET /cached", {.cache_ttl = 300s});
  prod.method("GET /limited", {.throttle = throttle_settings{0, 5}});  // 5 in all, then 429

  UsagePlan gold({.name = "gold", .throttle = throttle_settings{1e6, 1'000'000}});
  UsagePlan tiny({.name = "tiny", .quota = quota_settings{7, quota_period::day}});
  gold.attach(prod);
  tiny.attach(prod);

  Router orders({.name = "orders", .id = "orders0001", .type = api_type::http});
  orders.route("POST", "/orders",
               function([](const proxy_event&) { return answer(201, R"({"ok":true})"); }));
  orders.route("GET", "/fail", function([](const proxy_event&) { return answer(500, "x"); }));
  Stage v2("v2", orders.deploy());

  gw.mount(prod);
  gw.mount(v2);
  std::vector<api_key> keys;
  for (int i = 0; i < 4; ++i)
    keys.push_back(
        gw.api_keys().create({.name = fmt::format("k{}", i), .usage_plan_ids = {gold.id()}}));
  const api_key quota_key = gw.api_keys().create({.name = "q", .usage_plan_ids = {tiny.id()}});
  const auto port = gw.listen("127.0.0.1:0", plain_http).port();
  const auto since = std::chrono::system_clock::now();

  std::mutex tally_mutex;
  std::map<row_key, expected> tally;
  constexpr int clients = 8, rounds = 12;
  std::atomic<bool> done{false};
  std::vector<std::thread> pool;
  for (int c = 0; c < clients; ++c)
    pool.emplace_back([&, c] {
      counting_client client(port);
      std::map<row_key, expected> mine;
      const api_key& key = keys[c % 4];
      auto keyed_header = [](const api_key& k) {
        return fmt::format("x-api-key: {}\r\n", *k.value);
      };
      // Counts one request into the row its answer says it belongs to.
      auto count = [&](std::string api, std::string stage, std::string key_id,
                       const counting_client::result& r, std::uint64_t body,
                       bool http_api = false) {
        auto& e = mine[{api, stage, key_id}];
        e.request_bytes += body;
        e.bytes_out += r.bytes;
        if (r.error_type == "TooManyRequestsException")
          ++e.throttled;
        else if (r.error_type == "LimitExceededException")
          ++e.quota;
        else if (r.error_type == "ForbiddenException")
          ++e.key;
        else if (r.status == 401 || r.error_type == "AccessDeniedException")
          ++e.auth;
        else if (r.error_type == "MissingAuthenticationTokenException" || r.status == 404)
          ++e.unmatched;
        else {
          ++e.billed;
          e.units += http_api ? std::max<std::uint64_t>(1, (body + 524287) / 524288) : 1;
        }
      };
      for (int i = 0; i < rounds; ++i) {
        auto r = client.send("GET", "/prod/ok", keyed_header(key));
        CHECK(r.status == 200);
        count("shop000001", "prod", key.id, r, 0);
        r = client.send("GET", "/prod/ok", "x-api-key: not-a-key-of-anyone-here\r\n");
        CHECK(r.status == 403);
        count("shop000001", "prod", "", r, 0);
        r = client.send("GET", "/prod/ok", "");
        CHECK(r.status == 403);
        count("shop000001", "prod", "", r, 0);
        r = client.send("GET", "/prod/limited", keyed_header(key));
        CHECK((r.status == 200 || r.status == 429));
        count("shop000001", "prod", key.id, r, 0);
        r = client.send("GET", "/prod/quota", keyed_header(quota_key));
        CHECK((r.status == 200 || r.status == 429));
        count("shop000001", "prod", quota_key.id, r, 0);
        r = client.send(
            "GET", "/prod/private",
            i % 3 == 0 ? "Authorization: allow\r\n"
                       : (i % 3 == 1 ? "Authorization: deny\r\n" : "Authorization: nobody\r\n"));
        count("shop000001", "prod", "", r, 0);
        r = client.send("GET", "/prod/boom", "");
        CHECK(r.status == 500);
        count("shop000001", "prod", "", r, 0);
        r = client.send("GET", "/prod/cached", "");
        CHECK(r.status == 200);
        count("shop000001", "prod", "", r, 0);
        r = client.send("GET", "/prod/nowhere", "");
        CHECK(r.status == 403);
        count("shop000001", "prod", "", r, 0);
        const std::string body((c * 131 + i * 37) % 900, 'b');
        r = client.send("POST", "/prod/echo", "Content-Type: text/plain\r\n", body);
        CHECK(r.status == 200);
        count("shop000001", "prod", "", r, body.size());
        // An HTTP API's calls in 512 KB units: some bodies take 2.
        const std::string order(i % 4 == 0 ? 600 * 1024 : 100 + c, 'o');
        r = client.send("POST", "/v2/orders", "Content-Type: text/plain\r\n", order);
        CHECK(r.status == 201);
        count("orders0001", "v2", "", r, order.size(), true);
        r = client.send("GET", "/v2/fail", "");
        CHECK(r.status == 500);
        count("orders0001", "v2", "", r, 0, true);
        r = client.send("GET", "/v2/none", "");
        CHECK(r.status == 404);
        count("orders0001", "v2", "", r, 0, true);
        r = client.send("GET", "/unknown/x", "");
        count("", "", "", r, 0);
      }
      std::lock_guard lock(tally_mutex);
      for (const auto& [k, e] : mine) {
        auto& t = tally[k];
        t.billed += e.billed;
        t.auth += e.auth;
        t.key += e.key;
        t.throttled += e.throttled;
        t.quota += e.quota;
        t.unmatched += e.unmatched;
        t.request_bytes += e.request_bytes;
        t.bytes_out += e.bytes_out;
        t.units += e.units;
      }
    });
  // Flushes and reports race the clients and each other.
  std::thread flusher([&] {
    while (!done.load()) {
      gw.metering().flush();
      std::this_thread::sleep_for(1ms);
    }
  });
  std::uint64_t reported = 0;
  for (int i = 0; i < 20; ++i) {
    std::uint64_t calls = 0;
    for (const auto& row : gw.metering().report(since - 1h, since + 2h).rows)
      calls += row.calls_billed;
    CHECK(calls >= reported);
    reported = calls;
    std::this_thread::sleep_for(5ms);
  }
  for (auto& t : pool) t.join();
  done = true;
  flusher.join();

  const auto report = gw.metering().report(since - 1h, since + 2h);
  std::map<row_key, const metering_row*> rows;
  for (const auto& row : report.rows) rows[{row.api_id, row.stage, row.key_id}] = &row;
  CHECK(rows.size() == tally.size());
  std::uint64_t throttled = 0, quota = 0;
  for (const auto& [k, e] : tally) {
    INFO("row " << std::get<0>(k) << " " << std::get<1>(k) << " '" << std::get<2>(k) << "'");
    REQUIRE(rows.contains(k));
    const auto& r = *rows[k];
    CHECK(r.calls_billed == e.billed);
    CHECK(r.auth_failures == e.auth);
    CHECK(r.invalid_api_keys == e.key);
    CHECK(r.throttled == e.throttled);
    CHECK(r.quota_exceeded == e.quota);
    CHECK(r.unmatched == e.unmatched);
    CHECK(r.request_bytes == e.request_bytes);
    CHECK(r.bytes_out == e.bytes_out);
    CHECK(r.units == e.units);
    throttled += e.throttled;
    quota += e.quota;
  }
  // The mix did what it was meant to.
  CHECK(throttled == clients * rounds - 5);
  CHECK(quota == clients * rounds - 7);
  CHECK(tally[{"shop000001", "prod", ""}].auth == clients * 8);  // deny and nobody
  CHECK(tally[{"orders0001", "v2", ""}].units > tally[{"orders0001", "v2", ""}].billed);
  CHECK(rows[{"orders0001", "v2", ""}]->type == metrics_api_type::http);
  // The stage cache's hour.
  REQUIRE(report.caches.size() == 1);
  CHECK(report.caches[0].stage == "prod");
  CHECK(report.caches[0].size_gb == 0.5);
  CHECK(report.caches[0].hours >= 1);

  // JSON and CSV say the same: every row's numbers appear in both.
  const std::string json = to_json(report);
  const std::string csv = to_csv(report);
  std::size_t lines = 0;
  for (std::size_t at = csv.find("\r\n") + 2; at < csv.size(); ++lines) {
    const std::string line = csv.substr(at, csv.find("\r\n", at) - at);
    at = csv.find("\r\n", at) + 2;
    if (!line.starts_with("calls,")) continue;
    const row_key k{field(line, 2), field(line, 4), field(line, 5)};
    REQUIRE(rows.contains(k));
    const auto& r = *rows[k];
    CHECK(field(line, 6) == std::to_string(r.calls_billed));
    CHECK(field(line, 13) == std::to_string(r.bytes_out));
    CHECK(field(line, 14) == std::to_string(r.units));
    CHECK(json.find(fmt::format(
              R"("key_id":"{}","calls_billed":{},"auth_failures":{},"invalid_api_keys":{},)"
              R"("throttled":{},"quota_exceeded":{},"unmatched":{},"request_bytes":{},)"
              R"("bytes_out":{},"units":{})",
              r.key_id, r.calls_billed, r.auth_failures, r.invalid_api_keys, r.throttled,
              r.quota_exceeded, r.unmatched, r.request_bytes, r.bytes_out, r.units)) !=
          std::string::npos);
  }
  CHECK(lines == report.rows.size() + report.caches.size() + 1);
}

TEST_CASE("a gateway that stops flushes what it counted into a shared store") {
  auto shared = make_memory_store();
  const auto since = std::chrono::system_clock::now();
  for (int instance = 0; instance < 2; ++instance) {
    test::running_gateway rg({.store = shared}, 1);
    const auto port = rg.serve_plain(test::echo_stage());
    for (int i = 0; i < 3; ++i) {
      auto r = test::roundtrip(
          port, "POST /prod/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
      REQUIRE(r);
      CHECK(r->status == 200);
    }
  }  // each stops, and flushes
  // A third instance on the same store reports what both counted.
  test::running_gateway rg({.store = shared}, 1);
  const auto report = rg.gateway().metering().report(since - 1h, since + 1h);
  // Two rows: each instance's echo API has an id of its own.
  REQUIRE(report.rows.size() == 2);
  for (const auto& row : report.rows) {
    CHECK(row.stage == "prod");
    CHECK(row.calls_billed == 3);
    CHECK(row.request_bytes == 6);
  }
}

TEST_CASE("WebSocket messages in 32 KB units each way, connects and connection minutes, per key") {
  test::running_gateway rg({}, 2);
  auto& gw = rg.gateway();
  WebSocketApi chat({.name = "chat", .id = "chat000001"});
  chat.route("echo", websocket_handler([](const websocket_event& ev) {
               return answer(200, std::string(ev.body));
             }),
             {.two_way = true});
  WebSocketStage ws("ws", chat,
                    {.api_key_required = true, .message_throttle = throttle_settings{1e-9, 4}});
  UsagePlan plan({.name = "chat"});
  plan.attach(ws);
  gw.mount(ws);
  const auto key = gw.api_keys().create({.name = "ws", .usage_plan_ids = {plan.id()}});
  const auto port = gw.listen("127.0.0.1:0", plain_http).port();
  const auto since = std::chrono::system_clock::now();
  {
    const std::string headers = fmt::format("x-api-key: {}\r\n", *key.value);
    test::ws_client c(port, {.path = "/ws", .headers = headers});
    REQUIRE(c.upgraded());
    // 40,000 bytes: 2 units each way; a short one: 1 each way.
    const std::string big = R"({"action":"echo","pad":")" + std::string(40'000 - 26, 'x') + "\"}";
    REQUIRE(big.size() == 40'000);
    c.text(big);
    CHECK(c.next().payload.size() == 40'000);
    c.text(R"({"action":"echo"})");
    CHECK(c.next().payload == R"({"action":"echo"})");
    c.text(R"({"action":"echo"})");
    CHECK(c.next().payload == R"({"action":"echo"})");
    c.text(R"({"action":"echo"})");
    CHECK(c.next().payload == R"({"action":"echo"})");
    c.text(R"({"action":"echo"})");  // the fifth: over the message throttle
    CHECK(c.next().payload.find("Too Many Requests") != std::string::npos);
    c.close_socket();
  }
  {
    test::ws_client refused(port, {.path = "/ws"});  // no key
    CHECK(refused.status() == 403);
  }
  // The session's end is counted once its close is noticed.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  metering_report r;
  do {
    r = gw.metering().report(since - 1h, since + 1h);
  } while ((r.rows.size() < 2 || r.rows[1].connection_minutes == 0) &&
           std::chrono::steady_clock::now() < deadline &&
           (std::this_thread::sleep_for(10ms), true));
  REQUIRE(r.rows.size() == 2);
  // The upgrade without a key: refused, not billed.
  CHECK(r.rows[0].key_id.empty());
  CHECK(r.rows[0].invalid_api_keys == 1);
  CHECK(r.rows[0].connects == 0);
  const auto& row = r.rows[1];
  CHECK(row.type == metrics_api_type::websocket);
  CHECK(row.api_id == "chat000001");
  CHECK(row.stage == "ws");
  CHECK(row.key_id == key.id);
  CHECK(row.connects == 1);
  CHECK(row.messages_in == 4);
  CHECK(row.messages_out == 5);  // 4 echoes and the throttle's message
  CHECK(row.throttled == 1);
  CHECK(row.request_bytes == 40'000 + 3 * 17);
  CHECK(row.units == 2 + 3 + 2 + 3 + 1);
  CHECK(row.connection_minutes == 1);
  CHECK(row.cost == Approx(11 * 1.00 / 1e6 + 1 * 0.25 / 1e6 +
                           static_cast<double>(row.bytes_out) / (1 << 30) * 0.09));
}

#ifdef PETSTORE_BINARY
TEST_CASE("GET /metering on petstore's metrics listener, with curl") {
  test::child_process p(
      {PETSTORE_BINARY, "--http", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"});
  std::string api, metrics;
  const std::regex serving(R"(serving (http://127\.0\.0\.1:\d+)/)");
  const std::regex scrape(R"(metrics on (http://127\.0\.0\.1:\d+)/metrics)");
  for (std::string line; metrics.empty() && !(line = p.line()).empty();) {
    std::smatch m;
    if (std::regex_search(line, m, serving)) api = m[1];
    if (std::regex_search(line, m, scrape)) metrics = m[1];
  }
  REQUIRE(!api.empty());
  REQUIRE(!metrics.empty());
  // What curl received of each answer, head and body.
  std::uint64_t received = 0;
  auto call = [&](const std::string& path, const char* status) {
    const auto out = test::shell(
        "curl -s -o /dev/null -w '%{http_code} %{size_header} %{size_download}' " + api + path);
    unsigned code = 0;
    std::uint64_t head = 0, body = 0;
    REQUIRE(std::sscanf(out.c_str(), "%u %lu %lu", &code, &head, &body) == 3);
    CHECK(std::to_string(code) == status);
    received += head + body;
  };
  call("/prod/pets?type=dog", "200");
  call("/prod/pets?type=dog", "200");  // a cache hit: billed all the same
  call("/prod/pets/9", "404");         // the integration's 404: billed
  call("/prod/nothing", "403");        // no route: not billed

  const auto csv = test::shell("curl -s '" + metrics + "/metering?format=csv&from=0'");
  INFO(csv);
  std::smatch m;
  REQUIRE(std::regex_search(
      csv, m, std::regex(R"(\r\ncalls,rest,([a-z0-9]+),PetStore,prod,,([^\r]*)\r\n)")));
  const std::string numbers = m[2];
  CHECK(numbers.starts_with(fmt::format("3,0,0,0,0,1,0,{},3,", received)));
  CHECK(std::regex_search(
      csv, std::regex(R"(\r\ncache,rest,[a-z0-9]+,PetStore,prod,,(,){13}0\.5,1,0\.020000\r\n)")));

  const auto now = std::chrono::system_clock::now();
  const auto json = test::shell(fmt::format(
      "curl -s '{}/metering?from=2020-01-01T00:00:00Z&to={}'", metrics,
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch() + 1h).count()));
  INFO(json);
  CHECK(
      json.find(fmt::format(R"("api_name":"PetStore","stage":"prod","key_id":"","calls_billed":3,)"
                            R"("auth_failures":0,"invalid_api_keys":0,"throttled":0,)"
                            R"("quota_exceeded":0,"unmatched":1,"request_bytes":0,"bytes_out":{},)",
                            received)) != std::string::npos);
  CHECK(json.starts_with(R"({"from":"2020-01-01T00:00:00Z",)"));

  int status = 0;
  const auto bad =
      test::shell("curl -s -w ' %{http_code}' '" + metrics + "/metering?to=tomorrow'", &status);
  CHECK(bad.starts_with(R"({"message":"Invalid 'to': 'tomorrow')"));
  CHECK(bad.ends_with(" 400"));
  // Nothing of the operator paths on the API's listener.
  CHECK(test::shell("curl -s -o /dev/null -w '%{http_code}' " + api + "/metering") == "403");
  CHECK(p.stop(SIGTERM) == 0);
}
#endif
