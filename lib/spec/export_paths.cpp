// The `paths` of an export, as AWS's exporter writes them [LS-AWS: pets-binary-media]: one path
// per resource with methods (by path), one operation per method (ANY as
// x-amazon-apigateway-any-method): operationId, Swagger's consumes/produces, parameters from
// method.request.*, the body (Swagger `in: body`, OpenAPI 3 `requestBody`), one response per
// method response ("<code> response"), security, the validator and the integration, lower-case
// and without AWS's defaults (Swagger writes its `type` first, OpenAPI 3 last).

#include "spec/export.hpp"

#include <algorithm>
#include <cctype>

namespace gatehouse::spec {

namespace {
using allocator = rapidjson::Document::AllocatorType;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool json_media_type(std::string_view type) {
  return type == "application/json" || type.ends_with("+json");
}

class path_writer : json_builder {
 public:
  path_writer(const rest_api_model& api, const export_settings& s, allocator& a)
      : json_builder(a), api_(api), s_(s) {}

  json paths() {
    json out(rapidjson::kObjectType);
    for (const auto& r : api_.resources) {
      if (r.methods.empty()) continue;
      json item(rapidjson::kObjectType);
      for (const auto& m : r.methods)
        add(item, m.http_method == "ANY" ? "x-amazon-apigateway-any-method" : lower(m.http_method),
            operation(m));
      add(out, r.path, std::move(item));
    }
    return out;
  }

 private:
  json ref(std::string_view model) {
    json out(rapidjson::kObjectType);
    add(out, "$ref", std::string(models_prefix(s_)) + std::string(model));
    return out;
  }
  json string_schema() {
    json out(rapidjson::kObjectType);
    add(out, "type", "string");
    return out;
  }

  static void add_unique(std::vector<std::string>& list, std::string_view v) {
    if (std::find(list.begin(), list.end(), v) == list.end()) list.emplace_back(v);
  }

  json operation(const method_model& m) {
    json op(rapidjson::kObjectType);
    if (!m.operation_name.empty()) add(op, "operationId", m.operation_name);
    if (!s_.oas3) media_types(m, op);
    json params = parameters(m);
    if (!params.Empty()) add(op, "parameters", std::move(params));
    if (s_.oas3) request_body(m, op);
    json responses(rapidjson::kObjectType);
    for (const auto& r : m.method_responses) add(responses, r.status_code, response(r));
    add(op, "responses", std::move(responses));
    json security = security_of(m);
    if (!security.Empty()) add(op, "security", std::move(security));
    if ((s_.extensions.validators || s_.extensions.api) && !m.request_validator.empty())
      add(op, "x-amazon-apigateway-request-validator", m.request_validator);
    if ((s_.extensions.integrations || s_.extensions.api) && m.integration)
      add(op, "x-amazon-apigateway-integration", integration(*m.integration));
    return op;
  }

  // Swagger: the media types of the bodies (models and templates) and of the responses.
  void media_types(const method_model& m, json& op) {
    std::vector<std::string> consumes, produces;
    for (const auto& [type, model] : m.request_models) add_unique(consumes, type);
    for (const auto& r : m.method_responses)
      for (const auto& [type, model] : r.response_models) add_unique(produces, type);
    if (m.integration) {
      for (const auto& [type, t] : m.integration->request_templates) add_unique(consumes, type);
      for (const auto& ir : m.integration->responses)
        for (const auto& [type, t] : ir.response_templates) add_unique(produces, type);
    }
    if (!consumes.empty()) add(op, "consumes", strings(consumes));
    if (!produces.empty()) add(op, "produces", strings(produces));
  }

  json parameters(const method_model& m) {
    json out(rapidjson::kArrayType);
    static constexpr std::pair<std::string_view, std::string_view> locations[] = {
        {"method.request.path.", "path"},
        {"method.request.querystring.", "query"},
        {"method.request.header.", "header"}};
    for (const auto& [key, required] : m.request_parameters) {
      for (const auto& [prefix, in] : locations) {
        if (!key.starts_with(prefix) || key.size() == prefix.size()) continue;
        json p(rapidjson::kObjectType);
        add(p, "name", std::string_view(key).substr(prefix.size()));
        add(p, "in", in);
        // OpenAPI 3 leaves `required: false` out; Swagger writes it.
        if (required || !s_.oas3) add(p, "required", json(required));
        if (s_.oas3)
          add(p, "schema", string_schema());
        else
          add(p, "type", "string");
        out.PushBack(std::move(p), a_);
      }
    }
    if (!s_.oas3) {
      if (const auto* model = first_json_model(m.request_models)) {
        json p(rapidjson::kObjectType);
        add(p, "in", "body");
        add(p, "name", *model);
        add(p, "required", json(true));
        add(p, "schema", ref(*model));
        out.PushBack(std::move(p), a_);
      }
    }
    return out;
  }

  // Swagger has one schema for every media type: the JSON one's, else the first.
  static const std::string* first_json_model(const text_map& models) {
    for (const auto& [type, model] : models)
      if (json_media_type(type)) return &model;
    return models.empty() ? nullptr : &models.front().second;
  }

  void request_body(const method_model& m, json& op) {
    if (m.request_models.empty()) return;
    json content(rapidjson::kObjectType);
    for (const auto& [type, model] : m.request_models) {
      json media(rapidjson::kObjectType);
      add(media, "schema", ref(model));
      add(content, type, std::move(media));
    }
    json body(rapidjson::kObjectType);
    add(body, "content", std::move(content));
    add(body, "required", json(true));
    add(op, "requestBody", std::move(body));
  }

  json response(const method_response_model& r) {
    json out(rapidjson::kObjectType);
    add(out, "description", r.status_code + " response");
    json headers(rapidjson::kObjectType);
    constexpr std::string_view header_prefix = "method.response.header.";
    for (const auto& [key, required] : r.response_parameters) {
      if (!key.starts_with(header_prefix)) continue;
      json h(rapidjson::kObjectType);
      if (s_.oas3)
        add(h, "schema", string_schema());
      else
        add(h, "type", "string");
      add(headers, std::string_view(key).substr(header_prefix.size()), std::move(h));
    }
    if (s_.oas3) {
      if (!headers.ObjectEmpty()) add(out, "headers", std::move(headers));
      json content(rapidjson::kObjectType);
      for (const auto& [type, model] : r.response_models) {
        json media(rapidjson::kObjectType);
        add(media, "schema", ref(model));
        add(content, type, std::move(media));
      }
      add(out, "content", std::move(content));
    } else {
      if (const auto* model = first_json_model(r.response_models)) add(out, "schema", ref(*model));
      if (!headers.ObjectEmpty()) add(out, "headers", std::move(headers));
    }
    return out;
  }

  json requirement(std::string_view scheme, const std::vector<std::string>& scopes) {
    json out(rapidjson::kObjectType);
    add(out, scheme, strings(scopes));
    return out;
  }

  json security_of(const method_model& m) {
    json out(rapidjson::kArrayType);
    if (m.authorization_type == "AWS_IAM") {
      out.PushBack(requirement(sigv4_scheme, {}), a_);
    } else if ((m.authorization_type == "CUSTOM" || m.authorization_type == "COGNITO_USER_POOLS") &&
               !m.authorizer.empty()) {
      out.PushBack(requirement(m.authorizer, m.authorization_scopes), a_);
    }
    if (m.api_key_required) out.PushBack(requirement(api_key_scheme, {}), a_);
    return out;
  }

  json integration(const integration_model& i) {
    json out(rapidjson::kObjectType);
    if (!s_.oas3) add(out, "type", lower(i.type));
    if (!i.credentials.empty()) add(out, "credentials", i.credentials);
    if (!i.http_method.empty()) add(out, "httpMethod", i.http_method);
    if (!i.uri.empty()) add(out, "uri", i.uri);
    if (!i.connection_type.empty() && i.connection_type != "INTERNET")
      add(out, "connectionType", i.connection_type);
    if (!i.connection_id.empty()) add(out, "connectionId", i.connection_id);
    if (!i.responses.empty()) {
      json responses(rapidjson::kObjectType);
      for (const auto& r : i.responses) {
        json ir(rapidjson::kObjectType);
        add(ir, "statusCode", r.status_code);
        if (!r.response_parameters.empty())
          add(ir, "responseParameters", texts(r.response_parameters));
        if (!r.response_templates.empty())
          add(ir, "responseTemplates", texts(r.response_templates));
        if (!r.content_handling.empty()) add(ir, "contentHandling", r.content_handling);
        add(responses, r.selection_pattern.empty() ? "default" : r.selection_pattern,
            std::move(ir));
      }
      add(out, "responses", std::move(responses));
    }
    if (!i.request_parameters.empty()) add(out, "requestParameters", texts(i.request_parameters));
    if (!i.request_templates.empty()) add(out, "requestTemplates", texts(i.request_templates));
    if (!i.passthrough_behavior.empty())
      add(out, "passthroughBehavior", lower(i.passthrough_behavior));
    if (!i.content_handling.empty()) add(out, "contentHandling", i.content_handling);
    if (i.timeout_ms != 29'000) add(out, "timeoutInMillis", json(i.timeout_ms));
    if (!i.cache_namespace.empty()) add(out, "cacheNamespace", i.cache_namespace);
    if (!i.cache_key_parameters.empty())
      add(out, "cacheKeyParameters", strings(i.cache_key_parameters));
    if (i.insecure_skip_verification) {
      json tls(rapidjson::kObjectType);
      add(tls, "insecureSkipVerification", json(*i.insecure_skip_verification));
      add(out, "tlsConfig", std::move(tls));
    }
    if (s_.oas3) add(out, "type", lower(i.type));
    return out;
  }

  const rest_api_model& api_;
  const export_settings& s_;
};
}  // namespace

json export_paths(const rest_api_model& api, const export_settings& s, allocator& a) {
  return path_writer(api, s, a).paths();
}

}  // namespace gatehouse::spec
