// A deployment of an HTTP API → the HTTP API model export writes. An imported API is its own
// model (carried by the deployment); one composed in C++ is described route by route: each
// integration says what it is to AWS (a C++ function is the Lambda function of its name, in
// its payload format), each authorizer too (JWT: issuer and audiences; a C++ authorizer: the
// Lambda authorizer of its name), and the method's parameter mappings become the
// integration's requestParameters / responseParameters.

#include "spec/export_http.hpp"

#include "auth/authorizer_impl.hpp"
#include "auth/identity_sources.hpp"
#include "spec/describe_router.hpp"
#include "util/access.hpp"

#include <algorithm>

namespace gatehouse::spec {

namespace {

// An identity source as HTTP APIs write it: "$request.header.Authorization" …
std::string http_form(const auth::identity_source& s) {
  switch (s.from) {
    case auth::identity_source::kind::header:
      return "$request.header." + s.name;
    case auth::identity_source::kind::query:
      return "$request.querystring." + s.name;
    case auth::identity_source::kind::stage_variable:
      return "$stageVariables." + s.name;
    case auth::identity_source::kind::context:
      break;
  }
  return "$context." + s.name;
}

// The REST form describe() writes ("method.request.header.A, stageVariables.b") → HTTP's.
std::vector<std::string> http_sources(std::string_view rest, std::string_view authorizer) {
  std::vector<std::string> out;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto one = rest.substr(0, comma);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (!one.empty()) out.push_back(http_form(auth::parse_identity_source(one, authorizer)));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

class http_describer {
 public:
  http_describer(http_api_model& api, const detail::export_context& c) : api_(api), c_(c) {}

  http_route_model route(const std::string& key, const integration& target,
                         const method_options& o) {
    http_route_model r;
    r.route_key = key;
    if (key == "$default") {
      r.method = "ANY";
      r.path = "$default";
    } else {
      const std::string_view k = key;
      const auto space = std::min(k.find(' '), k.size());
      r.method.assign(k.substr(0, space));
      r.path.assign(space < k.size() ? k.substr(space + 1) : std::string_view("/"));
      if (r.path.empty()) r.path = "/";
    }
    if (o.authorizer) authorization(o, r);
    detail::export_context c = c_;
    const std::string function_name = route_function_name(key == "$default" ? "ANY $default" : key);
    c.route_name = function_name;
    integration_model i;
    detail::access::impl(target).describe(i, c);
    // HTTP APIs have Lambda and HTTP proxies only: other integrations (a mock, an AWS service,
    // a non-proxy HTTP one) have no form in their document and the route is left without one.
    if (i.type != "AWS_PROXY" && i.type != "HTTP_PROXY") return r;
    http_integration_model m;
    m.type = i.type;
    m.integration_method = i.type == "AWS_PROXY" ? "POST" : i.http_method;
    m.uri = i.uri;
    m.payload_format_version = i.type == "AWS_PROXY" && !i.payload_format_version.empty()
                                   ? i.payload_format_version
                                   : "1.0";
    m.timeout_ms = i.timeout_ms;
    m.request_parameters = o.parameter_mapping;
    m.response_parameters = o.response_mapping;
    r.integration = std::move(m);
    return r;
  }

 private:
  void authorization(const method_options& o, http_route_model& r) {
    authorizer_model a;
    const auto type = detail::access::impl(o.authorizer).describe(a, c_);
    if (type == "AWS_IAM") {
      r.authorization_type = "AWS_IAM";
      return;
    }
    http_authorizer_model h;
    h.name = a.name;
    h.identity_source = http_sources(a.identity_source, a.name);
    if (!a.issuer.empty()) {
      h.type = "JWT";
      h.issuer = a.issuer;
      h.audience = a.audiences;
      r.authorization_type = "JWT";
      r.authorization_scopes = o.authorization_scopes;
    } else {
      // HTTP APIs' Lambda authorizers are all REQUEST ones; a C++ handler takes no JSON, so the
      // payload format is AWS's console default, 2.0, answered with a policy (UNCONFIRMED which
      // a C++ authorizer should claim: an import binds it by name either way).
      h.type = "REQUEST";
      h.authorizer_uri = a.authorizer_uri;
      h.authorizer_credentials = a.authorizer_credentials;
      h.result_ttl_seconds = a.result_ttl_seconds.value_or(0);
      r.authorization_type = "CUSTOM";
    }
    r.authorizer = h.name;
    auto same = std::find_if(api_.authorizers.begin(), api_.authorizers.end(),
                             [&](const http_authorizer_model& x) { return x.name == h.name; });
    if (same == api_.authorizers.end()) api_.authorizers.push_back(std::move(h));
  }

  http_api_model& api_;
  const detail::export_context& c_;
};
}  // namespace

http_api_model describe_http_deployment(const detail::deployment_data& d,
                                        const detail::export_context& c) {
  if (d.imported && d.imported->http) return *d.imported->http;
  http_api_model api;
  api.id = d.api.id;
  api.name = d.api.name;
  http_describer describer(api, c);
  for (std::size_t i = 0; i < d.routes.size(); ++i)
    api.routes.push_back(describer.route(d.routes.key(i), d.routes.target(i), d.routes.options(i)));
  return api;
}

}  // namespace gatehouse::spec
