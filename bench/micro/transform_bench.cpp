// Steps 9 and 11 of the pipeline: mapping templates. AWS's PetStore "array of pets" response
// template evaluated on a 10-item body (goal: under 10 µs), and parsing that template (done
// once per API, at composition).

#include "alloc_counter.hpp"

#include "transform/vtl/mapping_template.hpp"

#include <benchmark/benchmark.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {
using gatehouse::transform::mapping_template;
using gatehouse::transform::template_result;

constexpr std::string_view pets_template = R"(#set($inputRoot = $input.path('$'))
[
#foreach($elem in $inputRoot)
  {
    "description" : "Item $elem.id is a $elem.type.",
    "askingPrice" : $elem.price
  }#if($foreach.hasNext),#end

#end
]
)";

struct body_env : gatehouse::transform::template_environment {
  std::string text;
  std::string_view body() const override { return text; }
  std::optional<std::string_view> param(std::string_view) const override { return std::nullopt; }
  void params(gatehouse::transform::param_kind,
              std::vector<std::pair<std::string_view, std::string_view>>&) const override {}
  bool context(std::string_view, std::string&) const override { return false; }
  std::optional<std::string_view> stage_variable(std::string_view) const override {
    return std::nullopt;
  }
};

std::string ten_pets() {
  static constexpr const char* types[] = {"dog", "cat", "fish", "bird", "hamster"};
  std::string body = "[";
  for (int i = 1; i <= 10; ++i) {
    if (i > 1) body += ',';
    body += R"({"id": )" + std::to_string(i) + R"(, "type": ")" + types[i % 5] + R"(", "price": )" +
            std::to_string(i * 25) + ".99}";
  }
  return body + "]";
}

void BM_evaluate_pets_array(benchmark::State& state) {
  const auto t = mapping_template::parse(pets_template, "pets");
  body_env env;
  env.text = ten_pets();
  template_result result;
  t.evaluate(env, result);
  if (result.output.find("Item 10 is a dog.") == std::string::npos) {
    state.SkipWithError("unexpected output");
    return;
  }
  const auto allocs_before = bench::allocations.load();
  for (auto _ : state) {
    t.evaluate(env, result);
    benchmark::DoNotOptimize(result.output.data());
  }
  state.counters["allocs/op"] =
      benchmark::Counter(static_cast<double>(bench::allocations.load() - allocs_before),
                         benchmark::Counter::kAvgIterations);
  state.counters["out_bytes"] = static_cast<double>(result.output.size());
}
BENCHMARK(BM_evaluate_pets_array);

void BM_parse_pets_array(benchmark::State& state) {
  const auto allocs_before = bench::allocations.load();
  for (auto _ : state) {
    auto t = mapping_template::parse(pets_template, "pets");
    benchmark::DoNotOptimize(&t);
  }
  state.counters["allocs/op"] =
      benchmark::Counter(static_cast<double>(bench::allocations.load() - allocs_before),
                         benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_parse_pets_array);

}  // namespace
