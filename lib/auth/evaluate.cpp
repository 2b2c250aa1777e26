#include "auth/evaluate.hpp"

namespace gatehouse::auth {

namespace {
std::string_view header_or_empty(const gatehouse::detail::exchange& ex, std::string_view name) {
  auto v = ex.req.headers.get(name);
  return v ? *v : std::string_view{};
}
}  // namespace

request_facts facts_of(const gatehouse::detail::exchange& ex, std::string_view principal) {
  request_facts f;
  f.resource = ex.method_arn;
  f.principal = principal;
  f.source_ip = ex.req.source_ip;
  f.source_vpce = ex.req.private_endpoint;
  f.secure_transport = ex.req.secure;
  f.user_agent = header_or_empty(ex, "User-Agent");
  f.referer = header_or_empty(ex, "Referer");
  f.now = ex.start;
  return f;
}

std::optional<gatehouse::detail::gateway_error> authorizer_verdict(
    const gatehouse::detail::exchange& ex, const authorization& result) {
  if (!result.policy_document) return std::nullopt;  // JWT authorizers have no policy
  switch (result.policy_document->evaluate(facts_of(ex))) {
    case decision::allow:
      return std::nullopt;
    case decision::explicit_deny:
      return gatehouse::detail::gateway_error{
          response_type::access_denied, 0,
          "User is not authorized to access this resource with an explicit deny"};
    case decision::implicit_deny:
      // AWS's same-account table: the resource policy's Allow suffices when the authorizer's
      // policy neither allows nor denies.
      if (ex.resource_policy_allows) return std::nullopt;
      break;
  }
  return gatehouse::detail::gateway_error{response_type::access_denied};
}

}  // namespace gatehouse::auth
