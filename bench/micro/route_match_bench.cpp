// Step 2 of the pipeline: route_table::match() on tables of 10, 100 and 1,000 routes shaped like
// a real REST API. Goal (issue): under 200 ns per match at 1,000 routes.
//
// Each "resource group" is what a typical API has per collection:
//   GET|POST  /v1/<noun>
//   GET       /v1/<noun>/search                    (literal sibling of {id})
//   GET|PUT|DELETE /v1/<noun>/{id}
//   GET       /v1/<noun>/{id}/history
//   GET|PATCH /v1/<noun>/{id}/items/{itemId}
// and every fifth group also has   ANY /v1/<noun>/{id}/files/{proxy+}   (greedy).
// Groups are appended until the table holds exactly N routes. The requests target a group in
// the middle of the table, so nothing benefits from being first.

#include "alloc_counter.hpp"

#include "routing/route_table.hpp"

#include <gatehouse/gatehouse.hpp>

#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {
using gatehouse::routing::route_match;
using gatehouse::routing::route_table;

constexpr const char* nouns[] = {
    "users",    "orders",  "products", "invoices",  "payments", "customers", "accounts",
    "carts",    "coupons", "reviews",  "shipments", "stores",   "vendors",   "tickets",
    "projects", "teams",   "messages", "webhooks",  "reports",  "sessions",
};
constexpr std::size_t noun_count = sizeof nouns / sizeof nouns[0];

std::string noun(std::size_t group) {
  std::string n = nouns[group % noun_count];
  if (group >= noun_count) n.append("-").append(std::to_string(group / noun_count));
  return n;
}

struct table {
  route_table routes;
  std::string target;  // the group's noun the requests use
};

std::unique_ptr<table> build(std::size_t n) {
  auto t = std::make_unique<table>();
  auto target = gatehouse::mock({});
  std::vector<std::size_t> complete_greedy_groups;
  for (std::size_t g = 0; t->routes.size() < n; ++g) {
    const std::string base = "/v1/" + noun(g);
    const std::pair<const char*, std::string> group[] = {
        {"GET", base},
        {"POST", base},
        {"GET", base + "/search"},
        {"GET", base + "/{id}"},
        {"PUT", base + "/{id}"},
        {"DELETE", base + "/{id}"},
        {"GET", base + "/{id}/history"},
        {"GET", base + "/{id}/items/{itemId}"},
        {"PATCH", base + "/{id}/items/{itemId}"},
        {"ANY", base + "/{id}/files/{proxy+}"},
    };
    const std::size_t count = g % 5 == 0 ? 10 : 9;
    std::size_t i = 0;
    for (; i < count && t->routes.size() < n; ++i)
      t->routes.add(group[i].first, group[i].second, target);
    if (i == 10) complete_greedy_groups.push_back(g);
  }
  if (complete_greedy_groups.empty()) throw std::logic_error("no complete group");
  t->target = noun(complete_greedy_groups[complete_greedy_groups.size() / 2]);
  return t;
}

const table& table_of(std::size_t n) {
  static std::map<std::size_t, std::unique_ptr<table>> cache;
  auto& t = cache[n];
  if (!t) t = build(n);
  return *t;
}

void run(benchmark::State& state, const char* method, const std::string& path, bool expect_hit,
         std::size_t expect_params) {
  const auto& t = table_of(static_cast<std::size_t>(state.range(0)));
  route_match m;
  if (t.routes.match(method, path, m) != expect_hit ||
      (expect_hit && m.param_count != expect_params)) {
    state.SkipWithError(("unexpected match result for " + path).c_str());
    return;
  }
  const auto allocs_before = bench::allocations.load();
  route_match out;  // reused, as the pipeline's exchange holds one per request
  for (auto _ : state) {
    bool hit = t.routes.match(method, path, out);
    benchmark::DoNotOptimize(hit);
    benchmark::DoNotOptimize(out);
  }
  state.counters["routes"] = static_cast<double>(t.routes.size());
  state.counters["allocs/op"] =
      benchmark::Counter(static_cast<double>(bench::allocations.load() - allocs_before),
                         benchmark::Counter::kAvgIterations);
}

// GET /v1/<noun>/search: literal segments only.
void BM_match_literal(benchmark::State& state) {
  const auto& t = table_of(static_cast<std::size_t>(state.range(0)));
  run(state, "GET", "/v1/" + t.target + "/search", true, 0);
}
// GET /v1/<noun>/123/items/456: two {param} segments.
void BM_match_param(benchmark::State& state) {
  const auto& t = table_of(static_cast<std::size_t>(state.range(0)));
  run(state, "GET", "/v1/" + t.target + "/123/items/456", true, 2);
}
// GET /v1/<noun>/123/files/docs/2024/report.pdf: {id} then the greedy {proxy+}.
void BM_match_greedy(benchmark::State& state) {
  const auto& t = table_of(static_cast<std::size_t>(state.range(0)));
  run(state, "GET", "/v1/" + t.target + "/123/files/docs/2024/report.pdf", true, 2);
}
// GET /v1/<noun>/123/nothing: walks literal and param branches, backtracks, no route.
void BM_match_miss(benchmark::State& state) {
  const auto& t = table_of(static_cast<std::size_t>(state.range(0)));
  run(state, "GET", "/v1/" + t.target + "/123/nothing", false, 0);
}

BENCHMARK(BM_match_literal)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_match_param)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_match_greedy)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_match_miss)->Arg(10)->Arg(100)->Arg(1000);
}  // namespace
