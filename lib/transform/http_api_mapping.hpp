#pragma once

// HTTP APIs' parameter mapping (AWS's requestParameters / responseParameters for HTTP APIs):
// "overwrite:header.x", "append:querystring.y", "remove:header.z", "overwrite:path" on the
// integration request, and per backend status "overwrite:statuscode" and header changes on the
// response. Values are text with $request.*, $response.*, $context.* and $stageVariables.*
// references. Compiled when the API is deployed.

#include "pipeline/exchange.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::transform {

/// One mapping: what it changes, and the value's pieces.
struct http_api_rule {
  enum class op { overwrite, append, remove } action;
  enum class part { header, querystring, path, statuscode } target;
  std::string name;  // the header or query parameter; "" for path and statuscode
  struct piece {
    enum class from {
      text,
      request_header,
      request_querystring,
      request_path_parameter,
      request_path,
      response_header,
      context,
      stage_variable,
    } kind;
    std::string s;  // the text, or the name referred to
  };
  std::vector<piece> value;
};

/// The response mappings for one backend status code ("404").
struct http_api_response_rules {
  std::string status;
  std::vector<http_api_rule> rules;
};

/// Parses request mappings; throws config_error naming `what` and the bad entry.
std::vector<http_api_rule> compile_request_mapping(
    const std::vector<std::pair<std::string, std::string>>& pairs, std::string_view what);
/// Parses response mappings keyed by status code.
std::vector<http_api_response_rules> compile_response_mapping(
    const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>&
        by_status,
    std::string_view what);

/// Applies request mappings to the request the integration will send: headers in ex.req,
/// the query string and path in ex.mapped_query / ex.mapped_path.
void apply_request_mapping(const std::vector<http_api_rule>& rules,
                           gatehouse::detail::exchange& ex);
/// Applies the mappings for the backend's status to the response.
void apply_response_mapping(const std::vector<http_api_response_rules>& rules,
                            const gatehouse::detail::exchange& ex, response& res);

}  // namespace gatehouse::transform
