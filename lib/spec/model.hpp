#pragma once

// An API as AWS's REST API resources describe it (RestApi, Resource, Method, Integration,
// Authorizer, Model, RequestValidator, GatewayResponse), in AWS's own field values: what an
// import reads a document into, what the Router is built from, and what export and the
// management API write back out. Plain data; the order of maps is the document's.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gatehouse::spec {

struct http_api_model;

using text_map = std::vector<std::pair<std::string, std::string>>;
using flag_map = std::vector<std::pair<std::string, bool>>;

/// Looks up `key` in an ordered map; null when absent.
template <class Map>
auto* find_in(Map& map, std::string_view key) {
  for (auto& [k, v] : map)
    if (k == key) return &v;
  return static_cast<decltype(&map.front().second)>(nullptr);
}

struct integration_response_model {
  std::string selection_pattern;  ///< "" for the default response
  std::string status_code;
  text_map response_parameters;  ///< method.response.header.X ← source
  text_map response_templates;   ///< media type → template
  std::string content_handling;  ///< CONVERT_TO_TEXT | CONVERT_TO_BINARY | ""
};

struct integration_model {
  std::string type;         ///< HTTP | HTTP_PROXY | AWS | AWS_PROXY | MOCK
  std::string http_method;  ///< of the integration request
  std::string uri;
  std::string credentials;
  text_map request_parameters;  ///< integration.request.X ← source
  text_map request_templates;
  std::string passthrough_behavior = "WHEN_NO_MATCH";
  std::string content_handling;
  int timeout_ms = 29'000;
  std::string cache_namespace;
  std::vector<std::string> cache_key_parameters;
  std::string connection_type = "INTERNET";
  std::string connection_id;
  std::optional<bool> insecure_skip_verification;  ///< tlsConfig
  std::vector<integration_response_model> responses;
  /// Lambda proxies: the event's payload format, "1.0" | "2.0" (HTTP APIs' payloadFormatVersion).
  std::string payload_format_version;
};

struct method_response_model {
  std::string status_code;
  flag_map response_parameters;  ///< method.response.header.X → required
  text_map response_models;      ///< media type → model name
};

struct method_model {
  std::string http_method;  ///< GET … OPTIONS, or ANY
  std::string operation_name;
  std::string authorization_type = "NONE";  ///< NONE | AWS_IAM | CUSTOM | COGNITO_USER_POOLS
  std::string authorizer;                   ///< the authorizer's name, for CUSTOM and COGNITO
  std::vector<std::string> authorization_scopes;
  bool api_key_required = false;
  flag_map request_parameters;  ///< method.request.{path|querystring|header}.X → required
  text_map request_models;      ///< media type → model name
  std::string request_validator;
  std::vector<method_response_model> method_responses;
  std::optional<integration_model> integration;
};

struct resource_model {
  std::string path;       ///< "/pets/{petId}"
  std::string path_part;  ///< "{petId}"; "" for the root
  std::vector<method_model> methods;
};

struct authorizer_model {
  std::string name;       ///< the security scheme's name
  std::string type;       ///< TOKEN | REQUEST | COGNITO_USER_POOLS
  std::string auth_type;  ///< x-amazon-apigateway-authtype ("custom", "cognito_user_pools", …)
  std::string authorizer_uri;
  std::string authorizer_credentials;
  std::string identity_source;  ///< "method.request.header.Authorization, …"
  std::string identity_validation_expression;
  std::optional<int> result_ttl_seconds;
  std::vector<std::string> provider_arns;
  /// JWT authorizers: what HTTP APIs' jwtConfiguration holds.
  std::string issuer;
  std::vector<std::string> audiences;
};

struct validator_model {
  std::string name;
  bool validate_body = false;
  bool validate_parameters = false;
};

struct model_model {
  std::string name;
  std::string content_type = "application/json";
  std::string description;
  std::string schema;  ///< JSON text, $refs as https://apigateway.amazonaws.com/restapis/…
};

struct gateway_response_model {
  std::string type;  ///< DEFAULT_4XX, MISSING_AUTHENTICATION_TOKEN, …
  std::string status_code;
  text_map response_parameters;  ///< gatewayresponse.header.X ← source
  text_map response_templates;
};

struct rest_api_model {
  std::string id;
  std::string name;
  std::string description;
  std::string version;
  std::string base_path;  ///< the document's, whatever the import did with it
  std::vector<std::string> binary_media_types;
  std::optional<std::int64_t> minimum_compression_size;
  std::string api_key_source = "HEADER";
  std::vector<std::string> endpoint_types{"EDGE"};
  std::vector<std::string> vpc_endpoint_ids;
  std::string policy;                     ///< JSON text
  std::vector<resource_model> resources;  ///< by path; the root "/" always first
  std::vector<authorizer_model> authorizers;
  std::vector<validator_model> validators;
  std::vector<model_model> models;
  std::vector<gateway_response_model> gateway_responses;
  /// The root x-amazon-apigateway-* extensions as written (JSON object text), including those
  /// read into the fields above: what export writes back and later steps read (CORS …).
  std::string extensions;
  std::vector<std::string> warnings;  ///< in AWS's words
  /// An imported HTTP API's own model, kept here so that a deployment carries it to its
  /// exports (detail::keep_model); then the rest of this model is empty.
  std::shared_ptr<const http_api_model> http;
};

/// The resource with `path`; null when absent.
const resource_model* find_resource(const rest_api_model& api, std::string_view path);
/// The method of a resource; null when absent.
const method_model* find_method(const resource_model& r, std::string_view http_method);

}  // namespace gatehouse::spec
