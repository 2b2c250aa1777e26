#include "pipeline/exchange.hpp"

namespace gatehouse::detail {

std::optional<std::string_view> exchange::path_param(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < match.param_count; ++i)
    if (match.params[i].name == name) return match.params[i].value;
  return std::nullopt;
}

}  // namespace gatehouse::detail
