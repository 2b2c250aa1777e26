#include "transform/parameter_mapping.hpp"

#include "routing/route_table.hpp"
#include "routing/stage_variables.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace gatehouse::transform {

namespace {
bool starts_with(std::string_view s, std::string_view p) noexcept {
  return s.substr(0, p.size()) == p;
}

// AWS: parameter names match ^[a-zA-Z0-9._$-]+$.
bool valid_name(std::string_view n) noexcept {
  return !n.empty() && std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '$' || c == '-';
  });
}

// Headers API Gateway owns: mapping them is a configuration error, as in AWS.
bool reserved_header(std::string_view n) noexcept {
  for (std::string_view r :
       {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer",
        "upgrade", "expect", "x-amzn-trace-id", "x-amzn-apigateway-api-id"})
    if (iequals(n, r)) return true;
  return false;
}

}  // namespace

parameter_mapping::parameter_mapping(const std::vector<std::pair<std::string, std::string>>& pairs,
                                     std::string_view what) {
  using sk = mapping_rule::source_kind;
  for (const auto& pair : pairs) {
    // Named references, not structured bindings: clang 14 cannot capture those in a lambda.
    const std::string& target = pair.first;
    const std::string& source = pair.second;
    auto bad = [&](std::string_view why) {
      return config_error(
          fmt::format("{}: request parameter '{}' = '{}': {}", what, target, source, why));
    };
    mapping_rule r;
    std::string_view t = target;
    if (starts_with(t, "integration.request.header.")) {
      r.target = target_kind::header;
      t.remove_prefix(27);
    } else if (starts_with(t, "integration.request.querystring.")) {
      r.target = target_kind::querystring;
      t.remove_prefix(32);
    } else if (starts_with(t, "integration.request.path.")) {
      r.target = target_kind::path;
      t.remove_prefix(25);
    } else {
      throw bad("the target must be integration.request.{header|querystring|path}.NAME");
    }
    if (!valid_name(t)) throw bad("the target name must match [a-zA-Z0-9._$-]+");
    if (r.target == target_kind::header && reserved_header(t))
      throw bad("API Gateway owns this header; it cannot be mapped");
    r.target_name = std::string(t);

    std::string_view s = source;
    static constexpr std::pair<std::string_view, sk> prefixes[] = {
        {"method.request.path.", sk::path},
        {"method.request.querystring.", sk::querystring},
        {"method.request.multivaluequerystring.", sk::multivalue_querystring},
        {"method.request.header.", sk::header},
        {"method.request.multivalueheader.", sk::multivalue_header},
        {"stageVariables.", sk::stage_variable},
        {"context.", sk::context},
    };
    bool found = false;
    if (s.size() >= 2 && s.front() == '\'' && s.back() == '\'') {
      r.source = sk::literal;
      r.source_name = std::string(s.substr(1, s.size() - 2));
      found = true;
    } else if (s == "method.request.body") {
      r.source = sk::body;
      found = true;
    } else {
      for (const auto& [p, kind] : prefixes)
        if (starts_with(s, p)) {
          r.source = kind;
          r.source_name = std::string(s.substr(p.size()));
          found = true;
          break;
        }
      if (found && r.source == sk::context && !known_context_variable(r.source_name))
        throw bad("unknown context variable");
      if (found && r.source == sk::stage_variable &&
          !routing::valid_stage_variable_name(r.source_name))
        throw bad("a stage variable name is [A-Za-z0-9_]+");
      if (found && r.source != sk::context && r.source != sk::stage_variable &&
          !valid_name(r.source_name))
        throw bad("the source name must match [a-zA-Z0-9._$-]+");
    }
    if (!found) {
      if (starts_with(s, "method.request.body."))
        throw bad("JSONPath body sources come with mapping templates; not supported yet");
      throw bad(
          "the source must be method.request.{path|querystring|multivaluequerystring|header|"
          "multivalueheader}.NAME, method.request.body, stageVariables.NAME, context.NAME or "
          "'static'");
    }
    for (const auto& other : rules_)
      if (other.target == r.target &&
          (r.target == target_kind::header ? iequals(other.target_name, r.target_name)
                                           : other.target_name == r.target_name))
        throw bad("the target is mapped twice");
    rules_.push_back(std::move(r));
  }
}

void parameter_mapping::collect_stage_variables(std::vector<std::string>& names) const {
  for (const auto& r : rules_)
    if (r.source == mapping_rule::source_kind::stage_variable) names.push_back(r.source_name);
}

bool parameter_mapping::maps(target_kind kind, std::string_view name) const noexcept {
  for (const auto& r : rules_)
    if (r.target == kind &&
        (kind == target_kind::header ? iequals(r.target_name, name) : r.target_name == name))
      return true;
  return false;
}

void parameter_mapping::values(const mapping_rule& rule, const detail::exchange& ex,
                               std::vector<std::string>& out) {
  using sk = mapping_rule::source_kind;
  out.clear();
  switch (rule.source) {
    case sk::path:
      if (auto v = ex.path_param(rule.source_name)) out.emplace_back(*v);
      break;
    case sk::querystring:
    case sk::multivalue_querystring:
      for (auto& [k, v] : routing::parse_query(ex.query))
        if (k == rule.source_name) {
          if (rule.source == sk::querystring) out.clear();
          out.push_back(std::move(v));
        }
      break;
    case sk::header:
    case sk::multivalue_header:
      for (const auto& f : ex.req.headers)
        if (iequals(f.name, rule.source_name)) {
          if (rule.source == sk::header) out.clear();
          out.push_back(f.value);
        }
      break;
    case sk::body:
      out.push_back(ex.req.body);
      break;
    case sk::stage_variable:
      if (auto it = ex.stage->variables.find(rule.source_name); it != ex.stage->variables.end())
        out.push_back(it->second);
      break;
    case sk::context:
      if (auto v = context_value(ex, rule.source_name)) out.push_back(std::move(*v));
      break;
    case sk::literal:
      out.push_back(rule.source_name);
      break;
  }
}

}  // namespace gatehouse::transform
