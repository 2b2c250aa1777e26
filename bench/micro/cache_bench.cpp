// The stage cache against the function integration it replaces: one GET /pets?type=dog through
// the whole pipeline (Gateway::async_dispatch on a one-thread io_context), answered by a
// PetStore-like C++ handler (rapidjson) or by a hit in the stage cache. Goal (issue): a hit
// costs less than the integration call. Also the cache's own parts: lookup + decode, encode.

#include "alloc_counter.hpp"

#include "cache/cached_response.hpp"

#include <gatehouse/gatehouse.hpp>

#include <benchmark/benchmark.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <asio/io_context.hpp>

#include <string>

namespace {
using namespace gatehouse;

proxy_result list_pets(const proxy_event& ev) {
  struct pet {
    int id;
    const char* type;
    double price;
  };
  static constexpr pet pets[] = {{1, "dog", 249.99}, {2, "cat", 124.99}, {3, "fish", 0.99}};
  auto type = ev.query("type").value_or("");
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartArray();
  for (const auto& p : pets) {
    if (!type.empty() && type != p.type) continue;
    w.StartObject();
    w.Key("id"), w.Int(p.id);
    w.Key("type"), w.String(p.type);
    w.Key("price"), w.Double(p.price);
    w.EndObject();
  }
  w.EndArray();
  proxy_result r;
  r.headers.add("Content-Type", "application/json");
  r.body.assign(buf.GetString(), buf.GetSize());
  return r;
}

struct setup {
  asio::io_context io{1};
  Gateway gw{io, [] {
               gateway_options o;
               o.throttle.reset();
               return o;
             }()};
  setup() {
    Router api;
    api.route("GET", "/pets", function(list_pets),
              {.cache_key_parameters = {"method.request.querystring.type"}});
    Stage cached{"cached", api.deploy()};
    cached.cache(cache_settings{});
    Stage plain{"plain", api.deploy()};
    gw.mount(cached);
    gw.mount(plain);
  }
};

void dispatch(benchmark::State& state, const char* target) {
  static setup s;
  request req;
  req.method = "GET";
  req.target = target;
  req.headers.add("Host", "bench");
  int status = 0;
  for (auto _ : state) {
    s.gw.async_dispatch(req, [&](asio::error_code, response r) { status = r.status; });
    s.io.run();
    s.io.restart();
  }
  if (status != 200) state.SkipWithError("not 200");
}

void function_integration(benchmark::State& state) { dispatch(state, "/plain/pets?type=dog"); }
BENCHMARK(function_integration);

void cache_hit(benchmark::State& state) { dispatch(state, "/cached/pets?type=dog"); }
BENCHMARK(cache_hit);

// A stored list, then lookups of it, decrypted when `secret` is given.
void lookup_and_decode(benchmark::State& state, const cache::cache_key_bytes* secret) {
  auto store = make_memory_store();
  response res;
  res.headers.add("Content-Type", "application/json");
  res.body = R"([{"id":1,"type":"dog","price":249.99}])";
  const std::string key = "3:GET5:/pets16:querystring.type3:dog";
  const auto now = std::chrono::system_clock::now();
  store->cache_put("api/prod", key,
                   std::make_shared<const std::string>(cache::encode(res, secret, key)),
                   now + std::chrono::hours(1), 1 << 20);
  for (auto _ : state) {
    auto found = store->try_cache_get("api/prod", key, now);
    benchmark::DoNotOptimize(cache::decode(*found.data, secret, key));
  }
}
const cache::cache_key_bytes secret{1, 2, 3};
BENCHMARK_CAPTURE(lookup_and_decode, plain, nullptr);
BENCHMARK_CAPTURE(lookup_and_decode, encrypted, &secret);

}  // namespace
