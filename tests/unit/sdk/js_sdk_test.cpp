// The JavaScript and TypeScript generators' details that need no node: the runtime written once
// (its types kept for TypeScript, dropped for JavaScript), the method list (ANY as each verb,
// greedy paths), what each method hands the runtime, literals and quoting, the types made from
// JSON Schema models, the package files. Node runs the generated clients in
// tests/integration/examples/sdk_js_test.cpp.

#include "sdk/js_common.hpp"
#include "sdk/sdk_model.hpp"

#include <gatehouse/openapi.hpp>
#include <gatehouse/sdk.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace js = gatehouse::sdk::js;
using Catch::Contains;

namespace {

bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// An API with what the generators must get right: ANY beside GET on a greedy path, header and
// query parameters (one required, one named as no identifier), models of every shape.
gatehouse::openapi_api sample_api() {
  return gatehouse::import_openapi(R"({
    "swagger": "2.0", "info": {"title": "Shop's \"Best\" API", "version": "2.1"},
    "paths": {
      "/": {"get": {"responses": {"200": {"description": "ok"}}}},
      "/orders/{orderId}": {
        "get": {"parameters": [
                  {"name": "orderId", "in": "path", "required": true, "type": "string"},
                  {"name": "x-trace-id", "in": "header", "required": true, "type": "string"},
                  {"name": "fields", "in": "query", "type": "string"}],
                "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Order"}}}},
        "put": {"parameters": [
                  {"name": "orderId", "in": "path", "required": true, "type": "string"},
                  {"name": "order", "in": "body", "schema": {"$ref": "#/definitions/Order"}}],
                "security": [{"api_key": []}],
                "responses": {"200": {"description": "ok"}}}
      },
      "/files/{proxy+}": {
        "get": {"responses": {"200": {"description": "ok"}}},
        "x-amazon-apigateway-any-method": {"responses": {"200": {"description": "ok"}}}
      }
    },
    "securityDefinitions": {"api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}},
    "definitions": {
      "Order": {"type": "object", "description": "An order. Not */ a comment end",
                "required": ["id", "lines"],
                "properties": {
                  "id": {"type": "string"},
                  "status": {"type": "string", "enum": ["open", "paid"]},
                  "lines": {"type": "array", "items": {"$ref": "#/definitions/Line"}},
                  "note": {"type": ["string", "null"]},
                  "ship-to": {"type": "object", "properties": {"city": {"type": "string"}}},
                  "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                  "extra": {"allOf": [{"$ref": "#/definitions/Line"}, {"type": "object"}]},
                  "whatever": {}
                },
                "additionalProperties": {"type": "integer"}},
      "Line": {"type": "object", "properties": {"qty": {"type": "integer"}, "sku": {"type": "string"}}},
      "Counts": {"type": "object", "required": ["total"], "additionalProperties": {"type": "integer"},
                 "properties": {"total": {"type": "integer"}, "label": {"type": ["string", "null"]}}},
      "Error": {"type": "object", "properties": {"message": {"type": "string"}}},
      "codes": {"type": "array", "items": {"type": "integer", "enum": [1, 2, 3]}}
    }
  })");
}

gatehouse::sdk::api sample_model() {
  auto api = sample_api();
  return gatehouse::sdk::from_rest(*api.model, "prod",
                                   {.invoke_url = "https://shop.example.com/prod/"});
}

}  // namespace

TEST_CASE("sdk js: the runtime is written once; TypeScript keeps its types, JavaScript drops them",
          "[sdk]") {
  const std::string source =
      "/*::\nexport type A = string;\n*/\n"
      "/*:: export */ class E extends Error {\n"
      "  /*:: response: A; */\n"
      "  constructor(message /*: string */) {\n"
      "    super(message /*:: as string */);\n"
      "  }\n"
      "}\n";
  CHECK(js::strip_types(source, false) ==
        "class E extends Error {\n"
        "  constructor(message) {\n"
        "    super(message);\n"
        "  }\n"
        "}\n");
  CHECK(js::strip_types(source, true) ==
        "export type A = string;\n"
        "export class E extends Error {\n"
        "  response: A;\n"
        "  constructor(message: string) {\n"
        "    super(message as string);\n"
        "  }\n"
        "}\n");

  const std::string plain = js::runtime(false), typed = js::runtime(true);
  CHECK_FALSE(has(plain, "/*:"));
  CHECK_FALSE(has(typed, "/*:"));
  CHECK_FALSE(has(plain, "interface "));
  CHECK_FALSE(has(plain, "export "));
  CHECK(has(typed, "export class ApiError extends Error"));
  CHECK(has(typed, "export interface ApigResponse<T = unknown>"));
  CHECK(has(typed, "function sign(settings: Settings, method: string, url: URL,"));
  // The parts of AWS's behaviour that live in the runtime, in both.
  for (const auto* code : {&plain, &typed}) {
    CHECK(has(*code, "' must be defined'"));
    CHECK(has(*code, "'/execute-api/aws4_request'"));
    CHECK(has(*code, "headers['x-amz-security-token'] = settings.sessionToken"));
    CHECK(has(*code, "headers['x-api-key'] = settings.apiKey"));
    CHECK(has(*code, "import(/* webpackIgnore: true */ /* @vite-ignore */ name)"));
  }
}

TEST_CASE("sdk js: literals, quoting and package names", "[sdk]") {
  CHECK(js::string_literal("it's a \\ path\n") == R"('it\'s a \\ path\n')");
  CHECK(js::string_literal("caf\xC3\xA9\xE2\x80\xA8\x01") == "'caf\xC3\xA9\\u2028\\x01'");
  CHECK(js::is_identifier("petsGet"));
  CHECK(js::is_identifier("$x_1"));
  CHECK_FALSE(js::is_identifier("x-trace-id"));
  CHECK_FALSE(js::is_identifier("1a"));
  CHECK_FALSE(js::is_identifier(""));
  CHECK(js::property_name("x-trace-id") == "'x-trace-id'");
  CHECK(js::member("apigClient", "petsGet") == "apigClient.petsGet");
  CHECK(js::member("apigClient", "a-b") == "apigClient['a-b']");

  auto a = sample_model();
  CHECK(js::package_name(a) == "shop-s-best-api-sdk");
  CHECK(js::package_version(a) == "2.1.0");
  for (auto [version, semver] : {std::pair{"1", "1.0.0"},
                                 {"1.2.3", "1.2.3"},
                                 {"01.02", "1.2.0"},
                                 {"2026-01-11 06:08:40UTC", "2026.0.0"},
                                 {"", "1.0.0"},
                                 {"v2", "1.0.0"}}) {
    a.version = version;
    CHECK(js::package_version(a) == semver);
  }
  a.title = "";
  CHECK(js::package_name(a) == "api-sdk");
}

TEST_CASE("sdk js: the JavaScript SDK's methods, as AWS's SDK names them, and what they send",
          "[sdk]") {
  auto files = gatehouse::generate_sdk(sample_api(), "prod", gatehouse::sdk_type::javascript,
                                       {.invoke_url = "https://shop.example.com/prod/"});
  REQUIRE(files.size() == 4);
  const std::string& umd = files.at("apigClient.js");
  const std::string& esm = files.at("apigClient.mjs");

  // A method per resource and verb; ANY as each verb the greedy resource has no method of.
  for (auto name : {"rootGet", "ordersOrderIdGet", "ordersOrderIdPut", "filesProxyGet",
                    "filesProxyPost", "filesProxyPut", "filesProxyDelete", "filesProxyPatch",
                    "filesProxyHead", "filesProxyOptions"}) {
    INFO(name);
    CHECK(has(umd,
              std::string("apigClient.") + name + " = function (params, body, additionalParams)"));
    CHECK(has(esm,
              std::string("apigClient.") + name + " = function (params, body, additionalParams)"));
    CHECK(has(files.at("README.md"), std::string("| `") + name + "` |"));
  }
  CHECK(has(umd, "apigClient.invokeApi = invoker.invokeApi;"));
  // What the runtime gets: the path template, modelled names, the required ones (a greedy
  // parameter is not: it expands to "").
  CHECK(has(esm,
            "invoker.call({ method: 'GET', path: '/orders/{orderId}', query: ['fields'], "
            "headers: ['x-trace-id'], required: ['orderId', 'x-trace-id'] },"));
  CHECK(has(esm,
            "invoker.call({ method: 'PATCH', path: '/files/{proxy+}', query: [], headers: [], "
            "required: [] },"));
  CHECK(has(esm, "// PUT /orders/{orderId} (path: orderId), API key"));
  CHECK(has(esm, "const INVOKE_URL = 'https://shop.example.com/prod';"));
  CHECK(has(esm, "const REGION = 'us-east-1';"));

  // Wrapped twice: a browser global or CommonJS; an ES module with a default export.
  CHECK(has(umd, "root.apigClientFactory = exported.apigClientFactory;"));
  CHECK(has(umd, "module.exports = exported;"));
  CHECK_FALSE(has(umd, "\nexport "));
  CHECK(has(esm, "export { apigClientFactory, ApiError };\nexport default apigClientFactory;\n"));
  CHECK(has(esm, js::runtime(false)));

  const std::string& package = files.at("package.json");
  CHECK(has(package, R"("name": "shop-s-best-api-sdk")"));
  CHECK(has(package, R"("version": "2.1.0")"));
  CHECK(has(package, R"("description": "Shop's \"Best\" API client)"));
  CHECK(has(package, R"("import": "./apigClient.mjs")"));
  CHECK(has(package, R"("require": "./apigClient.js")"));
  CHECK_FALSE(has(package, "dependencies"));

  const std::string& readme = files.at("README.md");
  CHECK(has(readme, "<script src=\"apigClient.js\"></script>"));
  CHECK(has(readme, "require('./apigClient.js')"));
  CHECK(has(readme,
            "| `ordersOrderIdGet` | `GET /orders/{orderId}` | `orderId` (path), "
            "`fields` (query, optional), `x-trace-id` (header) | — | — |"));
  CHECK(has(readme,
            "| `ordersOrderIdPut` | `PUT /orders/{orderId}` | `orderId` (path) | JSON "
            "`Order` | API key |"));
  CHECK(has(readme, "`filesProxyGet` | `GET /files/{proxy+}` | `proxy` (path, optional)"));
  CHECK(has(readme, "additionalParams"));
  CHECK(has(readme, "x-amz-security-token"));
}

TEST_CASE("sdk js: TypeScript types from JSON Schema draft 4 models and per-method parameters",
          "[sdk]") {
  auto files = gatehouse::generate_sdk(sample_api(), "prod", gatehouse::sdk_type::typescript);
  REQUIRE(files.count("apigClient.ts"));
  REQUIRE(files.count("tsconfig.json"));
  const std::string& ts = files.at("apigClient.ts");
  INFO(ts);
  CHECK(has(ts, js::runtime(true)));
  CHECK(has(ts,
            "/** Order: An order. Not *\\/ a comment end */\n"
            "export interface Order {\n"
            "  id: string;\n"
            "  status?: \"open\" | \"paid\";\n"
            "  lines: Array<Line>;\n"
            "  note?: string | null;\n"
            "  'ship-to'?: {\n"
            "    city?: string;\n"
            "  };\n"
            "  tags?: {\n"
            "    [key: string]: string;\n"
            "  };\n"
            "  extra?: Line & { [key: string]: unknown };\n"
            "  whatever?: unknown;\n"
            "  [key: string]: unknown;\n"
            "}\n"));
  // An index signature admits the named members' types too.
  CHECK(has(ts,
            "export interface Counts {\n"
            "  total: number;\n"
            "  label?: string | null;\n"
            "  [key: string]: number | string | null | undefined;\n"
            "}\n"));
  // A model named as a global type the file uses gets "Model"; names start upper case.
  CHECK(has(ts, "export interface ErrorModel {\n  message?: string;\n}"));
  CHECK(has(ts, "export type Codes = Array<1 | 2 | 3>;"));
  CHECK(has(ts,
            "export interface OrdersOrderIdGetParams {\n"
            "  orderId: string | number;\n"
            "  fields?: ParamValue | readonly ParamValue[];\n"
            "  'x-trace-id': ParamValue;\n"
            "}"));
  CHECK(has(ts, "export interface FilesProxyPostParams {\n  proxy?: string | number;\n}"));
  CHECK(has(ts, "  ordersOrderIdGet(params: OrdersOrderIdGetParams, body?: unknown,"));
  CHECK(has(ts, "  ordersOrderIdPut(params: OrdersOrderIdPutParams, body?: Order | null,"));
  CHECK(has(ts, "Promise<ApigResponse<Order>>;"));
  CHECK(has(ts, "  rootGet(params?: Record<string, never> | null, body?: unknown,"));
  CHECK(has(ts, "export default apigClientFactory;"));
  CHECK(has(files.at("tsconfig.json"), "\"strict\": true"));
  CHECK(has(files.at("package.json"), "\"type\": \"module\""));
  CHECK(has(files.at("README.md"), "- `ErrorModel`: the model Error"));
}
