#include "websocket/utf8.hpp"

#include <cstring>

namespace gatehouse::websocket {

bool utf8_validator::feed(const char* data, std::size_t size) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  const auto* const end = p + size;
  while (p != end) {
    if (remaining_ == 0) {
      // ASCII runs eight bytes at a time.
      while (end - p >= 8) {
        std::uint64_t word;
        std::memcpy(&word, p, 8);
        if (word & 0x8080808080808080ull) break;
        p += 8;
      }
      if (p == end) break;
      const unsigned char lead = *p++;
      if (lead < 0x80) continue;
      // RFC 3629 §4: the lead byte fixes the length and the range of the first continuation.
      if (lead < 0xC2) return false;  // a continuation byte, or an overlong two-byte form
      if (lead < 0xE0) {
        remaining_ = 1, low_ = 0x80, high_ = 0xBF;
      } else if (lead < 0xF0) {
        remaining_ = 2;
        low_ = lead == 0xE0 ? 0xA0 : 0x80;   // overlong three-byte forms
        high_ = lead == 0xED ? 0x9F : 0xBF;  // UTF-16 surrogates
      } else if (lead < 0xF5) {
        remaining_ = 3;
        low_ = lead == 0xF0 ? 0x90 : 0x80;   // overlong four-byte forms
        high_ = lead == 0xF4 ? 0x8F : 0xBF;  // past U+10FFFF
      } else {
        return false;
      }
      continue;
    }
    const unsigned char c = *p++;
    if (c < low_ || c > high_) return false;
    --remaining_;
    low_ = 0x80, high_ = 0xBF;
  }
  return true;
}

}  // namespace gatehouse::websocket
