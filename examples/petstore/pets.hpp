#pragma once

// AWS's PetStore sample API as C++ "Lambda proxy" handlers over an in-memory store.

#include <gatehouse/gatehouse.hpp>

namespace petstore {

struct api_settings {
  bool key_everywhere = false;  ///< every route needs an API key (for measuring)
  /// DELETE /pets/{petId} allows `Authorization: Bearer <demo_token>` and denies other tokens.
  std::string demo_token = "allow";
  bool authorize_reads = false;  ///< GET /pets/{petId} takes the demo token too (for measuring)
  /// The authorizer of GET /pets/{petId}/owner (a JWT authorizer).
  gatehouse::Authorizer owner_authorizer;
  /// The authorizer of GET /admin/stats (IAM: requests signed with Signature Version 4).
  gatehouse::Authorizer admin_authorizer;
};

/// The PetStore API: GET /pets, POST /pets (needs an API key), GET /pets/{petId},
/// DELETE /pets/{petId} (a custom TOKEN authorizer), GET /pets/{petId}/owner (a JWT
/// authorizer), GET /admin/stats (IAM) and ANY /legacy/{proxy+} to the backend.
gatehouse::Router make_api(const api_settings& settings);

}  // namespace petstore
