#include <gatehouse/http.hpp>

#include <algorithm>

namespace gatehouse {

namespace {
constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }
}  // namespace

namespace detail {
bool iequals_same_size(std::string_view a, std::string_view b) noexcept {
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}
}  // namespace detail

std::optional<std::string_view> header_map::get(std::string_view name) const noexcept {
  for (const auto& f : fields_)
    if (iequals(f.name, name)) return std::string_view{f.value};
  return std::nullopt;
}

std::vector<std::string_view> header_map::get_all(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& f : fields_)
    if (iequals(f.name, name)) out.emplace_back(f.value);
  return out;
}

void header_map::set(std::string_view name, std::string value) {
  auto it = std::find_if(fields_.begin(), fields_.end(),
                         [&](const field& f) { return iequals(f.name, name); });
  if (it == fields_.end()) {
    fields_.push_back({std::string(name), std::move(value)});
    return;
  }
  it->value = std::move(value);
  fields_.erase(
      std::remove_if(it + 1, fields_.end(), [&](const field& f) { return iequals(f.name, name); }),
      fields_.end());
}

std::size_t header_map::erase(std::string_view name) {
  auto before = fields_.size();
  fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                               [&](const field& f) { return iequals(f.name, name); }),
                fields_.end());
  return before - fields_.size();
}

void request::clear() noexcept {
  method.clear();
  target.clear();
  headers.clear();
  body.clear();
  source_ip.clear();
  secure = false;
  private_endpoint.clear();
}

}  // namespace gatehouse
