#pragma once

// Writing the API model (model.hpp) out as AWS's GetExport writes a stage's API: Swagger 2.0 or
// OpenAPI 3.0.1, AWS's key order, defaults left out, x-amazon-apigateway-* extensions only as
// asked, printed as AWS prints JSON (Jackson's pretty printer) or as YAML.

#include "spec/json_util.hpp"
#include "spec/model.hpp"
#include "util/json_ref.hpp"

#include <gatehouse/openapi.hpp>

#include <rapidjson/document.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::spec {

/// AWS's `extensions` parameter: which x-amazon-apigateway-* extensions an export carries.
struct export_extensions {
  bool integrations = false;  ///< x-amazon-apigateway-integration on operations
  bool authorizers = false;   ///< x-amazon-apigateway-authorizer (and -authtype) on schemes
  bool validators = false;    ///< x-amazon-apigateway-request-validator(s)
  bool api = false;           ///< "apigateway": all of the above and the root extensions
};

/// Parses "integrations,authorizers,validators,apigateway" (comma-separated, any of them, spaces
/// around names allowed). Throws config_error naming the names it does not know.
export_extensions parse_extensions(std::string_view list);

/// What the export writers build their JSON with: strings and objects in one document's
/// allocator.
class json_builder {
 protected:
  explicit json_builder(rapidjson::Document::AllocatorType& a) noexcept : a_(a) {}

  json str(std::string_view s) { return util::json_copy(s, a_); }
  void add(json& object, std::string_view key, json value) {
    object.AddMember(str(key), std::move(value), a_);
  }
  void add(json& object, std::string_view key, std::string_view value) {
    add(object, key, str(value));
  }
  json strings(const std::vector<std::string>& list) {
    json out(rapidjson::kArrayType);
    for (const auto& s : list) out.PushBack(str(s), a_);
    return out;
  }
  json texts(const text_map& m) {
    json out(rapidjson::kObjectType);
    for (const auto& [k, v] : m) add(out, k, v);
    return out;
  }

  rapidjson::Document::AllocatorType& a_;
};

struct export_settings {
  bool oas3 = true;
  export_extensions extensions;
  std::string stage;
  std::string region = "us-east-1";
  /// info.version when the API has none (AWS writes the deployment's date).
  std::string fallback_version;
};

/// Builds the export document of `api` into `out` (an object, members in AWS's order).
void build_export(const rest_api_model& api, const export_settings& s, rapidjson::Document& out);

// export_paths.cpp
/// The document's `paths`: each resource with methods, each method an operation.
json export_paths(const rest_api_model& api, const export_settings& s,
                  rapidjson::Document::AllocatorType& a);
/// Rewrites the $refs to AWS's model URIs in a model's schema,
/// https://apigateway.amazonaws.com/restapis/{id}/models/Name[#/pointer], as
/// `prefix`Name[/pointer] ("#/definitions/Name"); other $refs stay as they are.
void rewrite_model_refs(json& schema, std::string_view prefix,
                        rapidjson::Document::AllocatorType& a);
/// Where models live in the document: "#/definitions/" or "#/components/schemas/".
inline std::string_view models_prefix(const export_settings& s) {
  return s.oas3 ? "#/components/schemas/" : "#/definitions/";
}
/// The scheme names export gives API keys and IAM.
inline constexpr std::string_view api_key_scheme = "api_key";
inline constexpr std::string_view sigv4_scheme = "sigv4";

// export_openapi.cpp
/// The whole export of `api` as deployed to `stage`, printed.
std::string export_model(
    const rest_api_model& api, std::string_view stage, const export_options& options,
    std::chrono::system_clock::time_point deployed = std::chrono::system_clock::now());

/// JSON as AWS writes it: Jackson's default pretty printer ("key" : value, two-space indents,
/// arrays inline as [ a, b ], empty ones as { } and [ ]).
std::string print_json(const json& v);
/// YAML (yaml-cpp's emitter): a "---" document, strings double-quoted so that they read back
/// as the same strings.
std::string print_yaml(const json& v);

}  // namespace gatehouse::spec
