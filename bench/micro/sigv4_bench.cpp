// SigV4 (issue 7). Goal: verifying a typical signed GET costs under 5 µs: canonicalisation, the
// SHA-256 of the canonical request and one HMAC-SHA256 with the day's signing key from the
// cache (a cache miss adds the four HMACs of the key derivation). Reports allocations per
// operation next to the time.

#include "alloc_counter.hpp"
#include "auth/sigv4.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {
namespace sigv4 = gatehouse::auth::sigv4;

constexpr std::string_view access_key = "AKIDEXAMPLE";
constexpr std::string_view secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const sigv4::time_point signed_at{std::chrono::seconds(1440938160)};  // 20150830T123600Z

/// A GET as a browser-less client sends it to execute-api: six header fields, of which Host and
/// X-Amz-Date are signed (as aws4 and curl --aws-sigv4 sign a GET), and a short query.
struct typical_get {
  std::string method = "GET";
  std::string path = "/prod/pets/42";
  std::string query = "limit=10&type=dog";
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Host", "abcdef1234.execute-api.us-east-1.amazonaws.com"},
      {"Accept", "application/json"},
      {"Accept-Encoding", "gzip, deflate"},
      {"User-Agent", "aws4/1.13 node/20"},
  };
  std::vector<sigv4::header_field> fields;

  typical_get() {
    sigv4::signing_params p;
    p.creds = {access_key, secret_key, {}};
    p.region = "us-east-1";
    p.service = "execute-api";
    p.time = signed_at;
    // Sign Host only, as aws4 does for a GET; the signer adds X-Amz-Date.
    std::vector<sigv4::header_field> host = {{headers[0].first, headers[0].second}};
    const auto s = sigv4::sign({method, path, query, host, {}}, p);
    headers.emplace_back("X-Amz-Date", s.amz_date);
    headers.emplace_back("Authorization", s.authorization);
    for (const auto& [name, value] : headers) fields.push_back({name, value});
  }
  sigv4::signed_request view() const { return {method, path, query, fields, {}}; }
};

sigv4::verifier make_verifier() {
  return sigv4::verifier({.region = "us-east-1"}, [](std::string_view key) {
    return key == access_key ? std::optional<std::string>(secret_key) : std::nullopt;
  });
}

/// Allocations per operation; the counter is process-wide, so only single-threaded runs report.
void report_allocations(benchmark::State& state, std::size_t before) {
  if (state.threads() != 1) return;
  state.counters["allocs/op"] =
      benchmark::Counter(static_cast<double>(bench::allocations.load() - before) /
                         static_cast<double>(state.iterations() > 0 ? state.iterations() : 1));
}

// The goal: a signed GET verified with the signing key cached (every request after the first of
// the day for a key).
void BM_sigv4_verify_get(benchmark::State& state) {
  const typical_get request;
  const auto verifier = make_verifier();
  if (!verifier.verify(request.view(), signed_at).ok()) {
    state.SkipWithError("the request does not verify");
    return;
  }
  const auto before = bench::allocations.load();
  for (auto _ : state) {
    auto v = verifier.verify(request.view(), signed_at);
    benchmark::DoNotOptimize(v);
  }
  report_allocations(state, before);
}
BENCHMARK(BM_sigv4_verify_get)->Threads(1)->Threads(2);

// The same request refused for a bad signature (the message quotes the canonical request).
void BM_sigv4_verify_get_bad_signature(benchmark::State& state) {
  typical_get request;
  request.headers.back().second.back() ^= 1;
  request.fields.back().value = request.headers.back().second;
  const auto verifier = make_verifier();
  const auto before = bench::allocations.load();
  for (auto _ : state) {
    auto v = verifier.verify(request.view(), signed_at);
    benchmark::DoNotOptimize(v);
  }
  report_allocations(state, before);
}
BENCHMARK(BM_sigv4_verify_get_bad_signature);

// The key derivation a cache miss adds: four HMAC-SHA256.
void BM_sigv4_signing_key(benchmark::State& state) {
  for (auto _ : state) {
    auto key = sigv4::signing_key(secret_key, "20150830", "us-east-1", "execute-api");
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_sigv4_signing_key);

// The outgoing side: signing a GET (key derived each time).
void BM_sigv4_sign_get(benchmark::State& state) {
  const typical_get request;
  std::vector<sigv4::header_field> host = {request.fields[0]};
  sigv4::signing_params p;
  p.creds = {access_key, secret_key, {}};
  p.region = "us-east-1";
  p.service = "execute-api";
  p.time = signed_at;
  const auto before = bench::allocations.load();
  for (auto _ : state) {
    auto s = sigv4::sign({request.method, request.path, request.query, host, {}}, p);
    benchmark::DoNotOptimize(s);
  }
  report_allocations(state, before);
}
BENCHMARK(BM_sigv4_sign_get);

// A presigned GET verified (its query carries the seven X-Amz-* parameters).
void BM_sigv4_verify_presigned_get(benchmark::State& state) {
  typical_get request;
  sigv4::presign_params p;
  p.signing.creds = {access_key, secret_key, {}};
  p.signing.region = "us-east-1";
  p.signing.service = "execute-api";
  p.signing.time = signed_at;
  std::vector<sigv4::header_field> host = {request.fields[0]};
  request.query = sigv4::presign({request.method, request.path, request.query, host, {}}, p).query;
  const sigv4::signed_request view{request.method, request.path, request.query, host, {}};
  const auto verifier = make_verifier();
  if (!verifier.verify(view, signed_at).ok()) {
    state.SkipWithError("the presigned request does not verify");
    return;
  }
  const auto before = bench::allocations.load();
  for (auto _ : state) {
    auto v = verifier.verify(view, signed_at);
    benchmark::DoNotOptimize(v);
  }
  report_allocations(state, before);
}
BENCHMARK(BM_sigv4_verify_presigned_get);

}  // namespace
