// OpenAPI import (issue 21): a generated 1 MB OpenAPI 3.0 document with 500 paths — models with
// $refs between them, request validators, and integrations of every kind (HTTP with parameter
// mapping and response templates, HTTP_PROXY, MOCK with a template choosing the status, AWS
// service, Lambda proxy) — imported into a deployed Router, as JSON and as the same document in
// YAML (JSON is YAML: the YAML reader's cost on the same text).

#include "alloc_counter.hpp"
#include "generated_api.hpp"

#include <gatehouse/openapi.hpp>

#include <benchmark/benchmark.h>

#include <fmt/format.h>

#include <string>

namespace {
using bench::generated_document;
using bench::path_count;

// As a host serving it: credentials for the AWS integrations, and a Lambda endpoint (nothing
// is called during an import).
gatehouse::openapi_options options() {
  gatehouse::openapi_options o;
  o.service_credentials = {"AKIDEXAMPLE", "example/secret", ""};
  o.lambda = gatehouse::lambda_endpoint{.endpoint = "http://127.0.0.1:9",
                                        .credentials = {"AKIDEXAMPLE", "example/secret", ""}};
  return o;
}

void import_document(benchmark::State& state, const std::string& text) {
  const auto o = options();
  auto api = gatehouse::import_openapi(text, o);  // checks the document imports, and warms up
  if (api.routes.size() < path_count || !api.warnings.empty()) {
    state.SkipWithError("the generated document did not import as meant");
    return;
  }
  const auto before = bench::allocations.load();
  for (auto _ : state) benchmark::DoNotOptimize(gatehouse::import_openapi(text, o));
  state.counters["bytes"] = static_cast<double>(text.size());
  state.counters["routes"] = static_cast<double>(api.routes.size());
  state.counters["allocs/op"] =
      static_cast<double>(bench::allocations.load() - before) / state.iterations();
  state.SetBytesProcessed(static_cast<std::int64_t>(text.size()) * state.iterations());
}

void import_json(benchmark::State& state) { import_document(state, generated_document()); }
BENCHMARK(import_json)->Unit(benchmark::kMillisecond);

// The same text read by the YAML reader (a leading comment makes it YAML to the importer).
void import_yaml(benchmark::State& state) {
  static const std::string yaml = "# generated\n" + generated_document();
  import_document(state, yaml);
}
BENCHMARK(import_yaml)->Unit(benchmark::kMillisecond);
}  // namespace
