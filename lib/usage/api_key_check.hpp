#pragma once

// Step 5 of the pipeline: the API key and the usage plan, for methods that require a key.

#include "pipeline/exchange.hpp"
#include "usage/key_registry.hpp"

#include <optional>

namespace gatehouse::usage {

/// Finds the request's API key (x-api-key, or the authorizer's usageIdentifierKey) and a plan
/// of the stage that has it. A missing, unknown or disabled key, or one of no plan on this
/// stage → 403 Forbidden (INVALID_API_KEY). Methods without api_key_required pass untouched.
/// With `fetch` and a shared store, a key unknown here is not refused: *fetch is set (and
/// ex.api_key_value), so that the caller fetches it (key_registry::fetch) and checks again.
std::optional<detail::gateway_error> check_api_key(detail::exchange& ex,
                                                   const detail::key_registry& keys,
                                                   bool* fetch = nullptr);

}  // namespace gatehouse::usage
