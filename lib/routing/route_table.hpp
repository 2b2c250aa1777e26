#pragma once

// Step 2 of the pipeline: find the route for a method and a path. A segment trie where each
// node has literal children, at most one {param} child and at most one {greedy+} child; the
// match tries them in that order and backtracks, so the most specific route always wins.

#include <gatehouse/integration.hpp>
#include <gatehouse/router.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gatehouse::routing {

/// Methods a route can name; `any` stands for the seven others (never for TRACE or CONNECT).
enum class method : std::uint8_t { get, post, put, del, patch, head, options, any };
inline constexpr std::size_t method_count = 8;

/// Parses "GET" … "ANY"; false for anything else.
bool parse_method(std::string_view text, method& out) noexcept;

// A bound that keeps the per-request state small enough for Asio's coroutine-frame recycling.
inline constexpr std::size_t max_path_params = 12;

struct path_param {
  std::string_view name;
  std::string_view value;  ///< raw (percent-encoded) text of the request path
};

/// What a successful match found. Views point into the table and the request path.
struct route_match {
  const integration* target = nullptr;
  const method_options* options = nullptr;
  std::size_t index = 0;      ///< the route's position in the table (see route_table::key)
  std::string_view resource;  ///< the template: /pets/{petId}
  std::string_view method;    ///< the route's own method name ("ANY" when matched by ANY)
  std::array<path_param, max_path_params> params{};
  std::size_t param_count = 0;
};

class route_table {
 public:
  /// Adds a route; throws config_error for a bad method or template or a duplicate.
  void add(std::string_view method, std::string_view path_template, integration target,
           method_options options = {});

  /// Matches a request method and path (no query string, no stage). True when found; a
  /// request no route matches goes to the $default route (path template "$default"), if any.
  bool match(std::string_view method, std::string_view path, route_match& out) const noexcept;

  /// Calls f(method, template, integration) for every route.
  template <class F>
  void for_each(F&& f) const {
    for (const auto& r : routes_) f(r.method, r.path_template, r.target);
  }
  std::size_t size() const noexcept { return routes_.size(); }
  /// The route's key as AWS's settings name it: "GET /pets/{petId}" (method as written in
  /// upper case, resource without a trailing '/').
  const std::string& key(std::size_t index) const noexcept { return routes_[index].key; }
  /// The route's integration.
  const integration& target(std::size_t index) const noexcept { return routes_[index].target; }
  /// The route's method settings.
  const method_options& options(std::size_t index) const noexcept { return routes_[index].options; }
  /// The index of the route with this key, if any.
  std::optional<std::size_t> find(std::string_view key) const noexcept;

 private:
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  static constexpr std::uint32_t none = ~0u;
  struct node {
    std::unordered_map<std::string, std::uint32_t, string_hash, std::equal_to<>> literals;
    std::uint32_t param = none;   // child for {name}
    std::uint32_t greedy = none;  // child for {name+}
    std::string param_name;       // this node's name when it is a {param} or {greedy+} node
    std::string resource;         // template up to this node
    std::array<std::uint32_t, method_count> routes;  // index into routes_, or none
    node() { routes.fill(none); }
  };
  struct route {
    std::string method;
    std::string path_template;
    integration target;
    method_options options;
    std::string key;
  };

  bool match_from(std::uint32_t n, std::string_view rest, std::size_t method_index,
                  route_match& out) const noexcept;
  bool accept(const node& nd, std::size_t method_index, route_match& out) const noexcept;

  std::vector<node> nodes_{1};
  std::vector<route> routes_;
  std::uint32_t default_ = none;  // the $default route (HTTP APIs), if any
};

/// The parameters of a raw query string (without '?'), in order, names and values decoded.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

}  // namespace gatehouse::routing
