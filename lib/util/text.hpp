#pragma once

// Small ASCII text helpers shared by configuration parsing and the pipeline steps.

#include <string>
#include <string_view>

namespace gatehouse::util {

/// `s` with ASCII letters in lower case.
std::string ascii_lower(std::string_view s);

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
