#pragma once

// Writing JSON text by hand on hot paths, where building a DOM would cost more than the answer.

#include <string>
#include <string_view>

namespace gatehouse::util {

/// Appends `s` as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view s);

/// True when `s` is well-formed UTF-8.
bool valid_utf8(std::string_view s) noexcept;

/// Standard base64 (RFC 4648, with padding).
std::string base64_encode(std::string_view in);
/// Decodes standard base64; false on bad input.
bool base64_decode(std::string_view in, std::string& out);

}  // namespace gatehouse::util
