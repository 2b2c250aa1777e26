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
  int k = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out[k++] = '-';
    std::uint64_t word = i < 16 ? a : b;
    out[k++] = hex[(word >> (60 - 4 * (i % 16))) & 15];
  }
  out[36] = '\0';
}

}  // namespace gatehouse::detail
