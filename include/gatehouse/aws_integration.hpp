#pragma once

// Integrations with AWS services: requests signed with Signature Version 4 using the host's
// credentials, to any AWS-style HTTPS endpoint (AWS's integration type AWS) or to the Lambda
// Invoke API (AWS_PROXY to a Lambda function).

#include <gatehouse/http_client.hpp>
#include <gatehouse/integration.hpp>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace gatehouse {

/// Settings of an AWS-service integration.
struct aws_service_options {
  /// The service's endpoint, https://host[:port] without a path; http:// for local endpoints.
  std::string endpoint{};
  std::string region{};           ///< the signing region, e.g. "us-east-1"
  std::string service{};          ///< the signing service, e.g. "sqs", "execute-api"
  aws_credentials credentials{};  ///< what requests are signed with
  /// GET, POST, PUT, DELETE, PATCH, HEAD or OPTIONS.
  std::string method = "POST";
  /// The path (and query) sent below the endpoint, starting with '/'; may use path parameters
  /// ({queue}) and stage variables (${stageVariables.account}), as an HTTP integration's URL.
  std::string path = "/";
  /// How long the service may take (50 ms to 29 s); over it → 504 INTEGRATION_TIMEOUT.
  std::chrono::milliseconds timeout{29'000};
  /// requestParameters, as http_options::request_parameters (headers, querystring, path).
  std::vector<std::pair<std::string, std::string>> request_parameters{};
  /// Accept any certificate from the endpoint (tlsConfig.insecureSkipVerification).
  bool insecure_skip_verification = false;
};

/// AWS's AWS (non-proxy) integration: sends `method` endpoint+path with the client's body (and
/// Content-Type) and the mapped parameters, SigV4-signed; the service's status, body and
/// Content-Type come back. Throws config_error naming the bad option.
integration aws_service(aws_service_options options);

/// Settings of a Lambda integration.
struct lambda_options {
  /// The function: a name ("my-function"), a partial ARN ("123456789012:function:my-function")
  /// or a full ARN, optionally with ":qualifier". URL-encoded in the path.
  std::string function_name{};
  /// A version or alias, sent as ?Qualifier=; "" for none ($LATEST or the ARN's).
  std::string qualifier{};
  std::string region{};           ///< the function's region, and the signing region
  aws_credentials credentials{};  ///< what requests are signed with (lambda:InvokeFunction)
  /// The Lambda endpoint, http(s)://host[:port]; "" means https://lambda.{region}.amazonaws.com.
  std::string endpoint{};
  payload_format format = payload_format::v1;  ///< the proxy event's shape
  /// How long the invocation may take (50 ms to 29 s); over it → 504 INTEGRATION_TIMEOUT.
  std::chrono::milliseconds timeout{29'000};
  /// Accept any certificate from the endpoint (for local endpoints).
  bool insecure_skip_verification = false;
};

/// AWS_PROXY to a Lambda function: invokes it (POST /2015-03-31/functions/{name}/invocations,
/// SigV4-signed for service "lambda") with the proxy event and answers its proxy result. A
/// function error or a malformed result → 502, an error of the Lambda service itself (403, 404,
/// 429, …) → 500, both {"message": "Internal server error"}; a timeout → 504. Throws
/// config_error naming the bad option.
integration lambda_invoke(lambda_options options);

}  // namespace gatehouse
