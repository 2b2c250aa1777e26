// An OpenAPI 3.0 document → the HTTP API model, as apigatewayv2 import-api reads it: a route
// per path and method (x-amazon-apigateway-any-method → ANY, "/$default" with isDefaultRoute →
// the $default route), each with its x-amazon-apigateway-integration (inline or a $ref into
// components.x-amazon-apigateway-integrations) and at most one security requirement (a JWT
// authorizer, a Lambda REQUEST authorizer or IAM). AWS's three kinds of finding: errors
// (Swagger 2.0, a malformed document, two security requirements on an operation) refuse the
// document; warnings (integration types HTTP APIs lack: AWS, HTTP, MOCK) leave a part out;
// info (requestBody, schemas: valid OpenAPI that HTTP APIs ignore). The DG names these cases
// but not AWS's texts: the words here follow the REST importer's style (UNCONFIRMED).

#include "spec/http_import.hpp"
#include "spec/import.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <set>

namespace gatehouse::spec {

void route_error(std::string_view route_key, std::string_view why) {
  throw config_error(fmt::format("Unable to create route '{}': {}", route_key, why));
}

void route_integration_error(std::string_view route_key, std::string_view why) {
  throw config_error(
      fmt::format("Unable to create integration for route '{}': {}", route_key, why));
}

namespace {

// Root extensions of REST APIs that HTTP APIs do not have.
constexpr std::array<std::string_view, 9> rest_only_extensions{
    "x-amazon-apigateway-api-key-source",
    "x-amazon-apigateway-binary-media-types",
    "x-amazon-apigateway-endpoint-configuration",
    "x-amazon-apigateway-gateway-responses",
    "x-amazon-apigateway-minimum-compression-size",
    "x-amazon-apigateway-policy",
    "x-amazon-apigateway-request-validators",
    "x-amazon-apigateway-request-validator",
    "x-amazon-apigateway-documentation",
};

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "1.0" or "2.0" from "1.0", "2.0", 1.0, 2 … (AWS's own example writes the number 1.0);
// "" for anything else.
std::string payload_version(const json& v) {
  auto text = scalar_text(v).value_or("");
  if (text == "1.0" || text == "1") return "1.0";
  if (text == "2.0" || text == "2") return "2.0";
  return {};
}

// An identity source: an array, or one string of comma-separated sources.
std::vector<std::string> identity_sources(const json* v) {
  std::vector<std::string> out;
  for (const auto& item : string_list(v)) {
    std::string_view rest = item;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      auto one = trim(rest.substr(0, comma));
      if (!one.empty()) out.emplace_back(one);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

enum class scheme_kind { ignored, jwt, lambda, iam, api_key };

class http_reader {
 public:
  http_reader(const json& root, std::size_t budget, http_api_model& api,
              std::vector<std::string>& unsupported)
      : root_(root), api_(api), unsupported_(unsupported), budget_(budget) {}

  void read(base_path_mode mode) {
    const json* info = object_member(&root_, "info");
    api_.name = scalar_member(info, "title").value_or("");
    api_.version = scalar_member(info, "version").value_or("");
    api_.description = scalar_member(info, "description").value_or("");
    api_.base_path = document_base_path(root_, true);
    read_root_extensions();
    read_security_schemes();
    if (const json* schemas = object_member(object_member(&root_, "components"), "schemas");
        schemas && schemas->MemberCount() > 0)
      api_.info.push_back(
          "components.schemas: models are not supported by HTTP APIs and were ignored");

    std::string prefix;
    if (mode == base_path_mode::prepend) {
      prefix = api_.base_path;
    } else if (mode == base_path_mode::split && !api_.base_path.empty()) {
      auto second = api_.base_path.find('/', 1);
      prefix = second == std::string::npos ? "" : api_.base_path.substr(second);
    }
    if (const json* paths = object_member(&root_, "paths")) {
      for (const auto& entry : paths->GetObject()) {
        const auto doc_path = view(entry.name);
        if (!doc_path.starts_with("/")) continue;  // x-… extensions of the Paths object
        read_path(doc_path, entry.value, prefix);
      }
    }
  }

 private:
  void spend(std::size_t units) {
    if (units > budget_)
      throw config_error(
          "Invalid OpenAPI input. (its references expand to more work than a document of its "
          "size may ask for)");
    budget_ -= units;
  }
  const json* resolve(const json* v) const { return resolve_ref(root_, v); }
  void warn(std::string text) { api_.warnings.push_back(std::move(text)); }
  void note(std::string text) { unsupported_.push_back(std::move(text)); }

  void read_root_extensions() {
    rapidjson::Document kept(rapidjson::kObjectType);
    for (const auto& m : root_.GetObject()) {
      if (!m.name.IsString() || !aws_extension(view(m.name))) continue;
      const auto name = view(m.name);
      kept.AddMember(rapidjson::Value(m.name, kept.GetAllocator()),
                     rapidjson::Value(m.value, kept.GetAllocator()), kept.GetAllocator());
      if (std::find(rest_only_extensions.begin(), rest_only_extensions.end(), name) !=
          rest_only_extensions.end())
        api_.info.push_back(fmt::format("{} is not supported by HTTP APIs and was ignored", name));
    }
    api_.extensions = json_text(kept);
    if (const json* cors = member(root_, "x-amazon-apigateway-cors")) {
      if (cors->IsObject())
        api_.cors = json_text(*cors);
      else
        warn("Invalid CORS configuration: x-amazon-apigateway-cors must be an object");
    }
  }

  void read_security_schemes() {
    const json* schemes = object_member(object_member(&root_, "components"), "securitySchemes");
    if (!schemes) return;
    for (const auto& entry : schemes->GetObject()) {
      spend(1);
      const std::string name(view(entry.name));
      const json* s = resolve(&entry.value);
      if (!s || !s->IsObject()) continue;
      auto& kind = schemes_[name];
      kind = scheme_kind::ignored;
      const auto auth_type = lower(scalar_member(s, "x-amazon-apigateway-authtype").value_or(""));
      const json* ext = object_member(s, "x-amazon-apigateway-authorizer");
      if (!ext) {
        if (auth_type == "awssigv4")
          kind = scheme_kind::iam;
        else if (scalar_member(s, "type").value_or("") == "apiKey" &&
                 lower(scalar_member(s, "name").value_or("")) == "x-api-key")
          kind = scheme_kind::api_key;
        continue;  // oauth2, openIdConnect … without an authorizer mean nothing to AWS
      }
      const auto type = lower(scalar_member(ext, "type").value_or(""));
      auto fail = [&](std::string_view why) {
        throw config_error(fmt::format("Unable to create authorizer '{}': {}", name, why));
      };
      http_authorizer_model a;
      a.name = name;
      a.identity_source = identity_sources(member(ext, "identitySource"));
      if (type == "jwt") {
        a.type = "JWT";
        const json* config = object_member(ext, "jwtConfiguration");
        a.issuer = scalar_member(config, "issuer").value_or("");
        a.audience = string_list(member(config, "audience"));
        if (a.issuer.empty()) {
          // An openIdConnect scheme names its issuer's discovery document.
          constexpr std::string_view discovery = "/.well-known/openid-configuration";
          auto url = scalar_member(s, "openIdConnectUrl").value_or("");
          if (url.ends_with(discovery)) a.issuer = url.substr(0, url.size() - discovery.size());
        }
        if (a.issuer.empty()) fail("a JWT authorizer needs jwtConfiguration.issuer");
        if (a.audience.size() > 50) fail("more than 50 audiences (AWS's limit)");
        if (a.identity_source.empty()) a.identity_source = {"$request.header.Authorization"};
        if (a.identity_source.size() != 1) fail("a JWT authorizer takes one identity source");
        kind = scheme_kind::jwt;
      } else if (type == "request") {
        a.type = "REQUEST";
        a.authorizer_uri = scalar_member(ext, "authorizerUri").value_or("");
        a.authorizer_credentials = scalar_member(ext, "authorizerCredentials").value_or("");
        if (const json* v = member(ext, "authorizerPayloadFormatVersion")) {
          a.payload_format_version = payload_version(*v);
          if (a.payload_format_version.empty())
            fail(fmt::format("authorizerPayloadFormatVersion '{}' is not 1.0 or 2.0",
                             scalar_text(*v).value_or("")));
        }
        a.enable_simple_responses = truthy(member(ext, "enableSimpleResponses"));
        if (a.enable_simple_responses && a.payload_format_version != "2.0")
          fail("enableSimpleResponses needs authorizerPayloadFormatVersion 2.0");
        if (const json* ttl = member(ext, "authorizerResultTtlInSeconds")) {
          auto n = integer_of(*ttl);
          if (!n || *n < 0 || *n > 3600)
            fail("authorizerResultTtlInSeconds must be between 0 and 3600");
          a.result_ttl_seconds = static_cast<int>(*n);
        }
        if (a.result_ttl_seconds > 0 && a.identity_source.empty())
          fail("an authorizer whose results are cached needs an identity source");
        kind = scheme_kind::lambda;
      } else {
        warn(fmt::format(
            "Unsupported authorizer type '{}' of security scheme '{}': HTTP APIs take jwt and "
            "request authorizers",
            type, name));
        continue;
      }
      api_.authorizers.push_back(std::move(a));
    }
  }

  void read_path(std::string_view doc_path, const json& item_in, const std::string& prefix) {
    const json* item = resolve(&item_in);
    if (!item || !item->IsObject()) return;
    const bool default_path = doc_path == "/$default";
    std::string path;
    if (!default_path) {
      // Empty parts ("//") and a trailing '/' make no route of their own.
      const std::string full = prefix + std::string(doc_path);
      for (char c : full)
        if (c != '/' || path.empty() || path.back() != '/') path.push_back(c);
      if (path.size() > 1 && path.back() == '/') path.pop_back();
    }
    for (const auto& op : item->GetObject()) {
      const auto key = lower(view(op.name));
      std::string_view method;
      for (const auto& [k, m] : operation_keys)
        if (key == k) method = m;
      if (method.empty()) continue;  // summary, description, servers, parameters, x-…
      const json* operation = resolve(&op.value);
      if (!operation || !operation->IsObject()) continue;
      const bool is_default =
          default_path || (method == "ANY" && truthy(member(operation, "isDefaultRoute")));
      if (is_default && method != "ANY")
        route_error(fmt::format("{} {}", method, doc_path),
                    "the $default route takes every method: write it as "
                    "x-amazon-apigateway-any-method");
      read_operation(is_default ? "$default" : path, std::string(method), *operation);
    }
  }

  void read_operation(const std::string& path, std::string method, const json& op) {
    spend(1);
    http_route_model route;
    route.method = std::move(method);
    route.path = path;
    route.route_key = path == "$default" ? path : route.method + " " + path;
    route.operation_name = scalar_member(&op, "operationId").value_or("");
    if (!seen_.insert(route.route_key).second)
      route_error(route.route_key, "a route with this key already exists");
    if (member(op, "requestBody"))
      api_.info.push_back(
          fmt::format("requestBody of route '{}' was ignored: HTTP APIs do not validate requests",
                      route.route_key));
    apply_security(op, route);
    if (const json* ext = member(op, "x-amazon-apigateway-integration")) {
      const json* resolved = resolve(ext);
      if (!resolved || !resolved->IsObject())
        route_integration_error(route.route_key, "Invalid integration specified");
      route.integration = read_integration(*resolved, route);
      if (route.integration) {
        constexpr std::string_view shared = "#/components/x-amazon-apigateway-integrations/";
        if (auto ref = string_member(ext, "$ref"); ref && ref->starts_with(shared))
          route.integration->ref_name = ref->substr(shared.size());
      }
    }
    api_.routes.push_back(std::move(route));
  }

  void apply_security(const json& op, http_route_model& route) {
    if (const json* auth = object_member(&op, "x-amazon-apigateway-auth"))
      if (lower(scalar_member(auth, "type").value_or("")) == "aws_iam")
        route.authorization_type = "AWS_IAM";
    const json* security = member(op, "security");
    if (!security) security = member(root_, "security");
    if (!security || !security->IsArray()) return;
    std::size_t schemes = 0;
    for (const auto& requirement : security->GetArray())
      if (requirement.IsObject()) schemes += requirement.MemberCount();
    spend(schemes + 1);
    // OpenAPI allows alternatives and combinations; an HTTP API route has one authorizer.
    if (schemes > 1)
      route_error(route.route_key,
                  fmt::format("an operation may have one security requirement (IAM, a Lambda "
                              "authorizer or a JWT authorizer); this one has {}",
                              schemes));
    for (const auto& requirement : security->GetArray()) {
      if (!requirement.IsObject()) continue;
      for (const auto& entry : requirement.GetObject()) {
        const std::string name(view(entry.name));
        auto kind = schemes_.find(name);
        if (kind == schemes_.end()) continue;  // AWS ignores schemes it does not know
        switch (kind->second) {
          case scheme_kind::jwt:
            route.authorization_type = "JWT";
            route.authorizer = name;
            route.authorization_scopes = string_list(&entry.value);
            if (route.authorization_scopes.size() > 10)
              route_error(route.route_key, "more than 10 authorization scopes (AWS's limit)");
            break;
          case scheme_kind::lambda:
            route.authorization_type = "CUSTOM";
            route.authorizer = name;
            break;
          case scheme_kind::iam:
            route.authorization_type = "AWS_IAM";
            break;
          case scheme_kind::api_key:
            warn(fmt::format(
                "API keys are not supported by HTTP APIs: security scheme '{}' of route '{}' "
                "was ignored",
                name, route.route_key));
            break;
          case scheme_kind::ignored:
            break;
        }
      }
    }
  }

  // requestParameters / a status code's responseParameters: a map of strings; others are
  // dropped with AWS's warning, and values gatehouse cannot map with a note.
  text_map mapping_of(const json* v, std::string_view field, const http_route_model& route,
                      std::string_view unmappable) {
    text_map out;
    if (!v || !v->IsObject()) return out;
    spend(v->MemberCount());
    for (const auto& m : v->GetObject()) {
      if (!m.value.IsString()) {
        auto text = m.value.IsObject() || m.value.IsArray() ? json_text(m.value)
                                                            : scalar_text(m.value).value_or("null");
        warn(fmt::format(
            "Invalid format for '{}'. Expected type string for property '{}' of route '{}' but "
            "got '{}'",
            field, view(m.name), route.route_key, lower(text)));
        continue;
      }
      const auto value = view(m.value);
      if (value.find(unmappable) != std::string_view::npos) {
        note(fmt::format("{}: {} {} = {} is not mapped ({} is not supported)", route.route_key,
                         field, view(m.name), value, unmappable));
        continue;
      }
      out.emplace_back(view(m.name), value);
    }
    return out;
  }

  std::optional<http_integration_model> read_integration(const json& ext,
                                                         const http_route_model& route) {
    spend(1);
    const std::string& key = route.route_key;
    auto fail = [&](std::string_view why) { route_integration_error(key, why); };
    http_integration_model m;
    auto type = scalar_member(&ext, "type");
    if (!type) fail("Invalid integration type specified: null");
    m.type = upper(*type);
    if (m.type == "AWS" || m.type == "HTTP" || m.type == "MOCK") {
      warn(fmt::format(
          "Unsupported integration type '{}' for route '{}': HTTP APIs support AWS_PROXY and "
          "HTTP_PROXY integrations only",
          *type, key));
      return std::nullopt;
    }
    if (m.type != "AWS_PROXY" && m.type != "HTTP_PROXY")
      fail(fmt::format("Invalid integration type specified: {}", *type));
    m.integration_method = upper(scalar_member(&ext, "httpMethod").value_or(""));
    if (m.integration_method.empty())
      m.integration_method = m.type == "AWS_PROXY" ? "POST" : route.method;
    static constexpr std::array<std::string_view, 8> methods{"GET",   "POST", "PUT",     "DELETE",
                                                             "PATCH", "HEAD", "OPTIONS", "ANY"};
    if (std::find(methods.begin(), methods.end(), m.integration_method) == methods.end())
      fail(fmt::format("Invalid HTTP method specified: {}", m.integration_method));
    m.uri = scalar_member(&ext, "uri").value_or("");
    m.integration_subtype = scalar_member(&ext, "integrationSubtype").value_or("");
    if (m.uri.empty() && m.integration_subtype.empty()) fail("Invalid integration URI specified");
    if (const json* v = member(ext, "payloadFormatVersion")) {
      m.payload_format_version = payload_version(*v);
      if (m.payload_format_version.empty())
        fail(fmt::format("payloadFormatVersion '{}' is not 1.0 or 2.0",
                         scalar_text(*v).value_or("")));
    }
    if (m.type == "HTTP_PROXY" && m.payload_format_version != "1.0")
      fail("payloadFormatVersion 2.0 is for AWS_PROXY (Lambda) integrations only");
    if (const json* t = member(ext, "timeoutInMillis")) {
      auto ms = integer_of(*t);
      if (!ms || *ms < 50 || *ms > 30'000) fail("Timeout should be between 50 ms and 30000 ms");
      m.timeout_ms = static_cast<int>(*ms);
    }
    m.connection_type = upper(scalar_member(&ext, "connectionType").value_or("INTERNET"));
    m.connection_id = scalar_member(&ext, "connectionId").value_or("");
    m.credentials = scalar_member(&ext, "credentials").value_or("");
    m.server_name_to_verify =
        scalar_member(object_member(&ext, "tlsConfig"), "serverNameToVerify").value_or("");
    m.request_parameters =
        mapping_of(member(ext, "requestParameters"), "requestParameters", route, "$request.body");
    if (const json* by_status = object_member(&ext, "responseParameters")) {
      for (const auto& s : by_status->GetObject()) {
        spend(1);
        auto rules = mapping_of(&s.value, "responseParameters", route, "$response.body");
        if (!rules.empty()) m.response_parameters.emplace_back(view(s.name), std::move(rules));
      }
    }
    if (!m.integration_subtype.empty())
      note(fmt::format("{}: the AWS service integration {} is not supported; it answers 500", key,
                       m.integration_subtype));
    if (m.connection_type == "VPC_LINK")
      note(fmt::format("{}: the VPC link is not used; {} is called directly", key, m.uri));
    if (!m.server_name_to_verify.empty())
      note(fmt::format("{}: tlsConfig.serverNameToVerify {} is not applied", key,
                       m.server_name_to_verify));
    if (m.timeout_ms > 29'000 && member(ext, "timeoutInMillis"))
      note(fmt::format("{}: timeout {} ms is served as 29000 ms (gatehouse's limit)", key,
                       m.timeout_ms));
    if (m.type == "HTTP_PROXY" && m.integration_method != "ANY" &&
        m.integration_method != route.method)
      note(fmt::format("{}: the backend gets the client's method, not {}", key,
                       m.integration_method));
    return m;
  }

  const json& root_;
  http_api_model& api_;
  std::vector<std::string>& unsupported_;
  std::size_t budget_;
  std::map<std::string, scheme_kind, std::less<>> schemes_;
  std::set<std::string, std::less<>> seen_;
};

}  // namespace

void read_http_api(const json& root, std::size_t budget, base_path_mode mode, http_api_model& api,
                   std::vector<std::string>& unsupported) {
  http_reader(root, budget, api, unsupported).read(mode);
}

}  // namespace gatehouse::spec
