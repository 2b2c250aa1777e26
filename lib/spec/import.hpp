#pragma once

// Reading a REST API document into the API model (model.hpp), as AWS's importer reads it. The
// reader's parts share one `reader`: the document, the model being filled, and the work budget
// that keeps documents whose $refs fan out from costing more than their size.

#include "spec/json_util.hpp"
#include "spec/model.hpp"

#include <gatehouse/openapi.hpp>

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::spec {

/// What a security scheme of the document is to AWS.
enum class scheme_kind { ignored, api_key, authorizer, iam };

struct reader {
  reader(const json& document, rest_api_model& model, std::size_t budget)
      : root(document), api(model), budget_left(budget) {}

  const json& root;
  rest_api_model& api;
  bool oas3 = false;
  std::string model_base;  ///< https://apigateway.amazonaws.com/restapis/{id}/models/
  std::map<std::string, scheme_kind, std::less<>> schemes;
  std::set<std::string, std::less<>> model_names;    ///< models the API has
  std::map<const json*, std::string> inline_models;  ///< schema → the model made of it
  std::vector<std::string> unsupported;              ///< what gatehouse leaves out (its words)
  std::size_t budget_left;

  void warn(std::string text) { api.warnings.push_back(std::move(text)); }
  void note(std::string text) { unsupported.push_back(std::move(text)); }
  /// Spends `units` of work; throws config_error when the document asks for more work than its
  /// size allows.
  void spend(std::size_t units);
  /// Follows a local "$ref" (and a $ref it leads to …); `v` itself when it is none, null when
  /// it leads nowhere or outside the document.
  const json* resolve(const json* v) const;
};

/// Follows a local "$ref" of `root` (and a $ref it leads to …); `v` itself when it is none,
/// null when it leads nowhere, outside the document, or round in a loop.
const json* resolve_ref(const json& root, const json* v);

/// The document's base path ("/v1", "" for none): Swagger's basePath; OpenAPI 3's first
/// basePath server variable, else the path of servers[0]'s URL.
std::string document_base_path(const json& root, bool oas3);

/// Reads the whole document (already known to be Swagger 2.0 or OpenAPI 3.0.x, `oas3` set)
/// into `r.api`. Throws config_error for what AWS refuses, naming the path and method.
void read_rest_api(reader& r, base_path_mode mode);

// merge.cpp
/// `existing` after a PutRestApi of `document` (both read as import_openapi reads them), in
/// mode overwrite or merge: see openapi.hpp's import_mode.
rest_api_model put_rest_api(const rest_api_model& existing, const rest_api_model& document,
                            bool overwrite);

// models.cpp
/// Reads definitions / components.schemas into models, $refs rewritten to model URIs.
void read_models(reader& r);
/// The model a body or response schema stands for: the model a $ref names, or one made of an
/// inline schema; "" (with a warning) when it names a model the API lacks.
std::string model_for_schema(reader& r, const json& schema, std::string_view where);

// security.cpp
/// Reads securityDefinitions / components.securitySchemes: authorizers, API keys, IAM.
void read_security_schemes(reader& r);
/// Applies a `security` requirement list (the operation's, else the document's) and the
/// operation's x-amazon-apigateway-auth to a method.
void apply_security(reader& r, const json& operation, method_model& m);

// integrations.cpp
/// Reads an x-amazon-apigateway-integration. Throws config_error for what AWS refuses.
integration_model read_integration(reader& r, const json& ext, const std::string& path,
                                   const std::string& method);

/// Regular expressions of the document (selection patterns, identity validation expressions)
/// are compiled by std::regex, whose parser recurses once per term and group: bounded here.
inline constexpr std::size_t max_pattern_length = 2048;
/// Empty when `pattern` is within the bounds; else why not.
std::string pattern_problem(std::string_view pattern);

/// AWS's words for a failed method: "Unable to put method 'GET' on resource at path '/pets': …"
[[noreturn]] void method_error(std::string_view method, std::string_view path,
                               std::string_view why);
/// "Unable to put integration on 'GET' for resource at path '/pets': …"
[[noreturn]] void integration_error(std::string_view method, std::string_view path,
                                    std::string_view why);

}  // namespace gatehouse::spec
