#pragma once

// Writing an HTTP API out as apigatewayv2 export-api writes it (OpenAPI 3.0.1 only): one
// operation per route, the $default route as "/$default", integrations and authorizers as
// x-amazon-apigateway-* extensions, printed by the REST export's printers.

#include "integration/integration_impl.hpp"
#include "routing/deployment.hpp"
#include "spec/http_model.hpp"

#include <gatehouse/openapi.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace gatehouse::spec {

/// The export of `api` as deployed to `stage` ("$default" for that stage), printed. OAS 3.0
/// only (Swagger is refused with config_error, as AWS refuses it); extensions: "" none, any
/// list of AWS's names (checked as REST exports check them) all of HTTP APIs' extensions.
std::string export_http_model(
    const http_api_model& api, std::string_view stage, const export_options& options,
    std::chrono::system_clock::time_point deployed = std::chrono::system_clock::now());

/// The HTTP API model of a deployment composed in C++ (routes, function / Lambda / HTTP proxy
/// integrations with their payload formats, JWT, Lambda and IAM authorization, parameter
/// mappings); `context` gives the region and account of the ARNs it writes.
http_api_model describe_http_deployment(const detail::deployment_data& deployment,
                                        const detail::export_context& context);

}  // namespace gatehouse::spec
