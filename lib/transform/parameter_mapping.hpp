#pragma once

// Step 9 of the pipeline, its first half: AWS's request parameter mapping (REST style),
// `integration.request.{header|querystring|path}.NAME = <source>`. Parsed and checked when the
// integration is made; evaluated per request. Mapping templates join here later.

#include "pipeline/exchange.hpp"
#include "transform/context_variables.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::transform {

enum class target_kind { header, querystring, path };

struct mapping_rule {
  enum class source_kind {
    path,                    // method.request.path.NAME
    querystring,             // method.request.querystring.NAME (the last value)
    multivalue_querystring,  // method.request.multivaluequerystring.NAME (all values)
    header,                  // method.request.header.NAME (the last value)
    multivalue_header,       // method.request.multivalueheader.NAME (all values)
    body,                    // method.request.body
    stage_variable,          // stageVariables.NAME
    context,                 // context.NAME
    literal,                 // 'static value'
  };
  target_kind target;
  std::string target_name;
  source_kind source;
  std::string source_name;  // or the literal's text
};

/// A parsed set of requestParameters.
class parameter_mapping {
 public:
  parameter_mapping() = default;
  /// Parses target ← source pairs; throws config_error naming the bad entry. `what` names the
  /// integration in messages.
  parameter_mapping(const std::vector<std::pair<std::string, std::string>>& pairs,
                    std::string_view what);

  bool empty() const noexcept { return rules_.empty(); }
  const std::vector<mapping_rule>& rules() const noexcept { return rules_; }
  /// Appends the stage variables the sources use.
  void collect_stage_variables(std::vector<std::string>& names) const;
  /// True when some rule targets `kind` `name` (case-insensitive for headers).
  bool maps(target_kind kind, std::string_view name) const noexcept;

  /// The values of a rule's source for this request (none when the source is absent; several
  /// for multi-valued sources).
  static void values(const mapping_rule& rule, const detail::exchange& ex,
                     std::vector<std::string>& out);

 private:
  std::vector<mapping_rule> rules_;
};

}  // namespace gatehouse::transform
