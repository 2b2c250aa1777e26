#include <gatehouse/http.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace gatehouse {

namespace {
constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }

// Eight characters at once: each byte in 'A'..'Z' gets 0x20 added, the others stay.
constexpr std::uint64_t lower8(std::uint64_t x) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ull;
  const std::uint64_t low7 = x & (0x7f * ones);
  const std::uint64_t above_z = low7 + (0x7f - 'Z') * ones;             // high bit: byte > 'Z'
  const std::uint64_t from_a = low7 + (0x80 - 'A') * ones;              // high bit: byte >= 'A'
  const std::uint64_t upper = ~x & (from_a ^ above_z) & (0x80 * ones);  // ASCII 'A'..'Z'
  return x | (upper >> 2);
}
}  // namespace

namespace detail {
bool iequals_same_size(std::string_view a, std::string_view b) noexcept {
  const char* p = a.data();
  const char* q = b.data();
  std::size_t n = a.size();
  for (; n >= 8; p += 8, q += 8, n -= 8) {
    std::uint64_t x, y;
    std::memcpy(&x, p, 8);
    std::memcpy(&y, q, 8);
    if (x != y && lower8(x) != lower8(y)) return false;
  }
  for (; n > 0; ++p, ++q, --n)
    if (*p != *q && lower(*p) != lower(*q)) return false;
  return true;
}
}  // namespace detail

header_map& header_map::operator=(const header_map& other) {
  if (this == &other) return *this;
  clear();
  for (const auto& f : other) {
    field& mine = add_empty();
    mine.name = f.name;
    mine.value = f.value;
  }
  return *this;
}

std::optional<std::string_view> header_map::get(std::string_view name) const noexcept {
  for (const auto& f : *this)
    if (iequals(f.name, name)) return std::string_view{f.value};
  return std::nullopt;
}

std::vector<std::string_view> header_map::get_all(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& f : *this)
    if (iequals(f.name, name)) out.emplace_back(f.value);
  return out;
}

void header_map::set(std::string_view name, std::string value) {
  auto it = std::find_if(begin(), end(), [&](const field& f) { return iequals(f.name, name); });
  if (it == end()) {
    field& f = add_empty();
    f.name = name;
    f.value = std::move(value);
    return;
  }
  it->value = std::move(value);
  const auto first = it - begin();
  std::ptrdiff_t i = 0;
  erase_if([&](const field& f) { return i++ > first && iequals(f.name, name); });
}

std::size_t header_map::erase(std::string_view name) {
  return erase_if([&](const field& f) { return iequals(f.name, name); });
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
