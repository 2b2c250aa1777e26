#pragma once

// Hex digits read eight at a time, without a branch per digit: the trace headers' ids (32 and
// 16 digits) are parsed on every request that carries one.

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace gatehouse::util {

/// The eight hex digits at `s` (the first most significant) as a number; false when one is not
/// a hex digit. Upper-case letters count only when `UpperToo` (W3C's ids are lower-case only).
template <bool UpperToo>
bool parse_hex8(const char* s, std::uint32_t& out) noexcept {
  if constexpr (std::endian::native != std::endian::little) {
    std::uint32_t v = 0;
    for (int i = 0; i < 8; ++i) {
      const char c = s[i];
      unsigned d;
      if (c >= '0' && c <= '9')
        d = static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        d = static_cast<unsigned>(c - 'a' + 10);
      else if (UpperToo && c >= 'A' && c <= 'F')
        d = static_cast<unsigned>(c - 'A' + 10);
      else
        return false;
      v = (v << 4) | d;
    }
    out = v;
    return true;
  } else {
    constexpr std::uint64_t ones = 0x0101010101010101ull, highs = ones * 0x80;
    std::uint64_t w;
    std::memcpy(&w, s, 8);  // s[0] in the lowest byte
    // For bytes below 0x80, b + (0x80 - x) has its high bit set exactly when b >= x, and does
    // not carry into the next byte (a byte from 0x80 up fails the check below anyway).
    const auto at_least = [w](unsigned x) { return (w + ones * (0x80 - x)) & highs; };
    const std::uint64_t ascii = ~w & highs;
    const std::uint64_t digit = at_least('0') & ~at_least('9' + 1);
    std::uint64_t letter = at_least('a') & ~at_least('f' + 1);
    if constexpr (UpperToo) letter |= at_least('A') & ~at_least('F' + 1);
    if (((digit | letter) & ascii) != highs) return false;
    // A digit's value is its low nibble; a letter's, its low nibble + 9.
    std::uint64_t v = (w & ones * 0x0F) + (letter >> 7) * 9;
    v = ((v & 0x0F000F000F000F00ull) >> 8) | ((v & 0x000F000F000F000Full) << 4);  // pairs
    v = (v & 0x000000FF000000FFull) | ((v & 0x00FF000000FF0000ull) >> 8);         // quads
    v = (v & 0xFFFFull) | ((v >> 16) & 0xFFFF0000ull);                            // all eight
    out = __builtin_bswap32(static_cast<std::uint32_t>(v));
    return true;
  }
}

/// The sixteen hex digits at `s` as a number; false when one is not a hex digit (see parse_hex8).
template <bool UpperToo>
bool parse_hex16(const char* s, std::uint64_t& out) noexcept {
  std::uint32_t high = 0, low = 0;
  if (!parse_hex8<UpperToo>(s, high) || !parse_hex8<UpperToo>(s + 8, low)) return false;
  out = (std::uint64_t{high} << 32) | low;
  return true;
}

}  // namespace gatehouse::util
