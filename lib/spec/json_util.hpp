#pragma once

// Small readers over the document's DOM, lenient as AWS's importer is: a field of the wrong
// type reads as absent, numbers and booleans read as text where AWS takes text.

#include "util/json_ref.hpp"

#include <rapidjson/document.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::spec {

/// A path item's operation keys and the HTTP methods they stand for (any-method: ANY).
inline constexpr std::array<std::pair<std::string_view, std::string_view>, 8> operation_keys{{
    {"get", "GET"},
    {"put", "PUT"},
    {"post", "POST"},
    {"delete", "DELETE"},
    {"options", "OPTIONS"},
    {"head", "HEAD"},
    {"patch", "PATCH"},
    {"x-amazon-apigateway-any-method", "ANY"},
}};

using json = rapidjson::Value;

inline std::string_view view(const json& v) noexcept {
  return {v.GetString(), v.GetStringLength()};
}

/// An object's members, to change them in place (its members are one array). Iterating over
/// a non-const GenericObject trips clang's C++20 reversed-operator warning in RapidJSON 1.1.
inline std::span<json::Member> mutable_members(json& v) noexcept {
  if (!v.IsObject() || v.MemberCount() == 0) return {};
  return {&*v.MemberBegin(), v.MemberCount()};
}

/// The member `name` of an object; null when `v` is no object or has none.
inline const json* member(const json* v, std::string_view name) noexcept {
  if (!v || !v->IsObject()) return nullptr;
  auto it = v->FindMember(rapidjson::Value(util::json_ref(name)));
  return it == v->MemberEnd() ? nullptr : &it->value;
}
inline const json* member(const json& v, std::string_view name) noexcept {
  return member(&v, name);
}

/// The member as an object / array / string; null when absent or of another type.
inline const json* object_member(const json* v, std::string_view name) noexcept {
  auto m = member(v, name);
  return m && m->IsObject() ? m : nullptr;
}
inline const json* array_member(const json* v, std::string_view name) noexcept {
  auto m = member(v, name);
  return m && m->IsArray() ? m : nullptr;
}
inline std::optional<std::string_view> string_member(const json* v, std::string_view name) {
  auto m = member(v, name);
  if (!m || !m->IsString()) return std::nullopt;
  return view(*m);
}

/// A scalar as text: strings as they are, numbers as JSON writes them (200, 1.5), booleans as
/// true/false; nullopt for null, objects and arrays.
std::optional<std::string> scalar_text(const json& v);
inline std::optional<std::string> scalar_member(const json* v, std::string_view name) {
  auto m = member(v, name);
  return m ? scalar_text(*m) : std::nullopt;
}

/// A member that is true, or the text "true" (any case).
bool truthy(const json* v);

/// An integer given as a number or as decimal text.
std::optional<std::int64_t> integer_of(const json& v);

/// A list of texts: an array's scalars, or a single string.
std::vector<std::string> string_list(const json* v);

/// The value as compact JSON text.
std::string json_text(const json& v);

/// Whether `s` starts with x-amazon-apigateway- (AWS's extensions).
inline bool aws_extension(std::string_view s) noexcept {
  return s.starts_with("x-amazon-apigateway-");
}

}  // namespace gatehouse::spec
