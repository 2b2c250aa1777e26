#pragma once

// The API model → gatehouse's objects: a Router with its routes, integrations, authorizers,
// models and gateway responses, built with the host's bindings (C++ functions and authorizers,
// the Lambda endpoint, IAM credentials).

#include "spec/model.hpp"

#include <gatehouse/openapi.hpp>

#include <map>
#include <string>
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
/// The method settings an integration carries: templates, responses, passthrough, cache keys.
void apply_integration_settings(const integration_model& m, bool proxy, const std::string& path,
                                const std::string& method, method_options& out);

}  // namespace gatehouse::spec
