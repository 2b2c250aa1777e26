#include "pipeline/request_id.hpp"

#include <cstdint>
#include <cstring>
#include <random>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gatehouse::detail {

namespace {
std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

#if defined(__SSE2__)
// The 16 hex digits of `v`, most significant first, in one vector: the bytes in that order,
// their high and low nibbles interleaved, then '0'-'9' or 'a'-'f' for all sixteen at once.
__m128i hex16(std::uint64_t v) noexcept {
  const __m128i bytes = _mm_cvtsi64_si128(static_cast<long long>(__builtin_bswap64(v)));
  const __m128i nibble = _mm_set1_epi8(0x0f);
  const __m128i high = _mm_and_si128(_mm_srli_epi16(bytes, 4), nibble);
  const __m128i low = _mm_and_si128(bytes, nibble);
  const __m128i x = _mm_unpacklo_epi8(high, low);
  const __m128i letters =
      _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(9)), _mm_set1_epi8('a' - '0' - 10));
  return _mm_add_epi8(_mm_add_epi8(x, _mm_set1_epi8('0')), letters);
}
#else
// The 8 hex digits of `v`, most significant first, as one little-endian word: each nibble is
// spread to a byte, then turned into '0'-'9' or 'a'-'f' for all eight at once.
std::uint64_t hex8(std::uint32_t v) noexcept {
  std::uint64_t x = v;
  x = ((x & 0xffff0000ull) << 16) | (x & 0xffffull);
  x = ((x & 0x0000ff000000ff00ull) << 8) | (x & 0x000000ff000000ffull);
  x = ((x & 0x00f000f000f000f0ull) << 4) | (x & 0x000f000f000f000full);
  const std::uint64_t letters = ((x + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull;
  x += 0x3030303030303030ull + letters * ('a' - '0' - 10);
  return __builtin_bswap64(x);  // the most significant digit first in memory
}
#endif

std::uint64_t& generator_state() noexcept {
  thread_local std::uint64_t state = [] {
    std::random_device rd;
    return (std::uint64_t(rd()) << 32) ^ rd();
  }();
  return state;
}
}  // namespace

std::uint64_t random_bits() noexcept { return splitmix64(generator_state()); }

void write_hex16(std::uint64_t v, char* out) noexcept {
#if defined(__SSE2__)
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), hex16(v));
#else
  const std::uint64_t words[2] = {hex8(static_cast<std::uint32_t>(v >> 32)),
                                  hex8(static_cast<std::uint32_t>(v))};
  std::memcpy(out, words, 16);
#endif
}

void make_request_id(char (&out)[37]) noexcept {
  std::uint64_t& state = generator_state();
  std::uint64_t a = splitmix64(state), b = splitmix64(state);
  a = (a & ~0xf000ull) | 0x4000ull;                         // version 4
  b = (b & 0x3fffffffffffffffull) | 0x8000000000000000ull;  // RFC 4122 variant
  // 8-4-4-4-12 hex digits: a gives the first 16 digits, b the last 16.
  char digits[32];
#if defined(__SSE2__)
  _mm_storeu_si128(reinterpret_cast<__m128i*>(digits), hex16(a));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(digits + 16), hex16(b));
#else
  const std::uint64_t words[4] = {
      hex8(static_cast<std::uint32_t>(a >> 32)), hex8(static_cast<std::uint32_t>(a)),
      hex8(static_cast<std::uint32_t>(b >> 32)), hex8(static_cast<std::uint32_t>(b))};
  std::memcpy(digits, words, sizeof digits);
#endif
  std::memcpy(out, digits, 8);
  std::memcpy(out + 9, digits + 8, 4);
  std::memcpy(out + 14, digits + 12, 4);
  std::memcpy(out + 19, digits + 16, 4);
  std::memcpy(out + 24, digits + 20, 12);
  out[8] = out[13] = out[18] = out[23] = '-';
  out[36] = '\0';
}

}  // namespace gatehouse::detail
