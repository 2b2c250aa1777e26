#pragma once

#include <gatehouse/http.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace gatehouse {

/// AWS API Gateway's gateway response types: the ways the gateway itself ends a request.
enum class response_type {
  access_denied,
  api_configuration_error,
  authorizer_configuration_error,
  authorizer_failure,
  bad_request_parameters,
  bad_request_body,
  default_4xx,
  default_5xx,
  expired_token,
  integration_failure,
  integration_timeout,
  invalid_api_key,
  invalid_signature,
  missing_authentication_token,
  quota_exceeded,
  request_too_large,
  resource_not_found,
  throttled,
  unauthorized,
  unsupported_media_type,
  waf_filtered,
};

/// AWS's name of a type, e.g. "MISSING_AUTHENTICATION_TOKEN".
std::string_view to_string(response_type type) noexcept;
/// The type of an AWS name; nullopt when unknown.
std::optional<response_type> response_type_from_string(std::string_view name) noexcept;
/// AWS's default status of a type (0 for DEFAULT_4XX / DEFAULT_5XX, which have none).
int default_status(response_type type) noexcept;
/// The `x-amzn-ErrorType` value AWS sends with a type ("" when none).
std::string_view error_type_header(response_type type) noexcept;
/// The default client message of a type, e.g. "Missing Authentication Token".
std::string_view default_message(response_type type) noexcept;

/// A host's override of one gateway response type, as AWS's PutGatewayResponse.
/// Templates may use $context.error.message, $context.error.messageString,
/// $context.error.responseType, $context.requestId, $context.stage and $stageVariables.<name>.
struct gateway_response {
  std::optional<int> status{};        ///< replaces the default status
  header_map headers{};               ///< added to the response (values use the same templates)
  std::optional<std::string> body{};  ///< replaces {"message":$context.error.messageString}
  std::string content_type = "application/json";
};

}  // namespace gatehouse
