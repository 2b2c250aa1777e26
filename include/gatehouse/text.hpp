#pragma once

// Client text on its way into a response body. A handler that echoes a path parameter, a query
// value or a header into JSON, XML or a WebSocket text message needs it as UTF-8, which a
// client need not send: "%FF" in a path decodes to a byte that is no UTF-8.

#include <string>
#include <string_view>

namespace gatehouse {

/// `text` with each ill-formed UTF-8 sequence replaced by U+FFFD, one per maximal subpart (as
/// Java's decoder does: what an AWS Lambda function would get). Well-formed text comes back as
/// it is.
std::string as_valid_utf8(std::string_view text);

/// `text` as a JSON string literal, quotes included: escaped as JSON requires, ill-formed UTF-8
/// replaced as as_valid_utf8 does.
std::string json_string(std::string_view text);

}  // namespace gatehouse
