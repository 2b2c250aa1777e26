#pragma once

// Small ASCII text helpers shared by configuration parsing and the pipeline steps.

#include <string>
#include <string_view>

namespace gatehouse::util {

/// `c` in lower (upper) case when it is an ASCII letter; any other byte as it is.
constexpr char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
constexpr char ascii_upper(char c) noexcept {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

/// Whether `c` is an ASCII letter or digit.
constexpr bool is_ascii_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/// `s` with ASCII letters in lower (upper) case.
std::string ascii_lower(std::string_view s);
std::string ascii_upper(std::string_view s);

/// Whether `a` and `b` are equal but for the case of ASCII letters.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}
/// Whether `s` starts with `prefix`, but for the case of ASCII letters.
constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

/// The value of a hexadecimal digit; -1 for any other character.
constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Calls f(byte) for each byte of `in` with its %XX escapes decoded. A '%' not followed by two
/// hex digits stands for itself; '+' is a space when `plus_is_space` (form and query encoding).
template <class F>
constexpr void for_each_percent_decoded(std::string_view in, bool plus_is_space, F&& f) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+' && plus_is_space) {
      c = ' ';
    } else if (c == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
               hex_value(in[i + 2]) >= 0) {
      c = static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    }
    f(static_cast<unsigned char>(c));
  }
}
/// `in` with its %XX escapes decoded, as for_each_percent_decoded reads them.
std::string percent_decode(std::string_view in, bool plus_is_space = false);

/// `s` without leading and trailing spaces and tabs.
constexpr std::string_view trim_blanks(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// Removes leading and trailing spaces and tabs from `s` in place, keeping its buffer.
inline void trim_blanks_in_place(std::string& s) {
  const auto t = trim_blanks(s);
  if (t.size() == s.size()) return;
  const auto first = static_cast<std::size_t>(t.data() - s.data());
  s.erase(first + t.size());
  s.erase(0, first);
}

/// Makes `s` hold `text`, leaving it alone when it already does: a reused response's fields
/// often hold the same names (and values) as before, and a short compare is cheaper than an
/// assignment.
inline void set_text(std::string& s, std::string_view text) {
  if (s.size() == text.size() &&
      std::char_traits<char>::compare(s.data(), text.data(), text.size()) == 0)
    return;
  s.assign(text);
}

/// The media type of a Content-Type or Accept value: before any ';', trimmed
/// ("application/json; charset=utf-8" → "application/json").
constexpr std::string_view media_type(std::string_view content_type) noexcept {
  return trim_blanks(content_type.substr(0, content_type.find(';')));
}

}  // namespace gatehouse::util
