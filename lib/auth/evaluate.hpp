#pragma once

// Policy decisions of steps 3 and 4: the facts of a request as conditions see them, and the
// gateway errors AWS answers denials with.

#include "auth/authorization.hpp"
#include "auth/policy.hpp"
#include "pipeline/exchange.hpp"

#include <optional>

namespace gatehouse::auth {

/// The request's facts for policies, with ex.method_arn as the resource (filled by the caller).
request_facts facts_of(const gatehouse::detail::exchange& ex, std::string_view principal = {});

/// Step 4's verdict on an authorizer's policy for this method: nullopt when it allows, else
/// 403 ACCESS_DENIED ("… with an explicit deny" for a Deny statement).
std::optional<gatehouse::detail::gateway_error> authorizer_verdict(
    const gatehouse::detail::exchange& ex, const authorization& result);

}  // namespace gatehouse::auth
