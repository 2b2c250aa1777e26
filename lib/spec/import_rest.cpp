// A REST API document → the API model: the document's base path, its resources (paths and the
// resources above them), each operation's method (parameters, bodies, responses, validator,
// security, integration), and the root extensions. What AWS accepts is accepted here, and what
// AWS refuses is refused in AWS's words. Recorded from AWS ([LS-AWS]): "Invalid OpenAPI input.",
// the requestParameters warning, the OAS 3.1 refusal (itself UNCONFIRMED). AWS's CreateResource,
// PutMethod and PutIntegration messages ("A sibling (…)", "Resource's path part only allow …",
// "Method already exists for this resource", "Timeout should be between 50 ms and 29000 ms")
// and the 2016 importer's model warnings are as AWS users report them: UNCONFIRMED. The rest
// follow their style.

#include "spec/import.hpp"
#include "util/text.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/gateway_response.hpp>

#include <fmt/format.h>

#include <rapidjson/pointer.h>

#include <algorithm>
#include <array>

namespace gatehouse::spec {

void reader::spend(std::size_t units) {
  if (units > budget_left)
    throw config_error(
        "Invalid OpenAPI input. (its references expand to more work than a document of its size "
        "may ask for)");
  budget_left -= units;
}

const json* reader::resolve(const json* v) const { return resolve_ref(root, v); }

const json* resolve_ref(const json& root, const json* v) {
  for (int hops = 0; v; ++hops) {
    const json* ref = member(v, "$ref");
    if (!ref || !ref->IsString()) return v;
    if (hops == 32) return nullptr;  // a loop of $refs
    const auto text = view(*ref);
    if (text.empty() || text.front() != '#') return nullptr;  // another document
    rapidjson::Pointer pointer(text.data(), text.size());
    if (!pointer.IsValid()) return nullptr;
    v = pointer.Get(root);
  }
  return nullptr;
}

std::string pattern_problem(std::string_view pattern) {
  if (pattern.size() > max_pattern_length)
    return fmt::format("longer than {} characters (gatehouse's limit)", max_pattern_length);
  return {};
}

void method_error(std::string_view method, std::string_view path, std::string_view why) {
  throw config_error(
      fmt::format("Unable to put method '{}' on resource at path '{}': {}", method, path, why));
}

void integration_error(std::string_view method, std::string_view path, std::string_view why) {
  throw config_error(fmt::format("Unable to put integration on '{}' for resource at path '{}': {}",
                                 method, path, why));
}

namespace {

// "/a/b/" → "/a/b"; "a" → "/a"; "/" and "" → "".
std::string normalize_base_path(std::string_view p) {
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  return p.empty() ? std::string() : "/" + std::string(p);
}

// The path of a server URL ("https://{host}/v1/" → "/v1"), its variables at their defaults.
std::string server_url_path(const json& server) {
  auto url = string_member(&server, "url").value_or("");
  if (auto scheme = url.find("://"); scheme != std::string_view::npos) {
    auto slash = url.find('/', scheme + 3);
    url = slash == std::string_view::npos ? std::string_view{} : url.substr(slash);
  } else if (!url.starts_with("/")) {
    return {};
  }
  url = url.substr(0, url.find_first_of("?#"));
  std::string out;
  const json* variables = object_member(&server, "variables");
  for (std::size_t i = 0; i < url.size(); ++i) {
    auto close = url[i] == '{' ? url.find('}', i) : std::string_view::npos;
    if (close == std::string_view::npos) {
      out.push_back(url[i]);
      continue;
    }
    auto name = url.substr(i + 1, close - i - 1);
    out += scalar_member(object_member(variables, name), "default").value_or("");
    i = close;
  }
  return out;
}

}  // namespace

std::string document_base_path(const json& root, bool oas3) {
  if (!oas3) return normalize_base_path(string_member(&root, "basePath").value_or(""));
  const json* servers = array_member(&root, "servers");
  if (!servers || servers->Empty()) return {};
  for (const auto& s : servers->GetArray()) {
    const json* base = object_member(object_member(&s, "variables"), "basePath");
    if (base) return normalize_base_path(scalar_member(base, "default").value_or(""));
  }
  return normalize_base_path(server_url_path((*servers)[0]));
}

namespace {

void read_root_extensions(reader& r) {
  auto& api = r.api;
  rapidjson::Document kept(rapidjson::kObjectType);
  for (const auto& m : r.root.GetObject()) {
    if (!m.name.IsString() || !aws_extension(view(m.name))) continue;
    kept.AddMember(rapidjson::Value(m.name, kept.GetAllocator()),
                   rapidjson::Value(m.value, kept.GetAllocator()), kept.GetAllocator());
  }
  api.extensions = json_text(kept);
  api.binary_media_types = string_list(member(r.root, "x-amazon-apigateway-binary-media-types"));
  if (const json* size = member(r.root, "x-amazon-apigateway-minimum-compression-size"))
    api.minimum_compression_size = integer_of(*size);
  if (auto source = scalar_member(&r.root, "x-amazon-apigateway-api-key-source")) {
    if (util::iequals(*source, "HEADER") || util::iequals(*source, "AUTHORIZER")) {
      api.api_key_source = util::iequals(*source, "HEADER") ? "HEADER" : "AUTHORIZER";
    } else {
      r.warn(fmt::format("Invalid API key source '{}': it is HEADER or AUTHORIZER", *source));
    }
  }
  if (const json* endpoint = object_member(&r.root, "x-amazon-apigateway-endpoint-configuration")) {
    api.vpc_endpoint_ids = string_list(member(endpoint, "vpcEndpointIds"));
    auto types = string_list(member(endpoint, "types"));
    for (auto& t : types) std::transform(t.begin(), t.end(), t.begin(), ::toupper);
    if (types.empty() && !api.vpc_endpoint_ids.empty()) types = {"PRIVATE"};
    if (!types.empty()) api.endpoint_types = std::move(types);
  }
  if (const json* policy = member(r.root, "x-amazon-apigateway-policy")) {
    if (policy->IsString())
      api.policy = std::string(view(*policy));
    else if (policy->IsObject())
      api.policy = json_text(*policy);
  }
}

void read_validators(reader& r) {
  const json* validators = object_member(&r.root, "x-amazon-apigateway-request-validators");
  if (!validators) return;
  for (const auto& v : validators->GetObject()) {
    r.spend(1);
    r.api.validators.push_back({std::string(view(v.name)),
                                truthy(member(&v.value, "validateRequestBody")),
                                truthy(member(&v.value, "validateRequestParameters"))});
  }
}

void read_gateway_responses(reader& r) {
  const json* responses = object_member(&r.root, "x-amazon-apigateway-gateway-responses");
  if (!responses) return;
  auto text_map_of = [&](const json* v) {
    text_map out;
    if (v && v->IsObject())
      for (const auto& m : v->GetObject())
        if (m.value.IsString()) out.emplace_back(view(m.name), view(m.value));
    return out;
  };
  for (const auto& g : responses->GetObject()) {
    r.spend(1);
    if (!g.value.IsObject()) continue;
    gateway_response_model m;
    m.type = view(g.name);
    auto type = response_type_from_string(m.type);
    if (!type) {
      r.warn(fmt::format("Invalid gateway response type '{}'", m.type));
      continue;
    }
    if (*type == response_type::request_too_large) {
      r.note("gateway response REQUEST_TOO_LARGE cannot be customised (as in AWS)");
      continue;
    }
    m.status_code = scalar_member(&g.value, "statusCode").value_or("");
    m.response_parameters = text_map_of(member(&g.value, "responseParameters"));
    m.response_templates = text_map_of(member(&g.value, "responseTemplates"));
    for (const auto& [target, source] : m.response_parameters)
      if (!(source.size() >= 2 && source.front() == '\'' && source.back() == '\'') &&
          !source.starts_with("context.") && !source.starts_with("stageVariables."))
        r.note(fmt::format("gateway response {}: {} = {} is not mapped", m.type, target, source));
    r.api.gateway_responses.push_back(std::move(m));
  }
}

bool literal_char(char c) noexcept {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
         c == ':';
}

// Checks one path part as AWS's CreateResource does.
bool valid_path_part(std::string_view part) {
  if (part.empty()) return false;
  if (part.front() != '{') return std::all_of(part.begin(), part.end(), literal_char);
  if (part.size() < 3 || part.back() != '}') return false;
  auto name = part.substr(1, part.size() - 2);
  if (name.back() == '+') name.remove_suffix(1);
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

class path_reader {
 public:
  explicit path_reader(reader& r) : r_(r) {}

  // The resource at `path` and those above it (AWS creates them, without methods).
  resource_model& resource(const std::string& path) {
    if (auto it = by_path_.find(path); it != by_path_.end()) return r_.api.resources[it->second];
    std::string parent = "/";
    if (path != "/") {
      auto slash = path.rfind('/');
      parent = slash == 0 ? "/" : path.substr(0, slash);
      resource(parent);
      if (parent.ends_with("+}"))
        throw config_error(fmt::format(
            "Unable to create resource at path '{}': a greedy path part ({}) must be the last",
            path, parent.substr(parent.rfind('/') + 1)));
      const std::string part = path.substr(slash + 1);
      if (!valid_path_part(part))
        throw config_error(fmt::format(
            "Unable to create resource at path '{}': Resource's path part only allow "
            "a-zA-Z0-9._-: and curly braces at the beginning and the end and an optional plus "
            "sign before the closing brace.",
            path));
      if (part.front() == '{') {
        auto [it, fresh] = variable_child_.emplace(parent, part);
        if (!fresh && it->second != part)
          throw config_error(
              fmt::format("Unable to create resource at path '{}': A sibling ({}) of this "
                          "resource already has a variable path part -- only one is allowed",
                          path, it->second));
      }
    }
    r_.spend(1);
    by_path_.emplace(path, r_.api.resources.size());
    resource_model m;
    m.path = path;
    m.path_part = path == "/" ? "" : path.substr(path.rfind('/') + 1);
    r_.api.resources.push_back(std::move(m));
    return r_.api.resources.back();
  }

  void read(std::string_view doc_path, const json& item_in, const std::string& prefix) {
    const json* item = r_.resolve(&item_in);
    if (!item || !item->IsObject()) return;
    std::string full = prefix + std::string(doc_path);
    // Empty parts ("//") and a trailing '/' do not make resources.
    std::string path;
    for (std::size_t i = 0; i < full.size(); ++i)
      if (full[i] != '/' || path.empty() || path.back() != '/') path.push_back(full[i]);
    if (path.size() > 1 && path.back() == '/') path.pop_back();
    if (path.empty()) path = "/";
    resource(path);  // checks the parts from the root down, in AWS's words
    const json* shared_parameters = array_member(item, "parameters");
    for (const auto& op : item->GetObject()) {
      const auto key = view(op.name);
      std::string_view method;
      for (const auto& [k, m] : operation_keys)
        if (util::iequals(key, k)) method = m;
      if (method.empty()) continue;  // summary, description, servers, parameters, x-…
      const json* operation = r_.resolve(&op.value);
      if (!operation || !operation->IsObject()) continue;
      read_operation(path, std::string(method), *operation, shared_parameters);
    }
  }

 private:
  void read_operation(const std::string& path, std::string method, const json& op,
                      const json* shared_parameters) {
    r_.spend(1);
    method_model m;
    m.http_method = method;
    m.operation_name = scalar_member(&op, "operationId").value_or("");
    apply_security(r_, op, m);
    read_parameters(path, op, shared_parameters, m);
    if (r_.oas3) read_request_body(path, op, m);
    // A {name} in the path that no parameter declares is still a required parameter.
    for (std::size_t open = path.find('{'); open != std::string::npos;
         open = path.find('{', open + 1)) {
      auto close = path.find('}', open);
      std::string name = path.substr(open + 1, close - open - 1);
      if (name.empty() || name.back() == '+') continue;
      std::string key = "method.request.path." + name;
      if (!find_in(m.request_parameters, key)) m.request_parameters.emplace_back(key, true);
    }
    std::string validator;
    if (auto v = scalar_member(&op, "x-amazon-apigateway-request-validator"))
      validator = *v;
    else if (auto d = scalar_member(&r_.root, "x-amazon-apigateway-request-validator"))
      validator = *d;
    if (!validator.empty()) {
      bool known = std::any_of(r_.api.validators.begin(), r_.api.validators.end(),
                               [&](const validator_model& v) { return v.name == validator; });
      if (known)
        m.request_validator = validator;
      else
        r_.warn(
            fmt::format("Invalid request validator '{}' for resource '{}' and method '{}': "
                        "no such validator is defined",
                        validator, path, method));
    }
    read_responses(path, op, m);
    if (const json* ext = member(op, "x-amazon-apigateway-integration")) {
      if (!ext->IsObject()) integration_error(method, path, "Invalid integration specified");
      m.integration = read_integration(r_, *ext, path, method);
    }
    resource_model& res = resource(path);
    for (const auto& existing : res.methods)
      if (existing.http_method == m.http_method)
        method_error(method, path, "Method already exists for this resource");
    res.methods.push_back(std::move(m));
  }

  // Media types of a Swagger operation's bodies (consumes) or responses (produces).
  std::vector<std::string> media_types(const json& op, std::string_view field) const {
    auto types = string_list(member(op, field));
    if (types.empty()) types = string_list(member(r_.root, field));
    if (types.empty()) types.emplace_back("application/json");
    return types;
  }

  void read_parameters(const std::string& path, const json& op, const json* shared,
                       method_model& m) {
    std::vector<const json*> params;
    auto add = [&](const json* list, bool override_shared) {
      if (!list) return;
      for (const auto& p : list->GetArray()) {
        r_.spend(1);
        const json* param = r_.resolve(&p);
        if (!param || !param->IsObject()) continue;
        if (override_shared) {
          // An operation's parameter replaces the path's of the same name and location.
          auto same = [&](const json* q) {
            return scalar_member(q, "name") == scalar_member(param, "name") &&
                   scalar_member(q, "in") == scalar_member(param, "in");
          };
          params.erase(std::remove_if(params.begin(), params.end(), same), params.end());
        }
        params.push_back(param);
      }
    };
    add(shared, false);
    add(array_member(&op, "parameters"), true);
    for (const json* p : params) {
      auto in = scalar_member(p, "in");
      auto name = scalar_member(p, "name");
      if (!in || !name || name->empty()) {
        r_.warn(
            fmt::format("Ignoring a parameter of resource '{}' and method '{}' without a "
                        "name or location",
                        path, m.http_method));
        continue;
      }
      std::string location;
      if (*in == "query")
        location = "querystring";
      else if (*in == "header" || *in == "path")
        location = *in;
      if (!location.empty()) {
        std::string key = fmt::format("method.request.{}.{}", location, *name);
        if (auto* existing = find_in(m.request_parameters, key))
          *existing = truthy(member(p, "required"));
        else
          m.request_parameters.emplace_back(std::move(key), truthy(member(p, "required")));
      } else if (*in == "body" && !r_.oas3) {
        const json* schema = member(p, "schema");
        if (!schema) continue;
        auto model = model_for_schema(r_, *schema, path);
        if (model.empty()) continue;
        for (auto& type : media_types(op, "consumes")) m.request_models.emplace_back(type, model);
      }
      // formData and cookie parameters have no place in AWS's method requests.
    }
  }

  void read_request_body(const std::string& path, const json& op, method_model& m) {
    const json* body = r_.resolve(member(op, "requestBody"));
    const json* content = object_member(body, "content");
    if (!content) return;
    for (const auto& c : content->GetObject()) {
      r_.spend(1);
      const json* schema = member(&c.value, "schema");
      if (!schema) continue;
      auto model = model_for_schema(r_, *schema, path);
      if (!model.empty()) m.request_models.emplace_back(view(c.name), std::move(model));
    }
  }

  void read_responses(const std::string& path, const json& op, method_model& m) {
    const json* responses = object_member(&op, "responses");
    if (!responses) return;
    for (const auto& entry : responses->GetObject()) {
      r_.spend(1);
      auto code = view(entry.name);
      // AWS keeps responses by status code: "default" and ranges ("2XX") have none.
      if (code.size() != 3 || !std::all_of(code.begin(), code.end(), ::isdigit)) continue;
      const json* response = r_.resolve(&entry.value);
      if (!response || !response->IsObject()) continue;
      method_response_model mr;
      mr.status_code = code;
      if (const json* headers = object_member(response, "headers")) {
        r_.spend(headers->MemberCount());
        for (const auto& h : headers->GetObject())
          mr.response_parameters.emplace_back(
              fmt::format("method.response.header.{}", view(h.name)), false);
      }
      if (!r_.oas3) {
        if (const json* schema = member(response, "schema")) {
          auto model = model_for_schema(r_, *schema, path);
          if (!model.empty())
            for (auto& type : media_types(op, "produces"))
              mr.response_models.emplace_back(type, model);
        }
      } else if (const json* content = object_member(response, "content")) {
        r_.spend(content->MemberCount());
        for (const auto& c : content->GetObject()) {
          const json* schema = member(&c.value, "schema");
          if (!schema) continue;
          auto model = model_for_schema(r_, *schema, path);
          if (!model.empty()) mr.response_models.emplace_back(view(c.name), std::move(model));
        }
      }
      m.method_responses.push_back(std::move(mr));
    }
  }

  reader& r_;
  std::map<std::string, std::size_t, std::less<>> by_path_;
  std::map<std::string, std::string, std::less<>> variable_child_;  // parent → {part}
};

}  // namespace

void read_rest_api(reader& r, base_path_mode mode) {
  auto& api = r.api;
  const json* info = object_member(&r.root, "info");
  api.name = scalar_member(info, "title").value_or("");
  api.version = scalar_member(info, "version").value_or("");
  api.description = scalar_member(info, "description").value_or("");
  api.base_path = document_base_path(r.root, r.oas3);
  read_root_extensions(r);
  read_validators(r);
  read_models(r);
  read_security_schemes(r);
  read_gateway_responses(r);

  std::string prefix;
  if (mode == base_path_mode::prepend) {
    prefix = api.base_path;
  } else if (mode == base_path_mode::split && !api.base_path.empty()) {
    auto second = api.base_path.find('/', 1);
    prefix = second == std::string::npos ? "" : api.base_path.substr(second);
  }
  path_reader paths(r);
  paths.resource("/");
  if (const json* p = object_member(&r.root, "paths")) {
    for (const auto& entry : p->GetObject()) {
      const auto doc_path = view(entry.name);
      if (!doc_path.starts_with("/")) continue;  // x-… extensions of the Paths object
      paths.read(doc_path, entry.value, prefix);
    }
  }
  std::sort(api.resources.begin(), api.resources.end(),
            [](const resource_model& a, const resource_model& b) { return a.path < b.path; });
}

const resource_model* find_resource(const rest_api_model& api, std::string_view path) {
  for (const auto& r : api.resources)
    if (r.path == path) return &r;
  return nullptr;
}

const method_model* find_method(const resource_model& r, std::string_view http_method) {
  for (const auto& m : r.methods)
    if (m.http_method == http_method) return &m;
  return nullptr;
}

}  // namespace gatehouse::spec
