#pragma once

// Gateway responses: how a gateway error becomes the response a client sees, with AWS's
// defaults and the API's overrides (DEFAULT_4XX / DEFAULT_5XX as fallbacks).

#include "pipeline/exchange.hpp"

#include <gatehouse/http.hpp>

namespace gatehouse::detail {

/// Renders `err` for the request in `ex` (whose stage, if found, supplies the overrides).
response render_gateway_error(const gateway_error& err, const exchange* ex);

}  // namespace gatehouse::detail
