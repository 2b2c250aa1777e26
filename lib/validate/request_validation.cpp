#include "validate/request_validation.hpp"
#include "util/text.hpp"

#include "routing/deployment.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <cctype>

namespace gatehouse::validate {

using gatehouse::detail::gateway_error;

namespace {
// Whether the query string has `name` with a non-blank value (names compared decoded).
bool query_has(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = part.find('=');
    auto key = part.substr(0, eq);
    auto value = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
    const bool same = key.find_first_of("%+") == std::string_view::npos
                          ? key == name
                          : util::percent_decode(key, true) == name;
    if (same && !value.empty()) return true;
  }
  return false;
}

// The model for the request's media type: its own, else "$default"; AWS takes a request
// without Content-Type as application/json.
const model* model_for(const method_rules& rules, const request& req) {
  std::string_view type = req.headers.get("Content-Type").value_or("application/json");
  type = util::media_type(type);
  const model* fallback = nullptr;
  for (const auto& [media, m] : rules.models) {
    if (media == "$default") {
      fallback = m.get();
    } else if (media.size() == type.size() && iequals(media, type)) {
      return m.get();
    }
  }
  return fallback;
}
}  // namespace

std::shared_ptr<const method_rules> compile(std::string_view route_key,
                                            const method_options& options,
                                            const model_lookup& models) {
  auto fail = [&](const std::string& what) {
    throw config_error(fmt::format("route {}: {}", route_key, what));
  };
  auto rules = std::make_shared<method_rules>();
  const auto v = options.validation;
  rules->check_parameters =
      v == request_validation::parameters || v == request_validation::body_and_parameters;
  rules->check_body = v == request_validation::body || v == request_validation::body_and_parameters;

  for (const auto& [name, required] : options.request_parameters) {
    constexpr std::string_view prefix = "method.request.";
    if (!name.starts_with(prefix))
      fail(fmt::format("request parameter '{}' does not start with method.request.", name));
    std::string_view rest = std::string_view(name).substr(prefix.size());
    auto dot = rest.find('.');
    auto kind = rest.substr(0, dot);
    auto bare = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
    method_rules::where in;
    if (kind == "path") {
      in = method_rules::where::path;
    } else if (kind == "querystring" || kind == "multivaluequerystring") {
      in = method_rules::where::querystring;
    } else if (kind == "header" || kind == "multivalueheader") {
      in = method_rules::where::header;
    } else {
      fail(
          fmt::format("request parameter '{}': '{}' is not path, querystring, "
                      "multivaluequerystring, header or multivalueheader",
                      name, kind));
    }
    if (bare.empty()) fail(fmt::format("request parameter '{}' has no name", name));
    if (required) rules->required.push_back({in, std::string(bare)});
  }
  for (const auto& [media, model_name] : options.request_models) {
    if (media.empty()) fail("a request model has an empty media type");
    auto m = models ? models(model_name) : nullptr;
    if (!m)
      fail(fmt::format("request model '{}' (for {}) is not a model of the API", model_name, media));
    rules->models.emplace_back(media == "$default" ? media : util::ascii_lower(media),
                               std::move(m));
  }
  const bool body = rules->check_body && !rules->models.empty();
  const bool params = rules->check_parameters && !rules->required.empty();
  if (!body && !params) return nullptr;
  rules->check_body = body;
  rules->check_parameters = params;
  return rules;
}

std::optional<gateway_error> check_request(const gatehouse::detail::exchange& ex) {
  const auto& table = ex.stage->deployment->validation;
  if (ex.match.index >= table.size() || !table[ex.match.index]) return std::nullopt;
  const auto& rules = *table[ex.match.index];
  if (rules.check_parameters) {
    std::string missing;
    for (const auto& p : rules.required) {
      bool present = false;
      switch (p.in) {
        case method_rules::where::path: {
          auto v = ex.path_param(p.name);
          present = v && !v->empty();
          break;
        }
        case method_rules::where::querystring:
          present = query_has(ex.query, p.name);
          break;
        case method_rules::where::header: {
          auto v = ex.req.headers.get(p.name);
          present = v && !util::trim_blanks(*v).empty();
          break;
        }
      }
      if (present) continue;
      if (!missing.empty()) missing.append(", ");
      missing.append(p.name);
    }
    if (!missing.empty())
      return gateway_error{response_type::bad_request_parameters, 0,
                           fmt::format("Missing required request parameters: [{}]", missing)};
  }
  if (rules.check_body) {
    if (const model* m = model_for(rules, ex.req)) {
      std::string errors;
      if (!m->check(ex.req.body, &errors)) {
        gateway_error e{response_type::bad_request_body};
        e.validation_errors = std::move(errors);
        return e;
      }
    }
  }
  return std::nullopt;
}

}  // namespace gatehouse::validate
