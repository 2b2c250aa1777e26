#include "pipeline/request_id.hpp"

#include <cstdint>
#include <cstring>
#include <random>

namespace gatehouse::detail {

namespace {
std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

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

void put_hex8(char* at, std::uint32_t v) noexcept {
  const std::uint64_t digits = hex8(v);
  std::memcpy(at, &digits, 8);
}

void make_request_id(char (&out)[37]) noexcept {
  thread_local std::uint64_t state = [] {
    std::random_device rd;
    return (std::uint64_t(rd()) << 32) ^ rd();
  }();
  std::uint64_t a = splitmix64(state), b = splitmix64(state);
  a = (a & ~0xf000ull) | 0x4000ull;                         // version 4
  b = (b & 0x3fffffffffffffffull) | 0x8000000000000000ull;  // RFC 4122 variant
  // 8-4-4-4-12 hex digits: a gives the first 16 digits, b the last 16.
  char digits[32];
  put_hex8(digits, static_cast<std::uint32_t>(a >> 32));
  put_hex8(digits + 8, static_cast<std::uint32_t>(a));
  put_hex8(digits + 16, static_cast<std::uint32_t>(b >> 32));
  put_hex8(digits + 24, static_cast<std::uint32_t>(b));
  std::memcpy(out, digits, 8);
  out[8] = '-';
  std::memcpy(out + 9, digits + 8, 4);
  out[13] = '-';
  std::memcpy(out + 14, digits + 12, 4);
  out[18] = '-';
  std::memcpy(out + 19, digits + 16, 4);
  out[23] = '-';
  std::memcpy(out + 24, digits + 20, 12);
  out[36] = '\0';
}

}  // namespace gatehouse::detail
