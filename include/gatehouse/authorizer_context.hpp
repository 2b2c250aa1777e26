#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace gatehouse {

/// A value of the context map an authorizer returns: a string, a number or a boolean, as AWS
/// allows (no objects or arrays).
using context_value = std::variant<std::string, double, bool>;

/// The text form of a context value, as `$context.authorizer.<key>` shows it: numbers without a
/// needless fraction ("42", "2.5"), booleans as "true" / "false".
std::string to_string(const context_value& value);

/// What the authorizer of a request decided about its caller, as integrations see it in
/// `requestContext.authorizer`. Empty (principal_id "" and nothing else) when the method has no
/// authorizer.
struct authorizer_context {
  std::string_view principal_id{};  ///< a custom authorizer's principalId; a JWT's `sub`
  std::span<const std::pair<std::string, context_value>> context{};  ///< a custom authorizer's map
  std::string_view claims_json{};         ///< a JWT's claims, as a JSON object; empty otherwise
  std::span<const std::string> scopes{};  ///< a JWT's scopes (`scope` or `scp`)

  /// A context value by key, if the authorizer returned one.
  const context_value* get(std::string_view key) const noexcept {
    for (const auto& [k, v] : context)
      if (k == key) return &v;
    return nullptr;
  }
  bool empty() const noexcept {
    return principal_id.empty() && context.empty() && claims_json.empty();
  }
};

/// The caller of a method with IAM authorization (Signature Version 4), as integrations see it
/// in `requestContext.identity` (REST) or `requestContext.authorizer.iam` (HTTP APIs). Empty
/// for other methods.
struct iam_identity {
  std::string_view access_key{};  ///< the access key id the request was signed with
  std::string_view account_id{};  ///< the caller's account (from its ARN)
  std::string_view caller{};      ///< the principal's unique id ("AIDA…", "AROA…:session")
  std::string_view user{};        ///< the same, for $context.identity.user
  std::string_view user_arn{};    ///< the principal's ARN

  bool empty() const noexcept { return access_key.empty(); }
};

}  // namespace gatehouse
