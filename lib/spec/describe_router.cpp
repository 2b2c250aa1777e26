// A deployment → the API model: the API's settings, its models and gateway responses, a
// resource per path (and the resources above it), a method per route with what method_options
// said (parameters, models, validation, API key, authorizer, templates, integration responses,
// cache keys) and the integration's own description. Validators get the names AWS's console
// gives them. C++ hooks (transform_request / transform_response) and HTTP APIs' parameter
// mappings have no REST API form and are left out.

#include "spec/describe_router.hpp"

#include "auth/authorizer_impl.hpp"
#include "util/access.hpp"

#include <gatehouse/gateway_response.hpp>

#include <algorithm>
#include <cctype>
#include <set>

namespace gatehouse::spec {

namespace {
const char* validator_name(request_validation v) {
  switch (v) {
    case request_validation::body:
      return "Validate body";
    case request_validation::parameters:
      return "Validate query string parameters and headers";
    case request_validation::body_and_parameters:
      return "Validate body, query string parameters, and headers";
    case request_validation::none:
      break;
  }
  return "";
}

const char* passthrough_name(passthrough_behavior p) {
  switch (p) {
    case passthrough_behavior::when_no_templates:
      return "WHEN_NO_TEMPLATES";
    case passthrough_behavior::never:
      return "NEVER";
    case passthrough_behavior::when_no_match:
      break;
  }
  return "WHEN_NO_MATCH";
}

// A gateway response's header value: 'static text', or a $context / $stageVariables value.
std::string header_source(std::string_view value) {
  auto plain = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_';
    });
  };
  for (std::string_view prefix : {"$context.", "$stageVariables."})
    if (value.starts_with(prefix) && plain(value.substr(1))) return std::string(value.substr(1));
  return "'" + std::string(value) + "'";
}

void add_gateway_responses(const detail::deployment_data& d, rest_api_model& api) {
  for (const auto& [type, r] : d.responses) {
    gateway_response_model g;
    g.type = to_string(type);
    if (r.status) g.status_code = std::to_string(*r.status);
    for (const auto& f : r.headers)
      g.response_parameters.emplace_back("gatewayresponse.header." + f.name,
                                         header_source(f.value));
    if (r.body) g.response_templates.emplace_back(r.content_type, *r.body);
    api.gateway_responses.push_back(std::move(g));
  }
}

void add_resource(rest_api_model& api, std::set<std::string>& seen, const std::string& path) {
  if (!seen.insert(path).second) return;
  if (path != "/") {
    auto slash = path.rfind('/');
    add_resource(api, seen, slash == 0 ? "/" : path.substr(0, slash));
  }
  resource_model r;
  r.path = path;
  r.path_part = path == "/" ? "" : path.substr(path.rfind('/') + 1);
  api.resources.push_back(std::move(r));
}

class route_describer {
 public:
  route_describer(rest_api_model& api, const detail::export_context& c) : api_(api), c_(c) {}

  method_model method(std::string_view key, const integration& target, const method_options& o) {
    method_model m;
    m.http_method = key.substr(0, key.find(' '));
    m.api_key_required = o.api_key_required;
    if (o.authorizer) authorization(o, m);
    // The path's parameters are the method's, as AWS's console declares them.
    const std::string_view path = key.substr(key.find(' ') + 1);
    for (std::size_t open = path.find('{'); open != std::string_view::npos;
         open = path.find('{', open + 1)) {
      auto name = path.substr(open + 1, path.find('}', open) - open - 1);
      if (name.ends_with('+')) name.remove_suffix(1);
      m.request_parameters.emplace_back("method.request.path." + std::string(name), true);
    }
    for (const auto& [name, required] : o.request_parameters) {
      if (auto* same = find_in(m.request_parameters, name))
        *same = required;
      else
        m.request_parameters.emplace_back(name, required);
    }
    // AWS's cache key parameters are method request parameters: those not declared are
    // optional ones.
    for (const auto& name : o.cache_key_parameters)
      if (name.starts_with("method.request.") && !find_in(m.request_parameters, name))
        m.request_parameters.emplace_back(name, false);
    for (const auto& [type, model] : o.request_models) m.request_models.emplace_back(type, model);
    if (o.validation != request_validation::none) {
      m.request_validator = validator_name(o.validation);
      validator(o.validation);
    }
    const std::string function_name = route_function_name(key);
    detail::export_context c = c_;
    c.route_name = function_name;
    integration_model i;
    detail::access::impl(target).describe(i, c);
    if (i.type.empty()) return m;  // nothing AWS could call: the method has no integration
    // What AWS's console gives a proxy method: a 200 response (OpenAPI wants one at least).
    if (detail::access::impl(target).is_proxy()) m.method_responses.push_back({"200", {}, {}});
    i.cache_key_parameters = o.cache_key_parameters;
    if (!detail::access::impl(target).is_proxy()) {
      // The method's templates first, then those the integration itself needs (a mock's).
      text_map templates = o.request_templates;
      for (auto& [type, t] : i.request_templates)
        if (!find_in(templates, type)) templates.emplace_back(type, std::move(t));
      i.request_templates = std::move(templates);
      i.passthrough_behavior = passthrough_name(o.passthrough);
      if (!o.integration_responses.empty()) {
        i.responses.clear();
        for (const auto& r : o.integration_responses)
          i.responses.push_back({r.selection_pattern,
                                 std::to_string(r.status),
                                 r.response_parameters,
                                 r.response_templates,
                                 {}});
      }
    }
    // Each status an integration response gives needs its method response (AWS's rule).
    for (const auto& r : i.responses) {
      auto same = std::find_if(m.method_responses.begin(), m.method_responses.end(),
                               [&](const auto& x) { return x.status_code == r.status_code; });
      if (same == m.method_responses.end()) {
        m.method_responses.push_back({r.status_code, {}, {}});
        same = m.method_responses.end() - 1;
      }
      for (const auto& [target_name, source] : r.response_parameters)
        if (!find_in(same->response_parameters, target_name))
          same->response_parameters.emplace_back(target_name, false);
    }
    m.integration = std::move(i);
    return m;
  }

 private:
  void authorization(const method_options& o, method_model& m) {
    authorizer_model a;
    m.authorization_type = detail::access::impl(o.authorizer).describe(a, c_);
    if (m.authorization_type == "AWS_IAM") return;
    m.authorizer = a.name;
    m.authorization_scopes = o.authorization_scopes;
    auto same = std::find_if(api_.authorizers.begin(), api_.authorizers.end(),
                             [&](const authorizer_model& x) { return x.name == a.name; });
    if (same == api_.authorizers.end()) api_.authorizers.push_back(std::move(a));
  }

  void validator(request_validation v) {
    const std::string name = validator_name(v);
    for (const auto& x : api_.validators)
      if (x.name == name) return;
    api_.validators.push_back(
        {name, v == request_validation::body || v == request_validation::body_and_parameters,
         v == request_validation::parameters || v == request_validation::body_and_parameters});
  }

  rest_api_model& api_;
  const detail::export_context& c_;
};
}  // namespace

std::string route_function_name(std::string_view key) {
  std::string out;
  bool gap = false;
  for (char c : key) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      if (gap && !out.empty()) out.push_back('-');
      out.push_back(c);
      gap = false;
    } else {
      gap = true;
    }
  }
  return out.substr(0, 64);  // Lambda's limit on a function name
}

rest_api_model describe_deployment(const detail::deployment_data& d,
                                   const detail::export_context& c) {
  if (d.imported) return *d.imported;
  rest_api_model api;
  api.id = d.api.id;
  api.name = d.api.name;
  api.api_key_source = d.api.key_source == api_key_source::authorizer ? "AUTHORIZER" : "HEADER";
  if (d.api.endpoint == endpoint_type::private_endpoint) api.endpoint_types = {"PRIVATE"};
  api.policy = d.api.resource_policy;
  for (const auto& [name, schema] : d.model_schemas)
    api.models.push_back({name, "application/json", "", schema});
  add_gateway_responses(d, api);

  std::set<std::string> seen;
  for (std::size_t i = 0; i < d.routes.size(); ++i) {
    const std::string& key = d.routes.key(i);
    std::string path = key.substr(key.find(' ') + 1);
    if (path.empty()) path = "/";
    add_resource(api, seen, path);
  }
  std::sort(api.resources.begin(), api.resources.end(),
            [](const resource_model& a, const resource_model& b) { return a.path < b.path; });
  route_describer describer(api, c);
  for (std::size_t i = 0; i < d.routes.size(); ++i) {
    const std::string& key = d.routes.key(i);
    std::string path = key.substr(key.find(' ') + 1);
    if (path.empty()) path = "/";
    auto r = std::find_if(api.resources.begin(), api.resources.end(),
                          [&](const resource_model& x) { return x.path == path; });
    r->methods.push_back(describer.method(key, d.routes.target(i), d.routes.options(i)));
  }
  return api;
}

}  // namespace gatehouse::spec
