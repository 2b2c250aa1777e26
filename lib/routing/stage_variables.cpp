#include "routing/stage_variables.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace gatehouse::routing {

namespace {
constexpr std::string_view prefix = "${stageVariables.";
}

bool valid_stage_variable_name(std::string_view name) noexcept {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

void collect_stage_variables(std::string_view text, std::vector<std::string>& names) {
  for (auto pos = text.find(prefix); pos != std::string_view::npos;
       pos = text.find(prefix, pos + 1)) {
    auto start = pos + prefix.size();
    auto close = text.find('}', start);
    std::string_view name =
        close == std::string_view::npos ? std::string_view{} : text.substr(start, close - start);
    if (!valid_stage_variable_name(name))
      throw config_error(fmt::format("malformed stage variable reference in '{}'", text));
    names.emplace_back(name);
  }
}

std::string substitute_stage_variables(std::string_view text, const detail::variable_map& vars) {
  std::string out;
  std::size_t from = 0;
  for (auto pos = text.find(prefix); pos != std::string_view::npos; pos = text.find(prefix, from)) {
    auto start = pos + prefix.size();
    auto close = text.find('}', start);
    if (close == std::string_view::npos) break;
    out.append(text.substr(from, pos - from));
    if (auto it = vars.find(text.substr(start, close - start)); it != vars.end())
      out.append(it->second);
    from = close + 1;
  }
  out.append(text.substr(from));
  return out;
}

}  // namespace gatehouse::routing
