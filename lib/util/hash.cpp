#include "util/hash.hpp"

#include <openssl/rand.h>

#include <cstdint>
#include <cstring>

namespace gatehouse::util {

namespace {
std::uint64_t hash_seed() noexcept {
  static const std::uint64_t seed = [] {
    std::uint64_t s = 0;
    RAND_bytes(reinterpret_cast<std::uint8_t*>(&s), sizeof s);
    return s;
  }();
  return seed;
}
}  // namespace

std::size_t seeded_hash(std::string_view s) noexcept {
  std::uint64_t h = hash_seed() ^ (s.size() * 0x9e3779b97f4a7c15ull);
  const char* p = s.data();
  std::size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  if (n > 0) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
  }
  h ^= h >> 29;
  return static_cast<std::size_t>(h);
}

}  // namespace gatehouse::util
