// Schemas → AWS's models: definitions (Swagger) / components.schemas (OpenAPI 3) become models
// of the same names, and a "$ref": "#/definitions/Pet" inside them becomes AWS's model URI
// "https://apigateway.amazonaws.com/restapis/{id}/models/Pet" (cycles between models are fine:
// validation follows them lazily). Bodies and responses name a model by $ref; an inline schema
// becomes a model of its own.

#include "spec/import.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace gatehouse::spec {

namespace {
using allocator = rapidjson::Document::AllocatorType;

std::string_view schemas_prefix(const reader& r) {
  return r.oas3 ? "#/components/schemas/" : "#/definitions/";
}

// The model a $ref names ("#/definitions/Pet/properties/x" → "Pet", rest "#/properties/x"),
// its JSON-pointer escapes decoded; false when it points elsewhere.
bool model_of_ref(const reader& r, std::string_view ref, std::string& name, std::string& rest) {
  const auto prefix = schemas_prefix(r);
  if (!ref.starts_with(prefix)) return false;
  ref.remove_prefix(prefix.size());
  auto slash = ref.find('/');
  auto raw = ref.substr(0, slash);
  rest.clear();
  if (slash != std::string_view::npos) rest.append(1, '#').append(ref.substr(slash));
  name.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
      name.push_back(raw[i + 1] == '0' ? '~' : '/');
      ++i;
    } else {
      name.push_back(raw[i]);
    }
  }
  return !name.empty();
}

bool alphanumeric(std::string_view name) {
  return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
  });
}

// Copies a schema with its model $refs rewritten; a $ref to a model the API lacks is dropped
// (the schema there takes any value), with AWS's warning.
void rewrite(reader& r, const json& in, json& out, allocator& a) {
  r.spend(1);
  if (in.IsObject()) {
    const json* ref = member(in, "$ref");
    std::string name, rest;
    if (ref && ref->IsString() && model_of_ref(r, view(*ref), name, rest)) {
      out.SetObject();
      if (!r.model_names.contains(name)) {
        r.warn(fmt::format("Reference to model '{}' not found. Ignoring.", name));
        return;
      }
      std::string uri = r.model_base + name + rest;
      out.AddMember("$ref", json(uri.c_str(), static_cast<rapidjson::SizeType>(uri.size()), a), a);
      return;
    }
    out.SetObject();
    for (const auto& m : in.GetObject()) {
      json v;
      rewrite(r, m.value, v, a);
      out.AddMember(json(m.name, a), std::move(v), a);
    }
  } else if (in.IsArray()) {
    out.SetArray();
    for (const auto& e : in.GetArray()) {
      json v;
      rewrite(r, e, v, a);
      out.PushBack(std::move(v), a);
    }
  } else {
    out.CopyFrom(in, a);
  }
}

std::string schema_text(reader& r, const json& schema) {
  rapidjson::Document out;
  rewrite(r, schema, out, out.GetAllocator());
  return json_text(out);
}

// A stable name for the model of an inline schema: MODEL and a hash of its text.
std::string inline_model_name(const reader& r, std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  std::string name = fmt::format("MODEL{:08x}", static_cast<std::uint32_t>(h ^ (h >> 32)));
  for (int n = 2; r.model_names.contains(name); ++n)
    name = fmt::format("MODEL{:08x}{}", static_cast<std::uint32_t>(h ^ (h >> 32)), n);
  return name;
}
}  // namespace

void read_models(reader& r) {
  const json* schemas = r.oas3 ? object_member(object_member(&r.root, "components"), "schemas")
                               : object_member(&r.root, "definitions");
  if (!schemas) return;
  // Names first: models may refer to models defined after them (or to themselves).
  for (const auto& m : schemas->GetObject()) {
    r.spend(1);
    const auto name = view(m.name);
    if (alphanumeric(name))
      r.model_names.emplace(name);
    else
      r.warn(fmt::format("Model name must be alphanumeric: {}", name));
  }
  for (const auto& m : schemas->GetObject()) {
    const auto name = view(m.name);
    if (!alphanumeric(name)) continue;
    model_model model;
    model.name = name;
    model.description = scalar_member(&m.value, "description").value_or("");
    model.schema = schema_text(r, m.value);
    r.api.models.push_back(std::move(model));
  }
}

std::string model_for_schema(reader& r, const json& schema_in, std::string_view where) {
  const json* schema = &schema_in;
  if (const json* ref = member(schema, "$ref"); ref && ref->IsString()) {
    std::string name, rest;
    if (model_of_ref(r, view(*ref), name, rest) && rest.empty()) {
      if (r.model_names.contains(name)) return name;
      r.warn(fmt::format("Reference to model '{}' not found. Ignoring.", name));
      return {};
    }
    // A $ref elsewhere in the document: the schema it leads to, as an inline one.
    schema = r.resolve(schema);
    if (!schema) {
      r.warn(fmt::format("Reference to model '{}' of resource '{}' not found. Ignoring.",
                         view(*ref), where));
      return {};
    }
  }
  if (!schema->IsObject()) return {};
  if (auto it = r.inline_models.find(schema); it != r.inline_models.end()) return it->second;
  model_model model;
  model.schema = schema_text(r, *schema);
  model.name = inline_model_name(r, model.schema);
  r.model_names.insert(model.name);
  r.inline_models.emplace(schema, model.name);
  r.api.models.push_back(model);
  return model.name;
}

}  // namespace gatehouse::spec
