#pragma once

// A demo signer for petstore's JWT route when no --jwks is given: an ES256 key made at start,
// its public JWKS for the authorizer, and tokens signed with it (what an identity provider such
// as a Cognito user pool would issue).

#include <memory>
#include <string>
#include <string_view>

namespace petstore {

class demo_signer {
 public:
  demo_signer();  ///< makes a fresh P-256 key; throws std::runtime_error when it cannot
  ~demo_signer();
  demo_signer(const demo_signer&) = delete;
  demo_signer& operator=(const demo_signer&) = delete;

  /// {"keys":[{"kty":"EC","crv":"P-256","kid":…,"alg":"ES256","use":"sig","x":…,"y":…}]}
  std::string jwks() const;
  /// A compact JWS (ES256) of `claims_json` with this key's kid.
  std::string sign(std::string_view claims_json) const;

 private:
  struct key;
  std::unique_ptr<key> key_;
};

}  // namespace petstore
