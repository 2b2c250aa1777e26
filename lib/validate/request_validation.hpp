#pragma once

// Step 7 of the pipeline: AWS's request validators. Per method, compiled when the API is
// deployed: the required request parameters (present and not blank) and the body's model for
// its Content-Type.

#include "pipeline/exchange.hpp"
#include "validate/model.hpp"

#include <gatehouse/router.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::validate {

/// What one method checks.
struct method_rules {
  enum class where { path, querystring, header };
  struct parameter {
    where in;
    std::string name;  // as declared; headers match case-insensitively
  };
  bool check_parameters = false;
  std::vector<parameter> required;
  bool check_body = false;
  /// Lower-case media type (or "$default") → model.
  std::vector<std::pair<std::string, std::shared_ptr<const model>>> models;
};

/// Compiles a method's settings; null when it checks nothing. Throws config_error naming the
/// method (`route_key`, "GET /pets") for a malformed parameter name or an unknown model.
std::shared_ptr<const method_rules> compile(std::string_view route_key,
                                            const method_options& options,
                                            const model_lookup& models);

/// Step 7: nullopt when the request passes (or its method checks nothing), else the 400.
std::optional<gatehouse::detail::gateway_error> check_request(
    const gatehouse::detail::exchange& ex);

}  // namespace gatehouse::validate
