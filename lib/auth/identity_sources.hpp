#pragma once

// Where an authorizer finds the caller's identity: headers, query strings, stage variables and
// context values, named as AWS names them ("method.request.header.Authorization" for REST APIs,
// "$request.header.Authorization" for HTTP APIs).

#include "pipeline/exchange.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::auth {

struct identity_source {
  enum class kind { header, query, stage_variable, context } from;
  std::string name;  // header name, query parameter, stage variable or context path
  std::string text;  // as the host wrote it, for messages
};

/// Parses one source; throws config_error naming `authorizer` and the source when it is not one
/// of the forms above (or names a context value we do not have).
identity_source parse_identity_source(std::string_view text, std::string_view authorizer);

/// The source as a REST API names it ("method.request.header.NAME", "stageVariables.NAME" …).
std::string rest_form(const identity_source& source);

/// The source's value in the request; nullopt when absent or empty (AWS: then 401 without
/// calling the authorizer). Query values are percent-decoded into `scratch`.
std::optional<std::string_view> identity_value(const identity_source& source,
                                               const gatehouse::detail::exchange& ex,
                                               std::string& scratch);

}  // namespace gatehouse::auth
