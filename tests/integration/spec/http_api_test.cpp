// Imported HTTP APIs on a real gateway, called with curl: AWS's HTTP API example
// (http-api-petstore-cors.openapi.json, its URIs pointed at a local stub) and its probes, a
// JWT-protected API of Lambda functions (payload 2.0, shared integrations, $default), and an
// API behind a Lambda REQUEST authorizer with HTTP API parameter mapping.

#include "jwt_mint.hpp"
#include "stub_server.hpp"

#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <catch2/catch.hpp>

#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

gatehouse::openapi_options http_api() {
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

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

// curl's answer for `path` as "<status> <body>".
std::string curl(unsigned short port, const std::string& args, const std::string& path) {
  int status = -1;
  auto out = test::shell("curl -sS --max-time 20 -w ' %{http_code}' " + args +
                             " 'http://127.0.0.1:" + std::to_string(port) + path + "' 2>&1",
                         &status);
  REQUIRE(status == 0);
  // The status code is written last: move it to the front.
  auto space = out.rfind(' ');
  return out.substr(space + 1) + " " + out.substr(0, space);
}

}  // namespace

TEST_CASE("HTTP API: AWS's petstore example and its probes, with curl", "[spec][http_api]") {
  test::stub_server backend([](const test::stub_request& r) {
    return test::stub_response{200,
                               {{"Content-Type", "application/json"}},
                               R"({"seen":")" + r.method + " " + r.target + R"("})"};
  });
  const std::string document =
      replace_all(read_vector("http-api-petstore-cors.openapi.json"),
                  "http://petstore.execute-api.us-west-1.amazonaws.com", backend.url());
  auto api = gatehouse::import_openapi(document, http_api());
  CHECK(api.warnings.empty());
  CHECK(api.name == "Example Pet Store");
  REQUIRE(api.routes.size() == 3);
  CHECK(api.routes[0].method == "GET");
  CHECK(api.routes[0].path == "/pets");
  CHECK(api.routes[2].path == "/pets/{petId}");
  // requestBody and the schemas are AWS's info, not warnings; CORS is kept.
  CHECK(api.info.size() == 2);
  CHECK(api.cors.find(R"("allowOrigins":["*"])") != std::string::npos);

  test::running_gateway gw;
  const auto port = gw.serve_plain(gatehouse::Stage("test", api.router.deploy()));

  // Probe 1: query string and headers pass to the backend.
  CHECK(curl(port, "-H 'X-Probe: one'", "/test/pets?type=dog&page=2") ==
        R"(200 {"seen":"GET /petstore/pets?type=dog&page=2"})");
  auto seen = backend.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].headers.get("x-probe") == "one");
  // Probe 2: the path variable from the route.
  CHECK(curl(port, "", "/test/pets/5") == R"(200 {"seen":"GET /petstore/pets/5"})");
  CHECK(curl(port, "--data-binary '{\"type\":\"dog\"}' -H 'Content-Type: application/json'",
             "/test/pets") == R"(200 {"seen":"POST /petstore/pets"})");
  REQUIRE(backend.requests().size() == 3);
  CHECK(backend.requests()[2].body == R"({"type":"dog"})");
  // Probe 4: no route → HTTP APIs' 404, the backend never asked.
  CHECK(curl(port, "-X DELETE", "/test/pets") == R"(404 {"message":"Not Found"})");
  CHECK(curl(port, "", "/test/nowhere") == R"(404 {"message":"Not Found"})");
  CHECK(backend.requests().size() == 3);
  // … and the same document as Swagger 2.0 is refused: HTTP APIs take OpenAPI 3.0 only.
  CHECK_THROWS_WITH(
      gatehouse::import_openapi(
          replace_all(document, R"("openapi": "3.0.1")", R"("swagger": "2.0")"), http_api()),
      Catch::StartsWith("Invalid OpenAPI input. (HTTP APIs are imported from OpenAPI 3.0"));
}

namespace {
constexpr const char* jwt_document = R"yaml(
openapi: 3.0.1
info: {title: orders, version: '1'}
components:
  securitySchemes:
    issuer:
      type: oauth2
      flows: {}
      x-amazon-apigateway-authorizer:
        type: jwt
        identitySource: $request.header.Authorization
        jwtConfiguration:
          issuer: https://issuer.example.com/
          audience: [api://orders]
  x-amazon-apigateway-integrations:
    orders:
      type: aws_proxy
      httpMethod: POST
      uri: arn:aws:lambda:us-east-1:123456789012:function:orders
      payloadFormatVersion: '2.0'
      timeoutInMillis: 3000
paths:
  /orders:
    get:
      security: [{issuer: [orders/read]}]
      x-amazon-apigateway-integration: {$ref: '#/components/x-amazon-apigateway-integrations/orders'}
  /orders/{id}:
    delete:
      security: [{issuer: [orders/admin]}]
      x-amazon-apigateway-integration: {$ref: '#/components/x-amazon-apigateway-integrations/orders'}
  /$default:
    x-amazon-apigateway-any-method:
      isDefaultRoute: true
      x-amazon-apigateway-integration: {$ref: '#/components/x-amazon-apigateway-integrations/orders'}
)yaml";
}  // namespace

TEST_CASE("HTTP API: a JWT authorizer in front of a Lambda function, payload 2.0",
          "[spec][http_api]") {
  const auto& keys = gatehouse::test::test_keys::shared();
  auto o = http_api();
  o.jwks["https://issuer.example.com/"] = keys.jwks_json("rsa1", "ec1");
  // A plain C++ function (payload 1.0 by default): the document makes its events 2.0.
  o.functions["orders"] = gatehouse::function([](const gatehouse::proxy_event& e) {
    gatehouse::proxy_result r;
    r.body = e.to_json();
    r.headers.add("Content-Type", "application/json");
    return r;
  });
  auto api = gatehouse::import_openapi(jwt_document, o);
  CHECK(api.warnings.empty());
  CHECK(api.unbound_functions.empty());
  REQUIRE(api.routes.size() == 3);
  CHECK(api.routes[0].authorization == "JWT issuer");
  CHECK(api.routes[2].path == "$default");

  test::running_gateway gw;
  const auto port = gw.serve_plain(gatehouse::Stage("v1", api.router.deploy()));
  const auto now = static_cast<long long>(std::time(nullptr));
  auto token = [&](std::string_view aud, std::string_view scope) {
    return keys.sign_rs256("rsa1", R"({"sub":"alice","iss":"https://issuer.example.com/","aud":")" +
                                       std::string(aud) + R"(","scope":")" + std::string(scope) +
                                       R"(","iat":)" + std::to_string(now) + R"(,"exp":)" +
                                       std::to_string(now + 600) + "}");
  };
  auto bearer = [](const std::string& t) { return "-H 'Authorization: Bearer " + t + "'"; };

  CHECK(curl(port, "", "/v1/orders").starts_with(R"(401 {"message":"Unauthorized"})"));
  CHECK(curl(port, bearer(token("api://other", "orders/read")), "/v1/orders").starts_with("401 "));
  auto ok = curl(port, bearer(token("api://orders", "orders/read")), "/v1/orders?x=1");
  CHECK(ok.starts_with("200 {"));
  CHECK(ok.find(R"("version":"2.0")") != std::string::npos);
  CHECK(ok.find(R"("routeKey":"GET /orders")") != std::string::npos);
  CHECK(ok.find(R"("rawQueryString":"x=1")") != std::string::npos);
  CHECK(ok.find(R"("sub":"alice")") != std::string::npos);  // the token's claims
  // The route's scope is not in the token.
  auto scoped =
      curl(port, "-X DELETE " + bearer(token("api://orders", "orders/read")), "/v1/orders/7");
  CHECK(scoped == R"(403 {"message":"Forbidden"})");
  CHECK(curl(port, "-X DELETE " + bearer(token("api://orders", "orders/admin")), "/v1/orders/7")
            .starts_with("200 "));
  // What no route matches goes to $default, without an authorizer.
  auto fallback = curl(port, "-X PATCH", "/v1/anything/else");
  CHECK(fallback.starts_with("200 {"));
  CHECK(fallback.find(R"("routeKey":"$default")") != std::string::npos);
  CHECK(curl(port, "-X POST", "/v1/orders").find(R"("routeKey":"$default")") != std::string::npos);
}

namespace {
constexpr const char* lambda_authorizer_document = R"yaml(
openapi: 3.0.1
info: {title: items, version: '1'}
components:
  securitySchemes:
    gate:
      type: apiKey
      name: X-Token
      in: header
      x-amazon-apigateway-authorizer:
        type: request
        identitySource: $request.header.X-Token
        authorizerUri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:gate/invocations
        authorizerPayloadFormatVersion: '2.0'
        enableSimpleResponses: true
        authorizerResultTtlInSeconds: 0
security: [{gate: []}]
paths:
  /items/{id}:
    get:
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: GET
        uri: http://${stageVariables.backend}/store/{id}
        payloadFormatVersion: 1.0
        timeoutInMillis: 5000
        requestParameters:
          overwrite:header.x-from: gatehouse
          append:querystring.who: $request.header.X-Token
          remove:header.x-drop: "''"
        responseParameters:
          '404':
            overwrite:statuscode: '410'
            append:header.x-missing: item $request.path.id
)yaml";
}  // namespace

TEST_CASE("HTTP API: a Lambda authorizer bound by name, with parameter mapping",
          "[spec][http_api]") {
  test::stub_server backend([](const test::stub_request& r) {
    if (r.target.starts_with("/store/404")) return test::stub_response{404, {}, "gone"};
    return test::stub_response{200, {}, r.target};
  });
  auto o = http_api();
  o.authorizer_handlers["gate"] = [](const gatehouse::authorizer_request& r) {
    auto token = r.request().header("X-Token").value_or("");
    return token == "allow" ? gatehouse::authorizer_result::allow("me")
                            : gatehouse::authorizer_result::deny("me");
  };
  auto api = gatehouse::import_openapi(lambda_authorizer_document, o);
  CHECK(api.warnings.empty());
  CHECK(api.unbound_authorizers.empty());
  REQUIRE(api.routes.size() == 1);
  CHECK(api.routes[0].authorization == "CUSTOM gate");
  gatehouse::Stage stage("live", api.router.deploy());
  stage.variable("backend", "127.0.0.1:" + std::to_string(backend.port()));
  test::running_gateway gw;
  const auto port = gw.serve_plain(stage);

  // The identity source is missing: 401 without asking the authorizer.
  CHECK(curl(port, "", "/live/items/42") == R"(401 {"message":"Unauthorized"})");
  // HTTP APIs answer a deny with 403 Forbidden.
  CHECK(curl(port, "-H 'X-Token: deny'", "/live/items/42") == R"(403 {"message":"Forbidden"})");
  CHECK(backend.requests().empty());
  CHECK(curl(port, "-H 'X-Token: allow' -H 'X-Drop: 1'", "/live/items/42") ==
        "200 /store/42?who=allow");
  auto seen = backend.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].headers.get("x-from") == "gatehouse");
  CHECK_FALSE(seen[0].headers.get("x-drop"));
  // The backend's 404 becomes the document's 410, with a header.
  int status = -1;
  auto head = test::shell("curl -sS -i --max-time 20 -H 'X-Token: allow' 'http://127.0.0.1:" +
                              std::to_string(port) + "/live/items/404' 2>&1",
                          &status);
  CHECK(status == 0);
  CHECK(head.starts_with("HTTP/1.1 410"));
  CHECK(head.find("x-missing: item 404") != std::string::npos);
}

TEST_CASE("HTTP API: an unbound function invoked at the Lambda endpoint, payload 2.0",
          "[spec][http_api]") {
  // A stand-in for the Lambda Invoke API: a payload 2.0 result without statusCode, which AWS
  // takes as a 200 JSON body.
  test::stub_server lambda([](const test::stub_request&) {
    return test::stub_response{200, {{"Content-Type", "application/json"}}, R"({"made":true})"};
  });
  auto o = http_api();
  o.lambda = gatehouse::lambda_endpoint{.endpoint = lambda.url(),
                                        .credentials = {"AKIDEXAMPLE", "example/secret", ""}};
  auto api = gatehouse::import_openapi(R"({"openapi":"3.0.1","info":{"title":"fn"},"paths":{
      "/make":{"post":{"x-amazon-apigateway-integration":{"type":"AWS_PROXY",
        "uri":"arn:aws:lambda:eu-west-1:123456789012:function:maker:live",
        "payloadFormatVersion":"2.0"}}}}})",
                                       o);
  CHECK(api.unbound_functions.empty());
  test::running_gateway gw;
  const auto port = gw.serve_plain(gatehouse::Stage("v1", api.router.deploy()));
  CHECK(curl(port, "--data-binary 'x'", "/v1/make") == R"(200 {"made":true})");
  auto invocations = lambda.requests();
  REQUIRE(invocations.size() == 1);
  CHECK(invocations[0].target ==
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Amaker/"
        "invocations?Qualifier=live");
  CHECK(invocations[0]
            .headers.get("Authorization")
            .value_or("")
            .starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
  CHECK(invocations[0].headers.get("Authorization").value_or("").find("/eu-west-1/lambda/") !=
        std::string::npos);
  CHECK(invocations[0].body.find(R"("version":"2.0")") != std::string::npos);
  CHECK(invocations[0].body.find(R"("routeKey":"POST /make")") != std::string::npos);
}
