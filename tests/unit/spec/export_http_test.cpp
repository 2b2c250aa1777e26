// Exporting HTTP APIs as apigatewayv2 export-api writes them: AWS's layout (info.version as a
// date, servers with basePath "" for $default, "Default response for …", generated path
// parameters, lower-case integration types, importexport-version), extensions all or none,
// OAS 3.0 only; and round trips: AWS's HTTP API example and a document with every feature the
// importer reads, exported (JSON and YAML) and imported again, give the same model.

#include "spec/http_model.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/openapi.hpp>

#include "harness.hpp"

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {
using gatehouse::spec::http_api_model;

gatehouse::openapi_options http_options() {
  gatehouse::openapi_options o;
  o.type = gatehouse::api_type::http;
  return o;
}

std::string read_vector(const std::string& name) {
  std::ifstream in(test::vectors_dir() + "/openapi/" + name, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + ",";
  return out;
}

std::string pairs(const gatehouse::spec::text_map& m) {
  std::string out;
  for (const auto& [k, v] : m) out += k + "=" + v + ";";
  return out;
}

// Everything an HTTP API model says that an export carries (routes sorted by key: an export
// groups them by path), one line per item.
std::string text(const http_api_model& api) {
  std::vector<std::string> lines;
  for (const auto& r : api.routes) {
    std::string line = r.route_key + " | " + r.method + " " + r.path + " | op " + r.operation_name +
                       " | auth " + r.authorization_type + " " + r.authorizer + " [" +
                       joined(r.authorization_scopes) + "]";
    if (const auto& i = r.integration) {
      line += " | " + i->type + " " + i->integration_method + " " + i->uri + " payload " +
              i->payload_format_version + " timeout " + std::to_string(i->timeout_ms) + " " +
              i->connection_type + " " + i->connection_id + " subtype " + i->integration_subtype +
              " cred " + i->credentials + " tls " + i->server_name_to_verify + " req " +
              pairs(i->request_parameters) + " res ";
      for (const auto& [status, rules] : i->response_parameters)
        line += status + ":" + pairs(rules);
    }
    lines.push_back(std::move(line));
  }
  std::sort(lines.begin(), lines.end());
  std::string out =
      "api " + api.id + " " + api.name + " | " + api.description + " | " + api.version + "\n";
  for (const auto& l : lines) out += l + "\n";
  for (const auto& a : api.authorizers)
    out += "authorizer " + a.name + " " + a.type + " [" + joined(a.identity_source) + "] " +
           a.issuer + " [" + joined(a.audience) + "] " + a.authorizer_uri + " " +
           a.authorizer_credentials + " " + a.payload_format_version + " " +
           (a.enable_simple_responses ? "simple" : "policy") + " ttl " +
           std::to_string(a.result_ttl_seconds) + "\n";
  return out;
}

gatehouse::export_options with(std::string extensions, bool yaml = false) {
  gatehouse::export_options o;
  o.extensions = std::move(extensions);
  o.yaml = yaml;
  return o;
}

// A document with every feature the HTTP API importer reads.
constexpr const char* everything = R"json({
  "openapi": "3.0.1",
  "info": {"title": "Everything", "description": "All of it", "version": "2.1"},
  "paths": {
    "/pets": {
      "get": {
        "operationId": "ListPets",
        "security": [{"jwt": ["pets/read", "pets/write"]}],
        "x-amazon-apigateway-integration": {
          "type": "aws_proxy", "httpMethod": "POST",
          "uri": "arn:aws:lambda:us-east-1:123456789012:function:list",
          "payloadFormatVersion": "2.0", "timeoutInMillis": 5000}
      },
      "post": {
        "security": [{"gate": []}],
        "x-amazon-apigateway-integration": {
          "$ref": "#/components/x-amazon-apigateway-integrations/shared"}
      }
    },
    "/pets/{petId}": {
      "get": {
        "security": [{"old": []}],
        "x-amazon-apigateway-integration": {
          "type": "http_proxy", "httpMethod": "GET", "uri": "http://127.0.0.1:9/pets/{petId}",
          "payloadFormatVersion": 1.0, "timeoutInMillis": 12000,
          "requestParameters": {"append:querystring.who": "$request.header.x-user",
                                "overwrite:header.x-from": "gatehouse",
                                "remove:header.x-drop": "''",
                                "overwrite:path": "/p/$request.path.petId"},
          "responseParameters": {"404": {"overwrite:statuscode": "410",
                                         "append:header.x-missing": "item $request.path.petId"},
                                 "500": {"overwrite:header.x-err": "$response.header.x-cause"}}}
      },
      "delete": {
        "x-amazon-apigateway-auth": {"type": "AWS_IAM"},
        "x-amazon-apigateway-integration": {
          "type": "AWS_PROXY", "httpMethod": "POST",
          "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:remove:live/invocations",
          "payloadFormatVersion": "1.0", "credentials": "arn:aws:iam::123456789012:role/invoke"}
      }
    },
    "/files/{proxy+}": {
      "x-amazon-apigateway-any-method": {
        "security": [{"sigv4": []}],
        "x-amazon-apigateway-integration": {
          "type": "http_proxy", "httpMethod": "ANY", "uri": "https://files.example.com/{proxy}",
          "payloadFormatVersion": "1.0", "connectionType": "VPC_LINK", "connectionId": "vl1234",
          "tlsConfig": {"serverNameToVerify": "files.example.com"}}
      }
    },
    "/queue": {
      "post": {
        "x-amazon-apigateway-integration": {
          "type": "aws_proxy", "integrationSubtype": "SQS-SendMessage",
          "credentials": "arn:aws:iam::123456789012:role/sqs", "payloadFormatVersion": "1.0"}
      }
    },
    "/$default": {
      "x-amazon-apigateway-any-method": {
        "isDefaultRoute": true,
        "x-amazon-apigateway-integration": {
          "type": "aws_proxy", "httpMethod": "POST",
          "uri": "arn:aws:lambda:eu-west-1:123456789012:function:fallback",
          "payloadFormatVersion": "2.0", "timeoutInMillis": 30000}
      }
    }
  },
  "components": {
    "securitySchemes": {
      "jwt": {"type": "oauth2", "flows": {}, "x-amazon-apigateway-authorizer": {
        "type": "jwt", "identitySource": "$request.header.Authorization",
        "jwtConfiguration": {"issuer": "https://issuer.example.com", "audience": ["a1", "a2"]}}},
      "gate": {"type": "apiKey", "name": "X-Token", "in": "header",
        "x-amazon-apigateway-authorizer": {
          "type": "request", "identitySource": "$request.header.X-Token, $request.querystring.q",
          "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:gate/invocations",
          "authorizerCredentials": "arn:aws:iam::123456789012:role/auth",
          "authorizerPayloadFormatVersion": "2.0", "enableSimpleResponses": true,
          "authorizerResultTtlInSeconds": 60}},
      "old": {"type": "apiKey", "name": "Authorization", "in": "header",
        "x-amazon-apigateway-authorizer": {
          "type": "request", "identitySource": "$request.header.Authorization",
          "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:old/invocations",
          "authorizerPayloadFormatVersion": "1.0"}},
      "sigv4": {"type": "apiKey", "name": "Authorization", "in": "header",
                "x-amazon-apigateway-authtype": "awsSigv4"}
    },
    "x-amazon-apigateway-integrations": {
      "shared": {"type": "aws_proxy", "httpMethod": "POST",
        "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:create/invocations",
        "payloadFormatVersion": "1.0"}
    }
  },
  "x-amazon-apigateway-cors": {"allowOrigins": ["https://a.example"], "allowMethods": ["GET", "POST"],
    "maxAge": 300, "allowCredentials": true, "exposeHeaders": ["x-id"],
    "allowHeaders": ["authorization"]}
})json";

// Imports `document`, exports it, imports the export: the models must say the same.
std::string round_trip(const std::string& document, bool yaml) {
  auto o = http_options();
  o.id = "abcde12345";
  auto first = gatehouse::import_openapi(document, o);
  REQUIRE(first.http_model);
  const auto exported = gatehouse::export_openapi(first, "$default", with("apigateway", yaml));
  INFO(exported);
  auto second = gatehouse::import_openapi(exported, o);
  REQUIRE(second.http_model);
  CHECK(second.warnings == first.warnings);
  CHECK(text(*second.http_model) == text(*first.http_model));
  // CORS in AWS's member order: the same object.
  rapidjson::Document a, b;
  a.Parse(first.cors.c_str());
  b.Parse(second.cors.c_str());
  CHECK(a == b);
  CHECK(first.cors.empty() == second.cors.empty());
  return exported;
}
}  // namespace

TEST_CASE("HTTP API export: AWS's petstore example, in AWS's layout", "[spec][http_export]") {
  const auto document = read_vector("http-api-petstore-cors.openapi.json");
  const auto exported = round_trip(document, false);
  auto has = [&](std::string_view s) { return exported.find(s) != std::string::npos; };
  CHECK(
      exported.starts_with("{\n  \"openapi\" : \"3.0.1\",\n  \"info\" : {\n    \"title\" : "
                           "\"Example Pet Store\",\n    \"description\" : \"A Pet Store API.\","
                           "\n    \"version\" : \"1.0\"\n  },\n  \"servers\" : [ {\n    \"url\" "
                           ": \"https://abcde12345.execute-api.us-east-1.amazonaws.com/"
                           "{basePath}\",\n    \"variables\" : {\n      \"basePath\" : {\n       "
                           " \"default\" : \"\"\n      }\n    }\n  } ],\n  \"paths\" : {\n"));
  CHECK(has(R"("description" : "Default response for GET /pets")"));
  CHECK(has(R"("description" : "Default response for GET /pets/{petId}")"));
  CHECK(has(R"("description" : "Generated path parameter for petId")"));
  CHECK(
      has("\"x-amazon-apigateway-integration\" : {\n          \"payloadFormatVersion\" : "
          "\"1.0\",\n          \"type\" : \"http_proxy\",\n          \"httpMethod\" : \"GET\",\n"
          "          \"uri\" : \"http://petstore.execute-api.us-west-1.amazonaws.com/petstore/"
          "pets\",\n          \"connectionType\" : \"INTERNET\",\n          \"timeoutInMillis\" "
          ": 30000\n        }"));
  CHECK(has("\"x-amazon-apigateway-cors\" : {\n    \"allowMethods\""));
  CHECK(exported.ends_with("\"x-amazon-apigateway-importexport-version\" : \"1.0\"\n}"));
  // Schemas, request bodies and response content are not part of an HTTP API.
  CHECK_FALSE(has("requestBody"));
  CHECK_FALSE(has("components"));
}

TEST_CASE("HTTP API export: every feature of the importer survives a round trip, JSON and YAML",
          "[spec][http_export]") {
  const auto exported = round_trip(everything, false);
  auto has = [&](std::string_view s) { return exported.find(s) != std::string::npos; };
  CHECK(
      has("\"/$default\" : {\n      \"x-amazon-apigateway-any-method\" : {\n        "
          "\"isDefaultRoute\" : true,\n        \"responses\" : {\n          \"default\" : {\n"
          "            \"description\" : \"Default response for $default\""));
  CHECK(has(R"("description" : "Generated path parameter for proxy+")"));
  CHECK(
      has("\"security\" : [ {\n          \"jwt\" : [ \"pets/read\", \"pets/write\" ]\n        "
          "} ]"));
  CHECK(
      has("\"jwt\" : {\n        \"type\" : \"oauth2\",\n        \"flows\" : { },\n        "
          "\"x-amazon-apigateway-authorizer\" : {\n          \"identitySource\" : "
          "\"$request.header.Authorization\",\n          \"jwtConfiguration\" : {\n            "
          "\"audience\" : [ \"a1\", \"a2\" ],\n            \"issuer\" : "
          "\"https://issuer.example.com\"\n          },\n          \"type\" : \"jwt\"\n"));
  CHECK(
      has("\"gate\" : {\n        \"type\" : \"apiKey\",\n        \"name\" : \"X-Token\",\n"
          "        \"in\" : \"header\",\n        \"x-amazon-apigateway-authorizer\" : {\n"
          "          \"identitySource\" : \"$request.header.X-Token, $request.querystring.q\","));
  CHECK(
      has("\"authorizerPayloadFormatVersion\" : \"2.0\",\n          "
          "\"authorizerResultTtlInSeconds\" : 60,\n          \"type\" : \"request\",\n          "
          "\"enableSimpleResponses\" : true\n"));
  CHECK(has("\"x-amazon-apigateway-authtype\" : \"awsSigv4\""));
  CHECK(has("\"operationId\" : \"ListPets\""));
  // A Lambda proxy's default timeout is left out; another is written.
  CHECK(has("\"timeoutInMillis\" : 5000"));
  CHECK(has("function:fallback\",\n          \"connectionType\" : \"INTERNET\"\n        }"));
  // The shared integration is written where it is used.
  CHECK_FALSE(has("x-amazon-apigateway-integrations"));

  const auto yaml = round_trip(everything, true);
  CHECK(yaml.starts_with("---\nopenapi: \"3.0.1\""));
}

TEST_CASE("HTTP API export: extensions all or none, OAS 3.0 only, the stage's base path",
          "[spec][http_export]") {
  auto o = http_options();
  o.id = "abcde12345";
  auto api = gatehouse::import_openapi(everything, o);
  const auto plain = gatehouse::export_openapi(api, "$default", with(""));
  for (std::string_view ext :
       {"-integration", "-authorizer", "-authtype", "-cors", "-importexport"})
    CHECK(plain.find("x-amazon-apigateway" + std::string(ext)) == std::string::npos);
  // Still the routes (ANY ones as AWS's any-method: UNCONFIRMED without extensions), their
  // security and the schemes (without their authorizers).
  CHECK(plain.find("\"/$default\" : {\n      \"x-amazon-apigateway-any-method\"") !=
        std::string::npos);
  CHECK(plain.find("\"/files/{proxy+}\"") != std::string::npos);
  CHECK(plain.find("\"type\" : \"oauth2\"") != std::string::npos);
  // Any of AWS's names means all of HTTP APIs' extensions; others are refused as for REST.
  CHECK(gatehouse::export_openapi(api, "$default", with("integrations")) ==
        gatehouse::export_openapi(api, "$default", with("apigateway")));
  CHECK_THROWS_AS(gatehouse::export_openapi(api, "$default", with("postmen")),
                  gatehouse::config_error);
  gatehouse::export_options swagger = with("apigateway");
  swagger.format = gatehouse::openapi_format::swagger;
  CHECK_THROWS_WITH(gatehouse::export_openapi(api, "$default", swagger),
                    Catch::Contains("OAS30, for OpenAPI 3.0, is the only supported value."));
  // A named stage is the base path; the region names the host.
  gatehouse::export_options west = with("apigateway");
  west.region = "eu-west-1";
  const auto staged = gatehouse::export_openapi(api, "prod", west);
  CHECK(staged.find("\"url\" : \"https://abcde12345.execute-api.eu-west-1.amazonaws.com/"
                    "{basePath}\",\n    \"variables\" : {\n      \"basePath\" : {\n        "
                    "\"default\" : \"prod\"") != std::string::npos);
}

TEST_CASE("HTTP API export: a stage of an imported API exports the document's API",
          "[spec][http_export]") {
  auto o = http_options();
  o.id = "abcde12345";
  auto api = gatehouse::import_openapi(everything, o);
  gatehouse::Stage stage("live", api.router.deploy());
  CHECK(gatehouse::export_openapi(stage, with("apigateway")) ==
        gatehouse::export_openapi(api, "live", with("apigateway")));
  // Without a version, AWS writes the deployment's time.
  auto versionless = gatehouse::import_openapi(
      R"({"openapi":"3.0.1","info":{"title":"t"},"paths":{"/a":{"get":{
          "x-amazon-apigateway-integration":{"type":"http_proxy","httpMethod":"GET",
          "uri":"http://127.0.0.1:9/a","payloadFormatVersion":"1.0"}}}}})",
      o);
  const auto exported =
      gatehouse::export_openapi(gatehouse::Stage("dev", versionless.router.deploy()));
  CHECK(std::regex_search(exported,
                          std::regex(R"("version" : "\d{4}-\d\d-\d\d \d\d:\d\d:\d\dUTC")")));
}
