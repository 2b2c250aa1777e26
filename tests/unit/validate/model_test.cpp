// Models (JSON Schema draft 4) as step 7 checks bodies with them: AWS's PetStore model, the
// validator's messages ($context.error.validationErrorString), patterns with \d and friends on
// a linear-time matcher, $refs between models, bad schemas refused, many threads at once.

#include "validate/model.hpp"

#include <gatehouse/config_error.hpp>

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
  CHECK(errors.starts_with("[instance type (array)"));
  CHECK_FALSE(pet.check(std::string(1'000'000, ' ') + "{"));
  CHECK_FALSE(pet.check(std::string_view("{\"type\":\"dog\"\0}", 15)));
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
