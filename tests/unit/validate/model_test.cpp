// Models (JSON Schema draft 4) as step 7 checks bodies with them: AWS's PetStore model, the
// validator's messages ($context.error.validationErrorString), patterns with \d and friends on
// a linear-time matcher, $refs between models, bad schemas refused, many threads at once.

#include "validate/model.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {
using gatehouse::validate::model;

// AWS's PetStore model, as the request validation docs define it.
constexpr const char* pet_schema = R"({
  "$schema": "http://json-schema.org/draft-04/schema#",
  "title": "Pet",
  "type": "object",
  "required": ["type", "price"],
  "properties": {
    "type": {"type": "string", "enum": ["dog", "cat", "fish"]},
    "price": {"type": "number", "minimum": 25.0, "maximum": 500.0}
  }
})";

std::string errors_of(const model& m, std::string_view body) {
  std::string errors;
  return m.check(body, &errors) ? "<valid>" : errors;
}

model make(std::string_view schema, const gatehouse::validate::model_lookup& lookup = {}) {
  return model("Test", schema, lookup);
}

std::string config_error_of(std::string_view schema,
                            const gatehouse::validate::model_lookup& lookup = {}) {
  try {
    model m("Test", schema, lookup);
  } catch (const gatehouse::config_error& e) {
    return e.what();
  }
  return "<accepted>";
}
}  // namespace

TEST_CASE("models: AWS's Pet model and the validator's messages", "[validate]") {
  model pet("Pet", pet_schema, {});
  CHECK(errors_of(pet, R"({"type":"dog","price":249.99})") == "<valid>");
  CHECK(errors_of(pet, R"({"type":"cat","price":25})") == "<valid>");
  CHECK(errors_of(pet, R"({"type":"bird","price":100})") ==
        R"([instance value ("bird") not found in enum (possible values: ["dog","cat","fish"])])");
  CHECK(errors_of(pet, R"({"type":"dog","price":10})") ==
        "[numeric instance is lower than the required minimum (minimum: 25.0, found: 10)]");
  CHECK(errors_of(pet, R"({"type":"dog","price":1000})") ==
        "[numeric instance is greater than the required maximum (maximum: 500.0, found: 1000)]");
  CHECK(errors_of(pet, R"({"type":"dog"})") ==
        R"([object has missing required properties (["price"])])");
  CHECK(errors_of(pet, R"({})") ==
        R"([object has missing required properties (["type","price"])])");
  CHECK(
      errors_of(pet, R"({"type":"dog","price":"cheap"})") ==
      R"([instance type (string) does not match any allowed primitive type (allowed: ["number"])])");
  CHECK(
      errors_of(pet, R"([1,2])") ==
      R"([instance type (array) does not match any allowed primitive type (allowed: ["object"])])");
  CHECK(errors_of(pet, "").starts_with("[Invalid JSON: "));
  CHECK(errors_of(pet, R"({"type":"dog","price":100)").starts_with("[Invalid JSON: "));
  CHECK(errors_of(pet, R"({"type":"dog","price":100} x)").starts_with("[Invalid JSON: "));
  CHECK(errors_of(pet, "{\"type\":\"d\xff\",\"price\":100}").starts_with("[Invalid JSON: "));
  CHECK(pet.check(R"({"type":"fish","price":500})"));
}

TEST_CASE("models: other keywords' messages", "[validate]") {
  CHECK(errors_of(make(R"({"type":"string","minLength":3})"), R"("ab")") ==
        R"([string "ab" is too short (length: 2, required minimum: 3)])");
  CHECK(errors_of(make(R"({"type":"string","maxLength":3})"), R"("héllo")") ==
        R"([string "héllo" is too long (length: 5, maximum allowed: 3)])");
  CHECK(errors_of(make(R"({"type":"array","minItems":2})"), "[1]") ==
        "[array is too short: must have at least 2 elements but instance has 1 elements]");
  CHECK(errors_of(make(R"({"type":"array","maxItems":1})"), "[1,2]") ==
        "[array is too long: must have at most 1 elements but instance has 2 elements]");
  CHECK(errors_of(make(R"({"properties":{"a":{}},"additionalProperties":false})"),
                  R"({"a":1,"b":2,"c":3})") ==
        R"([object instance has properties which are not allowed by the schema: ["b","c"]])");
  CHECK(errors_of(make(R"({"type":"number","minimum":5,"exclusiveMinimum":true})"), "5") ==
        "[numeric instance is not strictly greater than the required minimum 5]");
  CHECK(errors_of(make(R"({"type":"string","pattern":"^[a-z]+$"})"), R"("abc1")") ==
        R"([ECMA 262 regex "^[a-z]+$" does not match input string "abc1"])");
  CHECK(
      errors_of(make(R"({"properties":{"p":{"properties":{"q":{"type":"integer"}}}}})"),
                R"({"p":{"q":1.5}})") ==
      R"([instance type (number) does not match any allowed primitive type (allowed: ["integer"])])");
}

TEST_CASE("models: patterns with \\d, \\w, \\s on a linear-time matcher", "[validate]") {
  auto phone = make(R"({"type":"string","pattern":"^\\d{3}-\\d{4}$"})");
  CHECK(phone.check(R"("555-1234")"));
  CHECK_FALSE(phone.check(R"("5551234")"));
  CHECK_FALSE(phone.check(R"("555-12a4")"));
  auto word = make(R"({"type":"string","pattern":"^\\w+(?:\\s\\w+)*?$"})");
  CHECK(word.check(R"("hello big world")"));
  CHECK_FALSE(word.check(R"("hello  world")"));
  auto klass = make(R"({"type":"string","pattern":"^[\\d\\s]+$"})");
  CHECK(klass.check(R"("1 2 3")"));
  CHECK_FALSE(klass.check(R"("1,2")"));
  auto props = make(R"({"patternProperties":{"^x-\\d+$":{"type":"integer"}}})");
  CHECK(props.check(R"({"x-1":5,"other":"s"})"));
  CHECK_FALSE(props.check(R"({"x-1":"five"})"));

  // A pattern that backtracking engines take exponential time (or stack) over.
  auto evil = make(R"({"type":"string","pattern":"^(a|aa)*$"})");
  std::string long_body = "\"" + std::string(200'000, 'a') + "b\"";
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(evil.check(long_body));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));  // not a hang
}

TEST_CASE("models: patterns the matcher cannot run are refused when the API is made",
          "[validate]") {
  CHECK(config_error_of(R"({"pattern":"^(?=a)b"})") ==
        "model 'Test': pattern \"^(?=a)b\" cannot be used: lookaround and named groups are not "
        "supported");
  CHECK(config_error_of(R"({"pattern":"(a)\\1"})").find("backreferences") != std::string::npos);
  CHECK(config_error_of(R"({"pattern":"\\bword"})").find("word boundaries") != std::string::npos);
  CHECK(config_error_of(R"({"pattern":"[a-"})").find("cannot be used") != std::string::npos);
  CHECK(config_error_of(R"({"type":)").starts_with("model 'Test': the schema is not JSON: "));
  CHECK(config_error_of("[1]") == "model 'Test': the schema is not an object");
  CHECK(config_error_of(R"({"$ref":"http://example.com/other.json"})").find("is neither local") !=
        std::string::npos);
  CHECK(config_error_of(R"({"$ref":"https://apigateway.amazonaws.com/restapis/x/models/Nope"})") ==
        "model 'Test': $ref to unknown model 'Nope'");
  // An enum holding a "pattern" member is data, not a schema: left as it is.
  CHECK(make(R"j({"enum":[{"pattern":"(?=x)"}]})j").check(R"j({"pattern":"(?=x)"})j"));
}

TEST_CASE("models: $ref to other models and to local definitions", "[validate]") {
  auto pet = std::make_shared<const model>("Pet", pet_schema, gatehouse::validate::model_lookup{});
  gatehouse::validate::model_lookup lookup = [&](std::string_view name) {
    return name == "Pet" ? pet : nullptr;
  };
  model pets("Pets",
             R"({"type":"array","items":{"$ref":)"
             R"("https://apigateway.amazonaws.com/restapis/abc123/models/Pet"}})",
             lookup);
  CHECK(pets.check(R"([{"type":"dog","price":30},{"type":"cat","price":40}])"));
  CHECK(errors_of(pets, R"([{"type":"dog","price":30},{"type":"cow","price":40}])") ==
        R"([instance value ("cow") not found in enum (possible values: ["dog","cat","fish"])])");
  model local("Order",
              R"({"definitions":{"qty":{"type":"integer","minimum":1}},)"
              R"("properties":{"quantity":{"$ref":"#/definitions/qty"}}})",
              {});
  CHECK(local.check(R"({"quantity":2})"));
  CHECK_FALSE(local.check(R"({"quantity":0})"));
}

TEST_CASE("models: hostile bodies end quickly and safely", "[validate]") {
  model pet("Pet", pet_schema, {});
  std::string deep(100'000, '[');
  deep += std::string(100'000, ']');
  CHECK_FALSE(pet.check(deep));
  std::string errors;
  CHECK_FALSE(pet.check(deep, &errors));
  CHECK(errors.starts_with("[Invalid JSON: Nesting too deep."));
  CHECK_FALSE(pet.check(std::string(1'000'000, ' ') + "{"));
  CHECK_FALSE(pet.check(std::string_view("{\"type\":\"dog\"\0}", 15)));
}

TEST_CASE("models: nesting past 1,000 levels is not JSON; up to it, checks take linear time",
          "[validate]") {
  model pet("Pet", pet_schema, {});
  auto nested = [](std::string_view open, std::string_view close, int levels) {
    std::string s;
    for (int i = 0; i < levels; ++i) s.append(open);
    s.append("1");
    for (int i = 0; i < levels; ++i) s.append(close);
    return s;
  };
  // 100,000 levels of {"a":…} (600 KB): refused while parsing, at the 1,001st level.
  std::string errors;
  CHECK_FALSE(pet.check(nested("{\"a\":", "}", 100'000), &errors));
  CHECK(errors.starts_with("[Invalid JSON: Nesting too deep. (at offset 500"));
  CHECK_FALSE(pet.check(nested("{\"a\":[", "]}", 50'000), &errors));
  CHECK(errors.starts_with("[Invalid JSON: Nesting too deep."));
  // 1,000 levels are JSON: checked against a schema that follows them all the way down.
  model tree("Tree",
             R"({"type":"object","properties":{"a":{"$ref":"#"}},"additionalProperties":false})",
             {});
  CHECK(tree.check(nested("{\"a\":", "}", 999).replace(999 * 5, 1, "{}")));
  CHECK(
      errors_of(tree, nested("{\"a\":", "}", 1000)) ==
      R"([instance type (integer) does not match any allowed primitive type (allowed: ["object"])])");
  // Many values, each visited once.
  std::string wide = "{";
  for (int i = 0; i < 100'000; ++i) wide += fmt::format("\"k{}\":{{\"a\":[1,2]}},", i);
  wide += "\"type\":\"dog\",\"price\":30}";
  CHECK(pet.check(wide));
}

TEST_CASE("models: uniqueItems and enum compare values, not text", "[validate]") {
  auto unique = make(R"({"type":"array","uniqueItems":true})");
  CHECK(unique.check(R"([1,2,"1",[1],{"a":1,"b":2}])"));
  CHECK_FALSE(unique.check(R"([1,2,1.0])"));
  CHECK(errors_of(unique, R"([{"a":1,"b":[2]},{"b":[2],"a":1}])") ==
        "[array must not contain duplicate elements]");
  std::string many = "[";
  for (int i = 0; i < 200'000; ++i) many += std::to_string(i) + ",";
  CHECK(unique.check(many + "-1]"));
  CHECK_FALSE(unique.check(many + "199999]"));
  auto choice = make(R"({"enum":[{"x":[1,2]},null,2]})");
  CHECK(choice.check(R"({"x":[1.0,2]})"));
  CHECK(choice.check("2.0"));
  CHECK_FALSE(choice.check(R"({"x":[2,1]})"));
}

TEST_CASE("models: combinations check each value a bounded number of times", "[validate]") {
  // Both branches of anyOf go all the way down; a matcher that tried each at every level would
  // take 2^depth steps. The check gives up at a budget proportional to the body.
  model both("Both",
             R"({"definitions":{"t":{"type":"object","properties":{"a":{"$ref":"#"}}}},)"
             R"("anyOf":[{"$ref":"#/definitions/t"},{"$ref":"#/definitions/t"}]})",
             {});
  std::string deep;
  for (int i = 0; i < 900; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 900; ++i) deep += "}";
  std::string errors;
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(both.check(deep, &errors));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));  // not a hang
  CHECK(errors == "[the body is too complex to check against the model]");
  CHECK(both.check(R"({"a":{"a":{}}})"));
  CHECK(errors_of(both, R"({"a":{"a":5}})") ==
        "[instance failed to match at least one of the required schemas]");
  // A schema that applies itself to the same value would never end: refused when made.
  CHECK(config_error_of(R"({"allOf":[{"$ref":"#"}]})").find("never end") != std::string::npos);
  CHECK(config_error_of(R"({"definitions":{"a":{"$ref":"#/definitions/b"},)"
                        R"("b":{"$ref":"#/definitions/a"}},"$ref":"#/definitions/a"})")
            .find("leads only to itself") != std::string::npos);
  CHECK(config_error_of(R"({"$ref":"#/definitions/none"})").find("leads nowhere") !=
        std::string::npos);
  CHECK(config_error_of(R"({"type":"text"})") == "model 'Test': unknown type \"text\"");
}

TEST_CASE("models: many threads check one model at once", "[validate][threads]") {
  model m("Code",
          R"({"type":"object","properties":{"code":{"type":"string","pattern":"^\\d{4}$"}}})", {});
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const bool good = (i + t) % 2 == 0;
        const bool ok = m.check(good ? R"({"code":"1234"})" : R"({"code":"12a4"})");
        if (ok != good) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong == 0);
}

TEST_CASE("models: rewrite_pattern", "[validate]") {
  auto rw = [](std::string_view p) {
    std::string out, why;
    return gatehouse::validate::rewrite_pattern(p, out, &why) ? out : "error: " + why;
  };
  CHECK(rw(R"(^\d+$)") == "^[0-9]+$");
  CHECK(rw(R"(\D\W\S)") == R"([^0-9][^0-9A-Za-z_][^ \t\n\r\f\v])");
  CHECK(rw(R"([\d\w.])") == "[0-90-9A-Za-z_.]");
  CHECK(rw(R"((?:ab)+?c*?)") == "(ab)+c*");
  CHECK(rw(R"(a\/b\-c\.d)") == R"(a/b-c\.d)");
  CHECK(rw(R"([^]a])") == "[^]a]");
  CHECK(rw(R"([\D])") == "error: \\D inside a character class is not supported");
  CHECK(rw("[abc") == "error: a character class is not closed");
}
