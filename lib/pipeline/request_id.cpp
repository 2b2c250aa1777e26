#include "pipeline/request_id.hpp"

#include <cstdint>
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

void make_request_id(char (&out)[37]) noexcept {
  thread_local std::uint64_t state = [] {
    std::random_device rd;
    return (std::uint64_t(rd()) << 32) ^ rd();
  }();
  static constexpr char hex[] = "0123456789abcdef";
  std::uint64_t a = splitmix64(state), b = splitmix64(state);
  a = (a & ~0xf000ull) | 0x4000ull;                         // version 4
  b = (b & 0x3fffffffffffffffull) | 0x8000000000000000ull;  // RFC 4122 variant
  // 8-4-4-4-12 hex digits: a fills the first 16 digits, b the last 16.
  auto put = [&](std::uint64_t word, int first_digit, int count, char* at) {
    for (int i = 0; i < count; ++i) at[i] = hex[(word >> (60 - 4 * (first_digit + i))) & 15];
  };
  put(a, 0, 8, out);
  out[8] = '-';
  put(a, 8, 4, out + 9);
  out[13] = '-';
  put(a, 12, 4, out + 14);
  out[18] = '-';
  put(b, 0, 4, out + 19);
  out[23] = '-';
  put(b, 4, 12, out + 24);
  out[36] = '\0';
}

}  // namespace gatehouse::detail
