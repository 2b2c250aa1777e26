#include "usage/api_key_csv.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using gatehouse::usage::csv_key_file;
using gatehouse::usage::csv_key_row;
using gatehouse::usage::parse_key_csv;
using gatehouse::usage::valid_key_value;

namespace {
// Valid key values: 30+ letters and digits.
const std::string key_a = "AAAAAAAAAAbbbbbbbbbb0123456789";            // 30
const std::string key_b = "BBBBBBBBBBccccccccccdddddddddd9876543210";  // 40
const std::string key_c = "CCCCCCCCCCeeeeeeeeee11111111112222222222";  // 40
const std::string key_d = "DDDDDDDDDDffffffffff33333333334444444444";  // 40

// `text` with {A}, {B}, {C} and {D} replaced by key_a … key_d.
std::string with_keys(std::string text) {
  const std::pair<std::string_view, const std::string*> marks[] = {
      {"{A}", &key_a}, {"{B}", &key_b}, {"{C}", &key_c}, {"{D}", &key_d}};
  for (auto [mark, value] : marks)
    for (auto at = text.find(mark); at != std::string::npos; at = text.find(mark, at))
      text.replace(at, mark.size(), *value);
  return text;
}

std::string errors_of(const csv_key_file& f) {
  std::string out;
  for (const auto& e : f.errors) out += e + "\n";
  return out;
}

// The number N of an error "line N: …" (0 when the prefix is missing).
unsigned long line_of(const std::string& error) {
  if (error.rfind("line ", 0) != 0) return 0;
  return std::strtoul(error.c_str() + 5, nullptr, 10);
}

// Checks that every error starts with "line N:" and that they come sorted by N.
void check_error_format(const csv_key_file& f) {
  unsigned long last = 0;
  for (const auto& e : f.errors) {
    INFO(e);
    const auto n = line_of(e);
    CHECK(n >= 1);
    CHECK(e.rfind("line " + std::to_string(n) + ": ", 0) == 0);
    CHECK(n >= last);
    last = n;
  }
}

bool has_error(const csv_key_file& f, unsigned long line, std::string_view needle) {
  return std::any_of(f.errors.begin(), f.errors.end(), [&](const std::string& e) {
    return line_of(e) == line && e.find(needle) != std::string::npos;
  });
}
}  // namespace

TEST_CASE("a good key file parses into rows", "[usage]") {
  const std::string csv = with_keys(
      "name,key,description,enabled,usageplanIds\n"
      "alice,{A},Alice's key,true,plan1\n"
      "bob,{B},,false,\n"
      "carol,{C},third,,\"p1,p2\"\n");
  const auto f = parse_key_csv(csv);
  INFO(errors_of(f));
  REQUIRE(f.errors.empty());
  REQUIRE(f.rows.size() == 3);

  CHECK(f.rows[0].line == 2);
  CHECK(f.rows[0].name == "alice");
  CHECK(f.rows[0].key == key_a);
  CHECK(f.rows[0].description == "Alice's key");
  CHECK(f.rows[0].enabled);
  CHECK(f.rows[0].plan_ids == std::vector<std::string>{"plan1"});

  CHECK(f.rows[1].line == 3);
  CHECK(f.rows[1].name == "bob");
  CHECK(f.rows[1].key == key_b);
  CHECK(f.rows[1].description.empty());
  CHECK_FALSE(f.rows[1].enabled);
  CHECK(f.rows[1].plan_ids.empty());

  CHECK(f.rows[2].line == 4);
  CHECK(f.rows[2].description == "third");
  CHECK(f.rows[2].enabled);  // empty Enabled → true
  CHECK(f.rows[2].plan_ids == std::vector<std::string>{"p1", "p2"});
}

TEST_CASE("the header may use any case and order; unknown columns are ignored", "[usage]") {
  const std::string csv = with_keys(
      "UsagePlanIds,Extra,KEY,Enabled,Name,Description\n"
      "planX,ignored,{A},FALSE,dave,Dave's\n"
      "\"a, b ,c\",whatever,{B},True,erin,\n");
  const auto f = parse_key_csv(csv);
  INFO(errors_of(f));
  REQUIRE(f.errors.empty());
  REQUIRE(f.rows.size() == 2);
  CHECK(f.rows[0].name == "dave");
  CHECK(f.rows[0].key == key_a);
  CHECK(f.rows[0].description == "Dave's");
  CHECK_FALSE(f.rows[0].enabled);
  CHECK(f.rows[0].plan_ids == std::vector<std::string>{"planX"});
  CHECK(f.rows[1].name == "erin");
  CHECK(f.rows[1].enabled);
  CHECK(f.rows[1].plan_ids == std::vector<std::string>{"a", "b", "c"});

  // Only Name and Key are required.
  const auto minimal = parse_key_csv("Key,Name\n" + key_c + ",frank\n");
  INFO(errors_of(minimal));
  REQUIRE(minimal.errors.empty());
  REQUIRE(minimal.rows.size() == 1);
  CHECK(minimal.rows[0].name == "frank");
  CHECK(minimal.rows[0].key == key_c);
  CHECK(minimal.rows[0].enabled);
  CHECK(minimal.rows[0].description.empty());
}

TEST_CASE("CRLF line ends, a byte-order mark and blank lines", "[usage]") {
  const std::string csv = with_keys(
      "\xEF\xBB\xBFName,Key,Enabled\r\n"
      "\r\n"
      "one,{A},false\r\n"
      "\r\n"
      "   \r\n"
      ",,\r\n"
      "two,{B},true\r\n");
  const auto f = parse_key_csv(csv);
  INFO(errors_of(f));
  REQUIRE(f.errors.empty());
  REQUIRE(f.rows.size() == 2);
  CHECK(f.rows[0].name == "one");
  CHECK(f.rows[0].key == key_a);  // no '\r' left on the last field
  CHECK_FALSE(f.rows[0].enabled);
  CHECK(f.rows[0].line == 3);
  CHECK(f.rows[1].name == "two");
  CHECK(f.rows[1].key == key_b);
  CHECK(f.rows[1].enabled);
  CHECK(f.rows[1].line == 7);  // blank lines still count

  // The BOM is not part of the first column's name: "Name" is found.
  const auto bom_first = parse_key_csv(with_keys("\xEF\xBB\xBFName,Key\nx,{A}"));
  INFO(errors_of(bom_first));
  CHECK(bom_first.errors.empty());
  CHECK(bom_first.rows.size() == 1);
}

TEST_CASE("quoted fields: commas, both quote characters, doubled quotes", "[usage]") {
  const std::string csv = with_keys(
      "Name,Key,Description\n"
      "\"Smith, John\",{A},\"says \"\"hi\"\", twice\"\n"
      "'O''Brien, Pat','{B}','single, quoted'\n"
      "  \"spaced\"  ,\"{C}\",'it''s \"fine\"'\n");
  const auto f = parse_key_csv(csv);
  INFO(errors_of(f));
  REQUIRE(f.errors.empty());
  REQUIRE(f.rows.size() == 3);
  CHECK(f.rows[0].name == "Smith, John");
  CHECK(f.rows[0].key == key_a);
  CHECK(f.rows[0].description == "says \"hi\", twice");
  CHECK(f.rows[1].name == "O'Brien, Pat");
  CHECK(f.rows[1].key == key_b);
  CHECK(f.rows[1].description == "single, quoted");
  CHECK(f.rows[2].name == "spaced");
  CHECK(f.rows[2].key == key_c);
  CHECK(f.rows[2].description == "it's \"fine\"");
}

TEST_CASE("a quoted multi-line field keeps later line numbers right", "[usage]") {
  const std::string csv = with_keys(
      "Name,Key,Description\n"    // 1
      "multi,{A},\"first line\n"  // 2
      "second line\n"             // 3
      "third line\"\n"            // 4
      "next,{B},plain\n"          // 5
      "bad,short,plain\n");       // 6
  const auto f = parse_key_csv(csv);
  REQUIRE(f.rows.size() == 2);
  CHECK(f.rows[0].line == 2);
  CHECK(f.rows[0].description == "first line\nsecond line\nthird line");
  CHECK(f.rows[1].line == 5);
  CHECK(f.rows[1].name == "next");
  REQUIRE(f.errors.size() == 1);
  CHECK(f.errors[0].rfind("line 6: ", 0) == 0);

  // With CRLF inside and around the quoted field.
  const std::string crlf = with_keys(
      "Name,Key,Description\r\n"
      "m,'{A}','a\r\n"
      "b\r\n"
      "c'\r\n"
      "n,{B},x\r\n"
      "o,bad!,x\r\n");
  const auto g = parse_key_csv(crlf);
  REQUIRE(g.rows.size() == 2);
  CHECK(g.rows[1].line == 5);
  REQUIRE(g.errors.size() == 1);
  CHECK(g.errors[0].rfind("line 6: ", 0) == 0);
}

TEST_CASE("Enabled: true, false (any case) and empty; anything else is an error", "[usage]") {
  const std::string csv = with_keys(
      "Name,Key,Enabled\n"
      "a,{A},TRUE\n"
      "b,{B},False\n"
      "c,{C},\n"
      "d,{D},maybe\n");
  const auto f = parse_key_csv(csv);
  REQUIRE(f.rows.size() == 3);
  CHECK(f.rows[0].enabled);
  CHECK_FALSE(f.rows[1].enabled);
  CHECK(f.rows[2].enabled);
  REQUIRE(f.errors.size() == 1);
  CHECK(f.errors[0].rfind("line 5: ", 0) == 0);
  CHECK(f.errors[0].find("maybe") != std::string::npos);
  for (const char* bad : {"yes", "1", "0", "no", "truee"}) {
    INFO(bad);
    const auto g = parse_key_csv("Name,Key,Enabled\nx," + key_a + "," + bad + "\n");
    CHECK(g.rows.empty());
    CHECK(g.errors.size() == 1);
  }
}

TEST_CASE("a header without Name or Key is an error on line 1", "[usage]") {
  for (const char* header : {"Key,Description", "Name,Description", "Names,Keys", "Description"}) {
    INFO(header);
    const auto f = parse_key_csv(std::string(header) + "\nalice," + key_a + "\n");
    CHECK(f.rows.empty());
    REQUIRE(f.errors.size() == 1);
    CHECK(f.errors[0].rfind("line 1: ", 0) == 0);
    CHECK(f.errors[0].find("Name and Key") != std::string::npos);
  }
  const auto empty = parse_key_csv("");
  CHECK(empty.rows.empty());
  REQUIRE(empty.errors.size() == 1);
  CHECK(empty.errors[0].rfind("line 1: ", 0) == 0);
  const auto blank = parse_key_csv("\n\n");
  CHECK(blank.rows.empty());
  CHECK(blank.errors.size() == 1);
}

TEST_CASE("bad rows: each error names its line, errors come sorted by line", "[usage]") {
  const std::string csv = with_keys(
      "Name,Key,Enabled\n"                           // 1
      "good,{A},true\n"                              // 2
      ",{B},true\n"                                  // 3: no Name
      "thirty,abcdefghij0123456789ABCDEFGHIJ,\n"     // 4: ok (30 chars)
      "short,abcdefghij0123456789ABCDEFGHI,\n"       // 5: 29 chars
      "symbols,AAAAAAAAAAbbbbbbbbbb012345678-,\n"    // 6: '-'
      "maybe,{C},maybe\n"                            // 7
      "dup1,{A},\n"                                  // 8: same as 2
      "nokey,,\n"                                    // 9: no Key
      "spacey,AAAAAAAAAA bbbbbbbbbb0123456789,\n");  // 10: a space
  const auto f = parse_key_csv(csv);
  INFO(errors_of(f));
  check_error_format(f);
  REQUIRE(f.rows.size() == 2);
  CHECK(f.rows[0].line == 2);
  CHECK(f.rows[1].line == 4);
  REQUIRE(f.errors.size() == 7);
  CHECK(has_error(f, 3, "no Name"));
  CHECK(has_error(f, 5, "30 to 128"));
  CHECK(has_error(f, 6, "30 to 128"));
  CHECK(has_error(f, 7, "maybe"));
  CHECK(has_error(f, 8, "the same Key as line 2"));
  CHECK(has_error(f, 9, "no Key"));
  CHECK(has_error(f, 10, "30 to 128"));
  std::vector<unsigned long> lines;
  for (const auto& e : f.errors) lines.push_back(line_of(e));
  CHECK(lines == std::vector<unsigned long>{3, 5, 6, 7, 8, 9, 10});
}

TEST_CASE("a duplicate key names the first line it appeared on", "[usage]") {
  const std::string csv = with_keys(
      "Name,Key\n"  // 1
      "a,{B}\n"     // 2
      "b,{A}\n"     // 3
      "c,{B}\n"     // 4
      "d,{B}\n");   // 5
  const auto f = parse_key_csv(csv);
  INFO(errors_of(f));
  REQUIRE(f.errors.size() == 2);
  CHECK(f.errors[0].rfind("line 4: ", 0) == 0);
  CHECK(f.errors[0].find("the same Key as line 2") != std::string::npos);
  CHECK(f.errors[1].rfind("line 5: ", 0) == 0);
  CHECK(f.errors[1].find("the same Key as line 2") != std::string::npos);
  REQUIRE(f.rows.size() == 2);
  CHECK(f.rows[0].name == "a");
  CHECK(f.rows[1].name == "b");
}

TEST_CASE("an unclosed quote is an error on the line where the row starts", "[usage]") {
  const std::string csv = with_keys(
      "Name,Key,Description\n"     // 1
      "ok,{A},fine\n"              // 2
      "open,{B},\"never closed\n"  // 3
      "more,{C},text\n");          // 4 (swallowed by the quote)
  const auto f = parse_key_csv(csv);
  INFO(errors_of(f));
  check_error_format(f);
  CHECK(has_error(f, 3, "not closed"));
  // Nothing after the open quote becomes a row of its own.
  CHECK(std::none_of(f.rows.begin(), f.rows.end(),
                     [](const csv_key_row& r) { return r.name == "more"; }));
  CHECK(std::none_of(f.errors.begin(), f.errors.end(),
                     [](const std::string& e) { return line_of(e) < 3; }));
}

TEST_CASE("errors are sorted by line even when found out of order", "[usage]") {
  // The unclosed-quote error is found while splitting (before the row checks), yet must
  // come after the errors of earlier lines.
  const std::string csv =
      "Name,Key\n"      // 1
      ",\n"             // 2: blank → skipped
      "x,tooShort\n"    // 3
      "y,abc!\n"        // 4
      "z,'unclosed\n";  // 5
  const auto f = parse_key_csv(csv);
  INFO(errors_of(f));
  check_error_format(f);
  CHECK(has_error(f, 3, "30 to 128"));
  CHECK(has_error(f, 4, "30 to 128"));
  CHECK(has_error(f, 5, "not closed"));
  REQUIRE(f.errors.size() >= 3);
  CHECK(line_of(f.errors.front()) == 3);
  CHECK(line_of(f.errors.back()) == 5);
  CHECK(f.rows.empty());
}

TEST_CASE("valid_key_value: 20 to 128 letters and digits (or min to 128)", "[usage]") {
  CHECK_FALSE(valid_key_value(std::string(19, 'a')));
  CHECK(valid_key_value(std::string(20, 'a')));
  CHECK(valid_key_value(std::string(128, 'Z')));
  CHECK_FALSE(valid_key_value(std::string(129, 'Z')));
  CHECK_FALSE(valid_key_value(""));
  CHECK(valid_key_value("abcdefghijKLMNOPQRST0123456789"));
  CHECK_FALSE(valid_key_value("abcdefghijKLMNOPQRST012345678-"));
  CHECK_FALSE(valid_key_value("abcdefghijKLMNOPQRST01234567_9"));
  CHECK_FALSE(valid_key_value("abcdefghij KLMNOPQRST0123456789"));
  CHECK_FALSE(
      valid_key_value("abcdefghijKLMNOPQRST\xC3\xA9"
                      "0123456789"));  // é
  CHECK_FALSE(
      valid_key_value(std::string("abcdefghijKLMNOPQRST\0"
                                  "123",
                                  24)));

  // The min parameter.
  CHECK_FALSE(valid_key_value(std::string(29, 'a'), 30));
  CHECK(valid_key_value(std::string(30, 'a'), 30));
  CHECK(valid_key_value(std::string(128, 'a'), 30));
  CHECK_FALSE(valid_key_value(std::string(129, 'a'), 30));
  CHECK(valid_key_value("abc", 3));
  CHECK_FALSE(valid_key_value("ab", 3));
}
