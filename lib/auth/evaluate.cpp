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

namespace {
// The last decision this thread took with an authorizer's policy that reads only the action and
// the resource: a cached result is evaluated for every request, mostly against the method ARN it
// saw last. Holding the result keeps its address from being reused by another.
struct last_decision {
  std::shared_ptr<const authorization> result;
  std::string resource;
  decision verdict = decision::implicit_deny;
};

decision policy_decision(const gatehouse::detail::exchange& ex, const authorization& result) {
  const policy& p = *result.policy_document;
  if (!p.reads_only_action_and_resource()) return p.evaluate(facts_of(ex));
  thread_local last_decision last;
  if (last.result.get() == &result && last.resource == ex.method_arn) return last.verdict;
  request_facts facts;
  facts.resource = ex.method_arn;
  const decision verdict = p.evaluate(facts);
  if (ex.auth.get() == &result) {
    last.result = ex.auth;
    last.resource = ex.method_arn;
    last.verdict = verdict;
  }
  return verdict;
}
}  // namespace

std::optional<gatehouse::detail::gateway_error> authorizer_verdict(
    const gatehouse::detail::exchange& ex, const authorization& result) {
  if (!result.policy_document) return std::nullopt;  // JWT authorizers have no policy
  switch (policy_decision(ex, result)) {
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
