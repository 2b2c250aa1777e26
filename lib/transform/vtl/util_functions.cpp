// $util.escapeJavaScript, urlEncode, urlDecode, base64Encode, base64Decode.

#include "transform/vtl/util_functions.hpp"

#include "util/json_text.hpp"

#include <cstdint>

namespace gatehouse::transform::vtl {

namespace {

constexpr char hex_digits[] = "0123456789ABCDEF";

void append_unicode_escape(std::string& out, std::uint32_t unit) {
  out += "\\u";
  out += hex_digits[(unit >> 12) & 0xF];
  out += hex_digits[(unit >> 8) & 0xF];
  out += hex_digits[(unit >> 4) & 0xF];
  out += hex_digits[unit & 0xF];
}

// The code point of the UTF-8 sequence at `in[i]` and its length; an invalid byte is read as
// the Latin-1 character of that byte.
std::uint32_t decode_utf8(std::string_view in, std::size_t i, std::size_t& length) {
  const auto b0 = static_cast<unsigned char>(in[i]);
  length = 1;
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    cp = b0 & 0x07;
  } else {
    return b0;
  }
  if (i + n > in.size()) return b0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(in[i + k]);
    if ((b & 0xC0) != 0x80) return b0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return b0;
  length = n;
  return cp;
}

}  // namespace

void escape_javascript(std::string_view in, std::string& out) {
  out.reserve(out.size() + in.size() + in.size() / 8);
  for (std::size_t i = 0; i < in.size();) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      ++i;
      switch (c) {
        case '\'':
          out += "\\'";
          break;
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '/':
          out += "\\/";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\r':
          out += "\\r";
          break;
        default:
          if (c < 0x20) {
            append_unicode_escape(out, c);
          } else {
            out += static_cast<char>(c);
          }
      }
      continue;
    }
    std::size_t length = 0;
    const std::uint32_t cp = decode_utf8(in, i, length);
    i += length;
    if (cp >= 0x10000) {  // a surrogate pair, as Java's UTF-16 strings hold it
      const std::uint32_t v = cp - 0x10000;
      append_unicode_escape(out, 0xD800 + (v >> 10));
      append_unicode_escape(out, 0xDC00 + (v & 0x3FF));
    } else {
      append_unicode_escape(out, cp);
    }
  }
}

void url_encode(std::string_view in, std::string& out) {
  out.reserve(out.size() + in.size());
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '-' || c == '*' || c == '_') {
      out += ch;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex_digits[c >> 4];
      out += hex_digits[c & 0xF];
    }
  }
}

bool url_decode(std::string_view in, std::string& out) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out.reserve(out.size() + in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return true;
}

void base64_encode(std::string_view in, std::string& out) { out += util::base64_encode(in); }

bool base64_decode(std::string_view in, std::string& out) {
  if (in.size() % 4 == 1) return false;
  std::string padded(in);
  while (padded.size() % 4 != 0) padded += '=';
  std::string decoded;
  if (!util::base64_decode(padded, decoded)) return false;
  out += decoded;
  return true;
}

}  // namespace gatehouse::transform::vtl
