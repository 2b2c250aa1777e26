// Fuzz target: a request body from a client, checked against a few models (JSON Schema draft 4,
// as AWS's models are) compiled once: AWS's Pet model, a list of Pets by $ref to it, and a
// model with local definitions, patterns (\d, \w on the linear-time matcher), patternProperties,
// additionalProperties, nested arrays, string lengths, allOf / anyOf / oneOf / not. Only the
// model's check(body, errors) is used. Nothing may crash, hang or leak, and a refusal says why
// in AWS's form "[…]".

#include "validate/model.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

constexpr std::string_view pet_schema = R"({
  "$schema": "http://json-schema.org/draft-04/schema#",
  "title": "Pet",
  "type": "object",
  "required": ["type", "price"],
  "properties": {
    "type": {"type": "string", "enum": ["dog", "cat", "fish"]},
    "price": {"type": "number", "minimum": 25.0, "maximum": 500.0}
  }
})";

constexpr std::string_view pets_schema = R"({
  "type": "array", "maxItems": 50,
  "items": {"$ref": "https://apigateway.amazonaws.com/restapis/abc123/models/Pet"}
})";

constexpr std::string_view order_schema = R"({
  "definitions": {
    "qty": {"type": "integer", "minimum": 1, "maximum": 1000, "multipleOf": 1},
    "sku": {"type": "string", "pattern": "^[A-Z]{3}-\\d{4}$"},
    "line": {"type": "object", "required": ["sku"], "additionalProperties": false,
             "properties": {"sku": {"$ref": "#/definitions/sku"},
                            "quantity": {"$ref": "#/definitions/qty"}}}
  },
  "type": "object",
  "required": ["customer", "lines"],
  "properties": {
    "customer": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^\\w+( \\w+)*$"},
    "email": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$"},
    "lines": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/line"},
              "uniqueItems": true},
    "note": {"type": ["string", "null"]},
    "priority": {"enum": [1, 2, 3, "urgent", null, true]},
    "tags": {"type": "array", "items": [{"type": "string"}, {"type": "number"}],
             "additionalItems": {"type": "boolean"}},
    "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "number",
               "exclusiveMinimum": true, "minimum": 0}}},
    "meta": {"type": "object", "maxProperties": 8, "minProperties": 1,
             "patternProperties": {"^x-\\d+$": {"type": "integer"}},
             "additionalProperties": {"type": "string"},
             "dependencies": {"a": ["b"], "c": {"required": ["d"]}}},
    "payment": {"oneOf": [
      {"type": "object", "required": ["card"], "properties": {"card": {"pattern": "^\\d{16}$"}}},
      {"type": "object", "required": ["iban"]}]},
    "discount": {"anyOf": [{"type": "integer", "maximum": 50}, {"type": "string", "enum": ["vip"]}]},
    "code": {"allOf": [{"type": "string"}, {"not": {"pattern": "^test"}}]}
  }
})";

struct models {
  std::shared_ptr<const gatehouse::validate::model> pet, pets, order, any;
};

const models& compiled() {
  static const models m = [] {
    using gatehouse::validate::model;
    models out;
    out.pet = std::make_shared<const model>("Pet", pet_schema, gatehouse::validate::model_lookup{});
    const gatehouse::validate::model_lookup lookup = [pet = out.pet](std::string_view name) {
      return name == "Pet" ? pet : nullptr;
    };
    out.pets = std::make_shared<const model>("Pets", pets_schema, lookup);
    out.order = std::make_shared<const model>("Order", order_schema, lookup);
    out.any = std::make_shared<const model>("Empty", "{}", lookup);  // AWS's Empty model
    return out;
  }();
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const models& m = compiled();
  bool accepted_by_one = false;
  for (const auto* model : {m.pet.get(), m.pets.get(), m.order.get()}) {
    std::string errors;
    const bool valid = model->check(body, &errors);
    check(valid == model->check(body));
    if (valid) {
      check(errors.empty());
    } else {
      check(errors.size() >= 2 && errors.front() == '[' && errors.back() == ']');
    }
    accepted_by_one = accepted_by_one || valid;
  }
  // The Empty model accepts any JSON, so a body another model accepts, it accepts.
  check(!accepted_by_one || m.any->check(body));
  return 0;
}
