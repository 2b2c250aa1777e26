#include "auth/identity_sources.hpp"

#include "routing/route_table.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <utility>

namespace gatehouse::auth {

namespace {
using kind = identity_source::kind;

// The context values an identity source may name.
constexpr std::array<std::string_view, 10> context_names = {"httpMethod",
                                                            "path",
                                                            "resourcePath",
                                                            "stage",
                                                            "apiId",
                                                            "accountId",
                                                            "domainName",
                                                            "identity.sourceIp",
                                                            "identity.userAgent",
                                                            "identity.vpceId"};

bool take(std::string_view& text, std::string_view prefix) {
  if (!text.starts_with(prefix)) return false;
  text.remove_prefix(prefix.size());
  return true;
}

std::string_view header_or_empty(const gatehouse::detail::exchange& ex, std::string_view name) {
  auto v = ex.req.headers.get(name);
  return v ? *v : std::string_view{};
}

std::string_view context_value_of(const gatehouse::detail::exchange& ex, std::string_view name) {
  if (name == "httpMethod") return ex.req.method;
  if (name == "path") return ex.path;
  if (name == "resourcePath") return ex.match.resource;
  if (name == "stage") return ex.stage->name;
  if (name == "apiId") return ex.stage->deployment->api.id;
  if (name == "accountId") return ex.gateway.account_id;
  if (name == "domainName") return header_or_empty(ex, "Host");
  if (name == "identity.sourceIp") return ex.req.source_ip;
  if (name == "identity.userAgent") return header_or_empty(ex, "User-Agent");
  if (name == "identity.vpceId") return ex.req.private_endpoint;
  return {};
}
}  // namespace

identity_source parse_identity_source(std::string_view text, std::string_view authorizer) {
  identity_source s;
  s.text = std::string(text);
  std::string_view rest = text;
  bool http_style = take(rest, "$");
  if (http_style ? take(rest, "request.header.") : take(rest, "method.request.header."))
    s.from = kind::header;
  else if (http_style ? take(rest, "request.querystring.")
                      : take(rest, "method.request.querystring."))
    s.from = kind::query;
  else if (take(rest, "stageVariables."))
    s.from = kind::stage_variable;
  else if (take(rest, "context."))
    s.from = kind::context;
  else
    throw config_error(fmt::format(
        "authorizer '{}': identity source '{}' is not method.request.header.NAME, "
        "method.request.querystring.NAME, stageVariables.NAME or context.NAME (or the $request."
        "… forms of HTTP APIs)",
        authorizer, text));
  bool valid = !rest.empty();
  for (char c : rest)
    valid = valid && static_cast<unsigned char>(c) > ' ' && c != 0x7f && c != ':' && c != ',';
  if (!valid)
    throw config_error(
        fmt::format("authorizer '{}': identity source '{}' has no valid name", authorizer, text));
  if (s.from == kind::context) {
    bool known = false;
    for (auto n : context_names) known = known || n == rest;
    if (!known)
      throw config_error(fmt::format(
          "authorizer '{}': identity source '{}' names a context value gatehouse does not have "
          "(it has {})",
          authorizer, text, fmt::join(context_names, ", ")));
  }
  s.name = std::string(rest);
  return s;
}

std::optional<std::string_view> identity_value(const identity_source& source,
                                               const gatehouse::detail::exchange& ex,
                                               std::string& scratch) {
  std::string_view v;
  switch (source.from) {
    case kind::header:
      v = header_or_empty(ex, source.name);
      break;
    case kind::query: {
      bool found = false;
      for (auto& [k, value] : routing::parse_query(ex.query))
        if (k == source.name) {
          scratch = std::move(value);
          found = true;
        }
      if (found) v = scratch;
      break;
    }
    case kind::stage_variable:
      if (auto it = ex.stage->variables.find(source.name); it != ex.stage->variables.end())
        v = it->second;
      break;
    case kind::context:
      v = context_value_of(ex, source.name);
      break;
  }
  if (v.empty()) return std::nullopt;
  return v;
}

std::string rest_form(const identity_source& source) {
  switch (source.from) {
    case identity_source::kind::header:
      return "method.request.header." + source.name;
    case identity_source::kind::query:
      return "method.request.querystring." + source.name;
    case identity_source::kind::stage_variable:
      return "stageVariables." + source.name;
    case identity_source::kind::context:
      return "context." + source.name;
  }
  return source.text;
}

}  // namespace gatehouse::auth
