#pragma once

// AWS's PetStore sample API as C++ "Lambda proxy" handlers over an in-memory store.

#include <gatehouse/gatehouse.hpp>

#include <functional>
#include <map>
#include <string>

namespace petstore {

struct api_settings {
  std::string api_id;           ///< the API's id ($context.apiId, exports); "" for a random one
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

/// The API's C++ Lambda proxy functions over one new in-memory store, by the names petstore's
/// export gives them (aws_proxy integrations of arn:aws:lambda:…:function:NAME): GET-pets,
/// POST-pets, GET-pets-petId, DELETE-pets-petId, GET-pets-petId-owner, GET-admin-stats. Bound
/// to an import of that export (openapi_options::functions), they serve what petstore serves.
std::map<std::string, gatehouse::integration, std::less<>> make_functions();

/// The function of the custom TOKEN authorizer "demo-token" (DELETE /pets/{petId}):
/// `Bearer <demo_token>` is allowed every method, any other token is denied.
gatehouse::Authorizer::handler token_handler(std::string demo_token);

}  // namespace petstore
