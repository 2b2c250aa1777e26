#pragma once

// What HTTP and AWS-service integrations share to call a backend: the URL template
// ({path parameters}, ${stageVariables.NAME}), the request parameters mapped for a request, and
// the gateway error for a call that failed.

#include "pipeline/exchange.hpp"
#include "transform/parameter_mapping.hpp"

#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace gatehouse::detail {

/// The values requestParameters map for one request, evaluated once: a querystring target has
/// an entry per value, the others one entry with the values joined by ','.
using mapped_parameters = std::vector<std::pair<const transform::mapping_rule*, std::string>>;

/// Evaluates `mapping` for the request.
mapped_parameters map_parameters(const transform::parameter_mapping& mapping, const exchange& ex);

/// Appends the header-targeted entries of `mapped` as "Name: value\r\n" fields (line breaks in
/// a value become spaces).
void write_mapped_headers(const mapped_parameters& mapped, std::string& out);

/// Appends the header fields a request template set ($context.requestOverride.header.NAME).
void write_override_headers(const exchange& ex, std::string& out);

/// The gateway error for a backend call that failed with `ec` (an http_client error):
/// INTEGRATION_TIMEOUT (504 "Endpoint request timed out") for a timeout, else
/// INTEGRATION_FAILURE, with the log reason AWS writes.
gateway_error call_failure(std::error_code ec, std::string_view method, std::string_view authority,
                           std::string_view target);

/// An integration's URL template: text, path parameters ({petId}, {proxy}) and stage variables
/// (${stageVariables.backend}), e.g. "http://${stageVariables.backend}/items/{id}".
class url_template {
 public:
  url_template() = default;
  /// Parses `url`. Throws config_error, its message starting with `what`, for a malformed
  /// reference, or a URL that neither starts with a stage variable nor is a valid http(s) URL.
  url_template(std::string_view url, std::string_view what);

  /// Appends the stage variables the template uses.
  void collect_stage_variables(std::vector<std::string>& names) const;

  /// The URL for a request: path parameters (a path-mapped value first, else the route's, its
  /// slashes kept for a greedy {name+}) percent-encoded, stage variables as they are; then the
  /// request's own query string when `forward_query`, then the querystring-mapped values.
  std::string render(const exchange& ex, const mapped_parameters& mapped, bool forward_query) const;

 private:
  struct piece {
    enum class kind { text, stage_variable, path_parameter } k;
    std::string s;
  };
  std::vector<piece> pieces_;
  std::size_t size_ = 0;  // the template's length, to size a rendered URL
};

}  // namespace gatehouse::detail
