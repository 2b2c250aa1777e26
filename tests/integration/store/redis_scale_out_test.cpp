// Three petstore processes on one redis-server, as users run them: a plan's quota and a shared
// bucket hold exactly across the three, refused bursts cost Redis nothing, and an API key made
// on one instance works on the others at once.

#include "child_process.hpp"
#include "harness.hpp"
#include "redis_server.hpp"
#include "store/redis/store_scripts.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#ifdef PETSTORE_BINARY

namespace {
constexpr const char* key = "scaleoutdemokey0123456789abcdefghij";

struct instance {
  std::unique_ptr<test::child_process> process;
  unsigned short port = 0;
};

// A petstore on `server` with the plan "basic" limited as `limits` say (--plan-… flags).
instance start_petstore(const test::redis_server& server, const std::vector<std::string>& limits) {
  std::vector<std::string> argv{PETSTORE_BINARY, "--http",    "--listen", "127.0.0.1:0",
                                "--api-key",     key,         "--store",  server.url(),
                                "--no-metering", "--no-cache"};
  argv.insert(argv.end(), limits.begin(), limits.end());
  instance i;
  i.process = std::make_unique<test::child_process>(argv);
  const std::string banner = i.process->line();
  std::smatch m;
  REQUIRE(std::regex_search(banner, m, std::regex(R"(:(\d+)/prod)")));
  i.port = static_cast<unsigned short>(std::stoi(m[1]));
  return i;
}

std::vector<instance> start_three(const test::redis_server& server,
                                  const std::vector<std::string>& limits) {
  std::vector<instance> all;
  for (int i = 0; i < 3; ++i) all.push_back(start_petstore(server, limits));  // one by one
  return all;
}

std::string post_pet() {
  const std::string body = R"({"type":"dog","price":30})";
  return "POST /prod/pets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-api-key: " +
         std::string(key) + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body;
}

struct tally {
  std::atomic<int> created{0}, limit_exceeded{0}, too_many{0}, other{0};
};

// `clients` threads, each sending POST /prod/pets round the instances until `stop` says so.
template <class Stop>
void hammer(const std::vector<instance>& all, int clients, tally& t, Stop stop) {
  std::vector<std::thread> threads;
  std::atomic<int> sent{0};
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      std::vector<std::unique_ptr<test::raw_client>> conns;
      for (const auto& i : all) conns.push_back(std::make_unique<test::raw_client>(i.port));
      for (int n = c;; ++n) {
        const int k = sent.fetch_add(1);
        if (stop(k)) break;
        auto& conn = *conns[static_cast<std::size_t>(n) % conns.size()];
        conn.send(post_pet());
        const auto r = conn.read_reply();
        if (!r)
          ++t.other;
        else if (r->status == 201)
          ++t.created;
        else if (r->status == 429 && r->body == R"({"message":"Limit Exceeded"})")
          ++t.limit_exceeded;
        else if (r->status == 429 && r->body == R"({"message":"Too Many Requests"})")
          ++t.too_many;
        else
          ++t.other;
      }
    });
  for (auto& th : threads) th.join();
}

std::int64_t evalsha_calls(const test::redis_server& server) {
  const auto info = server.command({"INFO", "commandstats"}).text;
  const auto at = info.find("cmdstat_evalsha:calls=");
  return at == std::string::npos ? 0 : std::stoll(info.substr(at + 22));
}

double redis_seconds(const test::redis_server& server) {
  const auto t = server.command({"TIME"});
  return std::stod(t.elements[0].text) + std::stod(t.elements[1].text) / 1e6;
}
}  // namespace

TEST_CASE("redis scale-out: a plan's quota of 500 holds exactly across three petstores",
          "[redis][slow]") {
  test::redis_server server;
  const std::vector<std::string> limits{"--plan-quota", "500",          "--plan-rate",
                                        "1000000",      "--plan-burst", "1000000"};
  for (int round = 0; round < 5; ++round) {
    INFO("round " << round);
    server.command({"FLUSHALL"});
    // Loaded beforehand, and counted from when the instances have started (their API key
    // records are written by scripts too), so that every EVALSHA counted below is an admission.
    server.command({"SCRIPT", "LOAD", gatehouse::redis::admission_script().source()});
    auto all = start_three(server, limits);
    server.command({"CONFIG", "RESETSTAT"});
    tally t;
    const auto start = std::chrono::steady_clock::now();
    hammer(all, 8, t, [](int k) { return k >= 800; });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(t.created == 500);
    CHECK(t.limit_exceeded == 300);
    CHECK(t.too_many == 0);
    CHECK(t.other == 0);
    // At most one script call per admitted request (fewer: under load one call carries the
    // requests that came while others were under way); refusals cost one each only until an
    // instance has heard of the exhausted quota (then it answers from memory, asking again once
    // a second): per instance at most the 8 requests in flight, and one a second.
    const auto calls = evalsha_calls(server);
    CHECK(calls > 0);
    CHECK(calls <= 500 + 3 * 8 + 3 * (static_cast<std::int64_t>(seconds) + 1));

    // A refused burst served from the instances' memory adds none (within a second).
    const auto before = evalsha_calls(server);
    tally burst;
    hammer(all, 3, burst, [](int k) { return k >= 150; });
    CHECK(burst.limit_exceeded == 150);
    CHECK(evalsha_calls(server) - before <= 3);
    for (auto& i : all) CHECK(i.process->stop(SIGTERM) == 0);
  }
}

TEST_CASE(
    "redis scale-out: a shared bucket (200/s, burst 20) admits burst + rate × elapsed "
    "on Redis's clock across three petstores",
    "[redis][slow]") {
  test::redis_server server;
  auto all = start_three(server, {"--plan-rate", "200", "--plan-burst", "20"});
  tally t;
  const double begin = redis_seconds(server);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  hammer(all, 8, t, [&](int) { return std::chrono::steady_clock::now() >= until; });
  const double elapsed = redis_seconds(server) - begin;
  const double expected = 20 + 200 * elapsed;
  INFO("admitted " << t.created << " in " << elapsed << " s of Redis's clock; expected " << expected
                   << "; refused " << t.too_many);
  CHECK(t.created <= expected + 1);
  CHECK(t.created >= 0.98 * expected);
  CHECK(t.too_many > 0);
  CHECK(t.other == 0);
}

TEST_CASE("redis scale-out: a key made on one instance is accepted on another at once", "[redis]") {
  test::redis_server server;
  auto all = start_three(server, {});
  // petstore's demo key is on all three; a key imported through another petstore process
  // started with a new --api-key is a new key, made there and accepted by the first ones.
  const std::string other_key = "anotherkeymadeonthefourth0123456789";
  std::vector<std::string> argv{PETSTORE_BINARY, "--http",    "--listen", "127.0.0.1:0",
                                "--api-key",     other_key,   "--store",  server.url(),
                                "--no-metering", "--no-cache"};
  test::child_process fourth(argv);
  REQUIRE(fourth.line().find("serving") != std::string::npos);
  const std::string body = R"({"type":"cat","price":40})";
  for (const auto& i : all) {
    const auto r =
        test::roundtrip(i.port,
                        "POST /prod/pets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "x-api-key: " +
                            other_key + "\r\nContent-Length: " + std::to_string(body.size()) +
                            "\r\nConnection: close\r\n\r\n" + body);
    REQUIRE(r);
    CHECK(r->status == 201);
  }
  // An unknown key is still refused (asked for once per request, never found).
  const auto refused =
      test::roundtrip(all[0].port,
                      "POST /prod/pets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "x-api-key: nosuchkey0123456789nosuchkey0123\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  REQUIRE(refused);
  CHECK(refused->status == 403);
}

#endif

TEST_CASE(
    "redis scale-out: three petstores started at once with one --api-key share one key "
    "and its quota",
    "[redis]") {
  test::redis_server server;
  std::vector<std::unique_ptr<test::child_process>> processes;
  for (int i = 0; i < 3; ++i)  // all three before any banner is read: their imports race
    processes.push_back(std::make_unique<test::child_process>(std::vector<std::string>{
        PETSTORE_BINARY, "--http", "--listen", "127.0.0.1:0", "--api-key", key, "--store",
        server.url(), "--no-metering", "--no-cache", "--plan-quota", "3"}));
  std::vector<instance> all;
  for (auto& p : processes) {
    const std::string banner = p->line();
    std::smatch m;
    REQUIRE(std::regex_search(banner, m, std::regex(R"(:(\d+)/prod)")));
    all.push_back({nullptr, static_cast<unsigned short>(std::stoi(m[1]))});
  }
  CHECK(server.command({"KEYS", "*apikey/*"}).elements.size() == 1);  // one record
  tally t;
  hammer(all, 1, t, [](int k) { return k >= 6; });
  CHECK(t.created == 3);
  CHECK(t.limit_exceeded == 3);
}
