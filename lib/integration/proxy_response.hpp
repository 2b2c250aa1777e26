#pragma once

// Proxy results (from a function integration) into HTTP responses, with AWS's rules.

#include <gatehouse/http.hpp>
#include <gatehouse/integration.hpp>

#include <string>

namespace gatehouse::detail {

/// Checks a proxy result and builds the response; false (with `why`) when it is malformed.
bool to_response(proxy_result&& r, payload_format format, response& out, std::string& why);

}  // namespace gatehouse::detail
