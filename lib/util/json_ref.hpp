#pragma once
// Text handed to RapidJSON by pointer and length. An empty std::string_view may hold a null
// pointer, which RapidJSON passes on to memcpy and memcmp (undefined behaviour even for length 0),
// so every string_view goes through json_ref.

#include <rapidjson/document.h>

#include <string_view>

namespace gatehouse::util {

/// `s` as RapidJSON's string reference, never a null pointer (a name to find, a value to copy).
inline rapidjson::GenericStringRef<char> json_ref(std::string_view s) noexcept {
  return {s.empty() ? "" : s.data(), static_cast<rapidjson::SizeType>(s.size())};
}

/// A string value holding a copy of `s`, made in `a`.
template <class Allocator>
rapidjson::GenericValue<rapidjson::UTF8<>, Allocator> json_copy(std::string_view s, Allocator& a) {
  auto r = json_ref(s);
  return {r.s, r.length, a};
}

}  // namespace gatehouse::util
