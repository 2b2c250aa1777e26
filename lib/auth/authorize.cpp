#include "auth/authorize.hpp"

#include "auth/authorization.hpp"
#include "auth/authorizer_impl.hpp"
#include "auth/evaluate.hpp"
#include "util/access.hpp"

#include <gatehouse/authorizer.hpp>

#include <fmt/format.h>

namespace gatehouse::auth {

using gatehouse::detail::gateway_error;

namespace {
// The ARN up to the method depends only on the gateway and the stage's snapshot: each thread
// keeps the last one it made, keyed by the snapshot's serial number (never reused).
std::string_view arn_prefix(const gatehouse::detail::exchange& ex) {
  struct memo {
    std::uint64_t serial = 0;
    std::string region, account, prefix;
  };
  thread_local memo m;
  const auto& stage = *ex.stage;
  if (m.serial != stage.serial.value || m.region != ex.gateway.region ||
      m.account != ex.gateway.account_id) {
    m.prefix = method_arn_prefix(ex.gateway.region, ex.gateway.account_id, stage.deployment->api.id,
                                 stage.name);
    m.serial = stage.serial.value;
    m.region = ex.gateway.region;
    m.account = ex.gateway.account_id;
  }
  return m.prefix;
}

void fill_method_arn(gatehouse::detail::exchange& ex) {
  if (!ex.method_arn.empty()) return;
  write_method_arn(ex.method_arn, arn_prefix(ex), ex.req.method, ex.stage_path);
}

// AWS's resource-policy denials name the caller (anonymous without IAM) and the method ARN.
gateway_error resource_denial(const gatehouse::detail::exchange& ex, bool explicit_deny) {
  return gateway_error{response_type::access_denied, 0,
                       fmt::format("User: anonymous is not authorized to perform: "
                                   "execute-api:Invoke on resource: {}{}",
                                   ex.method_arn, explicit_deny ? " with an explicit deny" : "")};
}

// With an authorizer's result: its usage identifier key feeds step 5 (key source AUTHORIZER).
std::optional<gateway_error> finish(gatehouse::detail::exchange& ex,
                                    std::optional<gateway_error> verdict) {
  if (!verdict && ex.auth) ex.authorizer_usage_key = ex.auth->usage_identifier_key;
  return verdict;
}
}  // namespace

bool has_authorizer(const gatehouse::detail::exchange& ex) noexcept {
  return ex.match.options && static_cast<bool>(ex.match.options->authorizer);
}

std::optional<gateway_error> check_resource_policy(gatehouse::detail::exchange& ex) {
  const auto& deployment = *ex.stage->deployment;
  const bool is_private = deployment.api.endpoint == endpoint_type::private_endpoint;
  if (is_private && ex.req.private_endpoint.empty())
    return gateway_error{response_type::default_4xx, 403, "Forbidden",
                         "a PRIVATE API was called from outside its private endpoints"};
  if (has_authorizer(ex)) {
    fill_method_arn(ex);
    // IAM evaluates the resource policy in step 4, with the caller it authenticated.
    if (detail::access::impl(ex.match.options->authorizer).checks_resource_policy() &&
        (deployment.resource_policy || !is_private))
      return std::nullopt;
  }
  if (!deployment.resource_policy) {
    if (!is_private) return std::nullopt;
    fill_method_arn(ex);  // a PRIVATE API without a resource policy serves nobody (as AWS)
    return resource_denial(ex, false);
  }
  fill_method_arn(ex);
  switch (deployment.resource_policy->evaluate(facts_of(ex))) {
    case decision::allow:
      ex.resource_policy_allows = true;
      return std::nullopt;
    case decision::explicit_deny:
      return resource_denial(ex, true);
    case decision::implicit_deny:
      break;
  }
  // Neither allowed nor denied: an authorizer's Allow is enough (AWS's same-account table).
  if (has_authorizer(ex)) return std::nullopt;
  return resource_denial(ex, false);
}

std::optional<std::optional<gateway_error>> try_authorize(gatehouse::detail::exchange& ex) {
  auto quick = detail::access::impl(ex.match.options->authorizer).try_authorize(ex);
  if (!quick) return std::nullopt;
  return finish(ex, std::move(*quick));
}

asio::awaitable<std::optional<gateway_error>> authorize(gatehouse::detail::exchange& ex) {
  auto verdict = co_await detail::access::impl(ex.match.options->authorizer).authorize(ex);
  co_return finish(ex, std::move(verdict));
}

}  // namespace gatehouse::auth
