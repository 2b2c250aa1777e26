// JWT decoding, JWKS keys, signatures and claims: the RFC 7515 / 7520 vectors, the derived
// negative and Cognito-style vectors (../shared/vectors/jwt/README.txt), and tokens minted here.

#include "auth/jwt.hpp"
#include "jwt_mint.hpp"

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace gatehouse;
using Catch::Matchers::Contains;

namespace {

std::string slurp(const std::string& relative) {
  std::ifstream in(std::string(GATEHOUSE_VECTORS_DIR) + "/jwt/" + relative, std::ios::binary);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

rapidjson::Document load(const std::string& relative) {
  rapidjson::Document doc;
  doc.Parse(slurp(relative).c_str());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

std::string text(const rapidjson::Value& object, const char* name) {
  REQUIRE(object.HasMember(name));
  return std::string(object[name].GetString(), object[name].GetStringLength());
}

std::chrono::system_clock::time_point at(std::int64_t seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

auth::key_set keys_from(const std::string& json) {
  std::string why;
  auto keys = auth::key_set::parse(json, &why);
  INFO(why);
  REQUIRE(keys);
  return std::move(*keys);
}

/// What an authorizer does: decode, find the key by kid, verify, check the claims.
/// "" when accepted, else the reason.
std::string refusal(std::string_view token, const auth::key_set& keys,
                    const auth::claim_rules& rules) {
  std::string why;
  auto jwt = auth::jwt::decode(token, &why);
  if (!jwt) return why;
  const auth::jwk* key = keys.find(jwt->kid);
  if (!key) return "no key for kid";
  if (!auth::verify_signature(*jwt, *key, &why)) return why;
  if (auto reason = auth::check_claims(*jwt, rules)) return *reason;
  return "";
}

/// Verifies `token` with `key` only (no claims); "" when the signature is good.
std::string signature_refusal(std::string_view token, const auth::jwk& key) {
  std::string why;
  auto jwt = auth::jwt::decode_jws(token, &why);
  if (!jwt) return why;
  return auth::verify_signature(*jwt, key, &why) ? "" : why;
}

/// check_claims on an unsigned token carrying `claims_json`.
std::optional<std::string> claims_check(std::string_view claims_json,
                                        const auth::claim_rules& rules) {
  std::string token = "eyJhbGciOiJub25lIn0." + auth::base64url_encode(claims_json) + ".";
  std::string why;
  auto jwt = auth::jwt::decode(token, &why);
  INFO(why);
  REQUIRE(jwt);
  return auth::check_claims(*jwt, rules);
}

std::vector<std::string> scopes_of(std::string_view claims_json) {
  std::string token = "eyJhbGciOiJub25lIn0." + auth::base64url_encode(claims_json) + ".";
  auto jwt = auth::jwt::decode(token, nullptr);
  REQUIRE(jwt);
  return auth::token_scopes(*jwt);
}

/// A JWK from JSON text; nullopt when refused.
std::optional<auth::jwk> jwk_of(const std::string& json, std::string* why = nullptr) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  return auth::jwk::parse(doc, why);
}

/// The token with its three parts replaced where given.
std::string with_parts(std::string_view token, std::optional<std::string> header,
                       std::optional<std::string> payload, std::optional<std::string> signature) {
  std::size_t first = token.find('.');
  std::size_t second = token.find('.', first + 1);
  std::string h(token.substr(0, first));
  std::string p(token.substr(first + 1, second - first - 1));
  std::string s(token.substr(second + 1));
  return (header ? *header : h) + "." + (payload ? *payload : p) + "." +
         (signature ? *signature : s);
}

const std::string cognito_issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE";
const std::string cognito_client = "3n4b5urk1ft4fl3mg5e62d9ado";

}  // namespace

// ---------------------------------------------------------------------------------------------
// base64url
// ---------------------------------------------------------------------------------------------

TEST_CASE("base64url round-trips and refuses what is not canonical base64url", "[jwt]") {
  std::mt19937 random(7);
  for (std::size_t n = 0; n < 70; ++n) {
    std::string bytes(n, '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    std::string encoded = auth::base64url_encode(bytes);
    CHECK(encoded.find_first_of("=+/") == std::string::npos);
    CHECK(auth::base64url_decode(encoded) == bytes);
  }
  CHECK(auth::base64url_encode("\xfb\xff") == "-_8");
  CHECK(auth::base64url_decode("") == std::string());
  CHECK(auth::base64url_decode("QQ") == std::string("A"));
  CHECK_FALSE(auth::base64url_decode("QR"));      // non-zero unused bits
  CHECK_FALSE(auth::base64url_decode("QQ=="));    // padding
  CHECK_FALSE(auth::base64url_decode("+/8"));     // standard alphabet
  CHECK_FALSE(auth::base64url_decode("QUJD R"));  // space
  CHECK_FALSE(auth::base64url_decode("QUJDR"));   // 5 characters: 30 bits end no byte
  CHECK_FALSE(auth::base64url_decode(std::string("QQ\0", 3)));
}

// ---------------------------------------------------------------------------------------------
// RFC 7515 Appendix A
// ---------------------------------------------------------------------------------------------

TEST_CASE("RFC 7515 A.2: RS256 verifies; accepted only with the clock before exp", "[jwt]") {
  auto vectors = load("rfc7515_appendix_A.json");
  const auto& a2 = vectors["A.2_RS256"];
  auto keys = keys_from(slurp("jwks_rfc7515_public.json"));
  REQUIRE(keys.keys.size() == 2);
  const auth::jwk* key = keys.find("2010-12-29");
  REQUIRE(key);
  CHECK(key->kty == "RSA");
  CHECK(key->alg == "RS256");

  std::string compact = text(a2, "compact");
  std::string why;
  auto jwt = auth::jwt::decode(compact, &why);
  INFO(why);
  REQUIRE(jwt);
  CHECK(jwt->alg == "RS256");
  CHECK(jwt->kid.empty());
  CHECK(jwt->payload == text(vectors, "payload_bytes_utf8"));
  CHECK(jwt->signing_input == compact.substr(0, compact.rfind('.')));
  CHECK(std::string(jwt->claims["iss"].GetString()) == "joe");
  CHECK(auth::verify_signature(*jwt, *key, &why));

  auth::claim_rules rules;
  rules.now = at(1300819300);
  CHECK(auth::check_claims(*jwt, rules) == std::nullopt);
  rules.now = std::chrono::system_clock::now();
  CHECK(auth::check_claims(*jwt, rules) == std::string(auth::reason::expired));
  rules.now = at(1300819380 + 60);  // exp + leeway: expired
  CHECK(auth::check_claims(*jwt, rules) == std::string(auth::reason::expired));
  rules.now = at(1300819380 + 59);
  CHECK(auth::check_claims(*jwt, rules) == std::nullopt);
  rules.now = at(1300819300);
  rules.issuer = "joe";
  CHECK(auth::check_claims(*jwt, rules) == std::nullopt);
  rules.issuer = "jon";
  CHECK(auth::check_claims(*jwt, rules) == std::string(auth::reason::no_issuer));
}

TEST_CASE("RFC 7515 A.2: re-signing with the private JWK reproduces the signature", "[jwt]") {
  auto vectors = load("rfc7515_appendix_A.json");
  const auto& a2 = vectors["A.2_RS256"];
  const auto& k = a2["jwk_private"];
  std::string n = text(k, "n"), e = text(k, "e"), d = text(k, "d"), p = text(k, "p"),
              q = text(k, "q"), dp = text(k, "dp"), dq = text(k, "dq"), qi = text(k, "qi");
  auto key = test::rsa_private_key({n, e, d, p, q, dp, dq, qi});
  std::string token = test::sign_token(key.get(), "RS256", text(a2, "protected_header_bytes"),
                                       text(vectors, "payload_bytes_utf8"));
  CHECK(token == text(a2, "compact"));
}

TEST_CASE("RFC 7515 A.3: ES256 (raw R||S) verifies", "[jwt]") {
  auto vectors = load("rfc7515_appendix_A.json");
  const auto& a3 = vectors["A.3_ES256"];
  auto keys = keys_from(slurp("jwks_rfc7515_public.json"));
  const auth::jwk* key = keys.find("e9bc097a-ce51-4036-9562-d2ade882db0d");
  REQUIRE(key);
  CHECK(key->kty == "EC");
  CHECK(key->crv == "P-256");
  CHECK(signature_refusal(text(a3, "compact"), *key) == "");

  // The private JWK (it has "d") gives the same public key.
  std::string why;
  rapidjson::Document jwk_doc;
  jwk_doc.CopyFrom(a3["jwk_private"], jwk_doc.GetAllocator());
  auto from_private = auth::jwk::parse(jwk_doc, &why);
  INFO(why);
  REQUIRE(from_private);
  CHECK(signature_refusal(text(a3, "compact"), *from_private) == "");

  // The A.2 RSA key cannot verify it: an ES256 token against an RSA key.
  CHECK_THAT(signature_refusal(text(a3, "compact"), *keys.find("2010-12-29")),
             Contains("does not match the key type"));
}

TEST_CASE("RFC 7515 A.1 (HS256) and A.5 (none) are refused", "[jwt]") {
  auto vectors = load("rfc7515_appendix_A.json");
  auto keys = keys_from(slurp("jwks_rfc7515_public.json"));
  auth::claim_rules rules;
  rules.now = at(1300819300);

  std::string hs256 = text(vectors["A.1_HS256"], "compact");
  auto jwt = auth::jwt::decode(hs256, nullptr);
  REQUIRE(jwt);
  CHECK(jwt->typ == "JWT");
  for (const auto& key : keys.keys) {
    std::string why;
    CHECK_FALSE(auth::verify_signature(*jwt, key, &why));
    CHECK(why == "signing method HS256 is invalid");
  }
  // Its oct key is no key of ours.
  std::string why;
  rapidjson::Document oct;
  oct.CopyFrom(vectors["A.1_HS256"]["jwk"], oct.GetAllocator());
  CHECK_FALSE(auth::jwk::parse(oct, &why));
  CHECK(why == "the JWK type is not supported");

  std::string none = text(vectors["A.5_unsecured"], "compact");
  jwt = auth::jwt::decode(none, nullptr);
  REQUIRE(jwt);
  CHECK(jwt->alg == "none");
  CHECK(jwt->signature.empty());
  for (const auto& key : keys.keys) {
    CHECK_FALSE(auth::verify_signature(*jwt, key, &why));
    CHECK(why == "signing method none is invalid");
  }
}

TEST_CASE("RFC 7515 A.6: both signatures verify with the key found by kid", "[jwt]") {
  auto vectors = load("rfc7515_appendix_A.json");
  const auto& a6 = vectors["A.6_general_json"];
  auto keys = keys_from(slurp("jwks_rfc7515_public.json"));
  std::string payload = text(a6, "payload");
  REQUIRE(a6["signatures"].Size() == 2);
  for (const auto& signature : a6["signatures"].GetArray()) {
    std::string kid = text(signature["header"], "kid");
    INFO(kid);
    const auth::jwk* key = keys.find(kid);
    REQUIRE(key);
    std::string token =
        text(signature, "protected") + "." + payload + "." + text(signature, "signature");
    CHECK(signature_refusal(token, *key) == "");
  }
}

// ---------------------------------------------------------------------------------------------
// RFC 7520
// ---------------------------------------------------------------------------------------------

TEST_CASE("RFC 7520 4.1: RS256 verifies with the key found by kid in its JWKS", "[jwt]") {
  auto vector = load("rfc7520_cookbook/4_1.rsa_v15_signature.json");
  std::string compact = text(vector["output"], "compact");
  auto keys = keys_from(slurp("jwks_rfc7520_bilbo_rsa_public.json"));

  // Its payload is text, not claims: a JWS but no JWT.
  std::string why;
  CHECK_FALSE(auth::jwt::decode(compact, &why));
  CHECK(why == auth::reason::not_an_object);
  auto jws = auth::jwt::decode_jws(compact, &why);
  REQUIRE(jws);
  CHECK(jws->payload == text(vector["input"], "payload"));
  CHECK(jws->kid == "bilbo.baggins@hobbiton.example");
  CHECK(jws->claims.IsNull());
  const auth::jwk* key = keys.find(jws->kid);
  REQUIRE(key);
  CHECK(auth::verify_signature(*jws, *key, &why));
  CHECK(auth::check_claims(*jws, {}) == std::string(auth::reason::not_an_object));
}

TEST_CASE("RFC 7520 4.3: ES512 (P-521, 132-byte signature) verifies", "[jwt]") {
  auto vector = load("rfc7520_cookbook/4_3.ecdsa_signature.json");
  rapidjson::Document jwk_doc;
  jwk_doc.CopyFrom(vector["input"]["key"], jwk_doc.GetAllocator());
  std::string why;
  auto key = auth::jwk::parse(jwk_doc, &why);
  INFO(why);
  REQUIRE(key);
  CHECK(key->crv == "P-521");
  std::string compact = text(vector["output"], "compact");
  auto jws = auth::jwt::decode_jws(compact, &why);
  REQUIRE(jws);
  CHECK(jws->signature.size() == 132);
  CHECK(auth::verify_signature(*jws, *key, &why));

  // The same key under another name for its curve's alg does not verify ES256 / ES384.
  for (std::string alg : {"ES256", "ES384"}) {
    auth::jwt other = std::move(*auth::jwt::decode_jws(compact, nullptr));
    other.alg = alg;
    CHECK_FALSE(auth::verify_signature(other, *key, &why));
    CHECK_THAT(why, Contains("does not match the key's curve"));
  }
}

// ---------------------------------------------------------------------------------------------
// Derived vectors
// ---------------------------------------------------------------------------------------------

TEST_CASE("derived negatives from RFC 7515 A.2 are all refused", "[jwt]") {
  auto vectors = load("derived/negative_from_rfc7515_A2.json");
  auto keys = keys_from(slurp("jwks_rfc7515_public.json"));
  const auth::jwk& key = *keys.find("2010-12-29");
  auth::claim_rules rules;
  rules.now = at(1300819300);  // so that only the signature can refuse them
  int count = 0;
  for (const auto& entry : std::as_const(vectors).GetObject()) {
    std::string name = entry.name.GetString();
    INFO(name);
    std::string token = text(entry.value, "token");
    std::string why;
    auto jwt = auth::jwt::decode(token, &why);
    REQUIRE(jwt);  // well-formed: the signature is what is wrong
    CHECK(auth::check_claims(*jwt, rules) == std::nullopt);
    CHECK_FALSE(auth::verify_signature(*jwt, key, &why));
    if (name == "a2_alg_confusion_hs256_with_rsa_pubkey_pem") {
      CHECK(why == "signing method HS256 is invalid");
    } else if (name == "a2_signature_stripped") {
      CHECK(why == "the token has no signature");
    } else {
      CHECK(why == "the token's signature is invalid");
    }
    ++count;
  }
  CHECK(count == 4);
}

TEST_CASE("derived Cognito-style tokens are accepted and refused as the README says", "[jwt]") {
  auto vectors = load("derived/cognito_style_tokens_rfc7515_A2_key.json");
  REQUIRE(text(vectors, "expected_issuer") == cognito_issuer);
  REQUIRE(text(vectors, "expected_client_id") == cognito_client);
  auto keys = keys_from(slurp("jwks_rfc7515_public.json"));
  const auto& tokens = vectors["tokens"];
  auto token = [&](const char* name) { return text(tokens[name], "token"); };

  auth::claim_rules access;  // the real clock
  access.issuer = cognito_issuer;
  access.audiences = {cognito_client};
  access.token_use = "access";
  auth::claim_rules id = access;
  id.token_use = "id";
  auth::claim_rules any = access;
  any.token_use = "";

  CHECK(refusal(token("cognito_access_valid_until_2100"), keys, access) == "");
  CHECK(refusal(token("cognito_access_valid_until_2100"), keys, any) == "");
  CHECK(refusal(token("cognito_access_expired"), keys, access) == auth::reason::expired);
  CHECK(refusal(token("cognito_id_token_valid_until_2100"), keys, id) == "");
  CHECK(refusal(token("cognito_id_token_valid_until_2100"), keys, access) ==
        auth::reason::no_token_use);
  CHECK(refusal(token("cognito_access_wrong_issuer"), keys, access) == auth::reason::no_issuer);
  CHECK(refusal(token("cognito_access_not_yet_valid_nbf"), keys, access) ==
        auth::reason::not_yet_valid);

  // The access tokens carry client_id, the id token aud: both are the app client.
  auth::claim_rules other_client = any;
  other_client.audiences = {"someone-else"};
  CHECK(refusal(token("cognito_access_valid_until_2100"), keys, other_client) ==
        auth::reason::no_audience);
  CHECK(refusal(token("cognito_id_token_valid_until_2100"), keys, other_client) ==
        auth::reason::no_audience);

  // Scopes: "pets/read pets/write".
  auth::claim_rules scoped = access;
  scoped.scopes = {"pets/delete", "pets/write"};
  CHECK(refusal(token("cognito_access_valid_until_2100"), keys, scoped) == "");
  scoped.scopes = {"pets/delete"};
  CHECK(refusal(token("cognito_access_valid_until_2100"), keys, scoped) == auth::reason::no_scope);
  auto jwt = auth::jwt::decode(token("cognito_access_valid_until_2100"), nullptr);
  REQUIRE(jwt);
  CHECK(auth::token_scopes(*jwt) == std::vector<std::string>{"pets/read", "pets/write"});
}

TEST_CASE("derived Cognito-style tokens are reproduced byte for byte by re-signing", "[jwt]") {
  auto rfc = load("rfc7515_appendix_A.json");
  const auto& k = rfc["A.2_RS256"]["jwk_private"];
  std::string n = text(k, "n"), e = text(k, "e"), d = text(k, "d"), p = text(k, "p"),
              q = text(k, "q"), dp = text(k, "dp"), dq = text(k, "dq"), qi = text(k, "qi");
  auto key = test::rsa_private_key({n, e, d, p, q, dp, dq, qi});
  auto vectors = load("derived/cognito_style_tokens_rfc7515_A2_key.json");
  for (const auto& entry : std::as_const(vectors)["tokens"].GetObject()) {
    INFO(entry.name.GetString());
    std::string token = text(entry.value, "token");
    std::size_t first = token.find('.');
    std::size_t second = token.find('.', first + 1);
    auto header = auth::base64url_decode(std::string_view(token).substr(0, first));
    auto payload =
        auth::base64url_decode(std::string_view(token).substr(first + 1, second - first - 1));
    REQUIRE(header);
    REQUIRE(payload);
    CHECK(test::sign_token(key.get(), "RS256", *header, *payload) == token);
  }
}

// ---------------------------------------------------------------------------------------------
// Tokens minted here
// ---------------------------------------------------------------------------------------------

namespace {

const std::string good_claims =
    R"({"iss":"https://issuer.example","client_id":"app","token_use":"access",)"
    R"("scope":"read write","exp":4102444800,"iat":1700000000})";

auth::claim_rules minted_rules() {
  auth::claim_rules rules;
  rules.issuer = "https://issuer.example";
  rules.audiences = {"app"};
  rules.token_use = "access";
  return rules;
}

}  // namespace

TEST_CASE("minted RS256 and ES256 tokens verify through their JWKS", "[jwt]") {
  const auto& mint = test::test_keys::shared();
  auto keys = keys_from(mint.jwks_json("rsa-1", "ec-1"));
  REQUIRE(keys.keys.size() == 2);
  CHECK(refusal(mint.sign_rs256("rsa-1", good_claims), keys, minted_rules()) == "");
  CHECK(refusal(mint.sign_es256("ec-1", good_claims), keys, minted_rules()) == "");
  // ECDSA is randomised: two signatures differ, both verify.
  CHECK(mint.sign_es256("ec-1", good_claims) != mint.sign_es256("ec-1", good_claims));
}

TEST_CASE("minted tokens: tampering is refused", "[jwt]") {
  const auto& mint = test::test_keys::shared();
  auto keys = keys_from(mint.jwks_json("rsa-1", "ec-1"));
  auto rules = minted_rules();

  SECTION("tampered payload") {
    for (const std::string& token :
         {mint.sign_rs256("rsa-1", good_claims), mint.sign_es256("ec-1", good_claims)}) {
      std::string claims = good_claims;
      claims.replace(claims.find("read write"), 10, "read admin");
      std::string forged = with_parts(token, {}, auth::base64url_encode(claims), {});
      CHECK(refusal(forged, keys, rules) == "the token's signature is invalid");
    }
  }

  SECTION("header switched to HS256, HMAC'd with the public key's bytes") {
    std::string header = test::test_keys::header_json("HS256", "rsa-1");
    std::string pem = test::public_key_pem(mint.rsa.get());
    CHECK(refusal(test::sign_hs256(pem, header, good_claims), keys, rules) ==
          "signing method HS256 is invalid");
    unsigned char* der = nullptr;
    int size = i2d_PUBKEY(mint.rsa.get(), &der);
    REQUIRE(size > 0);
    std::string spki(reinterpret_cast<char*>(der), static_cast<std::size_t>(size));
    OPENSSL_free(der);
    CHECK(refusal(test::sign_hs256(spki, header, good_claims), keys, rules) ==
          "signing method HS256 is invalid");
    // The alg changed on a real RS256 token, signature kept.
    std::string token = mint.sign_rs256("rsa-1", good_claims);
    std::string forged =
        with_parts(token, auth::base64url_encode(header), std::nullopt, std::nullopt);
    CHECK(refusal(forged, keys, rules) == "signing method HS256 is invalid");
  }

  SECTION("other algs: none, PS256, HS512, junk") {
    for (std::string alg : {"none", "PS256", "HS512", "RS1", "rs256", "ES256K", "EdDSA"}) {
      std::string token =
          test::sign_hs256("k", test::test_keys::header_json(alg, "rsa-1"), good_claims);
      CHECK(refusal(token, keys, rules) == "signing method " + alg + " is invalid");
    }
    // An alg we will not quote in an error_description.
    std::string token = test::sign_hs256("k", R"({"alg":"x\"y","kid":"rsa-1"})", good_claims);
    CHECK(refusal(token, keys, rules) == "the signing method is invalid");
  }

  SECTION("a key of another pair") {
    test::test_keys other;
    std::string token = other.sign_rs256("rsa-1", good_claims);
    CHECK(refusal(token, keys, rules) == "the token's signature is invalid");
    token = other.sign_es256("ec-1", good_claims);
    CHECK(refusal(token, keys, rules) == "the token's signature is invalid");
  }
}

TEST_CASE("minted tokens: kid, kty, alg and curve must all fit", "[jwt]") {
  const auto& mint = test::test_keys::shared();
  auto keys = keys_from(mint.jwks_json("rsa-1", "ec-1"));
  auto rules = minted_rules();

  // An unknown kid, and no kid at all, find no key.
  CHECK(refusal(mint.sign_rs256("rsa-2", good_claims), keys, rules) == "no key for kid");
  std::string no_kid = test::sign_token(mint.rsa.get(), "RS256", R"({"alg":"RS256"})", good_claims);
  CHECK(refusal(no_kid, keys, rules) == "no key for kid");
  CHECK(keys.find("") == nullptr);

  // ES256 token naming the RSA key, RS256 token naming the EC key.
  CHECK_THAT(refusal(mint.sign_es256("rsa-1", good_claims), keys, rules),
             Contains("signing method ES256 does not match the key type"));
  CHECK_THAT(refusal(mint.sign_rs256("ec-1", good_claims), keys, rules),
             Contains("signing method RS256 does not match the key type"));

  // RS384 signed with the RSA key: its JWK says RS256, so no; a JWK without alg verifies it.
  std::string rs384 = test::sign_token(mint.rsa.get(), "RS384",
                                       test::test_keys::header_json("RS384", "rsa-1"), good_claims);
  CHECK(refusal(rs384, keys, rules) == "signing method RS384 does not match the key's alg");
  auto loose =
      keys_from(R"({"keys":[)" + test::public_jwk_json(mint.rsa.get(), "rsa-1", "") + "]}");
  CHECK(refusal(rs384, loose, rules) == "");
  std::string rs512 = test::sign_token(mint.rsa.get(), "RS512",
                                       test::test_keys::header_json("RS512", "rsa-1"), good_claims);
  CHECK(refusal(rs512, loose, rules) == "");

  // ES384 / ES512 against the P-256 key.
  auto loose_ec =
      keys_from(R"({"keys":[)" + test::public_jwk_json(mint.ec.get(), "ec-1", "") + "]}");
  for (std::string alg : {"ES384", "ES512"}) {
    std::string token = test::sign_token(mint.ec.get(), alg,
                                         test::test_keys::header_json(alg, "ec-1"), good_claims);
    CHECK(refusal(token, loose_ec, rules) ==
          "signing method " + alg + " does not match the key's curve");
  }

  // A hand-made jwk whose kty lies about its key.
  auth::jwk liar{"rsa-1", "", "EC", "P-256", mint.rsa};
  auto jwt = auth::jwt::decode(mint.sign_es256("rsa-1", good_claims), nullptr);
  REQUIRE(jwt);
  std::string why;
  CHECK_FALSE(auth::verify_signature(*jwt, liar, &why));
  CHECK(why == "the key does not match its kty");
  auth::jwk empty{"rsa-1", "", "RSA", "", nullptr};
  CHECK_FALSE(auth::verify_signature(*jwt, empty, &why));
  CHECK(why == "the key is missing");
}

TEST_CASE("minted tokens: ES signatures must be raw R||S of the curve's size", "[jwt]") {
  const auto& mint = test::test_keys::shared();
  auto keys = keys_from(mint.jwks_json("rsa-1", "ec-1"));
  const auth::jwk& key = *keys.find("ec-1");
  std::string token = mint.sign_es256("ec-1", good_claims);
  auto jwt = auth::jwt::decode(token, nullptr);
  REQUIRE(jwt);
  REQUIRE(jwt->signature.size() == 64);
  // The signature is a view: each one tried lives in `signature`.
  const std::string raw(jwt->signature);
  std::string signature;

  std::string why;
  for (std::size_t size : {0, 1, 63, 65, 96, 128}) {
    INFO(size);
    signature = raw;
    signature.resize(size, '\x01');
    jwt->signature = signature;
    CHECK_FALSE(auth::verify_signature(*jwt, key, &why));
  }
  jwt->signature = {};
  CHECK_FALSE(auth::verify_signature(*jwt, key, &why));
  CHECK(why == "the token has no signature");
  signature = std::string(64, '\0');  // r = s = 0
  jwt->signature = signature;
  CHECK_FALSE(auth::verify_signature(*jwt, key, &why));
  signature = std::string(64, '\xff');  // r, s above the group order
  jwt->signature = signature;
  CHECK_FALSE(auth::verify_signature(*jwt, key, &why));

  // The DER form OpenSSL produces is not what JWS sends.
  signature = test::mint_detail::digest_sign(mint.ec.get(), EVP_sha256(), jwt->signing_input);
  jwt->signature = signature;
  CHECK_FALSE(auth::verify_signature(*jwt, key, &why));
  jwt->signature = raw;
  CHECK(auth::verify_signature(*jwt, key, &why));
}

TEST_CASE("keyless_refusal: what no key could verify, worded as verify_signature words it",
          "[jwt]") {
  const auto& mint = test::test_keys::shared();
  auto keys = keys_from(mint.jwks_json("rsa-1", "ec-1"));
  auto decoded = [](const std::string& token) {
    std::string why;
    auto jwt = auth::jwt::decode(token, &why);
    INFO(token << ": " << why);
    REQUIRE(jwt);
    return std::move(*jwt);
  };
  const std::string payload = auth::base64url_encode(good_claims);
  auto with_header = [&](std::string_view header, std::string_view signature) {
    return auth::base64url_encode(header) + "." + payload + "." + auth::base64url_encode(signature);
  };

  // Tokens a key must judge: nothing to say without one (a bad signature included).
  CHECK_FALSE(auth::keyless_refusal(decoded(mint.sign_rs256("rsa-1", good_claims))));
  CHECK_FALSE(auth::keyless_refusal(decoded(mint.sign_es256("ec-1", good_claims))));
  CHECK_FALSE(auth::keyless_refusal(
      decoded(with_header(R"({"alg":"ES256","kid":"ec-1"})", std::string(64, '\x01')))));
  CHECK_FALSE(auth::keyless_refusal(
      decoded(with_header(R"({"alg":"RS512","kid":"rsa-1"})", std::string(7, '\x01')))));

  // Refused whatever the key: each reason is the one verify_signature gives with a key that
  // fits the kid.
  struct refused_token {
    std::string token, kid, reason;
  };
  const std::vector<refused_token> cases{
      {with_header(R"({"alg":"none","kid":"rsa-1"})", ""), "rsa-1",
       "signing method none is invalid"},
      {test::sign_hs256("secret", R"({"alg":"HS256","kid":"rsa-1"})", good_claims), "rsa-1",
       "signing method HS256 is invalid"},
      {with_header(R"({"alg":"PS256","kid":"rsa-1"})", "sig"), "rsa-1",
       "signing method PS256 is invalid"},
      {with_header(R"({"alg":"RS 256","kid":"rsa-1"})", "sig"), "rsa-1",
       "the signing method is invalid"},
      {with_header(R"({"alg":"RS256","kid":"rsa-1"})", ""), "rsa-1", "the token has no signature"},
      {with_header(R"({"alg":"ES256","kid":"ec-1"})", std::string(63, '\x01')), "ec-1",
       "the ES256 signature has the wrong length"},
      {with_header(R"({"alg":"ES256","kid":"ec-1"})", std::string(65, '\x01')), "ec-1",
       "the ES256 signature has the wrong length"},
  };
  for (const auto& c : cases) {
    INFO(c.token);
    auto jwt = decoded(c.token);
    auto reason = auth::keyless_refusal(jwt);
    REQUIRE(reason);
    CHECK(*reason == c.reason);
    std::string why;
    CHECK_FALSE(auth::verify_signature(jwt, *keys.find(c.kid), &why));
    CHECK(why == c.reason);
  }
}

TEST_CASE("minted tokens: RSA keys under 2048 bits verify nothing", "[jwt]") {
  auto small = test::mint_detail::generate(1024);
  auto keys =
      keys_from(R"({"keys":[)" + test::public_jwk_json(small.get(), "small", "RS256") + "]}");
  REQUIRE(keys.keys.size() == 1);
  std::string token = test::sign_token(small.get(), "RS256",
                                       test::test_keys::header_json("RS256", "small"), good_claims);
  CHECK(refusal(token, keys, minted_rules()) == "the RSA key has fewer than 2048 bits");
}

// ---------------------------------------------------------------------------------------------
// Claims
// ---------------------------------------------------------------------------------------------

TEST_CASE("claims: aud is evaluated when present, client_id only when it is not", "[jwt]") {
  auth::claim_rules rules;
  rules.audiences = {"app", "app2"};
  auto check = [&](std::string json) {
    return claims_check(R"({"exp":4102444800)" + json + "}", rules);
  };
  CHECK(check(R"(,"client_id":"app")") == std::nullopt);
  CHECK(check(R"(,"aud":"app2")") == std::nullopt);
  CHECK(check(R"(,"aud":["x","app"])") == std::nullopt);
  CHECK(check(R"(,"aud":"other","client_id":"app")") == std::string(auth::reason::no_audience));
  CHECK(check(R"(,"aud":[],"client_id":"app")") == std::string(auth::reason::no_audience));
  CHECK(check(R"(,"aud":"app","client_id":"other")") == std::nullopt);
  CHECK(check("") == std::string(auth::reason::no_audience));
  CHECK(check(R"(,"aud":7)") == std::string(auth::reason::no_audience));
  CHECK(check(R"(,"aud":["APP"])") == std::string(auth::reason::no_audience));
  CHECK(check(R"(,"client_id":["app"],"aud":null)") == std::string(auth::reason::no_audience));
  rules.audiences.clear();
  CHECK(check("") == std::nullopt);
}

TEST_CASE("claims: scope (string) or scp (array or string) must hold a required scope", "[jwt]") {
  CHECK(scopes_of(R"({"scope":"a b  c"})") == std::vector<std::string>{"a", "b", "c"});
  CHECK(scopes_of(R"({"scp":["x","y",3,""]})") == std::vector<std::string>{"x", "y"});
  CHECK(scopes_of(R"({"scp":"x y"})") == std::vector<std::string>{"x", "y"});
  CHECK(scopes_of(R"({"scope":"","scp":["z"]})") == std::vector<std::string>{"z"});
  CHECK(scopes_of(R"({"scope":"s","scp":["z"]})") == std::vector<std::string>{"s"});
  CHECK(scopes_of(R"({"scope":["a","b"]})") == std::vector<std::string>{"a", "b"});
  CHECK(scopes_of(R"({"scope":{"a":1}})").empty());
  CHECK(scopes_of(R"({})").empty());

  auth::claim_rules rules;
  rules.scopes = {"pets/read", "pets/write"};
  auto check = [&](std::string json) {
    return claims_check(R"({"exp":4102444800,)" + json + "}", rules);
  };
  CHECK(check(R"("scope":"openid pets/write")") == std::nullopt);
  CHECK(check(R"("scp":["pets/read"])") == std::nullopt);
  CHECK(check(R"("scp":"profile pets/read")") == std::nullopt);
  CHECK(check(R"("scope":"pets/readx pets")") == std::string(auth::reason::no_scope));
  CHECK(check(R"("scope":"PETS/READ")") == std::string(auth::reason::no_scope));
  CHECK(check(R"("other":"pets/read")") == std::string(auth::reason::no_scope));
  rules.scopes.clear();
  CHECK(check(R"("other":1)") == std::nullopt);
}

TEST_CASE("claims: exp, nbf and iat with leeway at the edges", "[jwt]") {
  constexpr std::int64_t now = 1800000000;
  auth::claim_rules rules;
  rules.now = at(now);
  rules.leeway = std::chrono::seconds(60);
  auto check = [&](const std::string& json) { return claims_check(json, rules); };
  auto exp = [](double v) { return R"({"exp":)" + std::to_string(v) + "}"; };
  auto exp_int = [](std::int64_t v) { return R"({"exp":)" + std::to_string(v) + "}"; };

  CHECK(check(exp_int(now - 60)) == std::string(auth::reason::expired));
  CHECK(check(exp_int(now - 59)) == std::nullopt);
  CHECK(check(exp(now - 59.5)) == std::nullopt);
  CHECK(check(exp(now - 60.0)) == std::string(auth::reason::expired));
  CHECK(check(exp_int(-1)) == std::string(auth::reason::expired));
  CHECK(check(R"({"exp":18446744073709551615})") == std::nullopt);

  std::string valid = ",\"exp\":" + std::to_string(now + 3600);
  CHECK(check(R"({"nbf":)" + std::to_string(now + 60) + valid + "}") == std::nullopt);
  CHECK(check(R"({"nbf":)" + std::to_string(now + 61) + valid + "}") ==
        std::string(auth::reason::not_yet_valid));
  CHECK(check(R"({"nbf":1e3)" + valid + "}") == std::nullopt);
  CHECK(check(R"({"iat":)" + std::to_string(now + 60) + valid + "}") == std::nullopt);
  CHECK(check(R"({"iat":)" + std::to_string(now + 61) + valid + "}") ==
        std::string(auth::reason::issued_in_future));

  rules.leeway = std::chrono::seconds(0);
  CHECK(check(exp_int(now)) == std::string(auth::reason::expired));
  CHECK(check(exp_int(now + 1)) == std::nullopt);
  CHECK(check(R"({"nbf":)" + std::to_string(now + 1) + valid + "}") ==
        std::string(auth::reason::not_yet_valid));
  CHECK(check(R"({"nbf":)" + std::to_string(now) + valid + "}") == std::nullopt);

  // exp is required; none of the three may be anything but a number.
  CHECK(check("{}") == std::string(auth::reason::no_expiry));
  CHECK(check(R"({"exp":"4102444800"})") == std::string(auth::reason::no_expiry));
  CHECK(check(R"({"exp":null})") == std::string(auth::reason::no_expiry));
  CHECK(check(R"({"exp":[4102444800]})") == std::string(auth::reason::no_expiry));
  CHECK(check(R"({"nbf":"0")" + valid + "}") == std::string(auth::reason::bad_not_before));
  CHECK(check(R"({"iat":true)" + valid + "}") == std::string(auth::reason::bad_issued_at));
}

TEST_CASE("claims: checked in AWS's order, issuer first", "[jwt]") {
  auth::claim_rules rules;
  rules.issuer = "iss";
  rules.audiences = {"aud"};
  rules.token_use = "access";
  rules.scopes = {"s"};
  CHECK(claims_check(R"({"iss":"x","aud":"x","exp":1})", rules) ==
        std::string(auth::reason::no_issuer));
  CHECK(claims_check(R"({"iss":"iss","aud":"x","exp":1})", rules) ==
        std::string(auth::reason::no_audience));
  CHECK(claims_check(R"({"iss":"iss","aud":"aud","exp":1})", rules) ==
        std::string(auth::reason::no_token_use));
  CHECK(claims_check(R"({"iss":"iss","aud":"aud","token_use":"access","exp":1})", rules) ==
        std::string(auth::reason::expired));
  CHECK(claims_check(R"({"iss":"iss","aud":"aud","token_use":"access","exp":4102444800})", rules) ==
        std::string(auth::reason::no_scope));
  CHECK(claims_check(R"({"iss":"iss","aud":"aud","token_use":"access","exp":4102444800,)"
                     R"("scope":"s"})",
                     rules) == std::nullopt);
  CHECK(claims_check(R"({"iss":["iss"],"aud":"aud","exp":1})", rules) ==
        std::string(auth::reason::no_issuer));
}

// ---------------------------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------------------------

TEST_CASE("malformed tokens are refused with a reason, never a crash", "[jwt]") {
  const std::string payload = auth::base64url_encode(R"({"exp":4102444800})");
  const std::string header = auth::base64url_encode(R"({"alg":"RS256","kid":"k"})");
  auto refused = [](std::string_view token) {
    std::string why;
    bool ok = auth::jwt::decode(token, &why).has_value();
    INFO(token.substr(0, 80));
    CHECK_FALSE(ok);
    CHECK_FALSE(why.empty());
    return why;
  };
  auto h = [](std::string_view json) { return auth::base64url_encode(json); };

  CHECK(refused("") == "the token is empty");
  CHECK_THAT(refused(".."), Contains("header"));
  CHECK_THAT(refused("."), Contains("compact JWS"));
  CHECK_THAT(refused("abc"), Contains("compact JWS"));
  CHECK_THAT(refused(header + "." + payload), Contains("compact JWS"));
  CHECK_THAT(refused(header + "." + payload + ".."), Contains("compact JWS"));
  CHECK_THAT(refused(header + "." + payload + ".a.b"), Contains("compact JWS"));
  CHECK_THAT(refused("Bearer " + header + "." + payload + "."), Contains("base64url"));
  CHECK_THAT(refused(header + "=." + payload + "."), Contains("header is not valid base64url"));
  CHECK_THAT(refused(header + "." + payload + "=."), Contains("payload is not valid base64url"));
  CHECK_THAT(refused(header + "." + payload + ".a+b/"), Contains("signature is not valid"));
  CHECK_THAT(refused(header + "." + payload + ".a"), Contains("signature is not valid"));

  CHECK_THAT(refused(h("[]") + "." + payload + "."), Contains("not a JSON object"));
  CHECK_THAT(refused(h("{") + "." + payload + "."), Contains("not a JSON object"));
  CHECK_THAT(refused(h("{}") + "." + payload + "."), Contains("no alg"));
  CHECK_THAT(refused(h(R"({"alg":""})") + "." + payload + "."), Contains("no alg"));
  CHECK_THAT(refused(h(R"({"alg":256})") + "." + payload + "."), Contains("no alg"));
  CHECK_THAT(refused(h(R"({"alg":"RS256","kid":1})") + "." + payload + "."), Contains("kid"));
  CHECK_THAT(refused(h(R"({"alg":"RS256","typ":{}})") + "." + payload + "."), Contains("typ"));
  CHECK_THAT(refused(h(R"({"alg":"RS256","crit":["exp"],"exp":1})") + "." + payload + "."),
             Contains("critical"));
  CHECK_THAT(refused(h(R"({"alg":"none","alg":"RS256"})") + "." + payload + "."),
             Contains("duplicate"));
  CHECK_THAT(refused(h(std::string(R"({"alg":"RS256"})") + '\0' + "x") + "." + payload + "."),
             Contains("not a JSON object"));
  CHECK_THAT(refused(h("{\"alg\":\"RS\xff\"}") + "." + payload + "."),
             Contains("not a JSON object"));

  for (std::string claims : {"[]", "123", "\"text\"", "null", "", "{", "{\"exp\":1}x"}) {
    CHECK(refused(header + "." + h(claims) + ".") == auth::reason::not_an_object);
  }
  CHECK_THAT(refused(header + "." + h(R"({"exp":1,"exp":4102444800})") + "."),
             Contains("duplicate"));

  // Deep nesting, within the size cap, is parsed without recursion; past 1,000 levels it is not
  // JSON.
  std::string deep = std::string(11000, '[');
  CHECK(refused(header + "." + h(deep) + ".") == auth::reason::not_an_object);
  auto nested = [](int levels) {
    return R"({"exp":4102444800,"a":)" + std::string(levels, '[') + std::string(levels, ']') + "}";
  };
  CHECK(refused(header + "." + h(nested(5000)) + ".") == auth::reason::not_an_object);
  CHECK(auth::jwt::decode(header + "." + h(nested(999)) + ".", nullptr));

  // Size cap: 3 MB refused; exactly max_token_size bytes decodes, one more does not.
  std::string big = header + "." + std::string(3 * 1024 * 1024, 'A') + ".";
  CHECK_THAT(refused(big), Contains("larger than 16384 bytes"));
  std::string edge;
  for (std::size_t pad = 11000; edge.empty(); ++pad) {
    std::string claims = R"({"exp":4102444800,"pad":")" + std::string(pad, 'x') + "\"}";
    std::string unsigned_token = header + "." + h(claims) + ".";
    REQUIRE(unsigned_token.size() <= auth::max_token_size);
    std::size_t signature = auth::max_token_size - unsigned_token.size();
    if (signature % 4 != 1) edge = unsigned_token + std::string(signature, 'A');
  }
  REQUIRE(edge.size() == auth::max_token_size);
  CHECK(auth::jwt::decode(edge, nullptr));
  CHECK_THAT(refused(edge + "A"), Contains("larger than 16384 bytes"));
}

TEST_CASE("a header seen before decodes as the first time; others are read afresh", "[jwt]") {
  auto h = [](std::string_view json) { return auth::base64url_encode(json); };
  const std::string payload = h(R"({"exp":4102444800})");
  // An escaped kid: the remembered bytes are the header as parsed in place.
  const std::string header = h(R"({"typ":"JWT","alg":"RS256","kid":"k\u0041-1"})");
  for (int round = 0; round < 3; ++round) {
    INFO(round);
    auto jwt = auth::jwt::decode(header + "." + payload + ".", nullptr);
    REQUIRE(jwt);
    CHECK(jwt->alg == "RS256");
    CHECK(jwt->kid == "kA-1");
    CHECK(jwt->typ == "JWT");
    CHECK(jwt->claims["exp"].GetDouble() == 4102444800.0);
    // A different header after it is decoded and checked, not taken for the remembered one.
    std::string why;
    CHECK_FALSE(
        auth::jwt::decode(h(R"({"alg":"RS256","crit":["b64"]})") + "." + payload + ".", &why));
    CHECK_THAT(why, Contains("critical"));
    auto other = auth::jwt::decode(h(R"({"alg":"ES256"})") + "." + payload + ".", nullptr);
    REQUIRE(other);
    CHECK(other->alg == "ES256");
    CHECK(other->kid.empty());
    CHECK(other->typ.empty());
  }
  // Tokens outlive the next decode on their thread: their views are their own.
  auto first = auth::jwt::decode(header + "." + payload + ".", nullptr);
  auto second =
      auth::jwt::decode(h(R"({"alg":"RS384","kid":"other"})") + "." + payload + ".", nullptr);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->kid == "kA-1");
  CHECK(second->kid == "other");
}

TEST_CASE("duplicate member names are found among many members", "[jwt]") {
  auto h = [](std::string_view json) { return auth::base64url_encode(json); };
  const std::string header = h(R"({"alg":"RS256","kid":"k"})");
  std::vector<std::string> names = {
      "iss",       "sub",       "aud",      "exp",       "nbf", "iat", "jti", "scope",
      "client_id", "token_use", "username", "auth_time", "a",   "",    "b",   "ab"};
  auto object = [&](std::size_t count, std::size_t duplicate) {
    std::string json = "{";
    for (std::size_t i = 0; i < count; ++i) json += "\"" + names[i] + "\":1,";
    if (duplicate < count) json += "\"" + names[duplicate] + "\":2,";
    json.back() = '}';
    return json;
  };
  for (std::size_t count : {2, 5, 11, 15, 16}) {
    for (std::size_t duplicate = 0; duplicate <= count; ++duplicate) {
      INFO(count << " members, duplicate " << duplicate);
      std::string why;
      auto jwt = auth::jwt::decode(header + "." + h(object(count, duplicate)) + ".", &why);
      if (duplicate < count) {
        CHECK_FALSE(jwt);
        CHECK_THAT(why, Contains("duplicate"));
      } else {
        CHECK(jwt);
      }
    }
  }
}

TEST_CASE("random corruption of a valid token never verifies and never crashes", "[jwt]") {
  const auto& mint = test::test_keys::shared();
  auto keys = keys_from(mint.jwks_json("rsa-1", "ec-1"));
  std::mt19937 random(20240229);
  static constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \"{}";
  for (const std::string& original :
       {mint.sign_rs256("rsa-1", good_claims), mint.sign_es256("ec-1", good_claims)}) {
    int decoded = 0;
    for (int i = 0; i < 1500; ++i) {
      std::string token = original;
      int edits = 1 + static_cast<int>(random() % 3);
      for (int e = 0; e < edits; ++e) {
        std::size_t at = random() % token.size();
        switch (random() % 3) {
          case 0:
            token[at] = alphabet[random() % alphabet.size()];
            break;
          case 1:
            token.erase(at, 1 + random() % 4);
            break;
          default:
            token.insert(at, 1, alphabet[random() % alphabet.size()]);
            break;
        }
        if (token.empty()) token.push_back('.');
      }
      if (token == original) continue;
      std::string why;
      auto jwt = auth::jwt::decode(token, &why);
      if (!jwt) continue;
      ++decoded;
      const auth::jwk* key = keys.find(jwt->kid);
      if (key) CHECK_FALSE(auth::verify_signature(*jwt, *key, &why));
    }
    CHECK(decoded > 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Key sets
// ---------------------------------------------------------------------------------------------

TEST_CASE("key sets: unusable keys are skipped, a set that is no set is refused", "[jwt]") {
  const auto& mint = test::test_keys::shared();
  std::string why;
  CHECK_FALSE(auth::key_set::parse("", &why));
  CHECK(why == "the key set is not a JSON object");
  CHECK_FALSE(auth::key_set::parse("[]", &why));
  CHECK_FALSE(auth::key_set::parse(R"({"keys":{}})", &why));
  CHECK(why == "the key set has no keys array");
  CHECK_FALSE(auth::key_set::parse(R"({"key":[]})", &why));
  std::string huge = R"({"keys":[],"pad":")" + std::string(auth::max_key_set_size, 'x') + "\"}";
  CHECK_FALSE(auth::key_set::parse(huge, &why));
  CHECK_THAT(why, Contains("larger than"));
  auto empty = auth::key_set::parse(R"({"keys":[]})", &why);
  REQUIRE(empty);
  CHECK(empty->keys.empty());

  std::string rsa = test::public_jwk_json(mint.rsa.get(), "rsa", "RS256");
  std::string ec = test::public_jwk_json(mint.ec.get(), "ec", "ES256");
  auto member = [](const std::string& jwk, const std::string& name) {
    std::size_t at = jwk.find("\"" + name + "\":\"") + name.size() + 4;
    return jwk.substr(at, jwk.find('"', at) - at);
  };
  auto replace = [](std::string jwk, const std::string& from, const std::string& to) {
    return jwk.replace(jwk.find(from), from.size(), to);
  };
  std::string x = member(ec, "x");
  std::string off_curve = x;
  off_curve[5] = off_curve[5] == 'A' ? 'B' : 'A';

  std::vector<std::pair<std::string, std::string>> bad = {
      {"oct", R"({"kty":"oct","k":"AyM1SysPpbyDfgZld3um","kid":"bad"})"},
      {"OKP", R"({"kty":"OKP","crv":"Ed25519","kid":"bad",)"
              R"("x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})"},
      {"no kty", R"({"kid":"bad"})"},
      {"not an object", R"("bad")"},
      {"use enc", replace(rsa, R"("use":"sig")", R"("use":"enc")")},
      {"use number", replace(rsa, R"("use":"sig")", R"("use":1)")},
      {"key_ops encrypt", replace(rsa, R"("use":"sig")", R"("key_ops":["encrypt"])")},
      {"key_ops string", replace(rsa, R"("use":"sig")", R"("key_ops":"verify")")},
      {"kid number", replace(rsa, R"("kid":"rsa")", R"("kid":5)")},
      {"alg number", replace(rsa, R"("alg":"RS256")", R"("alg":256)")},
      {"rsa no e", replace(rsa, R"(,"e":")" + member(rsa, "e") + "\"", "")},
      {"rsa e padded", replace(rsa, R"("e":"AQAB")", R"("e":"AQAB=")")},
      {"rsa e = 1", replace(rsa, R"("e":"AQAB")", R"("e":"AQ")")},
      {"rsa even n", replace(rsa, member(rsa, "n"), std::string(342, 'A') + "Ag")},
      {"rsa n zero", replace(rsa, member(rsa, "n"), "AA")},
      {"rsa n too long", replace(rsa, member(rsa, "n"), std::string(1400, '_'))},
      {"ec P-256K", replace(ec, R"("crv":"P-256")", R"("crv":"secp256k1")")},
      {"ec crv number", replace(ec, R"("crv":"P-256")", R"("crv":256)")},
      {"ec short x", replace(ec, x, x.substr(0, 42))},
      {"ec long x", replace(ec, x, x + "AA")},
      {"ec off curve", replace(ec, x, off_curve)},
      {"ec as P-384", replace(ec, R"("crv":"P-256")", R"("crv":"P-384")")},
  };
  std::string json = R"({"keys":[)";
  for (const auto& [name, jwk] : bad) {
    INFO(name);
    CHECK_FALSE(jwk_of(jwk));
    json += jwk + ",";
  }
  json += rsa + "," + ec + ",{\"kty\":\"RSA\"}]}";
  auto keys = keys_from(json);
  REQUIRE(keys.keys.size() == 2);
  CHECK(keys.find("rsa"));
  CHECK(keys.find("ec"));
  CHECK_FALSE(keys.find("bad"));
  for (const auto& key : keys.keys) CHECK(key.key);

  // Use "sig", key_ops with verify, and no use at all are fine.
  CHECK(jwk_of(replace(rsa, R"("use":"sig")", R"("key_ops":["sign","verify"])")));
  CHECK(jwk_of(replace(rsa, R"(,"use":"sig")", "")));
  // A leading zero byte on n is tolerated.
  auto n = auth::base64url_decode(member(rsa, "n"));
  REQUIRE(n);
  auto padded =
      jwk_of(replace(rsa, member(rsa, "n"), auth::base64url_encode(std::string(1, '\0') + *n)));
  REQUIRE(padded);
  CHECK(refusal(mint.sign_rs256("rsa", good_claims), auth::key_set{{*padded}}, minted_rules()) ==
        "");
}
