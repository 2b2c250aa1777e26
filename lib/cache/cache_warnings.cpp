#include "cache/cache_warnings.hpp"

#include "auth/authorizer_impl.hpp"
#include "integration/integration_impl.hpp"
#include "spec/model.hpp"
#include "util/access.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

namespace gatehouse::cache {

namespace {

using source = detail::cache_key_parameter::source;

struct identity {
  source from;
  std::string name;
};

// Where a method's callers are told apart: its authorizer's identity sources (the Authorization
// header when it names none: TOKEN, JWT, IAM), and x-api-key when it needs an API key.
std::vector<identity> identities(const method_options& o) {
  std::vector<identity> out;
  if (o.authorizer) {
    spec::authorizer_model m;
    detail::access::impl(o.authorizer)
        .describe(m, detail::export_context{"us-east-1", "123456789012", {}});
    std::string_view rest = m.identity_source;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      std::string_view item = util::trim_blanks(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      for (std::string_view prefix : {"method.request.", "$request."}) {
        if (!item.starts_with(prefix)) continue;
        item.remove_prefix(prefix.size());
        if (item.starts_with("header."))
          out.push_back({source::header, std::string(item.substr(7))});
        else if (item.starts_with("querystring."))
          out.push_back({source::querystring, std::string(item.substr(12))});
      }
    }
    if (out.empty()) out.push_back({source::header, "Authorization"});
  }
  if (o.api_key_required) out.push_back({source::header, "x-api-key"});
  return out;
}

bool is_key(const detail::route_settings& r, source from, std::string_view name) {
  for (const auto& p : r.cache_key_parameters)
    if (p.from == from && (from == source::header ? util::iequals(p.name, name) : p.name == name))
      return true;
  return false;
}

}  // namespace

std::vector<std::string> risky_cache_settings(const detail::stage_snapshot& stage) {
  std::vector<std::string> out;
  if (!stage.cache) return out;
  const auto& table = stage.deployment->routes;
  for (std::size_t i = 0; i < table.size() && i < stage.routes.size(); ++i) {
    const auto& r = stage.routes[i];
    const std::string& key = table.key(i);  // "GET /pets/{petId}"
    const bool gets = key.starts_with("GET ") || key.starts_with("ANY ");
    if (!r.cached || !(gets || r.cache_all_methods)) continue;
    const auto& o = table.options(i);

    const auto who = identities(o);
    bool told_apart = who.empty();
    for (const auto& id : who) told_apart = told_apart || is_key(r, id.from, id.name);
    if (!told_apart) {
      const auto& first = who.front();
      out.push_back(fmt::format(
          "stage '{}': {} is cached, but no cache key tells its callers apart ({}): one caller's "
          "cached response is served to the next, as AWS does. Make "
          "method.request.{}.{} a cache key parameter, or turn caching off for it",
          stage.name, key, o.authorizer ? "authorizer '" + o.authorizer.name() + "'" : "API key",
          first.from == source::header ? "header" : "querystring", first.name));
    }

    std::string_view path = std::string_view(key).substr(key.find(' ') + 1);
    for (auto open = path.find('{'); open != std::string_view::npos;
         open = path.find('{', open + 1)) {
      auto name = path.substr(open + 1, path.find('}', open) - open - 1);
      if (name.ends_with('+')) name.remove_suffix(1);
      if (is_key(r, source::path, name)) continue;
      out.push_back(fmt::format(
          "stage '{}': {} is cached, but its path parameter {} is not a cache key: every {} gets "
          "the response cached for the first, as AWS does. Make method.request.path.{} a cache "
          "key parameter, or turn caching off for it",
          stage.name, key, name, name, name));
    }
  }
  return out;
}

}  // namespace gatehouse::cache
