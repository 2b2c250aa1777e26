#pragma once

// AWS's $context variables: one table of their names (for mapping templates, parameter mappings
// and access logs, per API type) and their values for a request. What only the response tells
// (status, latencies, errors) is resolved by observe/ for access logs, from the same ids.

#include "auth/authorization.hpp"
#include "pipeline/exchange.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::transform {

enum class context_var : std::uint8_t {
  // Known once the request has been through the pipeline's steps.
  account_id,
  api_id,
  authorizer_claim,     // authorizer.claims.<arg>
  authorizer_property,  // authorizer.<arg>
  authorizer_principal_id,
  aws_endpoint_request_id,
  aws_endpoint_request_id2,
  cipher_suite,
  connected_at,
  connection_id,
  custom_domain_base_path_matched,
  deployment_id,
  domain_name,
  domain_prefix,
  event_type,
  extended_request_id,
  http_method,
  identity_access_key,
  identity_account_id,
  identity_api_key,
  identity_api_key_id,
  identity_caller,
  identity_client_cert_pem,
  identity_client_cert_subject_dn,
  identity_client_cert_issuer_dn,
  identity_client_cert_serial_number,
  identity_client_cert_not_before,
  identity_client_cert_not_after,
  identity_cognito_authentication_provider,
  identity_cognito_authentication_type,
  identity_cognito_identity_id,
  identity_cognito_identity_pool_id,
  identity_principal_org_id,
  identity_source_ip,
  identity_user,
  identity_user_agent,
  identity_user_arn,
  identity_vpce_id,
  is_canary_request,
  message_direction,
  message_id,
  path,
  protocol,
  request_id,
  request_override_header,       // requestOverride.header.<arg>
  request_override_path,         // requestOverride.path.<arg>
  request_override_querystring,  // requestOverride.querystring.<arg>
  request_time,
  request_time_epoch,
  resource_id,
  resource_path,
  response_override_header,  // responseOverride.header.<arg>
  response_override_status,
  route_key,
  stage,
  tls_version,
  waf_response_code,
  webacl_arn,
  xray_trace_id,
  // Known once the response is out (observe/ resolves them).
  authenticate_error,
  authenticate_latency,
  authenticate_status,
  authorize_error,
  authorize_latency,
  authorize_status,
  authorizer_error,
  authorizer_integration_latency,
  authorizer_integration_status,
  authorizer_latency,
  authorizer_request_id,
  authorizer_status,
  data_processed,
  error_message,
  error_message_string,
  error_response_type,
  error_validation_error_string,
  integration_error,  // integration.error
  integration_integration_status,
  integration_latency_of_integration,  // integration.latency
  integration_request_id,
  integration_status_of_integration,  // integration.status
  integration_error_message,
  integration_latency,
  integration_status,
  response_latency,
  response_length,
  status,
  waf_error,
  waf_latency,
  waf_status,
};

/// The first variable only the response tells.
inline constexpr context_var first_response_variable = context_var::authenticate_error;

/// API types, as a set: which of them have a variable in their access logs.
enum context_api : std::uint8_t { rest_api = 1, http_api = 2, websocket_api = 4 };

/// Where a name is read: mapping templates and parameter mappings (AWS's request-time names;
/// `authorizer.<key>` is any key an authorizer returned), or access logs (every name, the
/// access-log-only ones included: `authorizer.status` is then the authorizer's status).
enum class context_use : std::uint8_t { request, access_log };

struct context_ref {
  context_var var;
  std::string_view arg;  ///< the <key> of authorizer.<key>, requestOverride.header.<name> …
};

/// The variable of a name (what follows "$context."), or nullopt when `use` knows no such name
/// or, with `apis` ≠ 0, no API type in `apis` has it in its access logs.
std::optional<context_ref> find_context_variable(std::string_view name, context_use use,
                                                 unsigned apis = 0) noexcept;

/// Calls f(name) for every name `apis` (a context_api set) have in access logs, those that take
/// a key with "<key>" at their end ("authorizer.claims.<key>").
template <class F>
void for_each_context_name(unsigned apis, F&& f);

/// Room for values that are not text of the request's own (numbers, a route key, a claim).
struct context_scratch {
  char digits[24];
  std::string text;
};

/// The value of a variable the request determines: a view of the request's own text, or of
/// `scratch` (valid until its next use). nullopt when it has none (a WebSocket variable outside
/// a WebSocket event, a key the authorizer did not return) and for the variables only the
/// response tells.
std::optional<std::string_view> context_text(const detail::exchange& ex, const context_ref& ref,
                                             context_scratch& scratch);

/// context_text's first part, inline for access logs: the variables that are a field of the
/// request or of its caller. False for the others.
inline bool context_field(const detail::exchange& ex, context_var var, std::string_view& out) {
  using v = context_var;
  const auto* ws = ex.websocket;
  const auth::authorization* a = ex.auth.get();
  switch (var) {
    case v::http_method:
      out = ex.req.method;
      return true;
    case v::path:
      out = ex.path;
      return true;
    case v::resource_path:
      out = ex.match.resource;
      return true;
    case v::stage:
      out = ex.stage ? std::string_view(ex.stage->name) : std::string_view{};
      return true;
    case v::identity_source_ip:
      out = ws && !ws->source_ip.empty() ? ws->source_ip : std::string_view(ex.req.source_ip);
      return true;
    case v::identity_caller:
    case v::identity_user:
      out = a ? std::string_view(a->caller) : std::string_view{};
      return true;
    case v::identity_user_arn:
      out = a ? std::string_view(a->user_arn) : std::string_view{};
      return true;
    case v::identity_account_id:
      out = a ? std::string_view(a->account_id) : std::string_view{};
      return true;
    case v::identity_access_key:
      out = a ? std::string_view(a->access_key) : std::string_view{};
      return true;
    case v::authorizer_principal_id:
      out = a ? std::string_view(a->principal_id) : std::string_view{};
      return true;
    default:
      return false;
  }
}

/// The value of $context.NAME for a request, as mapping templates and parameter mappings read
/// it (requestId, stage, httpMethod, resourcePath, identity.sourceIp, …); nullopt for a name
/// not known or without a value.
std::optional<std::string> context_value(const detail::exchange& ex, std::string_view name);
/// True when `name` is a $context variable of mapping templates and parameter mappings.
bool known_context_variable(std::string_view name) noexcept;

namespace detail_names {
struct entry {
  std::string_view name;  // a prefix when `keyed`
  context_var var;
  std::uint8_t apis;   // context_api set, for access logs
  bool log_only;       // only access logs know the name
  bool keyed = false;  // name + <key>
};
const entry* begin() noexcept;
const entry* end() noexcept;
}  // namespace detail_names

template <class F>
void for_each_context_name(unsigned apis, F&& f) {
  for (auto* e = detail_names::begin(); e != detail_names::end(); ++e)
    if (e->apis & apis) {
      if (e->keyed)
        f(std::string(e->name) + "<key>");
      else
        f(std::string(e->name));
    }
}

}  // namespace gatehouse::transform
