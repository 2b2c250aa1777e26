#pragma once

// What the SDK generators read: an API's operations as a client calls them, made from the REST or
// HTTP API model that export writes (spec/model.hpp, spec/http_model.hpp). One operation per
// resource and verb: ANY becomes each verb the resource has no method of its own for; the
// $default route of an HTTP API has no path to name a method after and is left to the clients'
// generic request call.

#include "spec/http_model.hpp"
#include "spec/model.hpp"

#include <gatehouse/sdk.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::sdk {

/// A modelled request parameter (method.request.{path|querystring|header}.NAME).
struct parameter {
  std::string name;  ///< as sent: "petId", "type", "x-trace"
  bool required = false;
};

struct operation {
  /// AWS's JavaScript method name: camel case of the path's words, then the verb ("petsPetIdGet").
  /// Unique in the API: a later operation whose name is taken gets "2", "3" … appended.
  std::string name;
  std::vector<std::string> words;  ///< the same name's words as written: {"pets","petId","get"}
  std::string http_method;         ///< GET, POST … (never ANY)
  std::string path;                ///< the resource: "/pets/{petId}", "/legacy/{proxy+}"
  std::string operation_name;      ///< the document's operationId, "" when it has none
  std::vector<parameter> path_parameters;  ///< in path order; "proxy" for {proxy+}
  std::string greedy_parameter;            ///< the {name+} of the path, "" when none
  std::vector<parameter> query_parameters;
  std::vector<parameter> header_parameters;
  /// The model of an application/json request body ("" when the method names none): a body
  /// may still be sent.
  std::string body_model;
  /// The model of the first 2xx response's application/json body, "" when none.
  std::string response_model;
  bool api_key_required = false;
  /// NONE | AWS_IAM | CUSTOM | COGNITO_USER_POOLS | JWT: AWS_IAM operations are signed with
  /// SigV4 when the client has credentials (all are, as AWS's SDK does).
  std::string authorization = "NONE";
};

struct model {
  std::string name;
  /// The JSON schema (draft 4) as text, $refs written "#/definitions/Name" whatever the source.
  std::string schema;
};

struct api {
  std::string id;
  std::string title;
  std::string description;
  std::string version;
  std::string stage;
  std::string invoke_url;  ///< options.invoke_url, else AWS's URL of the stage, no trailing "/"
  std::string region;
  std::vector<operation> operations;  ///< by path, then verb
  std::vector<model> models;
};

/// The client's view of a REST API deployed to `stage`.
api from_rest(const spec::rest_api_model& m, std::string_view stage, const sdk_options& options);
/// The client's view of an HTTP API deployed to `stage` (no models: HTTP APIs have none).
api from_http(const spec::http_api_model& m, std::string_view stage, const sdk_options& options);

/// The runs of letters and digits of `text`, as written: "x-trace_id" → {"x","trace","id"}.
std::vector<std::string> words_of(std::string_view text);
/// The words of AWS's JavaScript method name for a resource and verb: the path's segments with
/// braces and "+" dropped, split at every character that is not a letter or digit ("-", "_",
/// "."), then the verb in lower case; "/" alone is "root". ("/pets/{petId}", "GET") →
/// {"pets","petId","get"}.
std::vector<std::string> method_words(std::string_view path, std::string_view verb);
/// AWS's camel case: each word's first letter upper case, the rest as written, the first
/// letter of all lower case: {"pets","petId","get"} → "petsPetIdGet".
std::string camel_case(const std::vector<std::string>& words);
/// The same, first letter upper case: "PetsPetIdGet".
std::string pascal_case(const std::vector<std::string>& words);
/// snake_case, words also split where a lower-case letter or digit meets an upper-case one:
/// → "pets_pet_id_get"; a leading digit gets "_".
std::string snake_case(const std::vector<std::string>& words);

// The generators, one file each; the files they return are relative to the SDK's folder.
sdk_files generate_javascript(const api& a);
sdk_files generate_typescript(const api& a);
sdk_files generate_cpp(const api& a, std::string_view name);

}  // namespace gatehouse::sdk
