#include "transform/context_variables.hpp"

#include "auth/authorization.hpp"
#include "usage/key_registry.hpp"
#include "util/json_parse.hpp"
#include "util/json_ref.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>

namespace gatehouse::transform {

namespace detail_names {
namespace {
using v = context_var;
constexpr std::uint8_t R = rest_api, H = http_api, W = websocket_api;

// AWS-SEMANTICS.md §14: the variables of each API type's access logs ([DG:
// api-gateway-mapping-template-reference], [DG:http-api-logging-variables],
// [DG:websocket-api-logging]); deploymentId, tlsVersion and cipherSuite from the current REST
// pages, identity.vpceId and isCanaryRequest UNCONFIRMED there. identity.accessKey and
// messageDirection are mapping-template names of REST and WebSocket APIs.
constexpr entry table[] = {
    {"accountId", v::account_id, R | H, false},
    {"apiId", v::api_id, R | H | W, false},
    {"authorizer.principalId", v::authorizer_principal_id, R | H | W, false},
    {"awsEndpointRequestId", v::aws_endpoint_request_id, R | H, false},
    {"awsEndpointRequestId2", v::aws_endpoint_request_id2, H, false},
    {"cipherSuite", v::cipher_suite, R, false},
    {"connectedAt", v::connected_at, W, false},
    {"connectionId", v::connection_id, W, false},
    {"deploymentId", v::deployment_id, R, false},
    {"domainName", v::domain_name, R | H | W, false},
    {"domainPrefix", v::domain_prefix, R | H, false},
    {"eventType", v::event_type, W, false},
    {"extendedRequestId", v::extended_request_id, R | H | W, false},
    {"httpMethod", v::http_method, R | H, false},
    {"identity.accessKey", v::identity_access_key, R, false},
    {"identity.accountId", v::identity_account_id, R | H | W, false},
    {"identity.apiKey", v::identity_api_key, R | W, false},
    {"identity.apiKeyId", v::identity_api_key_id, R | W, false},
    {"identity.caller", v::identity_caller, R | H | W, false},
    {"identity.clientCert.clientCertPem", v::identity_client_cert_pem, R | H, false},
    {"identity.clientCert.subjectDN", v::identity_client_cert_subject_dn, R | H, false},
    {"identity.clientCert.issuerDN", v::identity_client_cert_issuer_dn, R | H, false},
    {"identity.clientCert.serialNumber", v::identity_client_cert_serial_number, R | H, false},
    {"identity.clientCert.validity.notBefore", v::identity_client_cert_not_before, R | H, false},
    {"identity.clientCert.validity.notAfter", v::identity_client_cert_not_after, R | H, false},
    {"identity.cognitoAuthenticationProvider", v::identity_cognito_authentication_provider,
     R | H | W, false},
    {"identity.cognitoAuthenticationType", v::identity_cognito_authentication_type, R | H | W,
     false},
    {"identity.cognitoIdentityId", v::identity_cognito_identity_id, R | H | W, false},
    {"identity.cognitoIdentityPoolId", v::identity_cognito_identity_pool_id, R | H | W, false},
    {"identity.principalOrgId", v::identity_principal_org_id, R | H | W, false},
    {"identity.sourceIp", v::identity_source_ip, R | H | W, false},
    {"identity.user", v::identity_user, R | H | W, false},
    {"identity.userAgent", v::identity_user_agent, R | H | W, false},
    {"identity.userArn", v::identity_user_arn, R | H | W, false},
    {"identity.vpceId", v::identity_vpce_id, R, false},
    {"isCanaryRequest", v::is_canary_request, R, false},
    {"messageDirection", v::message_direction, W, false},
    {"messageId", v::message_id, W, false},
    {"path", v::path, R | H, false},
    {"protocol", v::protocol, R | H, false},
    {"requestId", v::request_id, R | H | W, false},
    {"requestTime", v::request_time, R | H | W, false},
    {"requestTimeEpoch", v::request_time_epoch, R | H | W, false},
    {"resourceId", v::resource_id, R, false},
    {"resourcePath", v::resource_path, R, false},
    {"responseOverride.status", v::response_override_status, R, false},
    {"routeKey", v::route_key, H | W, false},
    {"stage", v::stage, R | H | W, false},
    {"tlsVersion", v::tls_version, R, false},
    {"wafResponseCode", v::waf_response_code, R, false},
    {"webaclArn", v::webacl_arn, R, false},
    // Access logs only.
    {"xrayTraceId", v::xray_trace_id, R, true},
    {"customDomain.basePathMatched", v::custom_domain_base_path_matched, R | H, true},
    {"authenticate.error", v::authenticate_error, R | W, true},
    {"authenticate.latency", v::authenticate_latency, R | W, true},
    {"authenticate.status", v::authenticate_status, R | W, true},
    {"authorize.error", v::authorize_error, R | W, true},
    {"authorize.latency", v::authorize_latency, R | W, true},
    {"authorize.status", v::authorize_status, R | W, true},
    {"authorizer.error", v::authorizer_error, R | H | W, true},
    {"authorizer.integrationLatency", v::authorizer_integration_latency, R | W, true},
    {"authorizer.integrationStatus", v::authorizer_integration_status, R | W, true},
    {"authorizer.latency", v::authorizer_latency, R | H | W, true},
    {"authorizer.requestId", v::authorizer_request_id, R | W, true},
    {"authorizer.status", v::authorizer_status, R | H | W, true},
    {"dataProcessed", v::data_processed, H, true},
    {"error.message", v::error_message, R | H | W, true},
    {"error.messageString", v::error_message_string, R | H | W, true},
    {"error.responseType", v::error_response_type, R | H | W, true},
    {"error.validationErrorString", v::error_validation_error_string, R | W, true},
    {"integration.error", v::integration_error, R | H | W, true},
    {"integration.integrationStatus", v::integration_integration_status, R | H | W, true},
    {"integration.latency", v::integration_latency_of_integration, R | H | W, true},
    {"integration.requestId", v::integration_request_id, R | H | W, true},
    {"integration.status", v::integration_status_of_integration, R | H | W, true},
    {"integrationErrorMessage", v::integration_error_message, R | H, true},
    {"integrationLatency", v::integration_latency, R | H | W, true},
    {"integrationStatus", v::integration_status, R | H, true},
    {"responseLatency", v::response_latency, R | H, true},
    {"responseLength", v::response_length, R | H, true},
    {"status", v::status, R | H | W, true},
    {"waf.error", v::waf_error, R | W, true},
    {"waf.latency", v::waf_latency, R | W, true},
    {"waf.status", v::waf_status, R | W, true},
    // Names with a key at their end, after the exact names they would otherwise shadow.
    {"requestOverride.header.", v::request_override_header, R, false, true},
    {"requestOverride.path.", v::request_override_path, R, false, true},
    {"requestOverride.querystring.", v::request_override_querystring, R, false, true},
    {"responseOverride.header.", v::response_override_header, R, false, true},
    {"authorizer.claims.", v::authorizer_claim, R | H | W, false, true},
    {"authorizer.", v::authorizer_property, R | H | W, false, true},
};
}  // namespace

const entry* begin() noexcept { return std::begin(table); }
const entry* end() noexcept { return std::end(table); }
}  // namespace detail_names

std::optional<context_ref> find_context_variable(std::string_view name, context_use use,
                                                 unsigned apis) noexcept {
  for (const auto& e : detail_names::table) {
    if ((e.log_only && use != context_use::access_log) || (apis != 0 && !(e.apis & apis))) continue;
    if (!e.keyed && name == e.name) return context_ref{e.var, {}};
    if (e.keyed && name.size() > e.name.size() && name.starts_with(e.name))
      return context_ref{e.var, name.substr(e.name.size())};
  }
  return std::nullopt;
}

namespace {
// A JWT claim (the claims are a JSON object's text): strings as they are, others as JSON.
bool claim_of(std::string& out, std::string_view claims_json, std::string_view name) {
  rapidjson::Document doc;
  if (!util::parse_json(doc, claims_json) || !doc.IsObject()) return false;
  auto it = doc.FindMember(util::json_ref(name));
  if (it == doc.MemberEnd()) return false;
  if (it->value.IsString()) {
    out.assign(it->value.GetString(), it->value.GetStringLength());
    return true;
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  it->value.Accept(w);
  out.assign(buf.GetString(), buf.GetSize());
  return true;
}

std::string_view number(context_scratch& s, std::int64_t n) {
  auto [end, ec] = std::to_chars(s.digits, s.digits + sizeof s.digits, n);
  return {s.digits, static_cast<std::size_t>(end - s.digits)};
}

std::string_view header(const detail::exchange& ex, std::string_view name) {
  return ex.req.headers.get(name).value_or(std::string_view{});
}

// The Host of the request, or of a WebSocket event's connection.
std::string_view host(const detail::exchange& ex) {
  if (ex.websocket && !ex.websocket->domain_name.empty()) return ex.websocket->domain_name;
  return header(ex, "Host");
}

}  // namespace

std::optional<std::string_view> context_text(const detail::exchange& ex, const context_ref& ref,
                                             context_scratch& scratch) {
  using v = context_var;
  using text = std::optional<std::string_view>;
  if (std::string_view field; context_field(ex, ref.var, field)) return field;
  const auto* ws = ex.websocket;
  const auth::authorization* a = ex.auth.get();
  switch (ref.var) {
    case v::account_id:
      return ex.gateway.account_id;
    case v::api_id:
      return ex.stage ? std::string_view(ex.stage->deployment->api.id) : std::string_view{};
    case v::domain_name:
      return host(ex);
    case v::domain_prefix: {
      auto h = host(ex);
      return h.substr(0, h.find('.'));
    }
    case v::protocol:
      return "HTTP/1.1";
    case v::request_id:
    case v::extended_request_id:
      return ex.id();
    case v::request_time:
      return ex.request_time;
    case v::request_time_epoch:
      return number(scratch, ex.request_time_epoch);
    case v::identity_user_agent:
      return ws && !ws->user_agent.empty() ? ws->user_agent : header(ex, "User-Agent");
    case v::identity_api_key:
      return ex.api_key_value;
    case v::identity_api_key_id:
      return ex.api_key ? std::string_view(ex.api_key->id) : std::string_view{};
    case v::identity_vpce_id:
      return ex.req.private_endpoint;
    case v::route_key:
      if (ws) return ws->route_key;
      // HTTP APIs' route key: "GET /pets/{id}", or "$default".
      if (!ex.match.target) return std::nullopt;
      if (ex.match.resource == "$default") return "$default";
      scratch.text.assign(ex.match.method).append(" ").append(ex.match.resource);
      return scratch.text;
    case v::connection_id:
      return ws ? text(ws->connection_id) : std::nullopt;
    case v::connected_at:
      return ws ? text(number(scratch, ws->connected_at)) : std::nullopt;
    case v::event_type:
      return ws ? text(ws->event_type) : std::nullopt;
    case v::message_id:
      return ws ? text(ws->message_id) : std::nullopt;
    case v::message_direction:
      return ws ? text("IN") : std::nullopt;
    case v::authorizer_claim:
      if (!a) return std::string_view{};
      if (!claim_of(scratch.text, a->claims_json, ref.arg)) return std::nullopt;
      return scratch.text;
    case v::authorizer_property:
      if (!a) return std::string_view{};
      if (const auto* value = a->view().get(ref.arg)) {
        scratch.text = to_string(*value);
        return scratch.text;
      }
      return std::nullopt;
    case v::request_override_header:
      // What a request template set with $context.requestOverride.header.NAME.
      for (const auto& [name, value] : ex.override_headers)
        if (iequals(name, ref.arg)) return std::string_view(value);
      return std::nullopt;
    case v::is_canary_request:
      return "false";         // no canary deployments
    case v::xray_trace_id: {  // the request's trace (observe/trace_context), X-Ray's form
      char id[35];
      observe::write_xray_trace_id(ex.trace, id);
      scratch.text.assign(id, sizeof id);
      return scratch.text;
    }
    // Facts gatehouse does not have (no Cognito identities, client certificates on the API's
    // own listener, WAF, custom domains, deployment ids, TLS details per request): empty.
    case v::aws_endpoint_request_id:
    case v::aws_endpoint_request_id2:
    case v::cipher_suite:
    case v::custom_domain_base_path_matched:
    case v::deployment_id:
    case v::identity_client_cert_pem:
    case v::identity_client_cert_subject_dn:
    case v::identity_client_cert_issuer_dn:
    case v::identity_client_cert_serial_number:
    case v::identity_client_cert_not_before:
    case v::identity_client_cert_not_after:
    case v::identity_cognito_authentication_provider:
    case v::identity_cognito_authentication_type:
    case v::identity_cognito_identity_id:
    case v::identity_cognito_identity_pool_id:
    case v::identity_principal_org_id:
    case v::resource_id:
    case v::tls_version:
    case v::waf_response_code:
    case v::webacl_arn:
      return std::string_view{};
    // Template results not kept past step 9, and what the response tells (observe/).
    default:
      return std::nullopt;
  }
}

std::optional<std::string> context_value(const detail::exchange& ex, std::string_view name) {
  auto ref = find_context_variable(name, context_use::request);
  if (!ref) return std::nullopt;
  context_scratch scratch;
  auto text = context_text(ex, *ref, scratch);
  if (!text) return std::nullopt;
  return std::string(*text);
}

bool known_context_variable(std::string_view name) noexcept {
  return find_context_variable(name, context_use::request).has_value();
}

}  // namespace gatehouse::transform
