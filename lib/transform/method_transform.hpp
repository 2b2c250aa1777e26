#pragma once

// Steps 9 and 11 of the pipeline for non-proxy integrations: the integration request's mapping
// template (with AWS's passthrough behaviours) and the integration response (selected by the
// backend's status; status, header mapping and response template), plus the host's C++ hooks.
// Compiled per method when the API is deployed.

#include "pipeline/exchange.hpp"
#include "transform/http_api_mapping.hpp"
#include "transform/vtl/mapping_template.hpp"

#include <gatehouse/router.hpp>

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::transform {

struct compiled_response {
  std::optional<std::regex> pattern;  // nullopt: the default response
  int status = 200;
  struct header_rule {
    enum class from { header, body, literal } source;
    std::string target;  // the method response's header name
    std::string value;   // the backend header's name, or the literal text
  };
  std::vector<header_rule> headers;
  std::vector<std::pair<std::string, mapping_template>> templates;  // lower-case media type
};

struct method_transform {
  std::vector<std::pair<std::string, mapping_template>> request_templates;  // lower-case type
  passthrough_behavior passthrough = passthrough_behavior::when_no_match;
  std::vector<compiled_response> responses;
  std::vector<http_api_rule> request_mapping;             // HTTP APIs' parameter mapping
  std::vector<http_api_response_rules> response_mapping;  // … by backend status
  request_hook on_request;
  response_hook on_response;
};

/// Compiles a method's transforms; null when it has none. Throws config_error naming the
/// method for a template's syntax error, a bad selection pattern or mapping, or transforms on a
/// proxy integration (AWS allows them only on non-proxy ones).
std::shared_ptr<const method_transform> compile(std::string_view route_key,
                                                const method_options& options, bool proxy);

/// Step 9: the request template (or passthrough decision) and the request hook.
std::optional<gatehouse::detail::gateway_error> transform_request(gatehouse::detail::exchange& ex);

/// Step 11: the integration response for the backend's answer in `out` (not for gateway errors).
void transform_response(gatehouse::detail::exchange& ex, gatehouse::detail::outcome& out);

}  // namespace gatehouse::transform
