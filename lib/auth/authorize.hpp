#pragma once

// Steps 3 and 4 of the pipeline: the API's resource policy (with its endpoint type), then the
// method's authorizer, combined as AWS combines them.

#include "pipeline/exchange.hpp"

#include <asio/awaitable.hpp>

#include <optional>

namespace gatehouse::auth {

/// Step 3: a PRIVATE API serves only requests from a private endpoint; a resource policy's
/// explicit Deny ends the request (before any authorizer runs), and so does the lack of an
/// Allow for a method without authorizer. Fills ex.method_arn when a later step needs it.
std::optional<gatehouse::detail::gateway_error> check_resource_policy(
    gatehouse::detail::exchange& ex);

/// Whether the method has an authorizer (step 4 applies).
bool has_authorizer(const gatehouse::detail::exchange& ex) noexcept;

/// Step 4 without I/O: nullopt when the decision needs authorize() (no cached result).
std::optional<std::optional<gatehouse::detail::gateway_error>> try_authorize(
    gatehouse::detail::exchange& ex);
/// Step 4: runs the method's authorizer; on success ex.auth holds what it found out.
asio::awaitable<std::optional<gatehouse::detail::gateway_error>> authorize(
    gatehouse::detail::exchange& ex);

}  // namespace gatehouse::auth
