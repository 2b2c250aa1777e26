// Fuzz target: route templates as a host writes them ("METHOD /template [cache key parameter…]",
// one a line), then, after a line "====", requests ("METHOD /path", one a line). Templates are
// configuration: a bad one throws config_error, and nothing else may escape. The table that
// remains must match what it promises: a path made from each accepted template is found, and
// a match's parameters point into the path.

#include "routing/route_table.hpp"

#include <gatehouse/gatehouse.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    const std::size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

/// A request path the template matches: each {name} as "v", a {name+} as "v/w".
std::string path_for(std::string_view tmpl) {
  std::string path;
  for (auto seg : split(tmpl.substr(1), '/')) {
    if (seg.empty()) continue;
    path.push_back('/');
    if (seg.front() == '{')
      path.append(seg.ends_with("+}") ? "v/w" : "v");
    else
      path.append(seg);
  }
  return path.empty() ? "/" : path;
}

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void check_match(const gatehouse::routing::route_table& table, std::string_view method,
                 std::string_view path, bool must_match) {
  gatehouse::routing::route_match m;
  const bool found = table.match(method, path, m);
  check(found || !must_match);
  if (!found) return;
  check(m.index < table.size() && m.target != nullptr && m.options != nullptr);
  check(!m.resource.empty() && m.resource.front() == '/');
  check(m.param_count <= gatehouse::routing::max_path_params);
  std::size_t braces = 0;
  for (char c : m.resource) braces += c == '{';
  check(m.param_count == braces);
  for (std::size_t i = 0; i < m.param_count; ++i) {
    check(!m.params[i].name.empty() && inside(m.params[i].value, path));
  }
  check(table.find(table.key(m.index)) == m.index);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split_at = input.find("\n====\n");
  const std::string_view routes = input.substr(0, split_at);
  const std::string_view requests =
      split_at == std::string_view::npos ? std::string_view{} : input.substr(split_at + 6);

  static const gatehouse::integration target = gatehouse::mock({});
  gatehouse::routing::route_table table;
  gatehouse::Router router;
  struct accepted {
    std::string_view method, tmpl;
  };
  std::vector<accepted> added;
  for (auto line : split(routes, '\n')) {
    auto words = split(line, ' ');
    gatehouse::method_options options;
    for (std::size_t i = 2; i < words.size() && i < 6; ++i)
      options.cache_key_parameters.emplace_back(words[i]);
    const std::string_view method = words[0];
    const std::string_view tmpl = words.size() > 1 ? words[1] : std::string_view{};
    try {
      table.add(method, tmpl, target, options);
      added.push_back({method, tmpl});
    } catch (const gatehouse::config_error&) {
    }
    try {
      router.route(method, tmpl, target, options);
    } catch (const gatehouse::config_error&) {
    }
  }
  try {
    (void)router.deploy();
  } catch (const gatehouse::config_error&) {
  }

  for (const auto& a : added) {
    check(!a.tmpl.empty() && a.tmpl.front() == '/');
    check_match(table, a.method == "ANY" ? "GET" : a.method, path_for(a.tmpl), true);
  }
  for (auto line : split(requests, '\n')) {
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    check_match(table, line.substr(0, space), line.substr(space + 1), false);
    (void)gatehouse::routing::parse_query(line.substr(space + 1));
  }
  return 0;
}
