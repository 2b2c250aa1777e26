// Steps 5 and 6 of the pipeline, piece by piece. Goal (issue): one throttle check under 100 ns
// uncontended; report its cost with 2 threads contending.
//
//   bucket_arithmetic        throttle::take on a bucket the caller holds (no store)
//   store_one_bucket         memory store, one bucket: the account-level check of every request
//                            (with 2 threads: both on that one bucket, the contended case)
//   store_keyed_request      what a request with an API key admits by: plan-method and plan
//                            buckets for its key, the method's, the account's, the quota and the
//                            day's usage counter (with 2 threads: different keys, shared
//                            method and account buckets, as real traffic)
//   key_lookup               finding the key record by value (SHA-256, then the index)

#include "alloc_counter.hpp"

#include "throttle/token_bucket.hpp"
#include "usage/key_registry.hpp"

#include <gatehouse/gatehouse.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <string>

namespace {
using namespace gatehouse;

constexpr throttle_settings huge{1e9, 1'000'000'000};

time_point now() { return std::chrono::system_clock::now(); }

void bucket_arithmetic(benchmark::State& state) {
  throttle::bucket_state b;
  std::int64_t t = 0;
  for (auto _ : state) {
    t += 1000;
    benchmark::DoNotOptimize(throttle::take(b, huge, t));
  }
}
BENCHMARK(bucket_arithmetic);

std::shared_ptr<store> shared_store = make_memory_store();

void store_one_bucket(benchmark::State& state) {
  const std::array<bucket_check, 1> buckets{{{"throttle/account", huge}}};
  admission a;
  a.buckets = buckets;
  const auto before = bench::allocations.load();
  for (auto _ : state) benchmark::DoNotOptimize(shared_store->try_admit(a, now()));
  if (state.thread_index() == 0)
    state.counters["allocs/op"] = benchmark::Counter(
        static_cast<double>(bench::allocations.load() - before) / state.iterations());
}
BENCHMARK(store_one_bucket)->Threads(1)->Threads(2)->UseRealTime();

void store_keyed_request(benchmark::State& state) {
  // Built with append: GCC 12 warns (-Wrestrict, wrongly) about "literal" + std::string here.
  const std::string key = std::string("k").append(std::to_string(state.thread_index()));
  const std::string plan_key = "throttle/plan/" + key;
  const std::string method_key = "throttle/plan/" + key + "/prod/GET /pets/{petId}";
  const std::string quota_key = "quota/plan/" + key + "/2026-11-24";
  const std::string usage_key = "usage/plan/" + key + "/2026-11-24";
  const std::array<bucket_check, 4> buckets{{{method_key, huge},
                                             {plan_key, huge},
                                             {"throttle/api/prod/GET /pets/{petId}", huge},
                                             {"throttle/account", huge}}};
  admission a;
  a.buckets = buckets;
  a.quota = quota_check{quota_key, 1'000'000'000'000, now() + std::chrono::hours(24)};
  a.usage_key = usage_key;
  a.usage_expires = now() + std::chrono::hours(24 * 90);
  for (auto _ : state) benchmark::DoNotOptimize(shared_store->try_admit(a, now()));
}
BENCHMARK(store_keyed_request)->Threads(1)->Threads(2)->UseRealTime();

void key_lookup(benchmark::State& state) {
  static detail::key_registry registry(make_memory_store(),
                                       [](std::string_view) { return nullptr; });
  static const std::string value = [] { return *registry.create({.name = "bench"}).value; }();
  for (auto _ : state) benchmark::DoNotOptimize(registry.find(value));
}
BENCHMARK(key_lookup)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
