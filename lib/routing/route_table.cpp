#include "routing/route_table.hpp"
#include "util/text.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace gatehouse::routing {

namespace {
constexpr std::array<std::string_view, method_count> method_names = {
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"};

// AWS allows alphanumerics and _ - . , : in literal path parts.
bool literal_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ',' || c == ':';
}
bool param_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}
}  // namespace

bool parse_method(std::string_view text, method& out) noexcept {
  for (std::size_t i = 0; i < method_names.size(); ++i)
    if (text == method_names[i]) {
      out = static_cast<method>(i);
      return true;
    }
  return false;
}

void route_table::add(std::string_view method_text, std::string_view tmpl, integration target,
                      method_options options) {
  auto where = [&] { return fmt::format("route {} {}", method_text, tmpl); };
  method m;
  if (!parse_method(method_text, m))
    throw config_error(
        fmt::format("{}: unknown method (use GET, POST, PUT, DELETE, PATCH, HEAD, "
                    "OPTIONS or ANY)",
                    where()));
  if (!target) throw config_error(fmt::format("{}: no integration", where()));
  if (tmpl == "$default") {
    // HTTP APIs' catch-all route: what no other route matches, any method, any path.
    if (m != method::any)
      throw config_error(fmt::format("{}: the $default route takes every method (ANY)", where()));
    if (default_ != none) throw config_error(fmt::format("{}: defined twice", where()));
    default_ = static_cast<std::uint32_t>(routes_.size());
    routes_.push_back(
        {std::string(method_text), "$default", std::move(target), options, "$default"});
    return;
  }
  if (tmpl.empty() || tmpl.front() != '/')
    throw config_error(fmt::format("{}: a path template starts with '/'", where()));

  std::string_view rest = tmpl.substr(1);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);  // trailing '/' is ignored
  std::uint32_t n = 0;
  std::string resource;
  std::vector<std::string_view> names;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (seg.empty()) throw config_error(fmt::format("{}: empty path segment", where()));
    resource.append("/").append(seg);

    if (seg.front() == '{' || seg.back() == '}') {
      if (seg.size() < 3 || seg.front() != '{' || seg.back() != '}')
        throw config_error(fmt::format(
            "{}: '{}' — a parameter is a whole segment, like {{name}} or {{name+}}", where(), seg));
      std::string_view name = seg.substr(1, seg.size() - 2);
      bool greedy = name.back() == '+';
      if (greedy) name.remove_suffix(1);
      if (name.empty() || !std::all_of(name.begin(), name.end(), param_name_char))
        throw config_error(fmt::format("{}: bad parameter name in '{}'", where(), seg));
      if (std::find(names.begin(), names.end(), name) != names.end())
        throw config_error(fmt::format("{}: parameter '{}' appears twice", where(), name));
      if (greedy && !rest.empty())
        throw config_error(
            fmt::format("{}: greedy parameter '{}' must be the last segment", where(), seg));
      names.push_back(name);
      if (names.size() > max_path_params)
        throw config_error(
            fmt::format("{}: more than {} path parameters", where(), max_path_params));
      std::uint32_t child = greedy ? nodes_[n].greedy : nodes_[n].param;
      if (child == none) {
        child = static_cast<std::uint32_t>(nodes_.size());
        nodes_.emplace_back();  // invalidates references into nodes_: use indices
        (greedy ? nodes_[n].greedy : nodes_[n].param) = child;
        nodes_[child].param_name = std::string(name);
        nodes_[child].resource = resource;
      } else if (nodes_[child].param_name != name) {
        throw config_error(
            fmt::format("{}: a sibling {{{}{}}} already uses another name at this position",
                        where(), nodes_[child].param_name, greedy ? "+" : ""));
      }
      n = child;
    } else {
      if (!std::all_of(seg.begin(), seg.end(), literal_char))
        throw config_error(fmt::format(
            "{}: '{}' — path parts may use letters, digits and _ - . , : only", where(), seg));
      auto it = nodes_[n].literals.find(seg);
      if (it == nodes_[n].literals.end()) {
        nodes_.emplace_back();
        auto c = static_cast<std::uint32_t>(nodes_.size() - 1);
        nodes_[c].resource = resource;
        nodes_[n].literals.emplace(std::string(seg), c);
        n = c;
      } else {
        n = it->second;
      }
    }
  }
  if (resource.empty()) resource.push_back('/');
  for (const auto& p : options.cache_key_parameters) {
    constexpr std::string_view prefix = "method.request.";
    std::string_view rest_p = p;
    bool ok = rest_p.starts_with(prefix);
    if (ok) rest_p.remove_prefix(prefix.size());
    std::string_view name;
    for (std::string_view kind : {"path.", "querystring.", "header."})
      if (ok && rest_p.starts_with(kind)) name = rest_p.substr(kind.size());
    if (!ok || name.empty())
      throw config_error(
          fmt::format("{}: cache key parameter '{}' — use method.request.path.NAME, "
                      "method.request.querystring.NAME or method.request.header.NAME",
                      where(), p));
    if (rest_p.starts_with("path.") && std::find(names.begin(), names.end(), name) == names.end())
      throw config_error(fmt::format(
          "{}: cache key parameter '{}' names no path parameter of the route", where(), p));
  }
  nodes_[n].resource = resource;
  auto& slot = nodes_[n].routes[static_cast<std::size_t>(m)];
  if (slot != none)
    throw config_error(fmt::format("{}: defined twice (as {} {})", where(), routes_[slot].method,
                                   routes_[slot].path_template));
  slot = static_cast<std::uint32_t>(routes_.size());
  std::string key(method_text);
  for (auto& c : key) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  key.append(" ").append(resource);
  routes_.push_back(
      {std::string(method_text), std::string(tmpl), std::move(target), options, std::move(key)});
}

std::optional<std::size_t> route_table::find(std::string_view key) const noexcept {
  for (std::size_t i = 0; i < routes_.size(); ++i)
    if (routes_[i].key == key) return i;
  return std::nullopt;
}

bool route_table::accept(const node& nd, std::size_t mi, route_match& out) const noexcept {
  std::uint32_t r = nd.routes[mi];
  if (r == none) r = nd.routes[static_cast<std::size_t>(method::any)];
  if (r == none) return false;
  out.target = &routes_[r].target;
  out.options = &routes_[r].options;
  out.index = r;
  out.resource = nd.resource;
  out.method = routes_[r].method;
  return true;
}

bool route_table::match_from(std::uint32_t n, std::string_view rest, std::size_t mi,
                             route_match& out) const noexcept {
  const node& nd = nodes_[n];
  if (rest.data() == nullptr) return accept(nd, mi, out);
  auto slash = rest.find('/');
  std::string_view seg = rest.substr(0, slash);
  std::string_view after =
      slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);

  if (!nd.literals.empty()) {
    auto it = nd.literals.find(seg);
    if (it != nd.literals.end() && match_from(it->second, after, mi, out)) return true;
  }
  if (nd.param != none && !seg.empty() && out.param_count < max_path_params) {
    out.params[out.param_count++] = {nodes_[nd.param].param_name, seg};
    if (match_from(nd.param, after, mi, out)) return true;
    --out.param_count;
  }
  if (nd.greedy != none && out.param_count < max_path_params) {
    const node& g = nodes_[nd.greedy];
    if (accept(g, mi, out)) {
      out.params[out.param_count++] = {g.param_name, rest};
      return true;
    }
  }
  return false;
}

bool route_table::match(std::string_view method_text, std::string_view path,
                        route_match& out) const noexcept {
  method m;
  if (!parse_method(method_text, m) || m == method::any) return false;
  out.param_count = 0;
  if (path.empty() || path.front() != '/') return false;
  std::string_view rest = path.substr(1);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  // A null view marks "no segments left"; an empty non-null view is one empty segment.
  if (rest.empty()) rest = std::string_view{};
  if (match_from(0, rest, static_cast<std::size_t>(m), out)) return true;
  if (default_ == none) return false;
  const route& d = routes_[default_];
  out.param_count = 0;
  out.target = &d.target;
  out.options = &d.options;
  out.index = default_;
  out.resource = d.path_template;
  out.method = d.method;
  return true;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    auto part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    out.emplace_back(util::percent_decode(part.substr(0, eq), true),
                     eq == std::string_view::npos
                         ? std::string()
                         : util::percent_decode(part.substr(eq + 1), true));
  }
  return out;
}

}  // namespace gatehouse::routing
