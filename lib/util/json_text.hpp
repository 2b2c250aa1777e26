#pragma once

// Writing JSON text by hand on hot paths, where building a DOM would cost more than the answer.

#include <string>
#include <string_view>

namespace gatehouse::util {

/// Appends `s` as a JSON string literal, quotes included. Client text need not be UTF-8: each
/// ill-formed sequence becomes U+FFFD (see append_valid_utf8), so the result is always JSON.
void append_json_string(std::string& out, std::string_view s);

/// True when `s` is well-formed UTF-8.
bool valid_utf8(std::string_view s) noexcept;

/// Appends `s` with each ill-formed UTF-8 sequence replaced by U+FFFD, one per maximal subpart
/// (Unicode 15, 3.9): what Java's UTF-8 decoder, and so AWS, makes of such bytes.
void append_valid_utf8(std::string& out, std::string_view s);

/// `s` made well-formed UTF-8 in place, as append_valid_utf8 does; untouched when it is.
/// For whole bodies (JSON, templates' output) whose strings may hold client bytes.
void make_valid_utf8(std::string& s);

/// Standard base64 (RFC 4648, with padding).
std::string base64_encode(std::string_view in);
/// Decodes standard base64; false on bad input.
bool base64_decode(std::string_view in, std::string& out);

}  // namespace gatehouse::util
