#pragma once

// Text written into space sized for it beforehand: one resize of the string, then copies without
// a capacity check each (response heads, cache keys, method ARNs on the request path).

#include <cstring>
#include <string_view>

namespace gatehouse::util {

struct sized_writer {
  char* at;
  void put(std::string_view s) noexcept {
    if (s.empty()) return;  // an empty view may have no data pointer, which memcpy must not get
    std::memcpy(at, s.data(), s.size());
    at += s.size();
  }
  void put(char c) noexcept { *at++ = c; }
};

}  // namespace gatehouse::util
