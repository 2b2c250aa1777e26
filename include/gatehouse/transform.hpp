#pragma once

// Request and response transformation for non-proxy integrations (AWS's integration request and
// integration responses): mapping templates in AWS's Velocity subset, passthrough behaviour,
// response selection, header mapping, and C++ hooks where a template is not enough.

#include <gatehouse/http.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace gatehouse {

/// What happens to a request whose Content-Type has no request template (AWS's
/// passthroughBehavior).
enum class passthrough_behavior {
  when_no_match,      ///< the body goes to the integration as it is (AWS's default)
  when_no_templates,  ///< as it is when the method has no templates at all, else 415
  never,              ///< 415 {"message":"Unsupported Media Type"} (UNSUPPORTED_MEDIA_TYPE)
};

/// One integration response (AWS's IntegrationResponse): which backend answers it covers, and
/// how they become the method's response.
struct integration_response {
  /// An ECMAScript regex the backend's status code must match whole ("4\\d{2}", "404");
  /// "" marks the default response, used when no other matches.
  std::string selection_pattern{};
  int status = 200;  ///< the status the client gets
  /// Headers of the method response, target ← source: {"method.response.header.X-Id",
  /// "integration.response.header.x-backend-id"}; sources: integration.response.header.NAME,
  /// integration.response.body, or 'static text'.
  std::vector<std::pair<std::string, std::string>> response_parameters{};
  /// Mapping templates by media type ("application/json" → VTL over the backend's body as
  /// $input). The one for the request's Accept type is used, else application/json, else the
  /// first; none: the backend's body is passed as it is.
  std::vector<std::pair<std::string, std::string>> response_templates{};
};

/// A C++ transform of the integration request, run after the request template: it may change
/// the body and headers the integration gets.
using request_hook = std::function<void(request& integration_request)>;
/// A C++ transform of the method response, run after the response template and mapping.
using response_hook = std::function<void(response& method_response)>;

}  // namespace gatehouse
