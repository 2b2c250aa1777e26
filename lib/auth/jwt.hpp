#pragma once

// JSON Web Tokens as an HTTP API JWT authorizer (and a Cognito user pool authorizer) checks them:
// compact JWS decoding (RFC 7515), public keys from a JWK Set (RFC 7517/7518), RS256/384/512 and
// ES256/384/512 signatures, and the claims (RFC 7519) an authorizer requires. Every function
// reports failure through its result, never by throwing, whatever the input.

#include <openssl/evp.h>
#include <rapidjson/document.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::auth {

/// Tokens longer than this are refused before any decoding.
inline constexpr std::size_t max_token_size = 16 * 1024;
/// Key sets longer than this are refused (AWS's limit on a JWKS response).
inline constexpr std::size_t max_key_set_size = 150000;
/// RSA keys must have at least this many bits to verify anything.
inline constexpr int min_rsa_bits = 2048;
/// RSA keys longer than this are refused (as BoringSSL does), which bounds the work per token.
inline constexpr int max_rsa_bits = 8192;

/// The reasons check_claims() gives, worded as error_description values. Only `no_audience` is
/// AWS's published wording (HTTP API JWT authorizer troubleshooting page); the others are ours,
/// in the same style. A caller tells a scope failure (403 rather than 401) by comparing.
namespace reason {
inline constexpr std::string_view not_an_object = "the token's payload is not a JSON object";
inline constexpr std::string_view no_issuer = "the token does not have a valid issuer";
inline constexpr std::string_view no_audience = "the token does not have a valid audience";
inline constexpr std::string_view no_token_use = "the token does not have a valid token_use";
inline constexpr std::string_view no_expiry = "the token does not have a valid exp claim";
inline constexpr std::string_view expired = "the token has expired";
inline constexpr std::string_view bad_not_before = "the token does not have a valid nbf claim";
inline constexpr std::string_view not_yet_valid = "the token is not valid yet";
inline constexpr std::string_view bad_issued_at = "the token does not have a valid iat claim";
inline constexpr std::string_view issued_in_future = "the token was issued in the future";
inline constexpr std::string_view no_scope = "the token does not have a valid scope";
}  // namespace reason

/// Base64url without padding (RFC 7515 section 2).
std::string base64url_encode(std::string_view in);
/// Decodes base64url without padding; nullopt on '=', characters outside the alphabet, an
/// impossible length, or non-zero unused bits in the last character.
std::optional<std::string> base64url_decode(std::string_view in);

/// A public key from a JWK (RSA, or EC P-256/P-384/P-521).
struct jwk {
  std::string kid;
  std::string alg;                // the JWK's "alg" if given, else ""
  std::string kty;                // "RSA" | "EC"
  std::string crv;                // "P-256" | "P-384" | "P-521" for EC keys, else ""
  std::shared_ptr<EVP_PKEY> key;  // never null in a parsed set

  /// Builds the key of one JWK object; nullopt + *why when we cannot use it.
  static std::optional<jwk> parse(const rapidjson::Value& object, std::string* why);
};

/// A JSON Web Key Set. Keys of types we cannot use (oct, OKP, RSA with use "enc", bad members)
/// are skipped, not errors.
struct key_set {
  std::vector<jwk> keys;

  /// The first key with this kid; nullptr when none, and for an empty kid (AWS requires one).
  const jwk* find(std::string_view kid) const noexcept;
  /// Parses {"keys":[...]}; nullopt + *why when not JSON / no keys array.
  static std::optional<key_set> parse(std::string_view json, std::string* why);
};

/// Where a decoded token keeps its decoded parts and its claims' DOM (defined in jwt.cpp).
struct jwt_storage;
struct jwt_storage_deleter {
  void operator()(jwt_storage* storage) const noexcept;
};

/// A compact JWS split and decoded. `signing_input` points into the token given to decode(),
/// which must outlive it; the other views point into the jwt's own storage, which moving the jwt
/// keeps in place.
struct jwt {
  std::string_view signing_input;  // header.payload, as sent
  std::string_view signature;      // decoded bytes
  std::string_view alg, kid, typ;
  std::string_view payload;  // decoded JSON text of the claims
  /// The decoded parts, a copy of the payload parsed in place (the claims' strings point into
  /// it) and the claims' DOM: one heap block per token.
  std::unique_ptr<jwt_storage, jwt_storage_deleter> storage;
  /// The parsed payload (a JSON object; null for a JWS whose payload is no object).
  rapidjson::Value claims;

  /// Decodes a JWT: a compact JWS whose payload is a JSON object. nullopt + *why otherwise.
  /// Refused: more than max_token_size bytes, not exactly three parts, bad base64url, a header
  /// that is not a JSON object with a string "alg", a "crit" header, duplicate member names.
  static std::optional<jwt> decode(std::string_view token, std::string* why);
  /// As decode(), but any payload is accepted (claims stay null when it is not a JSON object),
  /// for JWS that are not JWTs.
  static std::optional<jwt> decode_jws(std::string_view token, std::string* why);
};

/// Verifies the signature with `key`. Only RS256/RS384/RS512 and ES256/ES384/ES512 are accepted;
/// "none", HS*, PS*, an alg whose family does not match the key's kty, a JWK whose own "alg"
/// differs from the token's, an EC curve that does not match the alg (ES256 needs P-256 …), an
/// RSA modulus under 2048 bits → false + *why. ES signatures are raw R||S (64/96/132 bytes).
bool verify_signature(const jwt& token, const jwk& key, std::string* why);

/// Why verify_signature() refuses `token` with any key at all — an alg it does not verify
/// ("none", HS*, PS*, …), no signature, an ES signature of the wrong length — worded as it
/// would; nullopt otherwise. Lets an authorizer refuse such a token before it needs keys.
std::optional<std::string> keyless_refusal(const jwt& token);

/// What a JWT authorizer requires of the claims.
struct claim_rules {
  std::string issuer;                  // iss must equal it (when non-empty)
  std::vector<std::string> audiences;  // aud, or client_id when aud is absent, must be one
  std::string token_use;               // "id" / "access" / "" (any)
  std::vector<std::string> scopes;     // when non-empty: the token must carry one of them
  std::chrono::seconds leeway{60};     // allowed clock skew for exp / nbf / iat
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

/// nullopt when the claims pass; else the reason, one of auth::reason. Checked in AWS's order:
/// iss, aud / client_id, token_use, exp (required), nbf, iat, scopes.
std::optional<std::string> check_claims(const jwt& token, const claim_rules& rules);
/// As check_claims(token, rules), with `now` in place of rules.now: a caller that serves many
/// tokens keeps one claim_rules rather than copying its strings for each.
std::optional<std::string> check_claims(const jwt& token, const claim_rules& rules,
                                        std::chrono::system_clock::time_point now);

/// The scopes a token carries: "scope" (space-separated string, or array of strings) or, when
/// it has none, "scp" (array of strings, or space-separated string).
std::vector<std::string> token_scopes(const jwt& token);

}  // namespace gatehouse::auth
