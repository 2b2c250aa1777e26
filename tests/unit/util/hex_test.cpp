#include "util/hex.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <random>
#include <string>

using gatehouse::util::parse_hex16;
using gatehouse::util::parse_hex8;

TEST_CASE("hex: eight digits at a time, as the byte-by-byte reading gives them", "[hex]") {
  std::uint32_t v = 0;
  REQUIRE(parse_hex8<false>("00000000", v));
  CHECK(v == 0);
  REQUIRE(parse_hex8<false>("0af76519", v));
  CHECK(v == 0x0af76519u);
  REQUIRE(parse_hex8<false>("ffffffff", v));
  CHECK(v == 0xffffffffu);
  REQUIRE(parse_hex8<true>("DEADbeef", v));
  CHECK(v == 0xdeadbeefu);
  CHECK_FALSE(parse_hex8<false>("DEADbeef", v));  // W3C: lower case only

  std::uint64_t w = 0;
  REQUIRE(parse_hex16<false>("b7ad6b7169203331", w));
  CHECK(w == 0xb7ad6b7169203331ull);

  // Random values both ways, printed in either case.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    const std::uint64_t x = rng();
    char text[17];
    std::snprintf(text, sizeof text, i % 2 ? "%016llx" : "%016llX",
                  static_cast<unsigned long long>(x));
    std::uint64_t got = 0;
    REQUIRE(parse_hex16<true>(text, got));
    CHECK(got == x);
    CHECK(parse_hex16<false>(text, got) ==
          (i % 2 == 1 || std::string(text).find_first_of("ABCDEF") == std::string::npos));
  }
}

TEST_CASE("hex: every byte that is not a digit is refused, in every place", "[hex]") {
  for (int c = 0; c < 256; ++c) {
    const bool digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    const bool upper = c >= 'A' && c <= 'F';
    for (int at = 0; at < 8; ++at) {
      char text[9] = "01234567";
      text[at] = static_cast<char>(c);
      std::uint32_t v = 0;
      INFO("byte " << c << " at " << at);
      CHECK(parse_hex8<false>(text, v) == digit);
      CHECK(parse_hex8<true>(text, v) == (digit || upper));
    }
  }
}
