// The client's view of an API: AWS's JavaScript method names (the paths of AWS's documentation),
// ANY as each verb, modelled parameters and bodies, unique names, the SDK types AWS knows.

#include "sdk/sdk_model.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/openapi.hpp>
#include <gatehouse/sdk.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using gatehouse::sdk::camel_case;
using gatehouse::sdk::method_words;
using gatehouse::sdk::snake_case;

namespace {
std::string js_name(std::string_view path, std::string_view verb) {
  return camel_case(method_words(path, verb));
}

const gatehouse::sdk::operation* find(const gatehouse::sdk::api& a, std::string_view name) {
  for (const auto& op : a.operations)
    if (op.name == name) return &op;
  return nullptr;
}
}  // namespace

TEST_CASE("sdk: method names as AWS's JavaScript SDK names them", "[sdk]") {
  // The examples of AWS's developer guide (how-to-generate-sdk-javascript, simple-calc).
  CHECK(js_name("/", "GET") == "rootGet");
  CHECK(js_name("/", "POST") == "rootPost");
  CHECK(js_name("/{a}/{b}/{op}", "GET") == "aBOpGet");
  CHECK(js_name("/pets/{petId}", "GET") == "petsPetIdGet");
  CHECK(js_name("/pets", "OPTIONS") == "petsOptions");
  CHECK(js_name("/get-track-info-by-tag", "GET") == "getTrackInfoByTagGet");
  CHECK(js_name("/get_bookings", "GET") == "getBookingsGet");
  CHECK(js_name("/{bucket}/{filename}", "PUT") == "bucketFilenamePut");
  CHECK(js_name("/{proxy+}", "OPTIONS") == "proxyOptions");
  CHECK(js_name("/legacy/{proxy+}", "DELETE") == "legacyProxyDelete");
  CHECK(js_name("/v1.2/HTMLPage", "GET") == "v12HTMLPageGet");

  CHECK(snake_case(method_words("/pets/{petId}", "GET")) == "pets_pet_id_get");
  CHECK(snake_case(method_words("/get-track-info-by-tag", "GET")) == "get_track_info_by_tag_get");
  CHECK(snake_case(method_words("/2fa", "POST")) == "_2fa_post");
  CHECK(gatehouse::sdk::pascal_case(method_words("/pets/{petId}", "GET")) == "PetsPetIdGet");
}

TEST_CASE("sdk: operations of an imported REST API", "[sdk]") {
  auto api = gatehouse::import_openapi(R"({
    "swagger": "2.0", "info": {"title": "Shop", "version": "1"},
    "paths": {
      "/pets": {
        "get": {"parameters": [{"name": "type", "in": "query", "type": "string"},
                               {"name": "x-trace", "in": "header", "required": true,
                                "type": "string"}],
                "responses": {"200": {"description": "ok",
                                      "schema": {"$ref": "#/definitions/Pets"}}}},
        "post": {"parameters": [{"name": "pet", "in": "body", "schema": {"$ref": "#/definitions/Pet"}}],
                 "security": [{"api_key": []}],
                 "responses": {"201": {"description": "made"}}}
      },
      "/pets/{petId}": {"get": {"parameters": [{"name": "petId", "in": "path", "required": true,
                                                "type": "string"}],
                                "responses": {"200": {"description": "ok"}}}},
      "/a-b": {"get": {"responses": {"200": {"description": "ok"}}}},
      "/a_b": {"get": {"responses": {"200": {"description": "ok"}}}},
      "/files/{proxy+}": {
        "get": {"responses": {"200": {"description": "ok"}}},
        "x-amazon-apigateway-any-method": {"responses": {"200": {"description": "ok"}}}
      }
    },
    "securityDefinitions": {"api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}},
    "definitions": {
      "Pet": {"type": "object", "properties": {"id": {"type": "integer"}}},
      "Pets": {"type": "array", "items": {"$ref": "#/definitions/Pet"}}
    }
  })");
  auto a = gatehouse::sdk::from_rest(*api.model, "prod", {});
  CHECK(a.invoke_url == "https://" + api.id + ".execute-api.us-east-1.amazonaws.com/prod");

  auto* get = find(a, "petsGet");
  REQUIRE(get);
  REQUIRE(get->query_parameters.size() == 1);
  CHECK(get->query_parameters[0].name == "type");
  CHECK_FALSE(get->query_parameters[0].required);
  REQUIRE(get->header_parameters.size() == 1);
  CHECK(get->header_parameters[0].name == "x-trace");
  CHECK(get->header_parameters[0].required);
  CHECK(get->response_model == "Pets");

  auto* post = find(a, "petsPost");
  REQUIRE(post);
  CHECK(post->api_key_required);
  CHECK(post->body_model == "Pet");

  auto* by_id = find(a, "petsPetIdGet");
  REQUIRE(by_id);
  REQUIRE(by_id->path_parameters.size() == 1);
  CHECK(by_id->path_parameters[0].name == "petId");

  // /a-b and /a_b both make "aBGet": the later one gets a number.
  CHECK(find(a, "aBGet"));
  CHECK(find(a, "aBGet2"));

  // ANY stands for every verb the resource has no method of its own for; the greedy parameter
  // is named.
  for (auto name : {"filesProxyGet", "filesProxyPost", "filesProxyPut", "filesProxyDelete",
                    "filesProxyPatch", "filesProxyHead", "filesProxyOptions"}) {
    INFO(name);
    auto* op = find(a, name);
    REQUIRE(op);
    CHECK(op->greedy_parameter == "proxy");
    CHECK(op->http_method != "ANY");
  }

  // Models keep their schemas, $refs in the document's #/definitions form.
  REQUIRE(a.models.size() == 2);
  CHECK(a.models[1].name == "Pets");
  CHECK(a.models[1].schema.find("\"#/definitions/Pet\"") != std::string::npos);

  gatehouse::sdk_options options{.invoke_url = "http://127.0.0.1:8080/prod/"};
  CHECK(gatehouse::sdk::from_rest(*api.model, "prod", options).invoke_url ==
        "http://127.0.0.1:8080/prod");
}

TEST_CASE("sdk: operations of an imported HTTP API; its $default route has no method", "[sdk]") {
  gatehouse::openapi_options o;
  o.type = gatehouse::api_type::http;
  auto api = gatehouse::import_openapi(R"({
    "openapi": "3.0.1", "info": {"title": "Orders", "version": "1"},
    "paths": {
      "/orders/{id}": {"get": {"x-amazon-apigateway-integration": {"type": "http_proxy",
          "httpMethod": "GET", "uri": "http://127.0.0.1:9/x", "payloadFormatVersion": "1.0"}}},
      "/$default": {"x-amazon-apigateway-any-method": {"isDefaultRoute": true,
          "x-amazon-apigateway-integration": {"type": "http_proxy", "httpMethod": "ANY",
          "uri": "http://127.0.0.1:9/", "payloadFormatVersion": "1.0"}}}
    }
  })",
                                       o);
  auto a = gatehouse::sdk::from_http(*api.http_model, "$default", {});
  CHECK(a.invoke_url == "https://" + api.id + ".execute-api.us-east-1.amazonaws.com");
  REQUIRE(a.operations.size() == 1);
  CHECK(a.operations[0].name == "ordersIdGet");
  CHECK(a.models.empty());
}

TEST_CASE("sdk: the SDK types gatehouse generates; AWS's others are refused by name", "[sdk]") {
  CHECK(gatehouse::parse_sdk_type("javascript") == gatehouse::sdk_type::javascript);
  CHECK(gatehouse::parse_sdk_type("typescript") == gatehouse::sdk_type::typescript);
  CHECK(gatehouse::parse_sdk_type("cpp") == gatehouse::sdk_type::cpp);
  for (auto aws : {"java", "android", "objectivec", "swift", "ruby"})
    CHECK_THROWS_WITH(gatehouse::parse_sdk_type(aws),
                      Catch::Contains(std::string("AWS's '") + aws + "' SDK"));
  CHECK_THROWS_WITH(gatehouse::parse_sdk_type("cobol"),
                    Catch::Contains("unknown SDK type 'cobol'"));
}
