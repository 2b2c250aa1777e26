// The HTTP API model → the document apigatewayv2 export-api answers with. The layout follows
// real AWS exports [github copies of export-api output; AWS-SEMANTICS §13]:
//   openapi "3.0.1", info {title, description, version ("2026-01-11 06:08:40UTC" when the API
//   has none)}, servers [{url "https://<id>.execute-api.<region>.amazonaws.com/{basePath}",
//   variables {basePath {default ""}}}] ("" for the $default stage), paths, components
//   {securitySchemes} (absent without authorizers), x-amazon-apigateway-cors,
//   x-amazon-apigateway-importexport-version "1.0".
// A path holds its operations in route order, each {responses {default {description "Default
// response for GET /p"}}, security, x-amazon-apigateway-integration}, then "parameters" with
// one "Generated path parameter for x" per {x} ("proxy+" kept, as AWS writes it).
// Integration members in AWS's order: responseParameters, requestParameters,
// payloadFormatVersion, type (lower case), httpMethod, uri, connectionType, timeoutInMillis.

#include "spec/export_http.hpp"
#include "spec/export.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
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

// The header a Lambda authorizer's apiKey scheme names: its first header identity source,
// else Authorization (UNCONFIRMED: AWS's exports seen all name Authorization).
std::string scheme_header(const http_authorizer_model& a) {
  constexpr std::string_view prefix = "$request.header.";
  for (const auto& s : a.identity_source)
    if (s.starts_with(prefix)) return s.substr(prefix.size());
  return "Authorization";
}

std::string joined(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& s : list) out += (out.empty() ? "" : ", ") + s;
  return out;
}

class http_document_writer : json_builder {
 public:
  http_document_writer(const http_api_model& api, std::string_view stage, bool extensions,
                       std::string_view region, std::string version, rapidjson::Document& d)
      : json_builder(d.GetAllocator()),
        api_(api),
        stage_(stage),
        extensions_(extensions),
        region_(region),
        version_(std::move(version)),
        d_(d) {}

  void write() {
    d_.SetObject();
    add(d_, "openapi", "3.0.1");
    json info(rapidjson::kObjectType);
    add(info, "title", api_.name);
    if (!api_.description.empty()) add(info, "description", api_.description);
    add(info, "version", api_.version.empty() ? version_ : api_.version);
    add(d_, "info", std::move(info));
    add(d_, "servers", servers());
    add(d_, "paths", paths());
    json schemes = security_schemes();
    if (!schemes.ObjectEmpty()) {
      json components(rapidjson::kObjectType);
      add(components, "securitySchemes", std::move(schemes));
      add(d_, "components", std::move(components));
    }
    if (extensions_) {
      if (!api_.cors.empty()) add(d_, "x-amazon-apigateway-cors", cors());
      add(d_, "x-amazon-apigateway-importexport-version", "1.0");
    }
  }

 private:
  json servers() {
    json server(rapidjson::kObjectType);
    add(server, "url",
        fmt::format("https://{}.execute-api.{}.amazonaws.com/{{basePath}}", api_.id, region_));
    json base(rapidjson::kObjectType);
    // The $default stage is served at the root. Other stages: their name, as REST exports
    // write it (UNCONFIRMED for HTTP APIs).
    add(base, "default", stage_ == "$default" ? std::string_view() : stage_);
    json variables(rapidjson::kObjectType);
    add(variables, "basePath", std::move(base));
    add(server, "variables", std::move(variables));
    json out(rapidjson::kArrayType);
    out.PushBack(std::move(server), a_);
    return out;
  }

  json paths() {
    // A path per distinct route path, in the order of its first route.
    std::vector<std::string> order;
    for (const auto& r : api_.routes) {
      std::string path = r.path == "$default" ? "/$default" : r.path;
      if (std::find(order.begin(), order.end(), path) == order.end()) order.push_back(path);
    }
    json out(rapidjson::kObjectType);
    for (const auto& path : order) {
      json item(rapidjson::kObjectType);
      for (const auto& r : api_.routes) {
        if ((r.path == "$default" ? "/$default" : r.path) != path) continue;
        add(item, r.method == "ANY" ? "x-amazon-apigateway-any-method" : lower(r.method),
            operation(r));
      }
      json parameters = path_parameters(path);
      if (!parameters.Empty()) add(item, "parameters", std::move(parameters));
      add(out, path, std::move(item));
    }
    return out;
  }

  json operation(const http_route_model& r) {
    json op(rapidjson::kObjectType);
    // isDefaultRoute first, as AWS's DG examples write it (UNCONFIRMED for exports).
    if (r.route_key == "$default") op.AddMember("isDefaultRoute", true, a_);
    // operationId before responses (UNCONFIRMED: AWS's exports seen have none).
    if (!r.operation_name.empty()) add(op, "operationId", r.operation_name);
    json description(rapidjson::kObjectType);
    add(description, "description", "Default response for " + r.route_key);
    json responses(rapidjson::kObjectType);
    add(responses, "default", std::move(description));
    add(op, "responses", std::move(responses));
    if (r.authorization_type != "NONE") {
      json requirement(rapidjson::kObjectType);
      if (r.authorization_type == "AWS_IAM") {
        // IAM as the REST export and the HTTP importer write it (UNCONFIRMED for HTTP APIs).
        add(requirement, sigv4_scheme, json(rapidjson::kArrayType));
      } else {
        add(requirement, r.authorizer, strings(r.authorization_scopes));
      }
      json security(rapidjson::kArrayType);
      security.PushBack(std::move(requirement), a_);
      add(op, "security", std::move(security));
    }
    if (extensions_ && r.integration)
      add(op, "x-amazon-apigateway-integration", integration(*r.integration));
    return op;
  }

  json integration(const http_integration_model& m) {
    json out(rapidjson::kObjectType);
    if (!m.response_parameters.empty()) {
      json by_status(rapidjson::kObjectType);
      for (const auto& [status, rules] : m.response_parameters)
        add(by_status, status, texts(rules));
      add(out, "responseParameters", std::move(by_status));
    }
    if (!m.request_parameters.empty()) add(out, "requestParameters", texts(m.request_parameters));
    // Members AWS's exports seen do not show are placed where the DG lists them (UNCONFIRMED).
    if (!m.credentials.empty()) add(out, "credentials", m.credentials);
    add(out, "payloadFormatVersion", m.payload_format_version);
    if (!m.integration_subtype.empty()) add(out, "integrationSubtype", m.integration_subtype);
    add(out, "type", lower(m.type));
    add(out, "httpMethod", m.integration_method);
    if (!m.uri.empty()) add(out, "uri", m.uri);
    add(out, "connectionType", m.connection_type.empty() ? "INTERNET" : m.connection_type);
    if (!m.connection_id.empty()) add(out, "connectionId", m.connection_id);
    // AWS's exports write HTTP_PROXY's timeout always and leave Lambda's out at its default.
    if (m.type != "AWS_PROXY" || m.timeout_ms != 30'000)
      out.AddMember("timeoutInMillis", m.timeout_ms, a_);
    if (!m.server_name_to_verify.empty()) {
      json tls(rapidjson::kObjectType);
      add(tls, "serverNameToVerify", m.server_name_to_verify);
      add(out, "tlsConfig", std::move(tls));
    }
    return out;
  }

  json path_parameters(std::string_view path) {
    json out(rapidjson::kArrayType);
    for (std::size_t open = path.find('{'); open != std::string_view::npos;
         open = path.find('{', open + 1)) {
      auto close = path.find('}', open);
      if (close == std::string_view::npos) break;
      const auto name = path.substr(open + 1, close - open - 1);
      json p(rapidjson::kObjectType);
      add(p, "name", name);
      add(p, "in", "path");
      add(p, "description", fmt::format("Generated path parameter for {}", name));
      p.AddMember("required", true, a_);
      json schema(rapidjson::kObjectType);
      add(schema, "type", "string");
      add(p, "schema", std::move(schema));
      out.PushBack(std::move(p), a_);
    }
    return out;
  }

  json security_schemes() {
    json out(rapidjson::kObjectType);
    for (const auto& a : api_.authorizers) {
      json scheme(rapidjson::kObjectType);
      json ext(rapidjson::kObjectType);
      if (a.type == "JWT") {
        add(scheme, "type", "oauth2");
        add(scheme, "flows", json(rapidjson::kObjectType));
        add(ext, "identitySource", joined(a.identity_source));
        json config(rapidjson::kObjectType);
        if (!a.audience.empty()) add(config, "audience", strings(a.audience));
        add(config, "issuer", a.issuer);
        add(ext, "jwtConfiguration", std::move(config));
        add(ext, "type", "jwt");
      } else {
        add(scheme, "type", "apiKey");
        add(scheme, "name", scheme_header(a));
        add(scheme, "in", "header");
        if (!a.identity_source.empty()) add(ext, "identitySource", joined(a.identity_source));
        add(ext, "authorizerUri", a.authorizer_uri);
        if (!a.authorizer_credentials.empty())
          add(ext, "authorizerCredentials", a.authorizer_credentials);
        add(ext, "authorizerPayloadFormatVersion", a.payload_format_version);
        ext.AddMember("authorizerResultTtlInSeconds", a.result_ttl_seconds, a_);
        add(ext, "type", "request");
        // AWS writes it with payload format 2.0 only, where it means something (UNCONFIRMED).
        if (a.payload_format_version == "2.0")
          ext.AddMember("enableSimpleResponses", a.enable_simple_responses, a_);
      }
      if (extensions_) add(scheme, "x-amazon-apigateway-authorizer", std::move(ext));
      add(out, a.name, std::move(scheme));
    }
    const bool iam = std::any_of(api_.routes.begin(), api_.routes.end(),
                                 [](const auto& r) { return r.authorization_type == "AWS_IAM"; });
    if (iam) {
      json scheme(rapidjson::kObjectType);
      add(scheme, "type", "apiKey");
      add(scheme, "name", "Authorization");
      add(scheme, "in", "header");
      if (extensions_) add(scheme, "x-amazon-apigateway-authtype", "awsSigv4");
      add(out, sigv4_scheme, std::move(scheme));
    }
    return out;
  }

  // The kept CORS configuration, its members in AWS's order; others after them as written.
  json cors() {
    rapidjson::Document given;
    given.Parse(api_.cors.data(), api_.cors.size());
    json out(rapidjson::kObjectType);
    if (given.HasParseError() || !given.IsObject()) return out;
    constexpr std::array<std::string_view, 6> order{"allowMethods",     "allowHeaders",
                                                    "exposeHeaders",    "maxAge",
                                                    "allowCredentials", "allowOrigins"};
    for (auto name : order)
      if (const json* v = member(given, name)) add(out, name, json(*v, a_));
    for (const auto& m : given.GetObject())
      if (std::find(order.begin(), order.end(), view(m.name)) == order.end())
        add(out, view(m.name), json(m.value, a_));
    return out;
  }

  const http_api_model& api_;
  std::string_view stage_;
  bool extensions_;
  std::string_view region_;
  std::string version_;
  rapidjson::Document& d_;
};
}  // namespace

std::string export_http_model(const http_api_model& api, std::string_view stage,
                              const export_options& options,
                              std::chrono::system_clock::time_point deployed) {
  if (options.format != openapi_format::oas30)
    throw config_error(
        "export: HTTP APIs export as OpenAPI 3.0 only (AWS: \"OAS30, for OpenAPI 3.0, is the "
        "only supported value.\")");
  if (stage.empty()) throw config_error("export: the stage name is empty");
  // AWS's extensions are all or nothing for HTTP APIs (includeExtensions); the names are
  // checked as a REST export checks them.
  const auto names = parse_extensions(options.extensions);
  const bool extensions = names.integrations || names.authorizers || names.validators || names.api;
  // AWS writes the deployment's time when the API has no version: "2026-01-11 06:08:40UTC".
  std::string version = fmt::format("{:%Y-%m-%d %H:%M:%S}UTC",
                                    std::chrono::time_point_cast<std::chrono::seconds>(deployed));
  rapidjson::Document doc;
  http_document_writer(api, stage, extensions, options.region, std::move(version), doc).write();
  return options.yaml ? print_yaml(doc) : print_json(doc);
}

}  // namespace gatehouse::spec
