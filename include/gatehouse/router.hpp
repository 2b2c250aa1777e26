#pragma once

#include <gatehouse/authorizer.hpp>
#include <gatehouse/gateway_response.hpp>
#include <gatehouse/integration.hpp>
#include <gatehouse/transform.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse {

namespace spec {
struct rest_api_model;
}

namespace detail {
struct deployment_data;
struct router_state;
struct access;  // the library's own way to what the public types keep private
}  // namespace detail

class Router;
namespace detail {
/// Keeps the API model an import built `router` from, for exact exports; a later change to
/// the router drops it.
void keep_model(Router& router, std::shared_ptr<const spec::rest_api_model> model);
}  // namespace detail

/// AWS's two styles of API, which differ in how they answer an unknown route.
enum class api_type {
  rest,  ///< unknown resource or method → 403 {"message":"Missing Authentication Token"}
  http,  ///< unknown route → 404 {"message":"Not Found"}
};

/// Where a method that requires an API key finds it (AWS's apiKeySource).
enum class api_key_source {
  header,      ///< the x-api-key request header
  authorizer,  ///< the usageIdentifierKey an authorizer returned
};

/// Who can reach an API (AWS's endpoint types).
enum class endpoint_type {
  regional,  ///< any client; a resource policy may still restrict
  /// Only requests that came through a private endpoint (a listener or request with a
  /// `private_endpoint` id: AWS's interface VPC endpoints) and that the resource policy allows.
  private_endpoint,
};

/// Identity and style of an API.
struct api_options {
  std::string name = "api";
  std::string id{};  ///< AWS-style API id ($context.apiId); generated when empty
  api_type type = api_type::rest;
  api_key_source key_source = api_key_source::header;
  endpoint_type endpoint = endpoint_type::regional;
  /// An IAM resource policy over the API's methods (JSON, ≤ 8,192 characters): statements with
  /// Principal, Action execute-api:Invoke, Resource as method ARNs or the short form
  /// "execute-api:/{stage}/{METHOD}/{path}", and conditions on aws:SourceIp (IpAddress /
  /// NotIpAddress, CIDR), aws:SourceVpce and other global keys. Empty: no resource policy.
  /// Router::deploy() throws config_error when it is malformed.
  std::string resource_policy{};
};

/// What a method checks before its integration runs (AWS's request validators).
enum class request_validation {
  none,
  body,                 ///< the body against the model for its Content-Type
  parameters,           ///< the required request parameters are there and not blank
  body_and_parameters,  ///< both
};

/// Settings of one method (AWS's Method).
struct method_options {
  /// Requests need an enabled API key of a usage plan on the stage, else 403 Forbidden; the
  /// plan's throttle and quota then apply.
  bool api_key_required = false;
  /// The request parameters that split the stage cache for this method (AWS's
  /// cacheKeyParameters): "method.request.querystring.type", "method.request.path.petId",
  /// "method.request.header.Accept". Others do not: requests that differ only in them share
  /// an entry.
  std::vector<std::string> cache_key_parameters{};
  /// Who may call the method: a custom or JWT authorizer; empty for none (AWS's NONE).
  Authorizer authorizer{};
  /// For JWT authorizers: the token must carry at least one of these scopes (AWS's
  /// authorizationScopes); empty: no scope needed.
  std::vector<std::string> authorization_scopes{};
  /// The request parameters the method declares, each with whether it is required (AWS's
  /// requestParameters): {"method.request.querystring.page", true},
  /// {"method.request.header.x-trace", false}, {"method.request.path.petId", true}.
  std::vector<std::pair<std::string, bool>> request_parameters{};
  /// Request body models by media type (AWS's requestModels): {"application/json", "Pet"};
  /// "$default" serves every other type. Models are added with Router::model().
  std::vector<std::pair<std::string, std::string>> request_models{};
  /// What is checked before the integration (AWS's requestValidator). A missing or blank
  /// required parameter → 400 {"message":"Missing required request parameters: [page]"}
  /// (BAD_REQUEST_PARAMETERS); a body its model refuses → 400 {"message":"Invalid request body"}
  /// (BAD_REQUEST_BODY), the reason in $context.error.validationErrorString.
  request_validation validation = request_validation::none;
  /// Mapping templates for the integration request by media type (AWS's requestTemplates):
  /// the request's body is replaced by the template's output, over the method request as
  /// $input. Non-proxy integrations only (http, aws_service, mock).
  std::vector<std::pair<std::string, std::string>> request_templates{};
  /// For a request whose media type has no template.
  passthrough_behavior passthrough = passthrough_behavior::when_no_match;
  /// How the backend's answers become the method's response (AWS's integration responses);
  /// empty: passed through. Non-proxy integrations only.
  std::vector<integration_response> integration_responses{};
  /// HTTP APIs' parameter mapping of the integration request: "overwrite:header.x",
  /// "append:header.x", "remove:header.x", the same for "querystring.NAME", and
  /// "overwrite:path"; values are text with $request.header.NAME, $request.querystring.NAME,
  /// $request.path.NAME, $request.path, $context.NAME and $stageVariables.NAME.
  std::vector<std::pair<std::string, std::string>> parameter_mapping{};
  /// … and of the response, per backend status code: {"404", {{"overwrite:statuscode", "204"},
  /// {"append:header.x-cause", "$response.header.x-backend"}}}.
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>
      response_mapping{};
  request_hook transform_request{};    ///< after the request template
  response_hook transform_response{};  ///< after the integration response
};

/// An immutable snapshot of a Router's routes, made by Router::deploy(); cheap to copy.
class Deployment {
 public:
  Deployment() = default;
  explicit Deployment(std::shared_ptr<const detail::deployment_data> data) noexcept
      : data_(std::move(data)) {}
  explicit operator bool() const noexcept { return data_ != nullptr; }

 private:
  std::shared_ptr<const detail::deployment_data> share() const noexcept { return data_; }
  friend struct detail::access;
  const detail::deployment_data& data() const noexcept { return *data_; }
  std::shared_ptr<const detail::deployment_data> data_{};
};

/// An API under construction: resources (path templates) and methods, each with an integration.
/// Templates use `{name}` for a segment and `{name+}` (last) for the rest of the path. The most
/// specific route wins whatever the order: literal segment, then parameter, then greedy.
/// Copies share one router (a handle): a route added through one is there for all. Stages serve
/// deploy()'s snapshots, so changes after deploy() reach them only by deploying again.
class Router {
 public:
  explicit Router(api_options options = {});

  /// Adds a method (GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS or ANY) on a resource.
  /// HTTP APIs may add the `$default` route, ("ANY", "$default"): requests no other route
  /// matches go there (route key "$default"). Throws config_error for a bad method or
  /// template, or a route defined twice.
  Router& route(std::string_view method, std::string_view path_template, integration target,
                method_options options = {});

  /// Adds a model (AWS's Model): a JSON Schema draft 4 document that methods name in
  /// request_models. It may refer to other models with "$ref":
  /// "https://apigateway.amazonaws.com/restapis/{api}/models/{name}" (in cycles too: a Tree
  /// whose children are Trees, as AWS allows). Checked by deploy(), which
  /// throws config_error naming the model for bad JSON or schema, or an unknown $ref; a name used
  /// twice or not alphanumeric throws here.
  Router& model(std::string name, std::string schema);

  /// Overrides the response the gateway sends for one type of failure (AWS's gateway responses).
  Router& set_gateway_response(response_type type, gateway_response response);

  /// Freezes the current routes into a snapshot that stages serve.
  Deployment deploy() const;

  const api_options& options() const noexcept;

 private:
  friend void detail::keep_model(Router&, std::shared_ptr<const spec::rest_api_model>);
  std::shared_ptr<detail::router_state> state_{};
};

}  // namespace gatehouse
