// The HTTP API model → a Router of type http: the authorizers (JWT ones verified here; Lambda
// ones bound to the host's C++ authorizers by name, else invoked at the host's Lambda
// endpoint), and one route per route key with its
// integration (HTTP_PROXY → http_proxy; AWS_PROXY → the host's C++ function, else the Lambda
// Invoke API, in the payload format the document names), parameter mapping and authorization.

#include "integration/aws_mock.hpp"
#include "integration/integration_impl.hpp"
#include "spec/http_import.hpp"
#include "transform/http_api_mapping.hpp"
#include "util/access.hpp"

#include <gatehouse/aws_integration.hpp>
#include <gatehouse/config_error.hpp>
#include <gatehouse/http_integration.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace gatehouse::spec {

namespace {

Authorizer jwt_authorizer(const http_authorizer_model& a, const openapi_options& o) {
  jwt_options j;
  j.name = a.name;
  j.issuer = a.issuer;
  j.audiences = a.audience;
  j.identity_source = a.identity_source.front();
  std::string issuer = a.issuer;
  while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
  auto keys = o.jwks.find(a.issuer);
  if (keys == o.jwks.end()) keys = o.jwks.find(issuer);
  if (keys == o.jwks.end())
    j.jwks_url = issuer + "/.well-known/jwks.json";
  else if (keys->second.starts_with("https://"))
    j.jwks_url = keys->second;
  else
    j.jwks = keys->second;
  return Authorizer::jwt(std::move(j));
}

authorizer_options lambda_authorizer_options(const http_authorizer_model& a) {
  authorizer_options opts;
  opts.name = a.name;
  opts.type = authorizer_type::request;
  opts.identity_sources = a.identity_source;
  opts.result_ttl = std::chrono::seconds(a.result_ttl_seconds);
  return opts;
}

std::map<std::string, Authorizer, std::less<>> make_http_authorizers(const http_api_model& api,
                                                                     const openapi_options& o,
                                                                     build_report& report) {
  std::map<std::string, Authorizer, std::less<>> out;
  for (const auto& a : api.authorizers) {
    try {
      if (a.type == "JWT") {
        out.emplace(a.name, jwt_authorizer(a, o));
      } else if (auto bound = o.authorizers.find(a.name); bound != o.authorizers.end()) {
        out.emplace(a.name, bound->second);
      } else if (auto h = o.authorizer_handlers.find(a.name); h != o.authorizer_handlers.end()) {
        out.emplace(a.name, Authorizer(lambda_authorizer_options(a), h->second));
      } else if (auto f = lambda_authorizer_function(a.authorizer_uri, o)) {
        const auto payload = a.payload_format_version == "1.0" ? authorizer_payload::http_v1
                             : a.enable_simple_responses       ? authorizer_payload::http_v2_simple
                                                               : authorizer_payload::http_v2;
        out.emplace(a.name, Authorizer::lambda(lambda_authorizer_options(a), *f, payload));
      } else {
        // Nobody answers for it: requests that reach it get 500, as AWS answers when the
        // authorizer's Lambda function cannot be called.
        report.unbound_authorizers.push_back(a.name);
        std::string name = a.name;
        out.emplace(a.name,
                    Authorizer(lambda_authorizer_options(a),
                               [name](const authorizer_request&) -> authorizer_result {
                                 throw std::runtime_error("authorizer '" + name + "' is not bound");
                               }));
      }
    } catch (const config_error& e) {
      throw config_error(fmt::format("Unable to create authorizer '{}': {}", a.name, e.what()));
    }
  }
  return out;
}

// HTTP APIs name a function by its ARN (arn:aws:lambda:{region}:{account}:function:{name}) or
// by the invocation URI REST APIs use.
std::optional<lambda_function> http_lambda_of(std::string_view uri) {
  if (uri.starts_with("arn:") && uri.find(":lambda:") != std::string_view::npos &&
      uri.find(":function:") != std::string_view::npos &&
      uri.find(":apigateway:") == std::string_view::npos) {
    auto region_start = uri.find(":lambda:") + 8;
    auto region = uri.substr(region_start, uri.find(':', region_start) - region_start);
    return lambda_of(
        fmt::format("arn:aws:apigateway:{}:lambda:path/2015-03-31/functions/{}/"
                    "invocations",
                    region, uri));
  }
  return lambda_of(uri);
}

built_integration make_http_integration(const http_route_model& route, const openapi_options& o,
                                        build_report& report) {
  built_integration b;
  if (!route.integration) {
    b.target = detail::misconfigured("No integration defined for route");
    b.description = "NONE";
    return b;
  }
  const http_integration_model& m = *route.integration;
  const std::chrono::milliseconds timeout(std::min(m.timeout_ms, 29'000));
  const payload_format format =
      m.payload_format_version == "2.0" ? payload_format::v2 : payload_format::v1;
  const std::string payload = "payload " + m.payload_format_version;
  try {
    if (!m.integration_subtype.empty()) {
      b.target = detail::misconfigured(fmt::format(
          "Execution failed due to configuration error: the AWS service integration {} is not "
          "supported",
          m.integration_subtype));
      b.description = fmt::format("AWS_PROXY {} (unsupported)", m.integration_subtype);
    } else if (m.type == "HTTP_PROXY") {
      // The URI as written, also on $default (whether AWS appends the request path there is
      // UNCONFIRMED; ANY /{proxy+} with …/{proxy} is the documented way to forward paths).
      b.target = http_proxy(m.uri, {.timeout = timeout});
      b.description = fmt::format("HTTP_PROXY {} {}", m.integration_method, m.uri);
    } else if (auto f = http_lambda_of(m.uri)) {
      const std::string shown = f->qualifier.empty() ? f->name : f->name + ":" + f->qualifier;
      if (const integration* bound = binding_of(*f, o)) {
        b.target = *bound;
        // The document's payload format decides the event's shape, as in AWS.
        if (auto reformatted = detail::access::impl(*bound).with_format(format))
          b.target = integration(std::move(reformatted));
        b.description = fmt::format("AWS_PROXY {} (C++, {})", shown, payload);
      } else if (auto call = lambda_invocation(*f, o)) {
        call->format = format;
        call->timeout = timeout;
        b.description = fmt::format("AWS_PROXY {} (Lambda at {}, {})", shown,
                                    lambda_endpoint_of(o, call->region), payload);
        b.target = lambda_invoke(std::move(*call));
      } else {
        report.unbound_functions.push_back(f->written);
        b.target = detail::misconfigured(
            fmt::format("Execution failed due to configuration error: Lambda function {} is "
                        "not bound",
                        f->written));
        b.description = fmt::format("AWS_PROXY {} (unbound)", shown);
      }
    } else {
      b.target = detail::misconfigured(fmt::format(
          "Execution failed due to configuration error: unusable integration URI {}", m.uri));
      b.description = fmt::format("{} {} (unusable URI)", m.type, m.uri);
    }
  } catch (const config_error& e) {
    route_integration_error(route.route_key, e.what());
  }
  return b;
}

}  // namespace

Router build_http_router(const http_api_model& api, const openapi_options& o,
                         build_report& report) {
  api_options settings;
  settings.name = api.name.empty() ? "api" : api.name;
  settings.id = api.id;
  settings.type = api_type::http;
  Router router(settings);
  auto authorizers = make_http_authorizers(api, o, report);
  Authorizer iam;
  for (const auto& route : api.routes) {
    auto built = make_http_integration(route, o, report);
    method_options opts;
    std::string authorization = route.authorization_type;
    if (route.authorization_type == "AWS_IAM") {
      if (!iam) iam = Authorizer::iam(o.iam.value_or(iam_options{}));
      opts.authorizer = iam;
    } else if (route.authorization_type != "NONE") {
      opts.authorizer = authorizers.at(route.authorizer);
      if (route.authorization_type == "JWT") opts.authorization_scopes = route.authorization_scopes;
      authorization += " " + route.authorizer;
    }
    try {
      if (route.integration) {
        opts.parameter_mapping = route.integration->request_parameters;
        opts.response_mapping = route.integration->response_parameters;
        // Checked here (deploy() would too) so that the error names the route as AWS's does.
        transform::compile_request_mapping(opts.parameter_mapping, "requestParameters");
        transform::compile_response_mapping(opts.response_mapping, "responseParameters");
      }
      router.route(route.method, route.path, built.target, std::move(opts));
    } catch (const config_error& e) {
      route_error(route.route_key, e.what());
    }
    report.routes.push_back(
        {route.method, route.path, std::move(built.description), std::move(authorization), false});
  }
  return router;
}

}  // namespace gatehouse::spec
