// Exporting REST APIs as AWS's GetExport does: AWS's four recorded exports of an imported
// document, field by field and in AWS's key order; AWS's JSON printing; YAML; extension sets;
// and exports that import back into the same API.

#include "spec/describe.hpp"
#include "spec/model.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/openapi.hpp>

#include "harness.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {
using gatehouse::export_options;
using gatehouse::openapi_format;

std::string read_vector(const std::string& name) {
  std::ifstream in(test::vectors_dir() + "/openapi/" + name, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return b.GetString();
}

std::string compact(std::string_view text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  REQUIRE_FALSE(d.HasParseError());
  return compact(d);
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

// Everything an API is made of, as AWS's management API describes it.
std::string described(const gatehouse::openapi_api& api) {
  using namespace gatehouse::spec;
  const auto& m = *api.model;
  std::string out = describe_rest_api(m) + "\n" + describe_resources(m) + "\n" +
                    describe_authorizers(m) + "\n" + describe_models(m) + "\n";
  for (const auto& r : m.resources)
    for (const auto& method : r.methods) out += describe_method(m, r, method) + "\n";
  for (const auto& v : m.validators)
    out +=
        v.name + (v.validate_body ? " body" : "") + (v.validate_parameters ? " params" : "") + "\n";
  for (const auto& g : m.gateway_responses) {
    out += g.type + " " + g.status_code;
    for (const auto& [k, v] : g.response_parameters) out += " " + k + "=" + v;
    for (const auto& [k, v] : g.response_templates) out += " " + k + "=" + v;
    out += "\n";
  }
  return out;
}

// Import settings: AWS-service integrations need credentials to be built at all.
gatehouse::openapi_options options(std::string id = "") {
  gatehouse::openapi_options o;
  o.id = std::move(id);
  o.service_credentials = {"AKIDEXAMPLE", "secret", ""};
  return o;
}

// Exports `api` with every extension in both formats, JSON and YAML, imports each export, and
// checks that it is the same API.
void check_round_trips(const gatehouse::openapi_api& api) {
  for (auto format : {openapi_format::swagger, openapi_format::oas30}) {
    for (bool yaml : {false, true}) {
      INFO((format == openapi_format::swagger ? "swagger" : "oas30") << (yaml ? " yaml" : ""));
      auto doc = gatehouse::export_openapi(
          api, "prod", {.format = format, .extensions = "apigateway", .yaml = yaml});
      INFO(doc);
      auto again = gatehouse::import_openapi(doc, options(api.id));
      CHECK(described(again) == described(api));
      CHECK(again.warnings.empty());
    }
  }
}

// What AWS answered for GetExport of stage `local` after importing `document` [LS-AWS].
struct recorded_export {
  std::string test, key, body;
};
std::vector<recorded_export> recorded_exports() {
  rapidjson::Document d;
  auto text = read_vector("pets-binary-media.aws-recorded.json");
  d.Parse(text.data(), text.size());
  REQUIRE_FALSE(d.HasParseError());
  std::vector<recorded_export> out;
  for (const auto& t : d["tests"].GetArray()) {
    std::string name = t["test"].GetString();
    if (name.find("test_export_") == std::string::npos) continue;
    for (const char* key : {"get-export", "get-export-with-extensions"})
      out.push_back({name, key, compact(t["recorded-content"][key]["body"])});
  }
  return out;
}
}  // namespace

TEST_CASE("export: AWS's four recorded exports of pets-binary-media, field by field", "[spec]") {
  auto api = gatehouse::import_openapi(read_vector("pets-binary-media.swagger.json"));
  auto recorded = recorded_exports();
  REQUIRE(recorded.size() == 4);
  for (const auto& r : recorded) {
    INFO(r.test << " " << r.key);
    const bool oas3 = r.test.find("oas30") != std::string::npos;
    const bool extensions = r.key == "get-export-with-extensions";
    export_options o{.format = oas3 ? openapi_format::oas30 : openapi_format::swagger,
                     .extensions = extensions ? "apigateway" : ""};
    auto expected = replace_all(replace_all(r.body, "<api-id:1>", api.id), "<region>", "us-east-1");
    // Compact texts compare values and AWS's key order at once.
    CHECK(compact(gatehouse::export_openapi(api, "local", o)) == expected);
  }
}

TEST_CASE("export: printed as AWS prints JSON", "[spec]") {
  auto api = gatehouse::import_openapi(read_vector("pets-binary-media.swagger.json"),
                                       {.id = "abcde12345"});
  auto doc = gatehouse::export_openapi(api, "local", {.format = openapi_format::swagger});
  CHECK(
      doc.starts_with("{\n  \"swagger\" : \"2.0\",\n  \"info\" : {\n    \"version\" : "
                      "\"1.0.0\",\n    \"title\" : \"Simple PetStore (Swagger)\"\n  },\n"
                      "  \"host\" : \"abcde12345.execute-api.us-east-1.amazonaws.com\",\n"
                      "  \"basePath\" : \"/local\",\n  \"schemes\" : [ \"https\" ],\n"));
  CHECK(doc.find("        \"parameters\" : [ {\n          \"name\" : \"petId\",\n") !=
        std::string::npos);
  CHECK(doc.find("\n        } ],\n") != std::string::npos);
  CHECK(doc.ends_with("\n  }\n}"));
  auto oas = gatehouse::export_openapi(api, "local", {.region = "eu-west-1"});
  CHECK(
      oas.find("\"url\" : \"https://abcde12345.execute-api.eu-west-1.amazonaws.com/{basePath}\"") !=
      std::string::npos);
  CHECK(oas.find("\"content\" : { }") != std::string::npos);
  CHECK(oas.ends_with("\"components\" : { }\n}"));
}

TEST_CASE("export: YAML reads back as the JSON export", "[spec]") {
  auto api = gatehouse::import_openapi(read_vector("pets-binary-media.swagger.json"));
  for (auto format : {openapi_format::swagger, openapi_format::oas30}) {
    export_options o{.format = format, .extensions = "apigateway"};
    auto json = gatehouse::export_openapi(api, "local", o);
    o.yaml = true;
    auto yaml = gatehouse::export_openapi(api, "local", o);
    CHECK(yaml.starts_with("---\n"));
    CHECK((yaml.find("{basePath}") != std::string::npos || format == openapi_format::swagger));
    // The importer reads YAML into the same DOM as JSON: an export of the YAML's import.
    auto from_yaml = gatehouse::import_openapi(yaml, {.id = api.id});
    CHECK(gatehouse::export_openapi(from_yaml, "local",
                                    {.format = format, .extensions = "apigateway"}) == json);
  }
}

TEST_CASE("export: extension sets as AWS's `extensions` parameter", "[spec]") {
  auto api = gatehouse::import_openapi(R"({"swagger":"2.0","info":{"title":"T","version":"1"},
    "securityDefinitions":{"tok":{"type":"apiKey","name":"Authorization","in":"header",
      "x-amazon-apigateway-authtype":"custom","x-amazon-apigateway-authorizer":{"type":"token",
      "authorizerUri":"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:auth/invocations"}}},
    "x-amazon-apigateway-request-validators":{"all":{"validateRequestBody":true,
      "validateRequestParameters":true}},
    "x-amazon-apigateway-binary-media-types":["image/png"],
    "paths":{"/a":{"get":{"security":[{"tok":[]}],"x-amazon-apigateway-request-validator":"all",
      "responses":{"200":{"description":"ok"}},
      "x-amazon-apigateway-integration":{"type":"mock","requestTemplates":
        {"application/json":"{\"statusCode\": 200}"},"responses":{"default":{"statusCode":"200"}}}}}}})");
  auto with = [&](std::string ext) {
    return gatehouse::export_openapi(api, "s", {.extensions = std::move(ext)});
  };
  auto has = [](const std::string& doc, std::string_view what) {
    return doc.find(what) != std::string::npos;
  };
  auto plain = with("");
  CHECK_FALSE(has(plain, "x-amazon-apigateway-integration"));
  CHECK_FALSE(has(plain, "x-amazon-apigateway-authorizer"));
  CHECK_FALSE(has(plain, "x-amazon-apigateway-request-validator"));
  CHECK(has(plain, "\"tok\" : [ ]"));  // the requirement and its scheme are plain OpenAPI
  CHECK(has(plain, "\"securitySchemes\""));
  auto integrations = with("integrations");
  CHECK(has(integrations, "x-amazon-apigateway-integration"));
  CHECK_FALSE(has(integrations, "x-amazon-apigateway-authorizer"));
  CHECK_FALSE(has(integrations, "x-amazon-apigateway-binary-media-types"));
  auto authorizers = with("authorizers");
  CHECK(has(authorizers, "x-amazon-apigateway-authorizer"));
  CHECK_FALSE(has(authorizers, "x-amazon-apigateway-integration"));
  auto validators = with(" validators ");
  CHECK(has(validators, "\"x-amazon-apigateway-request-validator\" : \"all\""));
  CHECK(has(validators, "\"x-amazon-apigateway-request-validators\" : {"));
  CHECK_FALSE(has(validators, "x-amazon-apigateway-integration"));
  auto both = with("integrations,authorizers");
  CHECK(has(both, "x-amazon-apigateway-integration"));
  CHECK(has(both, "x-amazon-apigateway-authorizer"));
  auto all = with("apigateway");
  for (auto what :
       {"x-amazon-apigateway-integration", "x-amazon-apigateway-authorizer",
        "x-amazon-apigateway-request-validators", "x-amazon-apigateway-binary-media-types"})
    CHECK(has(all, what));
  // Root extensions are written last.
  CHECK((all.rfind("\"components\"") < all.find("x-amazon-apigateway-request-validators")));

  auto error = [&](std::string ext) -> std::string {
    try {
      with(std::move(ext));
    } catch (const gatehouse::config_error& e) {
      return e.what();
    }
    return "<exported>";
  };
  CHECK(error("integrations,postman,nope") ==
        "export extensions: unknown names 'postman', 'nope' (known: integrations, authorizers, "
        "validators, apigateway)");
  CHECK(error("integration") ==
        "export extensions: unknown name 'integration' (known: integrations, authorizers, "
        "validators, apigateway)");
  CHECK_THROWS_AS(gatehouse::export_openapi(api, ""), gatehouse::config_error);
}

TEST_CASE("export: AWS's vectors and a full document import back as the same API", "[spec]") {
  check_round_trips(gatehouse::import_openapi(read_vector("pets-binary-media.swagger.json")));
  check_round_trips(
      gatehouse::import_openapi(read_vector("sam-shopping-cart-mock-cors.swagger.json")));
}

namespace {
// Every part of a REST API that AWS's extensions carry.
constexpr const char* full_swagger = R"({
  "swagger": "2.0",
  "info": {"title": "Full", "description": "Everything", "version": "7"},
  "basePath": "/v1",
  "securityDefinitions": {
    "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
    "sigv4": {"type": "apiKey", "name": "Authorization", "in": "header",
              "x-amazon-apigateway-authtype": "awsSigv4"},
    "tok": {"type": "apiKey", "name": "X-Token", "in": "header",
            "x-amazon-apigateway-authtype": "custom",
            "x-amazon-apigateway-authorizer": {"type": "token",
              "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:tok/invocations",
              "authorizerCredentials": "arn:aws:iam::1:role/r",
              "authorizerResultTtlInSeconds": 60, "identityValidationExpression": "^Bearer .+$"}},
    "req": {"type": "apiKey", "name": "Unused", "in": "header",
            "x-amazon-apigateway-authtype": "custom",
            "x-amazon-apigateway-authorizer": {"type": "request",
              "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:req/invocations",
              "identitySource": "method.request.header.A, method.request.querystring.b",
              "authorizerResultTtlInSeconds": 0}},
    "pool": {"type": "apiKey", "name": "Authorization", "in": "header",
             "x-amazon-apigateway-authtype": "cognito_user_pools",
             "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools",
               "providerARNs": ["arn:aws:cognito-idp:us-east-1:1:userpool/us-east-1_abc"]}}
  },
  "definitions": {
    "Pet": {"type": "object", "required": ["type"], "properties": {
      "type": {"type": "string", "enum": ["dog", "cat"]},
      "price": {"type": "number", "minimum": 25, "maximum": 500},
      "owner": {"$ref": "#/definitions/Owner"}}},
    "Owner": {"type": "object", "properties": {"pets": {"type": "array",
      "items": {"$ref": "#/definitions/Pet"}}, "name": {"$ref": "#/definitions/Pet/properties/type"}}},
    "Pets": {"type": "array", "items": {"$ref": "#/definitions/Pet"}}
  },
  "x-amazon-apigateway-request-validators": {
    "all": {"validateRequestBody": true, "validateRequestParameters": true},
    "params": {"validateRequestBody": false, "validateRequestParameters": true}
  },
  "x-amazon-apigateway-gateway-responses": {
    "DEFAULT_4XX": {"responseParameters": {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}},
    "MISSING_AUTHENTICATION_TOKEN": {"statusCode": "404",
      "responseTemplates": {"application/json": "{\"message\": $context.error.messageString}"}}
  },
  "x-amazon-apigateway-policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]},
  "x-amazon-apigateway-api-key-source": "AUTHORIZER",
  "x-amazon-apigateway-endpoint-configuration": {"types": ["REGIONAL"]},
  "x-amazon-apigateway-minimum-compression-size": 1024,
  "x-amazon-apigateway-binary-media-types": ["image/png", "*/*"],
  "paths": {
    "/": {"get": {"responses": {"200": {"description": "ok"}},
      "x-amazon-apigateway-integration": {"type": "mock",
        "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
        "responses": {"default": {"statusCode": "200",
          "responseTemplates": {"text/html": "<p>hi</p>"}}}}}},
    "/pets": {
      "get": {"operationId": "ListPets", "produces": ["application/json"],
        "security": [{"api_key": []}],
        "x-amazon-apigateway-request-validator": "params",
        "parameters": [{"name": "type", "in": "query", "type": "string"},
                       {"name": "page", "in": "query", "required": true, "type": "string"},
                       {"name": "X-Trace", "in": "header", "type": "string"}],
        "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Pets"},
                              "headers": {"X-Count": {"type": "string"}}},
                      "500": {"description": "bad"}},
        "x-amazon-apigateway-integration": {"type": "http", "httpMethod": "GET",
          "uri": "https://backend.example/pets", "timeoutInMillis": 5000,
          "cacheNamespace": "petsns",
          "cacheKeyParameters": ["method.request.querystring.type"],
          "tlsConfig": {"insecureSkipVerification": true},
          "requestParameters": {"integration.request.querystring.t": "method.request.querystring.type",
                                "integration.request.header.X-Stage": "stageVariables.stage"},
          "passthroughBehavior": "when_no_templates",
          "responses": {"5\\d{2}": {"statusCode": "500",
                          "responseTemplates": {"application/json": "{\"error\": true}"}},
                        "default": {"statusCode": "200",
                          "responseParameters": {"method.response.header.X-Count": "integration.response.header.X-Count"}}}}},
      "post": {"operationId": "CreatePet", "consumes": ["application/json"],
        "security": [{"sigv4": []}, {"api_key": []}],
        "x-amazon-apigateway-request-validator": "all",
        "parameters": [{"in": "body", "name": "Pet", "required": true,
                        "schema": {"$ref": "#/definitions/Pet"}}],
        "responses": {"201": {"description": "made", "schema": {"$ref": "#/definitions/Pet"}}},
        "x-amazon-apigateway-integration": {"type": "aws", "httpMethod": "POST",
          "uri": "arn:aws:apigateway:us-east-1:sqs:path/1/queue",
          "credentials": "arn:aws:iam::1:role/sqs", "contentHandling": "CONVERT_TO_TEXT",
          "requestTemplates": {"application/json": "Action=SendMessage&MessageBody=$input.body"},
          "passthroughBehavior": "never",
          "responses": {"default": {"statusCode": "201"}}}}
    },
    "/pets/{petId}": {
      "get": {"security": [{"tok": []}],
        "responses": {"200": {"description": "ok"}},
        "x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST",
          "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:get-pet/invocations"}},
      "delete": {"security": [{"req": []}],
        "responses": {},
        "x-amazon-apigateway-integration": {"type": "http_proxy", "httpMethod": "DELETE",
          "uri": "http://backend.example/pets/{id}",
          "requestParameters": {"integration.request.path.id": "method.request.path.petId"}}}
    },
    "/pets/{petId}/owner": {
      "get": {"security": [{"pool": ["pets/read", "pets/write"]}],
        "responses": {"200": {"description": "ok"}},
        "x-amazon-apigateway-integration": {"type": "mock",
          "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
          "responses": {"default": {"statusCode": "200"}}}}
    },
    "/legacy/{proxy+}": {
      "x-amazon-apigateway-any-method": {"parameters": [{"name": "proxy", "in": "path",
          "required": true, "type": "string"}],
        "responses": {},
        "x-amazon-apigateway-integration": {"type": "http_proxy", "httpMethod": "ANY",
          "uri": "http://${stageVariables.backend}/{proxy}", "connectionType": "VPC_LINK",
          "connectionId": "${stageVariables.link}",
          "requestParameters": {"integration.request.path.proxy": "method.request.path.proxy"}}}
    }
  }
})";

// The YAML document of the import tests.
constexpr const char* yaml_document = R"(
openapi: 3.0.1
info:
  title: Pets
  version: 2024-01-01
paths:
  /pets/{petId}:
    get:
      parameters:
        - name: petId
          in: path
          required: true
      responses:
        200:
          description: ok
      x-amazon-apigateway-integration:
        type: http
        httpMethod: GET
        uri: http://backend.example/pets/{petId}
        requestParameters:
          integration.request.path.petId: method.request.path.petId
        responses:
          default:
            statusCode: 200
)";
}  // namespace

TEST_CASE("export: every extension imports back as the same API", "[spec]") {
  auto api = gatehouse::import_openapi(full_swagger, options());
  REQUIRE(api.warnings.empty());
  REQUIRE(api.model->authorizers.size() == 3);
  REQUIRE(api.model->gateway_responses.size() == 2);
  check_round_trips(api);
  check_round_trips(gatehouse::import_openapi(yaml_document));
  // Exported as OpenAPI 3, imported, and exported as Swagger again: the same Swagger.
  auto oas = gatehouse::export_openapi(api, "prod", {.extensions = "apigateway"});
  auto swagger = [](const gatehouse::openapi_api& a) {
    return gatehouse::export_openapi(
        a, "prod", {.format = openapi_format::swagger, .extensions = "apigateway"});
  };
  CHECK(swagger(gatehouse::import_openapi(oas, options(api.id))) == swagger(api));
}

TEST_CASE("export: AWS's layout of parameters, bodies, responses and security", "[spec]") {
  auto api = gatehouse::import_openapi(full_swagger, options("abcde12345"));
  auto oas = compact(gatehouse::export_openapi(api, "prod", {.extensions = "apigateway"}));
  auto has = [&](std::string_view what) { return oas.find(what) != std::string::npos; };
  // Optional parameters leave `required` out in OpenAPI 3; Swagger writes false.
  CHECK(has(R"("parameters":[{"name":"type","in":"query","schema":{"type":"string"}},)"
            R"({"name":"page","in":"query","required":true,"schema":{"type":"string"}},)"));
  CHECK(has(R"("requestBody":{"content":{"application/json":{"schema":)"
            R"({"$ref":"#/components/schemas/Pet"}}},"required":true})"));
  CHECK(has(R"("200":{"description":"200 response","headers":{"X-Count":{"schema":)"
            R"({"type":"string"}}},"content":{"application/json":{"schema":)"
            R"({"$ref":"#/components/schemas/Pets"}}}})"));
  CHECK(has(R"("security":[{"sigv4":[]},{"api_key":[]}])"));
  CHECK(has(R"("security":[{"pool":["pets/read","pets/write"]}])"));
  // Model $refs back in the document's form, inside models too.
  CHECK(has(R"("owner":{"$ref":"#/components/schemas/Owner"})"));
  CHECK(has(R"("name":{"$ref":"#/components/schemas/Pet/properties/type"})"));
  CHECK(has(R"("sigv4":{"type":"apiKey","name":"Authorization","in":"header",)"
            R"("x-amazon-apigateway-authtype":"awsSigv4"})"));
  CHECK(has(R"("tok":{"type":"apiKey","name":"X-Token","in":"header",)"
            R"("x-amazon-apigateway-authtype":"custom","x-amazon-apigateway-authorizer":)"
            R"({"authorizerUri":)"));
  // Defaults are left out; what differs from them is written, lower-case where AWS writes so.
  CHECK(has(R"("passthroughBehavior":"when_no_templates","timeoutInMillis":5000,)"
            R"("cacheNamespace":"petsns","cacheKeyParameters":["method.request.querystring.type"],)"
            R"("tlsConfig":{"insecureSkipVerification":true},"type":"http"})"));
  CHECK_FALSE(has("29000"));
  CHECK_FALSE(has("INTERNET"));
  CHECK(has(R"("x-amazon-apigateway-any-method":)"));

  auto sw = compact(gatehouse::export_openapi(
      api, "prod", {.format = openapi_format::swagger, .extensions = "apigateway"}));
  auto sw_has = [&](std::string_view what) { return sw.find(what) != std::string::npos; };
  CHECK(sw_has(R"("info":{"description":"Everything","version":"7","title":"Full"})"));
  CHECK(sw_has(R"({"name":"type","in":"query","required":false,"type":"string"})"));
  CHECK(sw_has(R"({"in":"body","name":"Pet","required":true,)"
               R"("schema":{"$ref":"#/definitions/Pet"}})"));
  CHECK(sw_has(R"("200":{"description":"200 response","schema":{"$ref":"#/definitions/Pets"},)"
               R"("headers":{"X-Count":{"type":"string"}}})"));
  CHECK(sw_has(R"("x-amazon-apigateway-integration":{"type":"aws","credentials":)"));
  CHECK(sw_has(R"("get":{"operationId":"ListPets","produces":["application/json"],)"));
}
