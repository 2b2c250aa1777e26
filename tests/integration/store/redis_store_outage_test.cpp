// Two gateways on one redis-server (with AOF), one failing closed and one failing open, under
// load while Redis is killed and started again: no request waits much past the 50 ms
// deadline, each failure mode answers as it says, both use Redis again by themselves once it
// is back, and the quota's count survived the restart.

#include "harness.hpp"
#include "redis_server.hpp"
#include "redis_test_util.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace gatehouse;
using namespace std::chrono_literals;

namespace {
struct load_result {
  std::mutex mutex;
  std::map<std::string, int> outage;  // "status body" → count, while Redis is down
  std::string last;                   // the last answer
  int after_ok = 0;                   // 200s in a row since Redis came back
  std::chrono::nanoseconds slowest{0};
};
}  // namespace

TEST_CASE(
    "redis store: Redis killed under load and started again — deadlines kept, "
    "fail_closed and fail_open as documented, recovery by itself, quotas kept (AOF)",
    "[redis][slow][threads]") {
  test::redis_server server({.aof = true});
  test::io_threads store_io(1);
  auto make_store = [&](redis_failure_mode mode) {
    redis_options o;
    o.url = server.url();
    o.on_failure = mode;
    o.warn = [](std::string_view) {};
    return make_redis_store(store_io.executor(), o);
  };
  const auto closed_store = make_store(redis_failure_mode::fail_closed);
  const auto open_store = make_store(redis_failure_mode::fail_open);

  Router api({.name = "shop"});
  api.route("GET", "/item", mock({.body = R"({"ok":true})"}), {.api_key_required = true});
  Stage prod("prod", api.deploy());
  UsagePlan plan({.name = "p", .id = "p", .quota = quota_settings{1'000'000, quota_period::day}});
  plan.attach(prod);

  test::running_gateway closed({.store = closed_store}, 1);
  test::running_gateway open({.store = open_store}, 1);
  const auto closed_port = closed.serve_plain(prod);
  const auto open_port = open.serve_plain(prod);
  const auto key = closed.gateway().api_keys().create({.name = "k", .usage_plan_ids = {"p"}});
  const std::string request =
      "GET /prod/item HTTP/1.1\r\nHost: x\r\nx-api-key: " + *key.value + "\r\n\r\n";

  std::atomic<int> phase{0};  // 0 before, 1 outage, 2 after
  std::atomic<bool> stop{false};
  std::map<unsigned short, load_result> results;
  results[closed_port];
  results[open_port];
  std::vector<std::thread> clients;
  for (auto port : {closed_port, open_port})
    for (int c = 0; c < 2; ++c)
      clients.emplace_back([&, port] {
        test::raw_client conn(port);
        auto& r = results.at(port);
        while (!stop) {
          const int p = phase;
          const auto t0 = std::chrono::steady_clock::now();
          conn.send(request);
          const auto reply = conn.read_reply();
          const auto took = std::chrono::steady_clock::now() - t0;
          std::lock_guard lock(r.mutex);
          r.slowest = std::max(r.slowest, std::chrono::nanoseconds(took));
          const std::string what =
              reply ? std::to_string(reply->status) + " " + reply->body : "no reply";
          if (p == 1) ++r.outage[what];
          if (p == 2) r.after_ok = what.starts_with("200") ? r.after_ok + 1 : 0;
          r.last = what;
        }
      });

  std::this_thread::sleep_for(300ms);
  const auto quota_key = "{gatehouse}:quota/p/" + key.id;
  const auto counted = std::stoll(server.command({"HGET", quota_key, "n"}).text);
  CHECK(counted > 0);
  server.kill();
  phase = 1;
  std::this_thread::sleep_for(1s);
  server.start();
  phase = 2;
  // The breakers probe Redis (after 250 ms, the wait doubling to 5 s at most): within a few
  // seconds both gateways admit through it again.
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  // Back: answers from Redis again, not from the failure mode (fail_open's answers look
  // the same either way: its store says which).
  const auto both_back = [&] {
    for (auto port : {closed_port, open_port}) {
      auto& r = results.at(port);
      std::lock_guard lock(r.mutex);
      if (r.last != R"(200 {"ok":true})" || r.after_ok < 20) return false;
    }
    const auto fallbacks = redis_statistics(*open_store).fallbacks;
    std::this_thread::sleep_for(200ms);
    return redis_statistics(*open_store).fallbacks == fallbacks;
  };
  while (!both_back() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  const auto v = server.command({"HGET", quota_key, "n"});
  const std::int64_t after_restart = v.is_string() ? std::stoll(v.text) : 0;
  stop = true;
  for (auto& t : clients) t.join();

  // AOF: the count from before the restart is still there, and grows from it.
  CHECK(after_restart > counted);
  const auto& c = results.at(closed_port);
  const auto& o = results.at(open_port);
  const auto ms = [](std::chrono::nanoseconds d) {
    return std::chrono::duration<double, std::milli>(d).count();
  };
  INFO("fail_closed slowest " << ms(c.slowest) << " ms; fail_open slowest " << ms(o.slowest)
                              << " ms");
  // The deadline is 50 ms; the bound is generous for a shared machine, and far from seconds.
  CHECK(c.slowest < 500ms);
  CHECK(o.slowest < 500ms);
  const std::string ok = R"(200 {"ok":true})";
  const std::string unavailable = R"(503 {"message":"Service Unavailable"})";
  CHECK(c.outage.count(unavailable) == 1);
  CHECK(c.outage.count("no reply") == 0);
  CHECK(o.outage.count(ok) == 1);  // admitted from memory, with this instance's share
  CHECK(o.outage.count(unavailable) == 0);
  // Back: both answer from Redis again (the last answers all 200s).
  CHECK(c.last == ok);
  CHECK(o.last == ok);
  CHECK(c.after_ok >= 20);
  CHECK(o.after_ok >= 20);
}
