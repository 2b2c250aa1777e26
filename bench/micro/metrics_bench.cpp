// What the metrics cost: recording one answered request (the stage's series, and a method's
// with detailed metrics), and a scrape (merging the threads' shards and writing the text) with
// many series.
//
//   <build>/bench/bench_metrics --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include "observe/metrics.hpp"
#include "pipeline/exchange.hpp"
#include "routing/deployment.hpp"
#include "util/access.hpp"

#include <gatehouse/gatehouse.hpp>

#include <benchmark/benchmark.h>

#include <fmt/format.h>

#include <chrono>
#include <thread>
#include <vector>

using namespace gatehouse;

namespace {

Stage make_stage(std::string name, int routes, bool detailed) {
  Router api({.name = "bench", .id = "bench00001"});
  for (int i = 0; i < routes; ++i) api.route("GET", fmt::format("/r{}", i), mock({.status = 200}));
  Stage stage(std::move(name), api.deploy());
  stage.metrics_enabled(detailed);
  return stage;
}

void record(benchmark::State& state, bool detailed) {
  observe::metrics m;
  Stage stage = make_stage("prod", 4, detailed);
  auto snapshot = detail::access::state(stage)->load();
  m.prepare(snapshot);
  request req;
  req.method = "GET";
  req.target = "/prod/r1";
  detail::exchange ex(req, {"123456789012", "us-east-1"});
  ex.stage = snapshot;
  ex.match.index = 1;
  ex.match.target = &snapshot->deployment->routes.target(1);
  ex.integration_latency = std::chrono::microseconds(300);
  response res;
  observe::request_facts facts{ex, res, nullptr};
  facts.latency = std::chrono::microseconds(700);
  for (auto _ : state) {
    m.record(facts);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_record_stage(benchmark::State& state) { record(state, false); }
BENCHMARK(BM_record_stage);

void BM_record_detailed(benchmark::State& state) { record(state, true); }
BENCHMARK(BM_record_detailed);

// A scrape of `stages` stages with 10 methods each, all with detailed metrics (11 series per
// stage), counted into by 4 threads.
void BM_scrape(benchmark::State& state) {
  observe::metrics m;
  std::vector<Stage> stages;
  for (int i = 0; i < state.range(0); ++i) {
    stages.push_back(make_stage(fmt::format("s{}", i), 10, true));
    m.prepare(detail::access::state(stages.back())->load());
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (const auto& s : stages) {
        auto snapshot = detail::access::state(s)->load();
        request req;
        detail::exchange ex(req, {"123456789012", "us-east-1"});
        ex.stage = snapshot;
        ex.match.target = &snapshot->deployment->routes.target(0);
        response res;
        m.record(observe::request_facts{ex, res, nullptr});
      }
    });
  for (auto& t : threads) t.join();
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto text = to_exposition(m.snapshot(), exposition_format::prometheus);
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["series"] = static_cast<double>(state.range(0) * 11);
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_scrape)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
