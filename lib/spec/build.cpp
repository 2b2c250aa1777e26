// The API model → a Router: the API's settings, models, gateway responses, authorizers, and one
// route per method with its integration and settings.

#include "spec/build.hpp"

#include "spec/import.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace gatehouse::spec {

namespace {
api_options api_settings(const rest_api_model& api) {
  api_options o;
  o.name = api.name.empty() ? "api" : api.name;
  o.id = api.id;
  o.type = api_type::rest;
  o.key_source =
      api.api_key_source == "AUTHORIZER" ? api_key_source::authorizer : api_key_source::header;
  o.endpoint = std::find(api.endpoint_types.begin(), api.endpoint_types.end(), "PRIVATE") !=
                       api.endpoint_types.end()
                   ? endpoint_type::private_endpoint
                   : endpoint_type::regional;
  o.resource_policy = api.policy;
  return o;
}

// x-amazon-apigateway-gateway-responses: static headers, $context / $stageVariables values and
// the application/json template (else the first) become the response's override.
void add_gateway_responses(const rest_api_model& api, Router& router) {
  for (const auto& g : api.gateway_responses) {
    auto type = response_type_from_string(g.type);
    if (!type || *type == response_type::request_too_large) continue;  // warned about on reading
    gateway_response r;
    if (!g.status_code.empty()) {
      int status = 0;
      auto [end, ec] = std::from_chars(g.status_code.data(),
                                       g.status_code.data() + g.status_code.size(), status);
      if (ec != std::errc() || end != g.status_code.data() + g.status_code.size())
        throw config_error(
            fmt::format("Invalid gateway response status code '{}' for {}", g.status_code, g.type));
      r.status = status;
    }
    for (const auto& [target, source] : g.response_parameters) {
      constexpr std::string_view prefix = "gatewayresponse.header.";
      if (!target.starts_with(prefix)) continue;
      std::string name = target.substr(prefix.size());
      if (source.size() >= 2 && source.front() == '\'' && source.back() == '\'')
        r.headers.add(name, source.substr(1, source.size() - 2));
      else if (source.starts_with("context.") || source.starts_with("stageVariables."))
        r.headers.add(name, "$" + source);
    }
    if (!g.response_templates.empty()) {
      const auto* chosen = &g.response_templates.front();
      for (const auto& t : g.response_templates)
        if (t.first == "application/json") chosen = &t;
      r.content_type = chosen->first;
      r.body = chosen->second;
    }
    try {
      router.set_gateway_response(*type, std::move(r));
    } catch (const config_error& e) {
      throw config_error(fmt::format("Invalid gateway response {}: {}", g.type, e.what()));
    }
  }
}

request_validation validation_of(const rest_api_model& api, const std::string& name) {
  for (const auto& v : api.validators) {
    if (v.name != name) continue;
    if (v.validate_body && v.validate_parameters) return request_validation::body_and_parameters;
    if (v.validate_body) return request_validation::body;
    if (v.validate_parameters) return request_validation::parameters;
  }
  return request_validation::none;
}
}  // namespace

Router build_router(const rest_api_model& api, const openapi_options& options,
                    build_report& report) {
  Router router(api_settings(api));
  for (const auto& m : api.models) router.model(m.name, m.schema);
  add_gateway_responses(api, router);
  auto authorizers = make_authorizers(api, options, report);
  Authorizer iam;
  for (const auto& resource : api.resources) {
    for (const auto& m : resource.methods) {
      auto built = make_integration(m, resource.path, options, report);
      method_options opts;
      opts.api_key_required = m.api_key_required;
      opts.request_parameters = m.request_parameters;
      for (const auto& [type, model] : m.request_models)
        opts.request_models.emplace_back(type, model);
      opts.validation = validation_of(api, m.request_validator);
      std::string authorization = m.authorization_type;
      if (m.authorization_type == "AWS_IAM") {
        if (!iam) iam = Authorizer::iam(options.iam.value_or(iam_options{}));
        opts.authorizer = iam;
      } else if (m.authorization_type != "NONE") {
        opts.authorizer = authorizers.at(m.authorizer);
        opts.authorization_scopes = m.authorization_scopes;
        authorization += " " + m.authorizer;
      }
      if (m.integration)
        apply_integration_settings(*m.integration, built.proxy, resource.path, m.http_method, opts);
      try {
        router.route(m.http_method, resource.path, built.target, std::move(opts));
      } catch (const config_error& e) {
        method_error(m.http_method, resource.path, e.what());
      }
      report.routes.push_back({m.http_method, resource.path, std::move(built.description),
                               std::move(authorization), m.api_key_required});
    }
  }
  return router;
}

}  // namespace gatehouse::spec
