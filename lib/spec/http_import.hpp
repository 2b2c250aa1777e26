#pragma once

// HTTP APIs from OpenAPI 3.0 documents, as AWS's apigatewayv2 import-api reads them: the
// document → the HTTP API model (import_http.cpp) → a Router of type http (build_http.cpp).

#include "spec/build.hpp"
#include "spec/http_model.hpp"
#include "spec/json_util.hpp"

#include <gatehouse/openapi.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::spec {

/// Reads an OpenAPI 3.0 document (AWS variables already put in) into `api`, spending at most
/// `budget` units of work. What gatehouse leaves out goes to `unsupported`. Throws config_error
/// for what AWS refuses, naming the route ("GET /pets") where there is one.
void read_http_api(const json& root, std::size_t budget, base_path_mode mode, http_api_model& api,
                   std::vector<std::string>& unsupported);

/// Builds the HTTP API's Router with the host's bindings. Throws config_error naming the route
/// or authorizer that cannot be built.
Router build_http_router(const http_api_model& api, const openapi_options& options,
                         build_report& report);

/// "Unable to create route 'GET /pets': …"
[[noreturn]] void route_error(std::string_view route_key, std::string_view why);
/// "Unable to create integration for route 'GET /pets': …"
[[noreturn]] void route_integration_error(std::string_view route_key, std::string_view why);

}  // namespace gatehouse::spec
