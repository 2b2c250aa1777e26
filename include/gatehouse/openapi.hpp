#pragma once

// OpenAPI import: a REST API document (Swagger 2.0 or OpenAPI 3.0, JSON or YAML) with AWS's
// x-amazon-apigateway-* extensions becomes the same Router that C++ composition builds, as AWS
// API Gateway's ImportRestApi reads it: the same leniency, the same warnings, the same errors.
// An OpenAPI 3.0 document may become an HTTP API instead, as apigatewayv2 import-api reads it.

#include <gatehouse/authorizer.hpp>
#include <gatehouse/aws_integration.hpp>
#include <gatehouse/iam.hpp>
#include <gatehouse/integration.hpp>
#include <gatehouse/router.hpp>
#include <gatehouse/stage.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse {

namespace spec {
struct rest_api_model;
struct http_api_model;
}  // namespace spec

/// What an import does with the document's base path (Swagger's basePath; OpenAPI 3's server
/// variable basePath, else the path of the first server URL), as AWS's `basepath` parameter.
enum class base_path_mode {
  ignore,   ///< dropped: /pets stays /pets
  prepend,  ///< its segments are prepended: basePath /v1/api makes /v1/api/pets
  split,    ///< its first segment is dropped, the rest prepended: /v1/api makes /api/pets
};

/// Where Lambda functions without a C++ binding are invoked (the Lambda Invoke API, signed
/// with Signature Version 4), as lambda_invoke does.
struct lambda_endpoint {
  std::string endpoint{};  ///< http(s)://host[:port]; "" for https://lambda.{region}.amazonaws.com
  aws_credentials credentials{};
  bool insecure_skip_verification = false;
};

/// Settings of an import.
struct openapi_options {
  /// What the document becomes: a REST API (AWS's ImportRestApi: Swagger 2.0 or OpenAPI 3.0)
  /// or an HTTP API (AWS's apigatewayv2 import-api: OpenAPI 3.0 only; routes, $default,
  /// payloadFormatVersion, parameter mapping, JWT and Lambda authorizers).
  api_type type = api_type::rest;
  base_path_mode base_path = base_path_mode::ignore;
  /// Refuse the document (config_error listing them) when the import has warnings.
  bool fail_on_warnings = false;
  /// The API's id ($context.apiId, method ARNs): "" for one derived from its name (stable:
  /// the same title gives the same id), as ten lower-case letters and digits.
  std::string id{};
  /// What ${AWS::Region}, ${AWS::AccountId} and ${AWS::Partition} stand for in the document.
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
  std::string partition = "aws";

  /// Lambda functions (aws_proxy integrations) bound to integrations of the host, usually
  /// gatehouse::function(handler): by function name ("my-fn"), name and qualifier ("my-fn:live"),
  /// or ARN (with or without the qualifier), the most specific match first.
  std::map<std::string, integration, std::less<>> functions{};
  /// Functions not bound above are invoked here; without it they answer 500 {"message":
  /// "Internal server error"} (and are listed in openapi_api::unbound_functions). So are the
  /// Lambda functions of authorizers not bound below (Authorizer::lambda), signed with these
  /// credentials: authorizerCredentials (a role for API Gateway to assume) are not used.
  std::optional<lambda_endpoint> lambda{};

  /// Authorizers by security scheme name, used as they are (custom TOKEN / REQUEST ones, HTTP
  /// APIs' Lambda ones, and Cognito ones instead of the JWT authorizer made from the pool) …
  std::map<std::string, Authorizer, std::less<>> authorizers{};
  /// … or a handler, made into an Authorizer with the document's settings (type, identity
  /// source, validation expression, result TTL). Else an authorizer whose authorizerUri names a
  /// Lambda function is invoked at `lambda` when that is set. Unbound authorizers refuse every
  /// request with 500 (AUTHORIZER_CONFIGURATION_ERROR) and are listed in
  /// openapi_api::unbound_authorizers.
  std::map<std::string, Authorizer::handler, std::less<>> authorizer_handlers{};
  /// Cognito user pool authorizers verify tokens against the pool's keys, by default fetched
  /// from https://cognito-idp.{region}.amazonaws.com/{poolId}/.well-known/jwks.json. Here,
  /// by user pool id or issuer URL: another https:// URL of the keys, or the JWKS itself.
  /// HTTP APIs' JWT authorizers likewise, by issuer URL; by default {issuer}/.well-known/
  /// jwks.json (gatehouse does not read the issuer's OpenID discovery document).
  std::map<std::string, std::string, std::less<>> jwks{};
  /// For methods with IAM authorization (x-amazon-apigateway-authtype awsSigv4, or
  /// x-amazon-apigateway-auth type aws_iam): the credential store. Without it they refuse
  /// every request (no access key is known).
  std::optional<iam_options> iam{};

  /// AWS-service integrations (type aws): the endpoint of a service in a region, by default
  /// https://{service}.{region}.amazonaws.com, and the credentials requests are signed with.
  std::function<std::string(std::string_view service, std::string_view region)> aws_endpoint{};
  aws_credentials service_credentials{};
};

/// One method of an imported API, for a host to list.
struct openapi_route {
  std::string method{};       ///< GET … or ANY
  std::string path{};         ///< the resource: /pets/{petId}; "$default" for that route
  std::string integration{};  ///< "HTTP_PROXY GET http://…", "AWS_PROXY my-fn (C++)", "MOCK"
  /// "NONE", "AWS_IAM", "CUSTOM name", "COGNITO_USER_POOLS name"; HTTP APIs: "JWT name"
  std::string authorization{};
  bool api_key_required = false;
};

/// An imported API: its Router and what the document says around it.
struct openapi_api {
  Router router{};
  std::string id{};
  std::string name{};  ///< info.title
  std::string description{};
  std::string version{};    ///< info.version
  std::string base_path{};  ///< the document's base path ("/v1"), "" when it has none
  /// AWS's warnings (the document imported, but parts of it were left out), in AWS's words.
  std::vector<std::string> warnings{};
  /// HTTP APIs: AWS's import "info" (valid OpenAPI that HTTP APIs ignore: requestBody,
  /// schemas …).
  std::vector<std::string> info{};
  std::vector<openapi_route> routes{};
  std::vector<std::string> unbound_functions{};    ///< Lambda functions that answer 500
  std::vector<std::string> unbound_authorizers{};  ///< custom authorizers that answer 500
  /// What the document asks for that gatehouse does not do yet (contentHandling, VPC links,
  /// some mapping sources …), each naming its method: not AWS's warnings, so that
  /// fail_on_warnings refuses only what AWS refuses.
  std::vector<std::string> unsupported{};

  // Settings that the document carries for later steps (endpoints, compression, binary
  // payloads, CORS); kept as written.
  std::vector<std::string> binary_media_types{};
  std::optional<std::int64_t> minimum_compression_size{};
  std::vector<std::string> endpoint_types{};  ///< "EDGE", "REGIONAL", "PRIVATE"
  std::string policy{};                       ///< the resource policy (JSON), also applied
  /// Every root x-amazon-apigateway-* extension of the document, as a JSON object.
  std::string extensions{};

  /// HTTP APIs: the root x-amazon-apigateway-cors (JSON object text), "" without one. Kept;
  /// gatehouse does not answer CORS preflights from it yet.
  std::string cors{};

  /// The API as AWS's REST API resources describe it (internal: for export); null for HTTP APIs.
  std::shared_ptr<const spec::rest_api_model> model{};
  /// The API as AWS's HTTP API resources describe it (internal); null for REST APIs.
  std::shared_ptr<const spec::http_api_model> http_model{};
};

/// Imports a document as a REST API, or as an HTTP API (options.type). Throws config_error
/// with AWS's message for a document AWS refuses ("Invalid OpenAPI input." when it is neither
/// JSON nor YAML; OpenAPI 3.1 and Swagger 1.x are refused as AWS refuses them, and for HTTP
/// APIs Swagger 2.0 and operations with more than one security requirement), naming the path
/// and method where there is one, and when `fail_on_warnings` is set and there are warnings.
openapi_api import_openapi(std::string_view document, openapi_options options = {});

/// How a document goes into an existing REST API (AWS's PutRestApi `mode`).
enum class import_mode {
  /// The document's methods (and authorizers, models, validators, gateway responses) replace
  /// those of the same name; the rest stays; binary media types are joined.
  merge,
  /// The API becomes the document.
  overwrite,
};

/// Imports a REST API document into `existing` (a REST API import_openapi made): the result
/// keeps `existing`'s id and endpoint configuration, and is built anew with `options` (which
/// bind functions and authorizers for the whole API, old methods too). Throws config_error as
/// import_openapi does, and for an `existing` that is not a REST API; `existing` is unchanged.
openapi_api import_openapi(std::string_view document, const openapi_api& existing, import_mode mode,
                           openapi_options options = {});

// ---------------------------------------------------------------------------------------------
// Export: a stage's API as AWS's GetExport writes it.
// ---------------------------------------------------------------------------------------------

/// The document type of an export (AWS's exportType).
enum class openapi_format {
  oas30,    ///< OpenAPI 3.0.1
  swagger,  ///< Swagger 2.0
};

/// Settings of an export, as AWS's GetExport parameters.
struct export_options {
  openapi_format format = openapi_format::oas30;
  /// AWS's `extensions` parameter, comma-separated: "integrations" (the
  /// x-amazon-apigateway-integration of each method), "authorizers" (the
  /// x-amazon-apigateway-authorizer of each security scheme), "validators" (request
  /// validators), "apigateway" (all of them and the API's root extensions: binary media types,
  /// gateway responses, policy, …). "" writes plain OpenAPI. HTTP APIs have AWS's
  /// includeExtensions instead, all or nothing: any of these names writes all of theirs
  /// (integrations, authorizers, CORS, x-amazon-apigateway-importexport-version), "" none.
  std::string extensions{};
  bool yaml = false;  ///< YAML (Accept: application/yaml) instead of JSON
  /// The region in the API's host name, <id>.execute-api.<region>.amazonaws.com.
  std::string region = "us-east-1";
  /// The account in the ARNs of C++ functions and authorizers (exported as Lambda functions).
  std::string account_id = "123456789012";
};

/// Writes an imported API as deployed to `stage` (the stage names Swagger's basePath and OpenAPI
/// 3's basePath server variable), in AWS's layout: the document an import reads back into the
/// same API. Throws config_error naming unknown extension names.
///
/// HTTP APIs export as apigatewayv2 export-api writes them: OpenAPI 3.0 only (Swagger is a
/// config_error), a route per operation ("/$default" with isDefaultRoute for the $default
/// route, whose stage "$default" gives the basePath variable ""), integrations with their
/// payloadFormatVersion and parameter mappings, JWT authorizers as oauth2 schemes and Lambda
/// authorizers as apiKey schemes with x-amazon-apigateway-authorizer.
std::string export_openapi(const openapi_api& api, std::string_view stage,
                           const export_options& options = {});

/// Writes the API a stage serves: an imported API as imported, an API composed in C++ as AWS
/// would have it. A C++ function exports as an aws_proxy integration of the Lambda function
/// its function_options::name names (else "GET-pets-petId", from its route), a custom
/// authorizer as a Lambda authorizer of its name, a JWT authorizer as a Cognito user pool
/// authorizer when its issuer is a user pool (else as a TOKEN authorizer of its name), IAM as
/// sigv4; a mock as AWS's MOCK answering with its status, headers and body. Importing the
/// export with the same functions and authorizers bound by name serves the same API. C++
/// transform hooks have no form in a document and are left out. An HTTP API composed in C++
/// exports likewise in HTTP APIs' layout: functions and lambda_invoke as aws_proxy in their
/// payload format, http_proxy as http_proxy, JWT authorizers with their issuer and audiences,
/// custom authorizers as Lambda (REQUEST, payload 2.0) authorizers of their name, IAM as
/// sigv4, parameter_mapping / response_mapping as requestParameters / responseParameters;
/// other integrations (mock, aws_service, http) have no HTTP API form and are left out.
std::string export_openapi(const Stage& stage, const export_options& options = {});

}  // namespace gatehouse
