// The llhttp glue: wire::request_parser turning bytes into gatehouse::request values, driven
// the way net/connection.cpp drives it on a keep-alive connection (one parser and one request
// object reused for every message; after head_complete, feed again even with no input).
// Reports time per request, bytes/s, requests/s and heap allocations per request.

#include "alloc_counter.hpp"

#include "http/parser.hpp"

#include <benchmark/benchmark.h>

#include <string>

namespace {
using gatehouse::wire::parser_limits;
using gatehouse::wire::request_parser;

// What a browser's fetch() sends to an API: 8 header fields.
const std::string browser_get =
    "GET /prod/pets/1?type=dog HTTP/1.1\r\n"
    "Host: api.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    "Accept: application/json, text/plain, */*\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl\r\n"
    "Cache-Control: no-cache\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

// What wrk sends (the load benchmark's request): just Host.
const std::string wrk_get =
    "GET /prod/pets/1 HTTP/1.1\r\n"
    "Host: 127.0.0.1:8080\r\n"
    "\r\n";

// A JSON document of exactly `size` bytes.
std::string json_body(std::size_t size) {
  std::string s = "{\"pets\":[";
  for (int i = 0; s.size() + 60 < size; ++i) {
    if (i) s += ',';
    s += "{\"id\":" + std::to_string(i) + ",\"type\":\"dog\",\"price\":249.99,\"name\":\"rex\"}";
  }
  s += "],\"note\":\"";
  while (s.size() + 2 < size) s += 'x';
  s += "\"}";
  return s;
}

const std::string body_1k = json_body(1024);

const std::string json_post =
    "POST /prod/pets HTTP/1.1\r\n"
    "Host: api.example.com\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "Content-Type: application/json\r\n"
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl\r\n"
    "Content-Length: " +
    std::to_string(body_1k.size()) +
    "\r\n"
    "\r\n" +
    body_1k;

// The same 1 KB body sent as four 256-byte chunks.
std::string chunked(const std::string& body, std::size_t chunk) {
  std::string s =
      "POST /prod/pets HTTP/1.1\r\n"
      "Host: api.example.com\r\n"
      "User-Agent: curl/7.88.1\r\n"
      "Accept: */*\r\n"
      "Content-Type: application/json\r\n"
      "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl\r\n"
      "Transfer-Encoding: chunked\r\n"
      "\r\n";
  char size[32];
  for (std::size_t at = 0; at < body.size(); at += chunk) {
    auto n = std::min(chunk, body.size() - at);
    std::snprintf(size, sizeof size, "%zx\r\n", n);
    s += size;
    s.append(body, at, n);
    s += "\r\n";
  }
  return s + "0\r\n\r\n";
}

const std::string chunked_post = chunked(body_1k, 256);

void parse(benchmark::State& state, const std::string& wire, std::size_t body_size) {
  request_parser parser(parser_limits{});
  gatehouse::request req;

  // One message, as the connection loop feeds it; false on anything unexpected.
  auto one = [&]() -> bool {
    parser.start(req);
    std::string_view rest = wire;
    bool after_head = false;
    while (!rest.empty() || std::exchange(after_head, false)) {
      std::size_t used = 0;
      auto st = parser.feed(rest, used);
      rest.remove_prefix(used);
      switch (st) {
        case request_parser::status::error:
          return false;
        case request_parser::status::head_complete:
          after_head = true;
          break;
        case request_parser::status::complete:
          return rest.empty();
        case request_parser::status::need_more:
          break;
      }
    }
    return false;
  };

  if (!one() || req.body.size() != body_size) {
    state.SkipWithError("the request did not parse as expected");
    return;
  }
  const auto allocs_before = bench::allocations.load();
  for (auto _ : state) {
    bool ok = one();
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(req);
  }
  const auto n = static_cast<double>(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(wire.size()));
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes/req"] = static_cast<double>(wire.size());
  state.counters["allocs/req"] =
      static_cast<double>(bench::allocations.load() - allocs_before) / (n > 0 ? n : 1);
}

void BM_parse_get_browser(benchmark::State& state) { parse(state, browser_get, 0); }
void BM_parse_get_wrk(benchmark::State& state) { parse(state, wrk_get, 0); }
void BM_parse_post_json_1k(benchmark::State& state) { parse(state, json_post, body_1k.size()); }
void BM_parse_post_chunked_1k(benchmark::State& state) {
  parse(state, chunked_post, body_1k.size());
}

BENCHMARK(BM_parse_get_browser);
BENCHMARK(BM_parse_get_wrk);
BENCHMARK(BM_parse_post_json_1k);
BENCHMARK(BM_parse_post_chunked_1k);
}  // namespace
