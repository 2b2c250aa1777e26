#pragma once

// ${stageVariables.name} references in integration settings: found at composition, replaced
// per request.

#include "routing/deployment.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::routing {

/// Appends the names referenced as ${stageVariables.name} in `text`; throws config_error for a
/// malformed reference.
void collect_stage_variables(std::string_view text, std::vector<std::string>& names);

/// `text` with every ${stageVariables.name} replaced by its value ("" when undefined).
std::string substitute_stage_variables(std::string_view text, const detail::variable_map& vars);

/// True when `name` is a valid stage-variable name: [A-Za-z0-9_]+.
bool valid_stage_variable_name(std::string_view name) noexcept;

}  // namespace gatehouse::routing
