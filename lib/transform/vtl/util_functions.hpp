#pragma once

// AWS's $util functions, as Java libraries implement them behind API Gateway.

#include <string>
#include <string_view>

namespace gatehouse::transform::vtl {

/// $util.escapeJavaScript: Apache Commons Lang's escapeJavaScript. Escapes ' " backslash and /
/// with a backslash, control characters as \b \t \n \f \r or \u00XX, and every non-ASCII character
/// as its UTF-16 \uXXXX (upper-case hex; invalid UTF-8 bytes as the Latin-1 character).
void escape_javascript(std::string_view in, std::string& out);
/// $util.urlEncode: Java's URLEncoder (UTF-8): A-Z a-z 0-9 . - * _ kept, space as '+',
/// anything else %XX (upper-case).
void url_encode(std::string_view in, std::string& out);
/// $util.urlDecode: Java's URLDecoder: '+' is a space, %XX a byte; false on a bad escape.
bool url_decode(std::string_view in, std::string& out);
/// $util.base64Encode: standard base64 with padding.
void base64_encode(std::string_view in, std::string& out);
/// $util.base64Decode: standard base64, padding optional; false on bad input.
bool base64_decode(std::string_view in, std::string& out);

}  // namespace gatehouse::transform::vtl
