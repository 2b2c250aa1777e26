#pragma once

// The API model → gatehouse's objects: a Router with its routes, integrations, authorizers,
// models and gateway responses, built with the host's bindings (C++ functions and authorizers,
// the Lambda endpoint, IAM credentials).

#include "spec/model.hpp"

#include <gatehouse/openapi.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::spec {

/// What building found that the host may want to know.
struct build_report {
  std::vector<openapi_route> routes;
  std::vector<std::string> unbound_functions;
  std::vector<std::string> unbound_authorizers;
};

/// Builds the Router. Throws config_error naming the method (or authorizer) that cannot be
/// built.
Router build_router(const rest_api_model& api, const openapi_options& options,
                    build_report& report);

// security.cpp
/// Every authorizer of the API by name (AWS makes them all, used or not).
std::map<std::string, Authorizer, std::less<>> make_authorizers(const rest_api_model& api,
                                                                const openapi_options& options,
                                                                build_report& report);

// integrations.cpp
struct built_integration {
  integration target;
  std::string description;  ///< for openapi_route::integration
  bool proxy = true;
};
/// The integration of a method (none: one that answers 500, as AWS answers a method without).
built_integration make_integration(const method_model& m, const std::string& path,
                                   const openapi_options& options, build_report& report);
/// A Lambda function in an integration URI:
/// arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function}/invocations.
struct lambda_function {
  std::string written;    ///< {function} as written
  std::string arn;        ///< arn:aws:lambda:{region}:{account}:function:{name}, or {function}
  std::string name;       ///< {name}
  std::string qualifier;  ///< version or alias, "" for none
  std::string region;
};
/// The function an integration URI invokes; nullopt when it invokes none.
std::optional<lambda_function> lambda_of(std::string_view uri);
/// The host's C++ binding of a function (by the most specific name first); null for none.
const integration* binding_of(const lambda_function& f, const openapi_options& o);
/// Where functions without a binding are invoked: the host's endpoint, else AWS's.
std::string lambda_endpoint_of(const openapi_options& o, std::string_view region);
/// How `f` is invoked at the host's Lambda endpoint (timeout and payload format left at their
/// defaults); nullopt without an endpoint with credentials.
std::optional<lambda_options> lambda_invocation(const lambda_function& f, const openapi_options& o);
/// How an authorizer's Lambda function (its authorizerUri: the invocation URI, or for HTTP APIs
/// also the function's ARN) is invoked at the host's Lambda endpoint; nullopt without an
/// endpoint with credentials, or for a URI that names no function. authorizerCredentials (a
/// role for API Gateway to assume) are not used: the endpoint's credentials sign the call.
std::optional<lambda_options> lambda_authorizer_function(std::string_view uri,
                                                         const openapi_options& o);

/// The method settings an integration carries: templates, responses, passthrough, cache keys.
void apply_integration_settings(const integration_model& m, bool proxy, const std::string& path,
                                const std::string& method, method_options& out);

}  // namespace gatehouse::spec
