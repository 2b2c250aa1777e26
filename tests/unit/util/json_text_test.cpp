#include "util/json_text.hpp"

#include "strict_json.hpp"

#include <gatehouse/text.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <utility>

using gatehouse::util::append_json_string;
using gatehouse::util::valid_utf8;

namespace {
const std::string fffd = "\xEF\xBF\xBD";  // U+FFFD

std::string quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

// Ill-formed input and what it must become: one U+FFFD per maximal subpart (Unicode 15, 3.9),
// as Java's UTF-8 decoder makes it.
const std::pair<std::string, std::string> ill_formed[] = {
    {"\xFF", fffd},
    {"Pet \xFF not found", "Pet " + fffd + " not found"},
    {"\x80\xBF", fffd + fffd},                        // lone continuation bytes
    {"\xC0\xAF", fffd + fffd},                        // an overlong '/'
    {"\xE0\x80\xAF", fffd + fffd + fffd},             // an overlong '/' in three bytes
    {"\xED\xA0\x80", fffd + fffd + fffd},             // a UTF-16 surrogate
    {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd},  // past U+10FFFF
    {"\xF5\x80", fffd + fffd},
    {"caf\xC3", "caf" + fffd},  // cut short at the end
    {"\xE2\x82", fffd},         // a truncated euro sign: one subpart
    {"\xE2\x82x", fffd + "x"},
    {"\xF0\x9F\x98", fffd},
    {"\xC3\"", fffd + "\""},  // a lead byte before a quote
    // Unicode's own example (table 3-8).
    {"\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
     "a" + fffd + fffd + fffd + "b" + fffd + "c" + fffd + fffd + "d"},
};
}  // namespace

TEST_CASE("append_json_string makes JSON of any bytes: ill-formed UTF-8 becomes U+FFFD") {
  for (const auto& [in, want] : ill_formed) {
    INFO(in);
    const auto json = quoted(in);
    rapidjson::Document doc;
    REQUIRE(test::json_error(json, &doc) == "");
    REQUIRE(doc.IsString());
    CHECK(std::string(doc.GetString(), doc.GetStringLength()) == want);
    CHECK(valid_utf8(json));
  }
  // Every single byte, and every pair of bytes, inside a string.
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; b += (a < 0x80 ? 17 : 1)) {
      std::string s = "x";
      s.push_back(static_cast<char>(a));
      s.push_back(static_cast<char>(b));
      s += "\"\\";
      INFO(a << " " << b);
      REQUIRE(test::json_error(quoted(s)) == "");
    }
  }
  // Well-formed text is kept as it is, escapes as before.
  const std::string text = "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9D\x84\x9E \xEF\xBF\xBD";
  CHECK(quoted(text) == "\"" + text + "\"");
  CHECK(quoted("a\"b\\c\n\x01\x7F") == R"("a\"b\\c\n\u0001)"
                                       "\x7F\"");
}

TEST_CASE("append_valid_utf8 and make_valid_utf8 replace what valid_utf8 refuses") {
  for (const auto& [in, want] : ill_formed) {
    INFO(in);
    CHECK_FALSE(valid_utf8(in));
    std::string out = "<";
    gatehouse::util::append_valid_utf8(out, in);
    CHECK(out == "<" + want);
    std::string s = in;
    gatehouse::util::make_valid_utf8(s);
    CHECK(s == want);
    CHECK(valid_utf8(s));
    CHECK(gatehouse::as_valid_utf8(in) == want);
  }
  std::string ok = "plain \xC3\xA9";
  gatehouse::util::make_valid_utf8(ok);
  CHECK(ok == "plain \xC3\xA9");
  CHECK(gatehouse::as_valid_utf8("") == "");
  CHECK(gatehouse::json_string("Pet \xFF \"x\"") == "\"Pet " + fffd + " \\\"x\\\"\"");
}
