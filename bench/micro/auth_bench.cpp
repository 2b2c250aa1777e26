// Authorizers' hot parts. Goals (issue 6): verifying a JWT (decode, key lookup, RS256 signature,
// claims) costs no more than the RSA verification itself plus 10 %; a cached custom authorizer's
// decision (cache lookup plus policy evaluation) is a small part of a request (the < 5 % goal
// is measured end to end by bench/load.sh).

#include "alloc_counter.hpp"
#include "auth/jwt.hpp"
#include "auth/policy.hpp"
#include "auth/result_cache.hpp"

#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {
using namespace gatehouse::auth;

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// RFC 7515 A.2's RSA key and a Cognito-style RS256 access token signed with it (valid to 2100).
struct vectors {
  key_set keys;
  std::string token;
  vectors() {
    const std::string dir = GATEHOUSE_VECTORS_DIR "/jwt/";
    std::string why;
    auto set = key_set::parse(read(dir + "jwks_rfc7515_public.json"), &why);
    if (!set) throw std::runtime_error(why);
    keys = std::move(*set);
    rapidjson::Document d;
    auto text = read(dir + "derived/cognito_style_tokens_rfc7515_A2_key.json");
    d.Parse(text.data(), text.size());
    token = d["tokens"]["cognito_access_valid_until_2100"]["token"].GetString();
  }
};
const vectors& v() {
  static const vectors instance;
  return instance;
}

/// Heap allocations (operator new) per iteration; BoringSSL's own mallocs are not counted.
void report_allocations(benchmark::State& state, std::size_t before) {
  state.counters["allocs/op"] =
      benchmark::Counter(static_cast<double>(bench::allocations.load() - before) /
                         static_cast<double>(state.iterations() > 0 ? state.iterations() : 1));
}

/// EVP_DigestVerify with SHA-256 (it allocates its contexts per call).
bool evp_verify(EVP_PKEY* key, std::string_view signature, std::string_view data) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                             data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

// The RSA verification alone, the cheapest way the library offers, as verify_signature does it:
// with BoringSSL a SHA-256 of the token's signing input on the stack, then RSA_verify
// (RSA-2048); with OpenSSL 3, which deprecates RSA_verify, EVP_DigestVerify. The goal's baseline.
void BM_rsa_verify_only(benchmark::State& state) {
  std::string why;
  auto token = jwt::decode(v().token, &why);
  const jwk* key = v().keys.find(token->kid);
#if defined(OPENSSL_IS_BORINGSSL)
  RSA* rsa = EVP_PKEY_get0_RSA(key->key.get());
#endif
  const auto before = bench::allocations.load();
  for (auto _ : state) {
#if defined(OPENSSL_IS_BORINGSSL)
    std::uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const std::uint8_t*>(token->signing_input.data()),
           token->signing_input.size(), digest);
    bool ok = RSA_verify(NID_sha256, digest, sizeof digest,
                         reinterpret_cast<const std::uint8_t*>(token->signature.data()),
                         token->signature.size(), rsa) == 1;
#else
    bool ok = evp_verify(key->key.get(), token->signature, token->signing_input);
#endif
    benchmark::DoNotOptimize(ok);
    if (!ok) state.SkipWithError("the vector does not verify");
  }
  report_allocations(state, before);
}
BENCHMARK(BM_rsa_verify_only);

// The same through EVP_DigestVerify, for reference.
void BM_rsa_verify_evp(benchmark::State& state) {
  std::string why;
  auto token = jwt::decode(v().token, &why);
  const jwk* key = v().keys.find(token->kid);
  for (auto _ : state) {
    bool ok = evp_verify(key->key.get(), token->signature, token->signing_input);
    benchmark::DoNotOptimize(ok);
    if (!ok) state.SkipWithError("the vector does not verify");
  }
}
BENCHMARK(BM_rsa_verify_evp);

// verify_signature on a token decoded once: the RSA verification plus the checks around it.
void BM_jwt_verify_signature(benchmark::State& state) {
  std::string why;
  auto token = jwt::decode(v().token, &why);
  const jwk* key = v().keys.find(token->kid);
  const auto before = bench::allocations.load();
  for (auto _ : state) {
    bool ok = verify_signature(*token, *key, &why);
    benchmark::DoNotOptimize(ok);
    if (!ok) state.SkipWithError("the vector does not verify");
  }
  report_allocations(state, before);
}
BENCHMARK(BM_jwt_verify_signature);

// What the JWT authorizer does per request with a cached JWKS: decode (base64url, JSON), find the
// key by kid, verify, check iss / client_id / token_use / exp / nbf / iat.
void BM_jwt_rs256_whole(benchmark::State& state) {
  claim_rules rules;
  rules.issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE";
  rules.audiences = {"3n4b5urk1ft4fl3mg5e62d9ado"};
  rules.now = std::chrono::system_clock::now();
  const auto before = bench::allocations.load();
  for (auto _ : state) {
    std::string why;
    auto token = jwt::decode(v().token, &why);
    const jwk* key = token ? v().keys.find(token->kid) : nullptr;
    bool ok = key && verify_signature(*token, *key, &why) && !check_claims(*token, rules);
    benchmark::DoNotOptimize(ok);
    if (!ok) state.SkipWithError("the vector does not pass");
  }
  report_allocations(state, before);
}
BENCHMARK(BM_jwt_rs256_whole);

// The parts around the signature: decode and claims only.
void BM_jwt_decode_and_claims(benchmark::State& state) {
  claim_rules rules;
  rules.issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE";
  rules.audiences = {"3n4b5urk1ft4fl3mg5e62d9ado"};
  rules.now = std::chrono::system_clock::now();
  const auto before = bench::allocations.load();
  for (auto _ : state) {
    std::string why;
    auto token = jwt::decode(v().token, &why);
    bool ok = token && !check_claims(*token, rules);
    benchmark::DoNotOptimize(ok);
  }
  report_allocations(state, before);
}
BENCHMARK(BM_jwt_decode_and_claims);

constexpr const char* allow_all =
    R"({"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]})";
constexpr const char* method_arn =
    "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/pets/1";

// A cached custom authorizer's decision: the result by token, then its policy for this method.
void BM_cached_authorizer_decision(benchmark::State& state) {
  result_cache cache(100000);
  auto a = std::make_shared<authorization>();
  a->principal_id = "user";
  a->policy_document = policy::parse(allow_all, nullptr);
  const std::string token = "Bearer allow";
  cache.put(token, a, result_cache::clock::now() + std::chrono::hours(1));
  request_facts facts;
  facts.resource = method_arn;
  facts.source_ip = "127.0.0.1";
  for (auto _ : state) {
    auto hit = cache.find(token, result_cache::clock::now());
    auto d = hit ? hit->policy_document->evaluate(facts) : decision::implicit_deny;
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_cached_authorizer_decision)->Threads(1)->Threads(2);

// A resource policy with an IP allow-list and a deny-list, evaluated per request.
void BM_resource_policy_ip(benchmark::State& state) {
  auto p = policy::parse(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*",
     "Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","127.0.0.0/8","2001:db8::/32"]}}},
    {"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*/DELETE/*",
     "Condition":{"NotIpAddress":{"aws:SourceIp":"127.0.0.1/32"}}}]})",
                         nullptr, nullptr);
  arn_base base{"*", "*", "abcdef1234"};
  auto q = policy::parse(
      R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","127.0.0.0/8"]}}}]})",
      nullptr, &base);
  request_facts facts;
  facts.resource = method_arn;
  facts.source_ip = "127.0.0.1";
  for (auto _ : state) {
    auto d = q->evaluate(facts);
    benchmark::DoNotOptimize(d);
  }
  benchmark::DoNotOptimize(p);
}
BENCHMARK(BM_resource_policy_ip);

}  // namespace
