#pragma once

// An HTTP API as AWS's apigatewayv2 resources describe it (Api, Route, Integration,
// Authorizer), in AWS's own field values: what the HTTP API import reads a document into and
// what the Router is built from. Plain data; the order of lists is the document's.

#include "spec/model.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gatehouse::spec {

struct http_integration_model {
  std::string type;                            ///< AWS_PROXY | HTTP_PROXY
  std::string integration_method;              ///< httpMethod: of the backend request (HTTP_PROXY)
  std::string uri;                             ///< a URL, a Lambda ARN or a Lambda invocation URI
  std::string payload_format_version = "1.0";  ///< "1.0" | "2.0"
  int timeout_ms = 30'000;                     ///< 50 to 30,000
  std::string connection_type = "INTERNET";
  std::string connection_id;
  std::string integration_subtype;  ///< AWS service integrations (SQS-SendMessage …)
  std::string credentials;
  std::string server_name_to_verify;  ///< tlsConfig
  text_map request_parameters;        ///< "append:header.x" → value
  /// By the backend's status code: "overwrite:statuscode" / "append:header.x" → value.
  std::vector<std::pair<std::string, text_map>> response_parameters;
  std::string ref_name;  ///< x-amazon-apigateway-integrations/<name> it came from, if any
};

struct http_authorizer_model {
  std::string name;  ///< the security scheme's name
  std::string type;  ///< JWT | REQUEST
  std::vector<std::string> identity_source;
  // JWT
  std::string issuer;
  std::vector<std::string> audience;
  // REQUEST (Lambda)
  std::string authorizer_uri;
  std::string authorizer_credentials;
  std::string payload_format_version = "2.0";  ///< authorizerPayloadFormatVersion
  bool enable_simple_responses = false;
  int result_ttl_seconds = 0;  ///< authorizerResultTtlInSeconds
};

struct http_route_model {
  std::string route_key;  ///< "GET /pets/{petId}", "ANY /{proxy+}", "$default"
  std::string method;     ///< GET … or ANY
  std::string path;       ///< /pets/{petId}; "$default" for that route
  std::string operation_name;
  std::string authorization_type = "NONE";  ///< NONE | JWT | CUSTOM | AWS_IAM
  std::string authorizer;                   ///< the authorizer's name for JWT and CUSTOM
  std::vector<std::string> authorization_scopes;
  std::optional<http_integration_model> integration;
};

struct http_api_model {
  std::string id;
  std::string name;
  std::string description;
  std::string version;
  std::string base_path;  ///< the document's, whatever the import did with it
  std::vector<http_route_model> routes;
  std::vector<http_authorizer_model> authorizers;
  std::string cors;        ///< x-amazon-apigateway-cors (JSON object text), "" for none
  std::string extensions;  ///< the root x-amazon-apigateway-* extensions (JSON object text)
  std::vector<std::string> warnings;
  std::vector<std::string> info;
};

}  // namespace gatehouse::spec
