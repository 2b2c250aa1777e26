#include "spec/describe.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>

namespace gatehouse::spec {

namespace {
using writer = rapidjson::Writer<rapidjson::StringBuffer>;

void str(writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
void field(writer& w, std::string_view key, std::string_view value) {
  str(w, key);
  str(w, value);
}
void field_if(writer& w, std::string_view key, std::string_view value) {
  if (!value.empty()) field(w, key, value);
}
void text_object(writer& w, std::string_view key, const text_map& m) {
  if (m.empty()) return;
  str(w, key);
  w.StartObject();
  for (const auto& [k, v] : m) field(w, k, v);
  w.EndObject();
}
void flag_object(writer& w, std::string_view key, const flag_map& m) {
  if (m.empty()) return;
  str(w, key);
  w.StartObject();
  for (const auto& [k, v] : m) {
    str(w, k);
    w.Bool(v);
  }
  w.EndObject();
}
void strings(writer& w, std::string_view key, const std::vector<std::string>& list) {
  str(w, key);
  w.StartArray();
  for (const auto& s : list) str(w, s);
  w.EndArray();
}

void integration(writer& w, const rest_api_model& api, const resource_model& r,
                 const integration_model& i) {
  w.StartObject();
  strings(w, "cacheKeyParameters", i.cache_key_parameters);
  field(w, "cacheNamespace", i.cache_namespace.empty() ? resource_id(api, r) : i.cache_namespace);
  field_if(w, "connectionId", i.connection_id);
  field_if(w, "connectionType", i.connection_type);
  field_if(w, "contentHandling", i.content_handling);
  field_if(w, "credentials", i.credentials);
  field_if(w, "httpMethod", i.http_method);
  if (!i.responses.empty()) {
    str(w, "integrationResponses");
    w.StartObject();
    for (const auto& ir : i.responses) {
      str(w, ir.status_code);
      w.StartObject();
      field_if(w, "contentHandling", ir.content_handling);
      text_object(w, "responseParameters", ir.response_parameters);
      text_object(w, "responseTemplates", ir.response_templates);
      field_if(w, "selectionPattern", ir.selection_pattern);
      field(w, "statusCode", ir.status_code);
      w.EndObject();
    }
    w.EndObject();
  }
  field(w, "passthroughBehavior", i.passthrough_behavior);
  text_object(w, "requestParameters", i.request_parameters);
  text_object(w, "requestTemplates", i.request_templates);
  str(w, "timeoutInMillis");
  w.Int(i.timeout_ms);
  if (i.insecure_skip_verification) {
    str(w, "tlsConfig");
    w.StartObject();
    str(w, "insecureSkipVerification");
    w.Bool(*i.insecure_skip_verification);
    w.EndObject();
  }
  field(w, "type", i.type);
  field_if(w, "uri", i.uri);
  w.EndObject();
}
}  // namespace

std::string stable_id(std::string_view seed) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : seed) h = (h ^ c) * 1099511628211ull;
  static constexpr char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string id(10, 'a');
  for (auto& c : id) {
    c = digits[h % 36];
    h /= 36;
  }
  return id;
}

std::string resource_id(const rest_api_model& api, const resource_model& r) {
  return stable_id(api.id + r.path);
}

std::string describe_rest_api(const rest_api_model& api) {
  rapidjson::StringBuffer buf;
  writer w(buf);
  w.StartObject();
  field(w, "apiKeySource", api.api_key_source);
  if (!api.binary_media_types.empty()) strings(w, "binaryMediaTypes", api.binary_media_types);
  field_if(w, "description", api.description);
  str(w, "disableExecuteApiEndpoint");
  w.Bool(false);
  str(w, "endpointConfiguration");
  w.StartObject();
  field(w, "ipAddressType", "ipv4");
  strings(w, "types", api.endpoint_types);
  if (!api.vpc_endpoint_ids.empty()) strings(w, "vpcEndpointIds", api.vpc_endpoint_ids);
  w.EndObject();
  field(w, "id", api.id);
  if (api.minimum_compression_size) {
    str(w, "minimumCompressionSize");
    w.Int64(*api.minimum_compression_size);
  }
  field(w, "name", api.name);
  field_if(w, "policy", api.policy);
  field(w, "rootResourceId", api.resources.empty() ? "" : resource_id(api, api.resources.front()));
  field_if(w, "version", api.version);
  if (!api.warnings.empty()) strings(w, "warnings", api.warnings);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::string describe_resources(const rest_api_model& api) {
  rapidjson::StringBuffer buf;
  writer w(buf);
  w.StartObject();
  str(w, "items");
  w.StartArray();
  for (const auto& r : api.resources) {
    w.StartObject();
    field(w, "id", resource_id(api, r));
    if (r.path != "/") {
      auto slash = r.path.rfind('/');
      const resource_model* parent = find_resource(api, slash == 0 ? "/" : r.path.substr(0, slash));
      if (parent) field(w, "parentId", resource_id(api, *parent));
    }
    field(w, "path", r.path);
    field_if(w, "pathPart", r.path_part);
    if (!r.methods.empty()) {
      str(w, "resourceMethods");
      w.StartObject();
      for (const auto& m : r.methods) {
        str(w, m.http_method);
        w.StartObject();
        w.EndObject();
      }
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::string describe_method(const rest_api_model& api, const resource_model& r,
                            const method_model& m) {
  rapidjson::StringBuffer buf;
  writer w(buf);
  w.StartObject();
  str(w, "apiKeyRequired");
  w.Bool(m.api_key_required);
  if (!m.authorization_scopes.empty()) strings(w, "authorizationScopes", m.authorization_scopes);
  field(w, "authorizationType", m.authorization_type);
  if (!m.authorizer.empty())
    field(w, "authorizerId", stable_id(api.id + "/authorizer/" + m.authorizer));
  field(w, "httpMethod", m.http_method);
  if (m.integration) {
    str(w, "methodIntegration");
    integration(w, api, r, *m.integration);
  }
  if (!m.method_responses.empty()) {
    str(w, "methodResponses");
    w.StartObject();
    for (const auto& mr : m.method_responses) {
      str(w, mr.status_code);
      w.StartObject();
      flag_object(w, "responseParameters", mr.response_parameters);
      text_object(w, "responseModels", mr.response_models);
      field(w, "statusCode", mr.status_code);
      w.EndObject();
    }
    w.EndObject();
  }
  field_if(w, "operationName", m.operation_name);
  text_object(w, "requestModels", m.request_models);
  flag_object(w, "requestParameters", m.request_parameters);
  if (!m.request_validator.empty())
    field(w, "requestValidatorId", stable_id(api.id + "/validator/" + m.request_validator));
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::string describe_authorizers(const rest_api_model& api) {
  rapidjson::StringBuffer buf;
  writer w(buf);
  w.StartObject();
  str(w, "items");
  w.StartArray();
  for (const auto& a : api.authorizers) {
    w.StartObject();
    field_if(w, "authType", a.auth_type);
    field_if(w, "authorizerCredentials", a.authorizer_credentials);
    if (a.result_ttl_seconds) {
      str(w, "authorizerResultTtlInSeconds");
      w.Int(*a.result_ttl_seconds);
    }
    field_if(w, "authorizerUri", a.authorizer_uri);
    field(w, "id", stable_id(api.id + "/authorizer/" + a.name));
    field_if(w, "identitySource", a.identity_source);
    field_if(w, "identityValidationExpression", a.identity_validation_expression);
    field(w, "name", a.name);
    if (!a.provider_arns.empty()) strings(w, "providerARNs", a.provider_arns);
    field(w, "type", a.type);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::string describe_models(const rest_api_model& api) {
  rapidjson::StringBuffer buf;
  writer w(buf);
  w.StartObject();
  str(w, "items");
  w.StartArray();
  for (const auto& m : api.models) {
    w.StartObject();
    field(w, "contentType", m.content_type);
    field_if(w, "description", m.description);
    field(w, "id", stable_id(api.id + "/model/" + m.name));
    field(w, "name", m.name);
    field(w, "schema", m.schema);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace gatehouse::spec
