// Reading OpenAPI documents: JSON and YAML into one DOM, YAML typed as AWS's Java importer
// (SnakeYAML) types it, and every hostile shape refused quickly: alias bombs, deep nesting in
// either form, oversized documents, non-objects.

#include "spec/document.hpp"
#include "spec/json_util.hpp"

#include <gatehouse/config_error.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace {
using gatehouse::spec::json_text;

std::string yaml(std::string_view text) {
  rapidjson::Document doc;
  std::string why;
  if (!gatehouse::spec::yaml_to_json(text, doc, &why)) return "error: " + why;
  return json_text(doc);
}

std::string read_error(std::string_view text) {
  rapidjson::Document doc;
  try {
    gatehouse::spec::read_document(text, doc);
  } catch (const gatehouse::config_error& e) {
    return e.what();
  }
  return "<read>";
}
}  // namespace

TEST_CASE("documents: YAML scalars typed as AWS's importer reads them", "[spec]") {
  CHECK(yaml("a: 1\nb: -7\nc: 1.5\nd: 1.0\ne: 0x1F\nf: 012\n") ==
        R"({"a":1,"b":-7,"c":1.5,"d":1.0,"e":31,"f":"012"})");
  CHECK(yaml("a: true\nb: yes\nc: On\nd: no\ne: FALSE\nf: y\n") ==
        R"({"a":true,"b":true,"c":true,"d":false,"e":false,"f":"y"})");
  CHECK(yaml("a: ~\nb: null\nc:\nd: 'null'\ne: \"1\"\n") ==
        R"({"a":null,"b":null,"c":null,"d":"null","e":"1"})");
  // Keys stay as written: status codes, versions.
  CHECK(yaml("200: ok\n1.0: v\ntrue: t\n") == R"({"200":"ok","1.0":"v","true":"t"})");
  CHECK(yaml("a: .inf\nb: 1e3\nc: !!str 12\nd: !Ref x\n") ==
        R"({"a":".inf","b":1000.0,"c":"12","d":"x"})");
  CHECK(yaml("t: |\n  line 1\n  line 2\nf: >\n  folded\n  text\n") ==
        R"({"t":"line 1\nline 2\n","f":"folded text\n"})");
  CHECK(yaml("a: [1, {b: c}]\n") == R"({"a":[1,{"b":"c"}]})");
}

TEST_CASE("documents: YAML anchors, aliases and merge keys", "[spec]") {
  CHECK(yaml("d: &d {x: 1}\na: *d\nb: *d\n") == R"({"d":{"x":1},"a":{"x":1},"b":{"x":1}})");
  CHECK(yaml("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n") ==
        R"({"base":{"x":1,"y":2},"m":{"y":3,"x":1}})");
  CHECK(yaml("a: &a {x: 1}\nb: &b {y: 2}\nm: {<<: [*a, *b], z: 3}\n") ==
        R"({"a":{"x":1},"b":{"y":2},"m":{"z":3,"x":1,"y":2}})");
  // An alias of its own ancestor has no value yet: refused, not looped over.
  CHECK(yaml("a: &a\n  b: *a\n").starts_with("error: "));
  CHECK(yaml("a: *nowhere\n").starts_with("error: "));
  CHECK(yaml("? [1, 2]\n: x\n").starts_with("error: "));
  CHECK(yaml("a: [1, 2\n").starts_with("error: line "));
}

TEST_CASE("documents: hostile YAML ends quickly, refused", "[spec]") {
  auto start = std::chrono::steady_clock::now();
  // The "billion laughs": nine levels of nine aliases each.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 9; ++i) bomb += std::string(i ? ", *" : "*") + static_cast<char>(c - 1);
    bomb += "]\n";
  }
  CHECK(yaml(bomb).find("expands") != std::string::npos);
  // Deep nesting, flow and block, past the JSON limit and far past it.
  CHECK(yaml(std::string(1001, '[') + std::string(1001, ']')).find("nesting deeper") !=
        std::string::npos);
  CHECK(yaml(std::string(200'000, '[') + std::string(200'000, ']')).starts_with("error: "));
  std::string block;
  for (int i = 0; i < 1200; ++i) block += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
  CHECK(yaml(block).starts_with("error: "));
  CHECK(yaml(std::string(400, '[') + std::string(400, ']')).starts_with("[[[["));
  // Aliases that put a deep value deeper still, past the JSON limit.
  std::string deep_alias = "a: &a " + std::string(450, '[') + std::string(450, ']') + "\n";
  deep_alias += "b: &b " + std::string(450, '[') + "*a" + std::string(450, ']') + "\n";
  deep_alias += "c: " + std::string(450, '[') + "*b" + std::string(450, ']') + "\n";
  CHECK(yaml(deep_alias).find("nesting deeper than 1000") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
}

TEST_CASE("documents: JSON or YAML, objects only, AWS's words for the rest", "[spec]") {
  rapidjson::Document doc;
  gatehouse::spec::read_document(R"({"swagger":"2.0"})", doc);
  CHECK(json_text(doc) == R"({"swagger":"2.0"})");
  gatehouse::spec::read_document("\xEF\xBB\xBFswagger: '2.0'\ninfo: {title: t}\n", doc);
  CHECK(json_text(doc) == R"({"swagger":"2.0","info":{"title":"t"}})");
  gatehouse::spec::read_document("{swagger: '2.0'}", doc);  // YAML's flow mapping
  CHECK(json_text(doc) == R"({"swagger":"2.0"})");

  CHECK(read_error("").starts_with("Invalid OpenAPI input."));
  CHECK(read_error("[1, 2]").starts_with("Invalid OpenAPI input."));
  CHECK(read_error("just text").starts_with("Invalid OpenAPI input."));
  CHECK(read_error(R"({"swagger": "2.0")") ==
        "Invalid OpenAPI input. (JSON at offset 17: Missing a comma or '}' after an object "
        "member.)");
  // Broken JSON that is still YAML (a flow mapping with a trailing comma) reads as YAML.
  CHECK(read_error(R"({"swagger": "2.0",})") == "<read>");
  CHECK(read_error("a: [\n").starts_with("Invalid OpenAPI input. (YAML line"));
  CHECK(read_error(std::string(200'000, '[')).starts_with("Invalid OpenAPI input."));
  CHECK(read_error(std::string(gatehouse::spec::max_document_bytes + 1, ' ')) ==
        "Invalid OpenAPI input. (the document is larger than 6291456 bytes, AWS's limit)");
  CHECK(read_error("{\"a\":\"\xff\"}") ==
        "Invalid OpenAPI input. (the document is not UTF-8 text)");
  CHECK(read_error("a: \"\xc3\"\n") == "Invalid OpenAPI input. (the document is not UTF-8 text)");
}
