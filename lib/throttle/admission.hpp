#pragma once

// Step 6 of the pipeline: throttling and quota. A request takes a token from each bucket that
// applies — the usage plan's for its API key on this method, the plan's for the key, the
// method's on the stage (or the stage's default), the account's — and one count of the
// plan's quota; all or nothing, through the store.

#include "pipeline/exchange.hpp"

#include <gatehouse/store.hpp>

#include <optional>

namespace gatehouse::throttle {

/// Fills `a` with what the request must be admitted by; false when nothing applies.
bool prepare(detail::exchange& ex, const std::optional<throttle_settings>& account, admission& a);

/// nullopt when admitted; otherwise 429 THROTTLED or QUOTA_EXCEEDED with Retry-After.
std::optional<detail::gateway_error> verdict(const admission_result& r);

}  // namespace gatehouse::throttle
