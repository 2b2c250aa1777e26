#pragma once

// JSON for templates: parsing a body (bounded nesting, no recursion) and the JSONPath subset
// that $input.json and $input.path take: $, .name, ['name'], ["name"], [n] (negative from the
// end), [a,b], [start:end], [*], .*, ..name, ..* . Filters ([?(…)]) and scripts are not
// supported (such a path selects nothing). A path without '$' is read as "$." + path.

#include <rapidjson/document.h>

#include <string_view>
#include <vector>

namespace gatehouse::transform::vtl {

/// Parses JSON text into `doc`; false when it is not JSON or nests deeper than max_value_depth.
bool parse_json(std::string_view text, rapidjson::Document& doc);

struct json_path_result {
  /// A definite path (no wildcard, deep scan, union or slice) selects at most one value and is
  /// answered with that value; an indefinite one with the list of what it selected.
  bool definite = true;
  std::vector<const rapidjson::Value*> matches;
};

/// Evaluates `path` against `root`; false when the path is malformed or unsupported.
bool select_json_path(std::string_view path, const rapidjson::Value& root, json_path_result& out);

}  // namespace gatehouse::transform::vtl
