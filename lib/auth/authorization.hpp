#pragma once

// What step 4 (authorize) found out about a request's caller: shared by the requests that reuse
// a cached result, immutable once made.

#include "auth/policy.hpp"

#include <gatehouse/authorizer_context.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gatehouse::auth {

struct authorization {
  std::string principal_id;
  std::vector<std::pair<std::string, context_value>> context;  // a custom authorizer's map
  std::string claims_json;                                     // a JWT's claims
  std::vector<std::string> scopes;                             // a JWT's scopes
  std::string usage_identifier_key;       // for API key source AUTHORIZER; "" when none
  std::optional<policy> policy_document;  // a custom authorizer's policy, evaluated per method
  std::string key_id;  // a JWT's kid: a remembered token stays valid while its key is served
  // An IAM caller (Authorizer::iam): the access key and its principal.
  std::string access_key;
  std::string account_id;
  std::string caller;  // the principal's unique id
  std::string user_arn;

  /// The view integrations get.
  authorizer_context view() const noexcept { return {principal_id, context, claims_json, scopes}; }
  iam_identity iam_view() const noexcept {
    return {access_key, account_id, caller, caller, user_arn};
  }
};

}  // namespace gatehouse::auth
