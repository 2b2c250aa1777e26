#include "auth/authorizer_impl.hpp"
#include "integration/integration_impl.hpp"
#include "routing/deployment.hpp"
#include "routing/stage_variables.hpp"
#include "transform/method_transform.hpp"
#include "util/access.hpp"
#include "validate/model.hpp"
#include "validate/request_validation.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/router.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <random>

namespace gatehouse {

namespace detail {
struct router_state {
  api_options options;
  routing::route_table routes;
  std::map<response_type, gateway_response> responses;
  std::shared_ptr<const auth::policy> resource_policy;
  std::map<std::string, std::string, std::less<>> model_schemas;  // name → JSON Schema text
  std::shared_ptr<const spec::rest_api_model> imported;           // see keep_model
};

void keep_model(Router& router, std::shared_ptr<const spec::rest_api_model> model) {
  router.state_->imported = std::move(model);
}
}  // namespace detail

namespace {
// Step 7's data: every model parsed, then compiled (models may $ref each other in cycles, as
// AWS allows: the deployment keeps them all alive), then each route's validation rules.
void compile_validation(const detail::router_state& state, detail::deployment_data& data) {
  std::vector<std::shared_ptr<validate::model>> parsed;
  for (const auto& [name, schema] : state.model_schemas) {
    parsed.push_back(std::make_shared<validate::model>(name, schema));
    data.models.emplace(name, parsed.back());
  }
  validate::model_lookup lookup =
      [&](std::string_view name) -> std::shared_ptr<const validate::model> {
    auto it = data.models.find(name);
    return it == data.models.end() ? nullptr : it->second;
  };
  for (const auto& m : parsed) m->compile(lookup);
  data.validation.resize(data.routes.size());
  data.transforms.resize(data.routes.size());
  for (std::size_t i = 0; i < data.routes.size(); ++i) {
    data.validation[i] = validate::compile(data.routes.key(i), data.routes.options(i), lookup);
    data.transforms[i] = transform::compile(data.routes.key(i), data.routes.options(i),
                                            detail::access::impl(data.routes.target(i)).is_proxy());
  }
}

// AWS API ids are 10 lower-case alphanumerics.
std::string make_api_id() {
  static constexpr char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::mt19937 gen(rd());
  std::uniform_int_distribution<int> pick(0, 35);
  std::string id(10, 'a');
  for (auto& c : id) c = chars[pick(gen)];
  return id;
}
}  // namespace

Router::Router(api_options options) : state_(std::make_shared<detail::router_state>()) {
  if (options.id.empty()) options.id = make_api_id();
  if (!options.resource_policy.empty()) {
    if (options.resource_policy.size() > 8192)
      throw config_error(
          fmt::format("API '{}': the resource policy is over 8,192 characters", options.name));
    // Short forms ("execute-api:/prod/GET/pets") expand to this API in any region and account:
    // the gateway's region and account are not known before the stage is mounted.
    auth::arn_base base{"*", "*", options.id};
    std::string why;
    auto p = auth::policy::parse(options.resource_policy, &why, &base);
    if (!p) throw config_error(fmt::format("API '{}': resource policy: {}", options.name, why));
    state_->resource_policy = std::make_shared<const auth::policy>(std::move(*p));
  }
  state_->options = std::move(options);
}

const api_options& Router::options() const noexcept { return state_->options; }

Router& Router::route(std::string_view method, std::string_view path_template, integration target,
                      method_options options) {
  if (!options.authorization_scopes.empty() &&
      (!options.authorizer || !detail::access::impl(options.authorizer).takes_scopes()))
    throw config_error(
        fmt::format("route {} {}: authorization scopes need a JWT authorizer on the method", method,
                    path_template));
  if (options.authorization_scopes.size() > 10)
    throw config_error(fmt::format("route {} {}: more than 10 authorization scopes (AWS's limit)",
                                   method, path_template));
  if (path_template == "$default" && state_->options.type != api_type::http)
    throw config_error(
        fmt::format("route {} $default: the $default route is for HTTP APIs", method));
  state_->routes.add(method, path_template, std::move(target), options);
  state_->imported.reset();
  return *this;
}

Router& Router::model(std::string name, std::string schema) {
  if (name.empty() || name.size() > 128 || !std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0;
      }))
    throw config_error(
        fmt::format("model '{}': a name is 1 to 128 letters and digits (as AWS's)", name));
  if (state_->model_schemas.contains(name))
    throw config_error(fmt::format("model '{}' is defined twice", name));
  state_->model_schemas.emplace(std::move(name), std::move(schema));
  state_->imported.reset();
  return *this;
}

Router& Router::set_gateway_response(response_type type, gateway_response response) {
  if (type == response_type::request_too_large)
    throw config_error("gateway response REQUEST_TOO_LARGE cannot be customised (as in AWS)");
  if (response.status && (*response.status < 100 || *response.status > 599))
    throw config_error(fmt::format("gateway response {}: status {} is not an HTTP status",
                                   to_string(type), *response.status));
  state_->responses[type] = std::move(response);
  state_->imported.reset();
  return *this;
}

Deployment Router::deploy() const {
  auto data = std::make_shared<detail::deployment_data>();
  data->api = state_->options;
  data->routes = state_->routes;
  data->responses = state_->responses;
  data->resource_policy = state_->resource_policy;
  data->model_schemas = state_->model_schemas;
  data->imported = state_->imported;
  data->routes.for_each([&](std::string_view, std::string_view, const integration& target) {
    detail::access::impl(target).collect_stage_variables(data->stage_variable_refs);
  });
  for (const auto& [type, r] : data->responses) {
    if (r.body) routing::collect_stage_variables(*r.body, data->stage_variable_refs);
  }
  compile_validation(*state_, *data);
  return Deployment{std::move(data)};
}

}  // namespace gatehouse
