// SDK generation (issue 22): the JavaScript, TypeScript and C++ SDKs of an API of 500 resources
// (the generated document of the import benchmark: ~1,100 client methods with ANY expanded,
// 100 models), each type alone and all three, from the imported API. The bound: well
// under a second for all three.

#include "alloc_counter.hpp"
#include "generated_api.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/openapi.hpp>
#include <gatehouse/sdk.hpp>

#include <benchmark/benchmark.h>

namespace {

const gatehouse::openapi_api& api() {
  static const gatehouse::openapi_api a = [] {
    gatehouse::openapi_options o;
    o.lambda = gatehouse::lambda_endpoint{.endpoint = "http://127.0.0.1:9"};
    return gatehouse::import_openapi(bench::generated_document(), o);
  }();
  return a;
}

std::size_t total_bytes(const gatehouse::sdk_files& files) {
  std::size_t n = 0;
  for (const auto& [path, contents] : files) n += contents.size();
  return n;
}

void generate(benchmark::State& state, std::initializer_list<gatehouse::sdk_type> types) {
  std::size_t bytes = 0;
  try {
    for (auto type : types) bytes += total_bytes(gatehouse::generate_sdk(api(), "prod", type));
  } catch (const gatehouse::config_error& e) {
    state.SkipWithError(e.what());
    return;
  }
  const auto before = bench::allocations.load();
  for (auto _ : state)
    for (auto type : types) benchmark::DoNotOptimize(gatehouse::generate_sdk(api(), "prod", type));
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["allocs/op"] =
      static_cast<double>(bench::allocations.load() - before) / state.iterations();
}

void sdk_javascript(benchmark::State& s) { generate(s, {gatehouse::sdk_type::javascript}); }
void sdk_typescript(benchmark::State& s) { generate(s, {gatehouse::sdk_type::typescript}); }
void sdk_cpp(benchmark::State& s) { generate(s, {gatehouse::sdk_type::cpp}); }
void sdk_all_three(benchmark::State& s) {
  generate(s, {gatehouse::sdk_type::javascript, gatehouse::sdk_type::typescript,
               gatehouse::sdk_type::cpp});
}
BENCHMARK(sdk_javascript)->Unit(benchmark::kMillisecond);
BENCHMARK(sdk_typescript)->Unit(benchmark::kMillisecond);
BENCHMARK(sdk_cpp)->Unit(benchmark::kMillisecond);
BENCHMARK(sdk_all_three)->Unit(benchmark::kMillisecond);

}  // namespace
