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
  std::string_view principal_id;  ///< a custom authorizer's principalId; a JWT's `sub`
  std::span<const std::pair<std::string, context_value>> context;  ///< a custom authorizer's map
  std::string_view claims_json;         ///< a JWT's claims, as a JSON object; empty otherwise
  std::span<const std::string> scopes;  ///< a JWT's scopes (`scope` or `scp`)

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

}  // namespace gatehouse
