#include "integration/integration_impl.hpp"
#include "routing/deployment.hpp"
#include "routing/stage_variables.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/router.hpp>

#include <fmt/format.h>

#include <random>

namespace gatehouse {

namespace detail {
struct router_state {
  api_options options;
  routing::route_table routes;
  std::map<response_type, gateway_response> responses;
};
}  // namespace detail

namespace {
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
  state_->options = std::move(options);
}

const api_options& Router::options() const noexcept { return state_->options; }

Router& Router::route(std::string_view method, std::string_view path_template, integration target,
                      method_options options) {
  state_->routes.add(method, path_template, std::move(target), options);
  return *this;
}

Router& Router::set_gateway_response(response_type type, gateway_response response) {
  if (type == response_type::request_too_large)
    throw config_error("gateway response REQUEST_TOO_LARGE cannot be customised (as in AWS)");
  if (response.status && (*response.status < 100 || *response.status > 599))
    throw config_error(fmt::format("gateway response {}: status {} is not an HTTP status",
                                   to_string(type), *response.status));
  state_->responses[type] = std::move(response);
  return *this;
}

Deployment Router::deploy() const {
  auto data = std::make_shared<detail::deployment_data>();
  data->api = state_->options;
  data->routes = state_->routes;
  data->responses = state_->responses;
  data->routes.for_each([&](std::string_view, std::string_view, const integration& target) {
    target.impl().collect_stage_variables(data->stage_variable_refs);
  });
  for (const auto& [type, r] : data->responses) {
    if (r.body) routing::collect_stage_variables(*r.body, data->stage_variable_refs);
  }
  return Deployment{std::move(data)};
}

}  // namespace gatehouse
