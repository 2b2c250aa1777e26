#pragma once

// A deployment as AWS's REST API resources describe it: what an export of a stage writes. An
// imported API is its own model; an API composed in C++ is described route by route, each
// integration and authorizer saying what it is to AWS.

#include "integration/integration_impl.hpp"
#include "routing/deployment.hpp"
#include "spec/model.hpp"

namespace gatehouse::spec {

/// The API model of `deployment`; `context` gives the region and account of the ARNs it writes.
rest_api_model describe_deployment(const detail::deployment_data& deployment,
                                   const detail::export_context& context);

/// The name a route's function exports under when it has none: "GET /pets/{petId}" →
/// "GET-pets-petId".
std::string route_function_name(std::string_view route_key);

}  // namespace gatehouse::spec
