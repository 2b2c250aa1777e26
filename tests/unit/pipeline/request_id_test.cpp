#include "pipeline/request_id.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

using gatehouse::detail::make_request_id;

TEST_CASE("request ids are version 4 UUIDs in lower-case hex", "[request-id]") {
  std::set<std::string> seen;
  std::set<char> digits_seen;
  for (int i = 0; i < 2000; ++i) {
    char id[37];
    make_request_id(id);
    const std::string text(id);
    REQUIRE(text.size() == 36);
    for (std::size_t j = 0; j < 36; ++j) {
      if (j == 8 || j == 13 || j == 18 || j == 23) {
        REQUIRE(text[j] == '-');
        continue;
      }
      const char c = text[j];
      REQUIRE(((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')));
      digits_seen.insert(c);
    }
    CHECK(text[14] == '4');                                          // version
    CHECK(std::string("89ab").find(text[19]) != std::string::npos);  // RFC 4122 variant
    seen.insert(text);
  }
  CHECK(seen.size() == 2000);
  CHECK(digits_seen.size() == 16);  // every hex digit turns up
}
