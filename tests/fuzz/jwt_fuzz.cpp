// Fuzz target: a bearer token from a client and a JWK Set from an issuer's URL, separated by a
// line "====" (without one, the token is checked against the RFC 7515 keys). The token is
// decoded (header, payload, claims, scopes) and checked against every key of the set that its
// kid names; the key set is parsed. Nothing may crash, hang, leak or read out of bounds, and
// what decodes must be consistent: base64url round-trips, views stay inside the token.

#include "auth/jwt.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

// The RFC 7515 A.2 (RSA) and A.3 (P-256) public keys, as an issuer publishes them.
constexpr std::string_view default_keys = R"({"keys":[
{"kty":"RSA","kid":"2010-12-29","alg":"RS256","use":"sig","e":"AQAB","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"},
{"kty":"EC","kid":"e9bc097a-ce51-4036-9562-d2ade882db0d","crv":"P-256","alg":"ES256","use":"sig","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})";

const gatehouse::auth::key_set& fixed_keys() {
  static const auto keys = *gatehouse::auth::key_set::parse(default_keys, nullptr);
  return keys;
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void check_token(std::string_view text, const gatehouse::auth::key_set& keys) {
  using namespace gatehouse::auth;
  // Each dot-separated part alone: what decodes encodes back to the same text (one encoding
  // per byte string).
  for (std::size_t start = 0; start <= text.size();) {
    std::size_t dot = text.find('.', start);
    if (dot == std::string_view::npos) dot = text.size();
    const std::string_view part = text.substr(start, dot - start);
    if (part.size() <= max_token_size) {
      if (auto bytes = base64url_decode(part)) check(base64url_encode(*bytes) == part);
    }
    start = dot + 1;
  }

  std::string why;
  if (auto jws = jwt::decode_jws(text, &why)) check(inside(jws->signing_input, text));
  auto token = jwt::decode(text, &why);
  if (!token) {
    check(!why.empty());
    return;
  }
  check(text.size() <= max_token_size);
  check(inside(token->signing_input, text) && token->claims.IsObject());
  const claim_rules rules{
      .issuer = "joe",
      .audiences = {"3n4b5urk1ft4fl3mg5e62d9ado", "petstore"},
      .scopes = {"read", "pets/write"},
      .now = std::chrono::system_clock::time_point(std::chrono::seconds(1300819300))};
  (void)check_claims(*token, rules);
  (void)check_claims(*token, claim_rules{.now = rules.now});
  for (const auto& scope : token_scopes(*token)) check(!scope.empty());
  if (const jwk* key = keys.find(token->kid)) (void)verify_signature(*token, *key, &why);
  // Every key, whatever its kid: the alg / kty / curve checks meet keys of each kind.
  for (const auto& key : keys.keys) (void)verify_signature(*token, key, &why);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view separator = "\n====\n";
  const std::size_t split = input.find(separator);
  const std::string_view token = input.substr(0, split);
  if (split == std::string_view::npos) {
    check_token(token, fixed_keys());
    return 0;
  }
  std::string why;
  const auto keys = gatehouse::auth::key_set::parse(input.substr(split + separator.size()), &why);
  if (!keys) {
    check(!why.empty());
    check_token(token, fixed_keys());
    return 0;
  }
  for (const auto& key : keys->keys) check(key.key != nullptr);
  check_token(token, *keys);
  return 0;
}
