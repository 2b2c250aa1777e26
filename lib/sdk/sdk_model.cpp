// The client's view of an API: operations named as AWS's JavaScript SDK names them, with their
// modelled parameters, bodies and authorization, from the REST or HTTP API model.

#include "sdk/sdk_model.hpp"

#include "spec/export.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>

namespace gatehouse::sdk {

namespace {

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// The verbs an ANY method stands for, in the order a client lists them.
constexpr std::array<std::string_view, 7> any_verbs{"DELETE", "GET",  "HEAD", "OPTIONS",
                                                    "PATCH",  "POST", "PUT"};

// The {name} and {name+} of a path, in order.
std::vector<parameter> path_parameters(std::string_view path, std::string& greedy) {
  std::vector<parameter> out;
  for (std::size_t i = path.find('{'); i != std::string_view::npos; i = path.find('{', i + 1)) {
    auto end = path.find('}', i);
    if (end == std::string_view::npos) break;
    std::string_view name = path.substr(i + 1, end - i - 1);
    if (name.ends_with('+')) {
      name.remove_suffix(1);
      greedy = name;
    }
    out.push_back({std::string(name), true});
  }
  return out;
}

// Gives each operation a name of its own: the second "aBGet" (from /a-b and /a_b) is "aBGet2".
void make_names_unique(std::vector<operation>& ops) {
  std::set<std::string, std::less<>> taken;
  for (auto& op : ops) {
    std::string name = camel_case(op.words);
    if (!taken.insert(name).second) {
      for (int n = 2;; ++n) {
        std::string candidate = fmt::format("{}{}", name, n);
        if (taken.insert(candidate).second) {
          name = std::move(candidate);
          op.words.push_back(std::to_string(n));
          break;
        }
      }
    }
    op.name = std::move(name);
  }
}

std::string default_invoke_url(std::string_view id, std::string_view region,
                               std::string_view stage) {
  // HTTP APIs' $default stage is served at the root.
  if (stage == "$default")
    return fmt::format("https://{}.execute-api.{}.amazonaws.com", id, region);
  return fmt::format("https://{}.execute-api.{}.amazonaws.com/{}", id, region, stage);
}

api make_api(std::string_view id, std::string_view title, std::string_view description,
             std::string_view version, std::string_view stage, const sdk_options& options) {
  api a;
  a.id = id;
  a.title = title;
  a.description = description;
  a.version = version;
  a.stage = stage;
  a.region = options.region;
  a.invoke_url =
      options.invoke_url.empty() ? default_invoke_url(id, a.region, stage) : options.invoke_url;
  while (a.invoke_url.ends_with('/')) a.invoke_url.pop_back();
  return a;
}

// The application/json model of a media type map ("" when none).
std::string json_model(const spec::text_map& models) {
  for (const auto& [type, name] : models)
    if (type == "application/json" || type.ends_with("+json")) return name;
  return {};
}

void add_rest_parameters(const spec::method_model& m, operation& op) {
  for (const auto& [key, required] : m.request_parameters) {
    std::string_view k = key;
    constexpr std::string_view prefix = "method.request.";
    if (!k.starts_with(prefix)) continue;
    k.remove_prefix(prefix.size());
    auto dot = k.find('.');
    if (dot == std::string_view::npos) continue;
    std::string_view where = k.substr(0, dot), name = k.substr(dot + 1);
    if (where == "querystring")
      op.query_parameters.push_back({std::string(name), required});
    else if (where == "header")
      op.header_parameters.push_back({std::string(name), required});
    // Path parameters come from the path itself: every one is required.
  }
}

}  // namespace

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (util::is_ascii_alnum(c)) {
      word += c;
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

std::vector<std::string> method_words(std::string_view path, std::string_view verb) {
  std::vector<std::string> words = words_of(path);
  if (words.empty()) words.emplace_back("root");
  std::string v(verb);
  for (auto& c : v) c = util::ascii_lower(c);
  words.push_back(std::move(v));
  return words;
}

std::string camel_case(const std::vector<std::string>& words) {
  std::string out = pascal_case(words);
  if (!out.empty()) out[0] = util::ascii_lower(out[0]);
  return out;
}

std::string pascal_case(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (w.empty()) continue;
    out += util::ascii_upper(w[0]);
    out.append(w, 1);
  }
  return out;
}

std::string snake_case(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    for (std::size_t i = 0; i < w.size(); ++i) {
      const bool boundary = i > 0 && is_upper(w[i]) && is_lower_or_digit(w[i - 1]);
      if ((i == 0 || boundary) && !out.empty()) out += '_';
      out += util::ascii_lower(w[i]);
    }
  }
  if (!out.empty() && out[0] >= '0' && out[0] <= '9') out.insert(out.begin(), '_');
  return out;
}

api from_rest(const spec::rest_api_model& m, std::string_view stage, const sdk_options& options) {
  api a = make_api(m.id, m.name, m.description, m.version, stage, options);
  for (const auto& r : m.resources) {
    auto add = [&](const spec::method_model& method, std::string_view verb) {
      operation op;
      op.words = method_words(r.path, verb);
      op.http_method = verb;
      op.path = r.path;
      op.operation_name = method.operation_name;
      op.path_parameters = path_parameters(r.path, op.greedy_parameter);
      add_rest_parameters(method, op);
      op.body_model = json_model(method.request_models);
      for (const auto& response : method.method_responses) {
        if (!response.status_code.starts_with('2')) continue;
        op.response_model = json_model(response.response_models);
        break;
      }
      op.api_key_required = method.api_key_required;
      op.authorization = method.authorization_type;
      a.operations.push_back(std::move(op));
    };
    // The resource's operations by verb, ANY standing for the verbs it has no method of.
    std::map<std::string_view, const spec::method_model*> by_verb;
    const spec::method_model* any = nullptr;
    for (const auto& method : r.methods) {
      if (method.http_method == "ANY")
        any = &method;
      else
        by_verb[method.http_method] = &method;
    }
    if (any)
      for (auto verb : any_verbs) by_verb.try_emplace(verb, any);
    for (const auto& [verb, method] : by_verb) add(*method, verb);
  }
  make_names_unique(a.operations);

  for (const auto& model : m.models) {
    if (model.content_type != "application/json" && !model.content_type.ends_with("+json"))
      continue;
    rapidjson::Document schema;
    schema.Parse(model.schema.data(), model.schema.size());
    if (schema.HasParseError() || !schema.IsObject()) continue;
    spec::rewrite_model_refs(schema, "#/definitions/", schema.GetAllocator());
    a.models.push_back({model.name, spec::print_json(schema)});
  }
  return a;
}

api from_http(const spec::http_api_model& m, std::string_view stage, const sdk_options& options) {
  api a = make_api(m.id, m.name, m.description, m.version, stage, options);
  // Routes by path, then verb, as REST resources are; ANY covers the verbs without a route.
  std::map<std::string_view, std::map<std::string_view, const spec::http_route_model*>> paths;
  std::map<std::string_view, const spec::http_route_model*> any;
  for (const auto& route : m.routes) {
    if (route.route_key == "$default") continue;  // no path: the clients' generic call
    if (route.method == "ANY")
      any[route.path] = &route;
    else
      paths[route.path][route.method] = &route;
  }
  for (const auto& [path, route] : any)
    for (auto verb : any_verbs) paths[path].try_emplace(verb, route);
  for (const auto& [path, verbs] : paths) {
    for (const auto& [verb, route] : verbs) {
      operation op;
      op.words = method_words(path, verb);
      op.http_method = verb;
      op.path = path;
      op.operation_name = route->operation_name;
      op.path_parameters = path_parameters(path, op.greedy_parameter);
      op.authorization = route->authorization_type;
      a.operations.push_back(std::move(op));
    }
  }
  make_names_unique(a.operations);
  return a;
}

}  // namespace gatehouse::sdk
