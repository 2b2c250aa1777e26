// The per-thread metrics registry: shards written by their own threads and merged when read,
// the histogram's bucket edges, series made once per label set.

#include "observe/metrics.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>
#include <vector>

using namespace gatehouse;
using namespace std::chrono_literals;

TEST_CASE("a latency falls in the first bucket whose bound it does not exceed") {
  observe::histogram_cells h;
  h.add(0ns);
  h.add(1ms);        // on the bound: ≤ 1 ms
  h.add(1ms + 1ns);  // just above: ≤ 2.5 ms
  h.add(30s);        // the last bound
  h.add(30s + 1ns);  // +Inf
  h.add(-5ms);       // a clock that went back counts as 0
  CHECK(h.buckets[0].get() == 3);
  CHECK(h.buckets[1].get() == 1);
  CHECK(h.buckets[13].get() == 1);
  CHECK(h.buckets[14].get() == 1);
  CHECK(h.sum_ns.get() == static_cast<std::uint64_t>((2ms + 1ns + 60s + 1ns).count()));
}

TEST_CASE("counts of many threads merge into one snapshot [threads]", "[threads]") {
  observe::metrics m;
  const auto series = m.websocket_stage("chat", "w1", "ws", {"$connect", "echo"}, true);
  REQUIRE(series.stage != observe::no_series);
  REQUIRE(series.routes.size() == 2);
  constexpr int threads = 4, per_thread = 10'000;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        m.count(series.stage, series.route(1), observe::websocket_count::message);
        if (i % 10 == 0)
          m.count(series.stage, observe::no_series, observe::websocket_count::client_error);
        m.integration_latency(series.stage, series.route(1), 3ms);
      }
      m.tls_handshake(true);
      m.tls_handshake(false);
    });
  // Reads while the threads write see some value up to the total, never more.
  for (int i = 0; i < 20; ++i) {
    const auto s = m.snapshot();
    REQUIRE(s.find("ws"));
    CHECK(s.find("ws")->messages <= threads * per_thread);
  }
  for (auto& t : pool) t.join();
  const auto s = m.snapshot();
  const auto* stage = s.find("ws");
  const auto* echo = s.find("ws", "echo");
  const auto* connect = s.find("ws", "$connect");
  REQUIRE(stage);
  REQUIRE(echo);
  REQUIRE(connect);
  CHECK(stage->type == metrics_api_type::websocket);
  CHECK(stage->api_name == "chat");
  CHECK(stage->messages == threads * per_thread);
  CHECK(echo->messages == threads * per_thread);
  CHECK(connect->messages == 0);
  CHECK(stage->client_errors == threads * per_thread / 10);
  CHECK(echo->client_errors == 0);
  CHECK(echo->integration_latency.count == threads * per_thread);
  CHECK(echo->integration_latency.buckets[2] == threads * per_thread);  // ≤ 5 ms
  CHECK(echo->integration_latency.sum_ms == Approx(3.0 * threads * per_thread));
  CHECK(s.gateway.tls_handshakes == threads);
  CHECK(s.gateway.tls_handshake_failures == threads);
}

TEST_CASE("a stage registered twice keeps one series; without detailed metrics no route has one") {
  observe::metrics m;
  const auto a = m.websocket_stage("chat", "w1", "ws", {"$connect"}, false);
  const auto b = m.websocket_stage("chat", "w1", "ws", {"$connect"}, true);
  CHECK(a.stage == b.stage);
  CHECK(a.route(0) == observe::no_series);
  CHECK(b.route(0) != observe::no_series);
  CHECK(b.route(7) == observe::no_series);
  m.count(a.stage, a.route(0), observe::websocket_count::connect);
  m.count(observe::no_series, observe::no_series, observe::websocket_count::connect);  // nothing
  const auto s = m.snapshot();
  CHECK(s.apis.size() == 2);
  CHECK(s.find("ws")->connects == 1);
  CHECK(s.find("ws", "$connect")->connects == 0);
}

TEST_CASE("registries are apart: a thread's shard of one is not another's") {
  auto first = std::make_unique<observe::metrics>();
  observe::metrics second;
  const auto s1 = first->websocket_stage("a", "1", "one", {}, false);
  const auto s2 = second.websocket_stage("b", "2", "two", {}, false);
  first->count(s1.stage, observe::no_series, observe::websocket_count::message);
  second.count(s2.stage, observe::no_series, observe::websocket_count::message);
  second.count(s2.stage, observe::no_series, observe::websocket_count::message);
  first.reset();  // a registry gone: this thread's slot for it is never used again
  observe::metrics third;
  const auto s3 = third.websocket_stage("c", "3", "three", {}, false);
  third.count(s3.stage, observe::no_series, observe::websocket_count::message);
  CHECK(second.snapshot().find("two")->messages == 2);
  CHECK(third.snapshot().find("three")->messages == 1);
}
