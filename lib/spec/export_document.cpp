// The document around the paths, in AWS's layout [LS-AWS: pets-binary-media]:
//   Swagger: swagger "2.0", info {description, version, title}, host
//            "<id>.execute-api.<region>.amazonaws.com", basePath "/<stage>", schemes [https],
//            paths, securityDefinitions, definitions;
//   OAS 3.0: openapi "3.0.1", info {title, description, version}, servers [{url
//            ".../{basePath}", variables {basePath {default <stage>}}}], paths, components
//            {schemas, securitySchemes} ("{}" when it has neither).
// Models are written with their $refs back in the document's form (#/definitions/X or
// #/components/schemas/X). The root extensions come last, and only with "apigateway".

#include "spec/export.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

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

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

void rewrite_model_refs(json& v, std::string_view prefix, rapidjson::Document::AllocatorType& a) {
  if (v.IsObject()) {
    for (auto& m : mutable_members(v)) {
      if (view(m.name) == "$ref" && m.value.IsString()) {
        std::string_view ref = view(m.value);
        constexpr std::string_view base = "https://apigateway.amazonaws.com/restapis/";
        auto models = ref.find("/models/");
        if (ref.starts_with(base) && models != std::string_view::npos) {
          auto rest = ref.substr(models + 8);
          auto hash = rest.find('#');
          std::string out(prefix);
          out += rest.substr(0, hash);
          if (hash != std::string_view::npos) out += rest.substr(hash + 1);
          m.value = util::json_copy(out, a);
        }
      } else {
        rewrite_model_refs(m.value, prefix, a);
      }
    }
  } else if (v.IsArray()) {
    for (auto& e : v.GetArray()) rewrite_model_refs(e, prefix, a);
  }
}

namespace {

class document_writer : json_builder {
 public:
  document_writer(const rest_api_model& api, const export_settings& s, rapidjson::Document& d)
      : json_builder(d.GetAllocator()), api_(api), s_(s), d_(d) {}

  void write() {
    d_.SetObject();
    const std::string version = api_.version.empty() ? s_.fallback_version : api_.version;
    const std::string host = fmt::format("{}.execute-api.{}.amazonaws.com", api_.id, s_.region);
    json info(rapidjson::kObjectType);
    if (s_.oas3) {
      add(d_, "openapi", "3.0.1");
      add(info, "title", api_.name);
      if (!api_.description.empty()) add(info, "description", api_.description);
      add(info, "version", version);
      add(d_, "info", std::move(info));
      json server(rapidjson::kObjectType);
      add(server, "url", fmt::format("https://{}/{{basePath}}", host));
      json base(rapidjson::kObjectType);
      add(base, "default", s_.stage);
      json variables(rapidjson::kObjectType);
      add(variables, "basePath", std::move(base));
      add(server, "variables", std::move(variables));
      json servers(rapidjson::kArrayType);
      servers.PushBack(std::move(server), a_);
      add(d_, "servers", std::move(servers));
      add(d_, "paths", export_paths(api_, s_, a_));
      json components(rapidjson::kObjectType);
      json schemas = models();
      if (!schemas.ObjectEmpty()) add(components, "schemas", std::move(schemas));
      json schemes = security_schemes();
      if (!schemes.ObjectEmpty()) add(components, "securitySchemes", std::move(schemes));
      add(d_, "components", std::move(components));
    } else {
      add(d_, "swagger", "2.0");
      if (!api_.description.empty()) add(info, "description", api_.description);
      add(info, "version", version);
      add(info, "title", api_.name);
      add(d_, "info", std::move(info));
      add(d_, "host", host);
      add(d_, "basePath", "/" + s_.stage);
      json schemes(rapidjson::kArrayType);
      schemes.PushBack(str("https"), a_);
      add(d_, "schemes", std::move(schemes));
      add(d_, "paths", export_paths(api_, s_, a_));
      json security = security_schemes();
      if (!security.ObjectEmpty()) add(d_, "securityDefinitions", std::move(security));
      json definitions = models();
      if (!definitions.ObjectEmpty()) add(d_, "definitions", std::move(definitions));
    }
    root_extensions();
  }

 private:
  json models() {
    json out(rapidjson::kObjectType);
    for (const auto& m : api_.models) {
      // AWS exports JSON models only ("Only found non-JSON body models for …").
      if (m.content_type != "application/json" && !m.content_type.ends_with("+json")) continue;
      rapidjson::Document schema;
      schema.Parse(m.schema.data(), m.schema.size());
      if (schema.HasParseError() || !schema.IsObject()) continue;
      json copy(schema, a_);
      copy.RemoveMember("$schema");
      rewrite_model_refs(copy, models_prefix(s_), a_);
      add(out, m.name, std::move(copy));
    }
    return out;
  }

  bool any_method(bool (*test)(const method_model&)) const {
    for (const auto& r : api_.resources)
      for (const auto& m : r.methods)
        if (test(m)) return true;
    return false;
  }

  // {type: apiKey, name, in} for an identity source of one header or query parameter.
  void scheme_location(json& scheme, const authorizer_model& a) {
    std::string_view source = trim(a.identity_source);
    std::string name = "Unused", in = "header";
    if (a.type != "REQUEST" && source.find(',') == std::string_view::npos) {
      if (source.starts_with("method.request.header.")) {
        name = source.substr(22);
      } else if (source.starts_with("method.request.querystring.")) {
        name = source.substr(27);
        in = "query";
      }
    }
    add(scheme, "type", "apiKey");
    add(scheme, "name", name);
    add(scheme, "in", in);
  }

  json authorizer(const authorizer_model& a) {
    json out(rapidjson::kObjectType);
    const bool cognito = a.type == "COGNITO_USER_POOLS";
    if (!a.authorizer_uri.empty()) add(out, "authorizerUri", a.authorizer_uri);
    if (!a.authorizer_credentials.empty())
      add(out, "authorizerCredentials", a.authorizer_credentials);
    if (a.result_ttl_seconds) add(out, "authorizerResultTtlInSeconds", json(*a.result_ttl_seconds));
    // A TOKEN or Cognito authorizer reads the scheme's header unless it says otherwise.
    const std::string_view source = trim(a.identity_source);
    const bool implied = a.type != "REQUEST" && source.find(',') == std::string_view::npos &&
                         (source.starts_with("method.request.header.") ||
                          source.starts_with("method.request.querystring."));
    if (!source.empty() && !implied) add(out, "identitySource", a.identity_source);
    if (!a.identity_validation_expression.empty())
      add(out, "identityValidationExpression", a.identity_validation_expression);
    if (cognito) add(out, "providerARNs", strings(a.provider_arns));
    add(out, "type", lower(a.type));
    return out;
  }

  json security_schemes() {
    json out(rapidjson::kObjectType);
    const bool extensions = s_.extensions.authorizers || s_.extensions.api;
    if (any_method([](const method_model& m) { return m.api_key_required; })) {
      json k(rapidjson::kObjectType);
      add(k, "type", "apiKey");
      add(k, "name", "x-api-key");
      add(k, "in", "header");
      add(out, api_key_scheme, std::move(k));
    }
    if (any_method([](const method_model& m) { return m.authorization_type == "AWS_IAM"; })) {
      json k(rapidjson::kObjectType);
      add(k, "type", "apiKey");
      add(k, "name", "Authorization");
      add(k, "in", "header");
      add(k, "x-amazon-apigateway-authtype", "awsSigv4");
      add(out, sigv4_scheme, std::move(k));
    }
    for (const auto& a : api_.authorizers) {
      json k(rapidjson::kObjectType);
      scheme_location(k, a);
      if (!a.auth_type.empty()) add(k, "x-amazon-apigateway-authtype", a.auth_type);
      if (extensions) add(k, "x-amazon-apigateway-authorizer", authorizer(a));
      add(out, a.name, std::move(k));
    }
    return out;
  }

  void root_extensions() {
    const auto& e = s_.extensions;
    if ((e.validators || e.api) && !api_.validators.empty()) {
      json validators(rapidjson::kObjectType);
      for (const auto& v : api_.validators) {
        json one(rapidjson::kObjectType);
        add(one, "validateRequestBody", json(v.validate_body));
        add(one, "validateRequestParameters", json(v.validate_parameters));
        add(validators, v.name, std::move(one));
      }
      add(d_, "x-amazon-apigateway-request-validators", std::move(validators));
    }
    if (!e.api) return;
    if (!api_.gateway_responses.empty()) {
      json responses(rapidjson::kObjectType);
      for (const auto& g : api_.gateway_responses) {
        json one(rapidjson::kObjectType);
        if (!g.status_code.empty()) add(one, "statusCode", g.status_code);
        if (!g.response_parameters.empty())
          add(one, "responseParameters", texts(g.response_parameters));
        if (!g.response_templates.empty())
          add(one, "responseTemplates", texts(g.response_templates));
        add(responses, g.type, std::move(one));
      }
      add(d_, "x-amazon-apigateway-gateway-responses", std::move(responses));
    }
    if (!api_.policy.empty()) {
      rapidjson::Document policy;
      policy.Parse(api_.policy.data(), api_.policy.size());
      if (!policy.HasParseError()) add(d_, "x-amazon-apigateway-policy", json(policy, a_));
    }
    if (api_.api_key_source != "HEADER")
      add(d_, "x-amazon-apigateway-api-key-source", api_.api_key_source);
    if (!(api_.endpoint_types.size() == 1 && api_.endpoint_types[0] == "EDGE") ||
        !api_.vpc_endpoint_ids.empty()) {
      json endpoint(rapidjson::kObjectType);
      add(endpoint, "types", strings(api_.endpoint_types));
      if (!api_.vpc_endpoint_ids.empty())
        add(endpoint, "vpcEndpointIds", strings(api_.vpc_endpoint_ids));
      add(d_, "x-amazon-apigateway-endpoint-configuration", std::move(endpoint));
    }
    if (api_.minimum_compression_size)
      add(d_, "x-amazon-apigateway-minimum-compression-size",
          json(static_cast<std::int64_t>(*api_.minimum_compression_size)));
    if (!api_.binary_media_types.empty())
      add(d_, "x-amazon-apigateway-binary-media-types", strings(api_.binary_media_types));
  }

  const rest_api_model& api_;
  const export_settings& s_;
  rapidjson::Document& d_;
};
}  // namespace

export_extensions parse_extensions(std::string_view list) {
  export_extensions out;
  std::vector<std::string> unknown;
  while (!list.empty()) {
    auto comma = list.find(',');
    auto name = trim(list.substr(0, comma));
    if (name == "integrations")
      out.integrations = true;
    else if (name == "authorizers")
      out.authorizers = true;
    else if (name == "validators")
      out.validators = true;
    else if (name == "apigateway")
      out.api = true;
    else if (!name.empty())
      unknown.emplace_back(name);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (!unknown.empty())
    throw config_error(
        fmt::format("export extensions: unknown {} '{}' (known: integrations, authorizers, "
                    "validators, apigateway)",
                    unknown.size() == 1 ? "name" : "names", fmt::join(unknown, "', '")));
  return out;
}

void build_export(const rest_api_model& api, const export_settings& s, rapidjson::Document& out) {
  document_writer(api, s, out).write();
}

}  // namespace gatehouse::spec
