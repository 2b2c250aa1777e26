// Importing HTTP API documents as apigatewayv2 import-api does: OpenAPI 3.0 only, route keys,
// $default, payloadFormatVersion, shared integrations, parameter mapping, timeouts, JWT and
// Lambda authorizers, IAM, CORS kept, and AWS's errors, warnings and info.

#include "spec/http_model.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/openapi.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace {
using gatehouse::openapi_options;

openapi_options http_options() {
  openapi_options o;
  o.type = gatehouse::api_type::http;
  return o;
}

gatehouse::openapi_api import(std::string_view doc, openapi_options o = http_options()) {
  return gatehouse::import_openapi(doc, std::move(o));
}

std::string import_error(std::string_view doc, openapi_options o = http_options()) {
  try {
    gatehouse::import_openapi(doc, std::move(o));
  } catch (const gatehouse::config_error& e) {
    return e.what();
  }
  return "<imported>";
}

std::string oas3(std::string_view paths, std::string_view more = "") {
  return std::string(R"({"openapi":"3.0.1","info":{"title":"H","version":"1"},)") +
         std::string(more) + (more.empty() ? "" : ",") + R"("paths":)" + std::string(paths) + "}";
}

// An HTTP_PROXY integration object with extra members.
std::string proxy(std::string_view more = "") {
  return std::string(R"({"type":"http_proxy","httpMethod":"ANY","uri":"http://127.0.0.1:9/x",)") +
         R"("payloadFormatVersion":"1.0")" + (more.empty() ? "" : ",") + std::string(more) + "}";
}

std::string op(std::string_view integration, std::string_view more = "") {
  return std::string(R"({"x-amazon-apigateway-integration":)") + std::string(integration) +
         (more.empty() ? "" : ",") + std::string(more) + "}";
}

const gatehouse::spec::http_route_model& route(const gatehouse::openapi_api& api,
                                               std::string_view key) {
  REQUIRE(api.http_model);
  for (const auto& r : api.http_model->routes)
    if (r.route_key == key) return r;
  FAIL("no route " << key);
  throw 0;
}

std::vector<std::string> keys(const gatehouse::openapi_api& api) {
  std::vector<std::string> out;
  for (const auto& r : api.http_model->routes) out.push_back(r.route_key);
  return out;
}

bool has(const std::vector<std::string>& list, std::string_view part) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& s) { return s.find(part) != std::string::npos; });
}

constexpr const char* lambda_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn";
}  // namespace

TEST_CASE("HTTP API import: OpenAPI 3.0 only", "[spec][http_api]") {
  CHECK(import(oas3("{}")).name == "H");
  CHECK(import(oas3("{}")).router.options().type == gatehouse::api_type::http);
  CHECK(import(oas3("{}")).model == nullptr);
  CHECK(import_error(R"({"swagger":"2.0","info":{"title":"t"},"paths":{}})")
            .starts_with("Invalid OpenAPI input. (HTTP APIs are imported from OpenAPI 3.0"));
  CHECK(import_error(R"({"openapi":"3.1.0","info":{"title":"t"},"paths":{}})") ==
        "Unable to build importer with provided input. Unable to determine OAS version from "
        "'3.1.0'");
  CHECK(import_error("{not json").starts_with("Invalid OpenAPI input."));
  // The same document still imports as a REST API when asked for one.
  CHECK(gatehouse::import_openapi(R"({"swagger":"2.0","info":{"title":"t"},"paths":{}})").model);
}

TEST_CASE("HTTP API import: route keys, ANY and the $default route", "[spec][http_api]") {
  auto api = import(oas3(R"({
    "/pets": {"get": )" + op(proxy()) +
                         R"(, "POST": )" + op(proxy()) + R"(},
    "/pets/{petId}/": {"x-amazon-apigateway-any-method": )" +
                         op(proxy()) + R"(},
    "/files/{proxy+}": {"get": )" +
                         op(proxy()) + R"(},
    "/$default": {"x-amazon-apigateway-any-method": {"isDefaultRoute": true,
       "x-amazon-apigateway-integration": )" +
                         proxy() + R"(}}})"));
  CHECK(keys(api) == std::vector<std::string>{"GET /pets", "POST /pets", "ANY /pets/{petId}",
                                              "GET /files/{proxy+}", "$default"});
  CHECK(route(api, "$default").path == "$default");
  CHECK(route(api, "$default").method == "ANY");
  REQUIRE(api.routes.size() == 5);
  CHECK(api.routes[4].path == "$default");
  CHECK(api.routes[0].integration == "HTTP_PROXY ANY http://127.0.0.1:9/x");
  CHECK(api.routes[0].authorization == "NONE");
  // isDefaultRoute elsewhere also makes the $default route; only ANY may be it.
  CHECK(keys(import(oas3(R"({"/anything":{"x-amazon-apigateway-any-method":{"isDefaultRoute":true,
      "x-amazon-apigateway-integration":)" +
                         proxy() + "}}}"))) == std::vector<std::string>{"$default"});
  CHECK(import_error(oas3(R"({"/$default":{"get":)" + op(proxy()) + "}}")) ==
        "Unable to create route 'GET /$default': the $default route takes every method: write "
        "it as x-amazon-apigateway-any-method");
  CHECK(import_error(
            oas3(R"({"/a":{"get":)" + op(proxy()) + R"(},"/a/":{"get":)" + op(proxy()) + "}}")) ==
        "Unable to create route 'GET /a': a route with this key already exists");
  CHECK(import_error(oas3(R"({"/a{b}":{"get":)" + op(proxy()) + "}}"))
            .starts_with("Unable to create route 'GET /a{b}': "));
  CHECK(import_error(oas3(R"({"/{a+}/b":{"get":)" + op(proxy()) + "}}"))
            .starts_with("Unable to create route 'GET /{a+}/b': "));
}

TEST_CASE("HTTP API import: payloadFormatVersion, as text or AWS's number 1.0",
          "[spec][http_api]") {
  auto fn = [](std::string_view version) {
    return op(std::string(R"({"type":"aws_proxy","uri":")") + lambda_arn +
              R"(","payloadFormatVersion":)" + std::string(version) + "}");
  };
  auto api = import(oas3(R"({"/a":{"get":)" + fn("1.0") + R"(},"/b":{"get":)" + fn(R"("2.0")") +
                         R"(},"/c":{"get":)" + fn("2") + "}}"));
  CHECK(route(api, "GET /a").integration->payload_format_version == "1.0");
  CHECK(route(api, "GET /b").integration->payload_format_version == "2.0");
  CHECK(route(api, "GET /c").integration->payload_format_version == "2.0");
  CHECK(route(api, "GET /a").integration->integration_method == "POST");
  CHECK(import_error(oas3(R"({"/a":{"get":)" + fn(R"("3.0")") + "}}")) ==
        "Unable to create integration for route 'GET /a': payloadFormatVersion '3.0' is not 1.0 "
        "or 2.0");
  CHECK(import_error(oas3(
            R"({"/a":{"get":)" +
            op(R"({"type":"http_proxy","uri":"http://x","payloadFormatVersion":"2.0"})") + "}}")) ==
        "Unable to create integration for route 'GET /a': payloadFormatVersion 2.0 is for "
        "AWS_PROXY (Lambda) integrations only");
}

TEST_CASE("HTTP API import: Lambda functions by ARN or invocation URI, bound or not",
          "[spec][http_api]") {
  const std::string invocation = std::string(
                                     "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/"
                                     "functions/") +
                                 lambda_arn + ":live/invocations";
  const std::string doc =
      oas3(R"({"/a":{"get":{"x-amazon-apigateway-integration":{"type":"AWS_PROXY","uri":")" +
           std::string(lambda_arn) +
           R"(","payloadFormatVersion":"2.0"}}},
          "/b":{"get":{"x-amazon-apigateway-integration":{"type":"AWS_PROXY","uri":")" +
           invocation + R"(","payloadFormatVersion":"1.0"}}}})");
  auto unbound = import(doc);
  CHECK(unbound.unbound_functions ==
        std::vector<std::string>{lambda_arn, std::string(lambda_arn) + ":live"});
  auto o = http_options();
  o.functions["fn"] =
      gatehouse::function([](const gatehouse::proxy_event&) { return gatehouse::proxy_result{}; });
  auto bound = import(doc, o);
  CHECK(bound.unbound_functions.empty());
  REQUIRE(bound.routes.size() == 2);
  CHECK(bound.routes[0].integration == "AWS_PROXY fn (C++, payload 2.0)");
  CHECK(bound.routes[1].integration == "AWS_PROXY fn:live (C++, payload 1.0)");
  o.functions.clear();
  o.lambda = gatehouse::lambda_endpoint{"http://127.0.0.1:9", {"AKID", "secret"}};
  auto invoked = import(doc, o);
  CHECK(invoked.routes[0].integration ==
        "AWS_PROXY fn (Lambda at http://127.0.0.1:9, payload 2.0)");
}

TEST_CASE("HTTP API import: integrations shared through $ref", "[spec][http_api]") {
  auto api = import(oas3(
      R"({"/a":{"get":{"x-amazon-apigateway-integration":
          {"$ref":"#/components/x-amazon-apigateway-integrations/backend"}}},
          "/b":{"post":{"x-amazon-apigateway-integration":
          {"$ref":"#/components/x-amazon-apigateway-integrations/backend"}}}})",
      R"("components":{"x-amazon-apigateway-integrations":{"backend":)" +
          proxy(R"("timeoutInMillis":1500)") + "}}"));
  for (const auto* key : {"GET /a", "POST /b"}) {
    const auto& i = route(api, key).integration;
    REQUIRE(i);
    CHECK(i->ref_name == "backend");
    CHECK(i->uri == "http://127.0.0.1:9/x");
    CHECK(i->timeout_ms == 1500);
  }
  CHECK(import_error(oas3(R"({"/a":{"get":{"x-amazon-apigateway-integration":
          {"$ref":"#/components/x-amazon-apigateway-integrations/none"}}}})")) ==
        "Unable to create integration for route 'GET /a': Invalid integration specified");
}

TEST_CASE("HTTP API import: parameter mapping and timeouts", "[spec][http_api]") {
  auto api = import(oas3(R"({"/a":{"get":)" + op(proxy(R"(
      "requestParameters":{"append:header.x-a":"$request.header.y",
        "overwrite:querystring.q":"static","remove:header.x-r":"''",
        "overwrite:path":"/p/$request.path.id","overwrite:header.x-b":"$request.body.name",
        "overwrite:header.x-n":true},
      "responseParameters":{"404":{"overwrite:statuscode":"204",
        "append:header.x-c":"$response.header.z"}},
      "timeoutInMillis":30000)")) +
                         "}}"));
  const auto& i = *route(api, "GET /a").integration;
  CHECK(i.request_parameters ==
        gatehouse::spec::text_map{{"append:header.x-a", "$request.header.y"},
                                  {"overwrite:querystring.q", "static"},
                                  {"remove:header.x-r", "''"},
                                  {"overwrite:path", "/p/$request.path.id"}});
  REQUIRE(i.response_parameters.size() == 1);
  CHECK(i.response_parameters[0].first == "404");
  CHECK(i.response_parameters[0].second.size() == 2);
  CHECK(i.timeout_ms == 30000);
  // A value that is no string is AWS's warning; a body source and the 30 s timeout are notes.
  CHECK(api.warnings == std::vector<std::string>{
                            "Invalid format for 'requestParameters'. Expected type string for "
                            "property 'overwrite:header.x-n' of route 'GET /a' but got 'true'"});
  CHECK(has(api.unsupported, "$request.body"));
  CHECK(has(api.unsupported, "timeout 30000 ms is served as 29000 ms"));
  // AWS's default (30 s) is no note.
  CHECK(import(oas3(R"({"/a":{"get":)" + op(proxy()) + "}}")).unsupported.empty());
  CHECK(import_error(oas3(R"({"/a":{"get":)" +
                          op(proxy(R"("requestParameters":{"rewrite:header.x":"y"})")) + "}}"))
            .starts_with("Unable to create route 'GET /a': requestParameters: parameter "
                         "mapping 'rewrite:header.x': the action must be"));
  CHECK(import_error(oas3(R"({"/a":{"get":)" + op(proxy(R"("timeoutInMillis":30001)")) + "}}")) ==
        "Unable to create integration for route 'GET /a': Timeout should be between 50 ms and "
        "30000 ms");
}

TEST_CASE("HTTP API import: JWT authorizers, with scopes from the requirement",
          "[spec][http_api]") {
  const char* schemes = R"("components":{"securitySchemes":{
      "oauth":{"type":"oauth2","flows":{},"x-amazon-apigateway-authorizer":{"type":"jwt",
        "identitySource":"$request.header.Authorization",
        "jwtConfiguration":{"issuer":"https://issuer.example","audience":["a1","a2"]}}},
      "oidc":{"type":"openIdConnect",
        "openIdConnectUrl":"https://idp.example/.well-known/openid-configuration",
        "x-amazon-apigateway-authorizer":{"type":"jwt","jwtConfiguration":{"audience":"a3"}}}}})";
  auto api =
      import(oas3(R"({"/a":{"get":)" + op(proxy(), R"("security":[{"oauth":["read","write"]}])") +
                      R"(},"/b":{"get":)" + op(proxy(), R"("security":[{"oidc":[]}])") +
                      R"(},"/open":{"get":)" + op(proxy(), R"("security":[])") + "}}",
                  schemes));
  REQUIRE(api.http_model->authorizers.size() == 2);
  const auto& oauth = api.http_model->authorizers[0];
  CHECK(oauth.type == "JWT");
  CHECK(oauth.issuer == "https://issuer.example");
  CHECK(oauth.audience == std::vector<std::string>{"a1", "a2"});
  CHECK(oauth.identity_source == std::vector<std::string>{"$request.header.Authorization"});
  // The issuer of an openIdConnect scheme comes from its discovery URL.
  CHECK(api.http_model->authorizers[1].issuer == "https://idp.example");
  CHECK(route(api, "GET /a").authorization_type == "JWT");
  CHECK(route(api, "GET /a").authorization_scopes == std::vector<std::string>{"read", "write"});
  CHECK(route(api, "GET /b").authorizer == "oidc");
  CHECK(route(api, "GET /open").authorization_type == "NONE");
  CHECK(api.routes[0].authorization == "JWT oauth");
  CHECK(import_error(oas3("{}", R"("components":{"securitySchemes":{"j":{"type":"oauth2",
      "x-amazon-apigateway-authorizer":{"type":"jwt","jwtConfiguration":{}}}}})")) ==
        "Unable to create authorizer 'j': a JWT authorizer needs jwtConfiguration.issuer");
}

TEST_CASE("HTTP API import: Lambda authorizers bound by name", "[spec][http_api]") {
  const std::string schemes = R"("components":{"securitySchemes":{"lam":{"type":"apiKey",
      "name":"X-Token","in":"header","x-amazon-apigateway-authorizer":{"type":"request",
      "identitySource":"$request.header.X-Token, $request.querystring.u",
      "authorizerUri":"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/)" +
                              std::string(lambda_arn) + R"(/invocations",
      "authorizerPayloadFormatVersion":2.0,"enableSimpleResponses":true,
      "authorizerResultTtlInSeconds":60}}}})";
  const std::string paths = R"({"/a":{"get":)" + op(proxy(), R"("security":[{"lam":[]}])") + "}}";
  auto api = import(oas3(paths, schemes));
  REQUIRE(api.http_model->authorizers.size() == 1);
  const auto& a = api.http_model->authorizers[0];
  CHECK(a.type == "REQUEST");
  CHECK(a.identity_source ==
        std::vector<std::string>{"$request.header.X-Token", "$request.querystring.u"});
  CHECK(a.payload_format_version == "2.0");
  CHECK(a.enable_simple_responses);
  CHECK(a.result_ttl_seconds == 60);
  CHECK(a.authorizer_uri.ends_with("function:fn/invocations"));
  CHECK(route(api, "GET /a").authorization_type == "CUSTOM");
  CHECK(api.routes[0].authorization == "CUSTOM lam");
  CHECK(api.unbound_authorizers == std::vector<std::string>{"lam"});
  auto o = http_options();
  o.authorizer_handlers["lam"] = [](const gatehouse::authorizer_request&) {
    return gatehouse::authorizer_result::allow("me");
  };
  CHECK(import(oas3(paths, schemes), o).unbound_authorizers.empty());

  auto with = [&](std::string_view ext) {
    return oas3("{}", std::string(R"("components":{"securitySchemes":{"l":{"type":"apiKey",
        "x-amazon-apigateway-authorizer":{"type":"request",)") +
                          std::string(ext) + "}}}}");
  };
  CHECK(import_error(
            with(R"("authorizerPayloadFormatVersion":"1.0","enableSimpleResponses":true)")) ==
        "Unable to create authorizer 'l': enableSimpleResponses needs "
        "authorizerPayloadFormatVersion 2.0");
  CHECK(import_error(with(R"("authorizerResultTtlInSeconds":3601)")) ==
        "Unable to create authorizer 'l': authorizerResultTtlInSeconds must be between 0 and 3600");
  CHECK(import_error(with(R"("authorizerResultTtlInSeconds":300)")) ==
        "Unable to create authorizer 'l': an authorizer whose results are cached needs an "
        "identity source");
  CHECK(import_error(with(R"("authorizerPayloadFormatVersion":"3")")) ==
        "Unable to create authorizer 'l': authorizerPayloadFormatVersion '3' is not 1.0 or 2.0");
}

TEST_CASE("HTTP API import: one security requirement per operation, as AWS allows",
          "[spec][http_api]") {
  const char* schemes = R"("components":{"securitySchemes":{
      "sigv4":{"type":"apiKey","name":"Authorization","in":"header",
        "x-amazon-apigateway-authtype":"awsSigv4"},
      "j":{"type":"oauth2","x-amazon-apigateway-authorizer":{"type":"jwt",
        "jwtConfiguration":{"issuer":"https://i.example"}}},
      "key":{"type":"apiKey","name":"x-api-key","in":"header"},
      "tok":{"type":"apiKey","name":"Authorization","in":"header",
        "x-amazon-apigateway-authorizer":{"type":"token"}}}})";
  CHECK(import_error(
            oas3(R"({"/a":{"get":)" + op(proxy(), R"("security":[{"sigv4":[]},{"j":[]}])") + "}}",
                 schemes)) ==
        "Unable to create route 'GET /a': an operation may have one security requirement (IAM, a "
        "Lambda authorizer or a JWT authorizer); this one has 2");
  CHECK(import_error(
            oas3(R"({"/a":{"post":)" + op(proxy(), R"("security":[{"sigv4":[],"j":[]}])") + "}}",
                 schemes))
            .starts_with("Unable to create route 'POST /a': an operation may have one"));
  // The document's security applies to operations without their own; IAM by awsSigv4.
  auto api = import(oas3(R"({"/a":{"get":)" + op(proxy()) + R"(},"/k":{"get":)" +
                             op(proxy(), R"("security":[{"key":[]}])") + "}}",
                         std::string(schemes) + R"(,"security":[{"sigv4":[]}])"));
  CHECK(route(api, "GET /a").authorization_type == "AWS_IAM");
  CHECK(api.routes[0].authorization == "AWS_IAM");
  // API keys and TOKEN authorizers are REST APIs': AWS's warnings.
  CHECK(route(api, "GET /k").authorization_type == "NONE");
  CHECK(has(api.warnings,
            "API keys are not supported by HTTP APIs: security scheme 'key' of "
            "route 'GET /k' was ignored"));
  CHECK(has(api.warnings, "Unsupported authorizer type 'token' of security scheme 'tok'"));
}

TEST_CASE("HTTP API import: AWS's warnings and info", "[spec][http_api]") {
  const std::string doc = oas3(
      R"({"/a":{"post":{"requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Body"}}}},
          "x-amazon-apigateway-integration":{"type":"AWS","httpMethod":"POST","uri":")" +
          std::string(lambda_arn) + R"(","payloadFormatVersion":"1.0"}}}})",
      R"("components":{"schemas":{"Body":{"type":"object"}}},
         "x-amazon-apigateway-binary-media-types":["image/png"])");
  auto api = import(doc);
  CHECK(api.warnings ==
        std::vector<std::string>{"Unsupported integration type 'AWS' for route 'POST /a': HTTP "
                                 "APIs support AWS_PROXY and HTTP_PROXY integrations only"});
  CHECK(has(api.info, "requestBody of route 'POST /a' was ignored"));
  CHECK(has(api.info, "components.schemas"));
  CHECK(has(api.info, "x-amazon-apigateway-binary-media-types is not supported by HTTP APIs"));
  // The route is there, without an integration (it answers 500).
  REQUIRE(api.routes.size() == 1);
  CHECK(api.routes[0].integration == "NONE");
  auto o = http_options();
  o.fail_on_warnings = true;
  CHECK(
      import_error(doc, o).starts_with("Warnings found during import:\n\tUnsupported "
                                       "integration type 'AWS'"));
  CHECK(import_error(oas3(R"({"/a":{"get":)" + op(R"({"type":"kafka","uri":"x"})") + "}}")) ==
        "Unable to create integration for route 'GET /a': Invalid integration type specified: "
        "kafka");
}

TEST_CASE("HTTP API import: CORS, extensions, base path and AWS variables", "[spec][http_api]") {
  auto o = http_options();
  o.base_path = gatehouse::base_path_mode::prepend;
  o.region = "eu-west-3";
  auto api = import(
      oas3(
          R"({"/a":{"get":{"x-amazon-apigateway-integration":{"type":"http_proxy",
          "uri":"http://${AWS::Region}.example/a","payloadFormatVersion":"1.0"}}}})",
          R"("servers":[{"url":"https://x.example/{basePath}","variables":{"basePath":{"default":"v1"}}}],
           "x-amazon-apigateway-importexport-version":"1.0",
           "x-amazon-apigateway-cors":{"allowOrigins":["*"],"allowMethods":["GET"],"maxAge":60})"),
      o);
  CHECK(api.cors == R"({"allowOrigins":["*"],"allowMethods":["GET"],"maxAge":60})");
  CHECK(api.extensions.find("x-amazon-apigateway-importexport-version") != std::string::npos);
  CHECK(api.base_path == "/v1");
  CHECK(keys(api) == std::vector<std::string>{"GET /v1/a"});
  CHECK(route(api, "GET /v1/a").integration->uri == "http://eu-west-3.example/a");
  // Stable ids, as REST APIs'.
  CHECK(api.id.size() == 10);
  CHECK(import(oas3("{}")).id == import(oas3("{}")).id);
}
