// Step 7's body check: a typical Pet body against AWS's Pet model (goal, issue 8: under 2 µs),
// a refused one (the failure path also describes why), and a string pattern with \d.

#include "alloc_counter.hpp"

#include "validate/model.hpp"

#include <benchmark/benchmark.h>

#include <string>

namespace {
constexpr const char* pet_schema = R"({
  "$schema": "http://json-schema.org/draft-04/schema#",
  "title": "Pet",
  "type": "object",
  "required": ["type", "price"],
  "properties": {
    "type": {"type": "string", "enum": ["dog", "cat", "fish"]},
    "price": {"type": "number", "minimum": 25, "maximum": 500}
  }
})";

void valid_pet(benchmark::State& state) {
  gatehouse::validate::model pet("Pet", pet_schema, {});
  const std::string body = R"({"type":"dog","price":249.99})";
  pet.check(body);  // this thread's compiled schema and validator
  const auto before = bench::allocations.load();
  for (auto _ : state) benchmark::DoNotOptimize(pet.check(body));
  state.counters["allocs/op"] =
      static_cast<double>(bench::allocations.load() - before) / state.iterations();
}
BENCHMARK(valid_pet);

void refused_pet(benchmark::State& state) {
  gatehouse::validate::model pet("Pet", pet_schema, {});
  const std::string body = R"({"type":"bird","price":249.99})";
  std::string errors;
  pet.check(body, &errors);
  for (auto _ : state) benchmark::DoNotOptimize(pet.check(body, &errors));
}
BENCHMARK(refused_pet);

void pattern(benchmark::State& state) {
  gatehouse::validate::model m(
      "Phone",
      R"({"type":"object","properties":{"phone":{"type":"string","pattern":"^\\d{3}-\\d{4}$"}}})",
      {});
  const std::string body = R"({"phone":"555-1234"})";
  m.check(body);
  for (auto _ : state) benchmark::DoNotOptimize(m.check(body));
}
BENCHMARK(pattern);
}  // namespace
