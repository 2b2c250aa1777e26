// An imported API behaves as its document says, on a real gateway: one YAML document (OpenAPI
// 3.0) with each extension at work — request validators and models (cyclic ones too), API keys,
// a custom authorizer bound by name, a Cognito user pool, IAM, MOCK status selection, an HTTP
// integration with parameter mapping, stage variables and response selection, gateway
// responses and a resource policy.

#include "jwt_mint.hpp"
#include "stub_server.hpp"

#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <catch2/catch.hpp>

#include <ctime>
#include <string>
#include <vector>

namespace {

constexpr const char* document = R"yaml(
openapi: 3.0.1
info:
  title: Imported
  version: '1.0'
x-amazon-apigateway-request-validators:
  all: {validateRequestBody: true, validateRequestParameters: true}
  params: {validateRequestBody: false, validateRequestParameters: true}
x-amazon-apigateway-gateway-responses:
  MISSING_AUTHENTICATION_TOKEN:
    statusCode: 404
    responseParameters:
      gatewayresponse.header.X-Why: "'no route'"
    responseTemplates:
      application/json: '{"error":$context.error.messageString}'
x-amazon-apigateway-policy:
  Version: '2012-10-17'
  Statement:
    - {Effect: Allow, Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*'}
    - {Effect: Deny, Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*/GET/denied'}
components:
  schemas:
    Pet:
      type: object
      required: [type, price]
      properties:
        type: {type: string, enum: [dog, cat, fish]}
        price: {type: number, minimum: 25}
    Tree:
      type: object
      properties:
        children: {type: array, items: {$ref: '#/components/schemas/Tree'}}
  securitySchemes:
    api_key: {type: apiKey, name: x-api-key, in: header}
    tok:
      type: apiKey
      name: Authorization
      in: header
      x-amazon-apigateway-authtype: custom
      x-amazon-apigateway-authorizer:
        type: token
        authorizerUri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations
        identityValidationExpression: 'Bearer [a-z]+'
        authorizerResultTtlInSeconds: 0
    pool:
      type: apiKey
      name: Authorization
      in: header
      x-amazon-apigateway-authtype: cognito_user_pools
      x-amazon-apigateway-authorizer:
        type: cognito_user_pools
        providerARNs: ['arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Test']
    sigv4: {type: apiKey, name: Authorization, in: header, x-amazon-apigateway-authtype: awsSigv4}
x-mock: &mock
  type: mock
  requestTemplates: {application/json: '{"statusCode": 200}'}
  responses:
    default:
      statusCode: 200
      responseTemplates: {application/json: '{"ok":true}'}
paths:
  /pets:
    post:
      x-amazon-apigateway-request-validator: all
      requestBody:
        content:
          application/json: {schema: {$ref: '#/components/schemas/Pet'}}
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: {application/json: '{"statusCode": 201}'}
        responses:
          default:
            statusCode: 201
            responseTemplates: {application/json: '{"added":"$input.params(''x'')"}'}
  /trees:
    post:
      x-amazon-apigateway-request-validator: all
      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Tree'}}}}
      x-amazon-apigateway-integration: *mock
  /search:
    get:
      x-amazon-apigateway-request-validator: params
      parameters:
        - {name: q, in: query, required: true}
      x-amazon-apigateway-integration: *mock
  /keyed:
    get:
      security: [{api_key: []}]
      x-amazon-apigateway-integration: *mock
  /custom:
    get:
      security: [{tok: []}]
      x-amazon-apigateway-integration: *mock
  /pool:
    get:
      security: [{pool: []}]
      x-amazon-apigateway-integration: *mock
  /iam:
    get:
      security: [{sigv4: []}]
      x-amazon-apigateway-integration: *mock
  /denied:
    get:
      x-amazon-apigateway-integration: *mock
  /mock/{scope}:
    get:
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates:
          application/json: |
            #if($input.params('scope') == "internal")
            {"statusCode": 200}
            #else
            {"statusCode": 500}
            #end
        responses:
          default: {statusCode: 200, responseTemplates: {application/json: '{"welcome":true}'}}
          '5\d{2}':
            statusCode: 503
            responseTemplates: {application/json: '{"message":"internal callers only"}'}
  /items/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: q, in: query}
      x-amazon-apigateway-integration:
        type: http
        httpMethod: GET
        uri: http://${stageVariables.backend}/store/{key}
        requestParameters:
          integration.request.path.key: method.request.path.id
          integration.request.querystring.query: method.request.querystring.q
          integration.request.header.x-from: "'gatehouse'"
        responses:
          '404':
            statusCode: 404
            responseTemplates: {application/json: '{"missing":true}'}
          default:
            statusCode: 200
            responseParameters:
              method.response.header.X-Backend: integration.response.header.X-Server
)yaml";

struct served {
  explicit served(const gatehouse::openapi_options& o, std::string backend)
      : api(gatehouse::import_openapi(document, o)), stage("test", api.router.deploy()) {
    stage.variable("backend", std::move(backend));
    plan.attach(stage);
    port = gw.serve_plain(stage);
    key = *gw.gateway().api_keys().create({.name = "k", .usage_plan_ids = {plan.id()}}).value;
  }
  test::reply send(std::string_view method, std::string_view target,
                   const std::vector<std::pair<std::string, std::string>>& headers = {},
                   std::string_view body = {}) {
    std::string r = std::string(method) + " /test" + std::string(target) +
                    " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
    for (const auto& [n, v] : headers) r += n + ": " + v + "\r\n";
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
    auto reply = test::roundtrip(port, r);
    REQUIRE(reply);
    return *reply;
  }
  gatehouse::openapi_api api;
  gatehouse::Stage stage;
  gatehouse::UsagePlan plan{{.name = "plan"}};
  test::running_gateway gw;
  unsigned short port = 0;
  std::string key;
};

std::string summary(const test::reply& r) { return std::to_string(r.status) + " " + r.body; }
}  // namespace

TEST_CASE("imported API: each extension at work on a real gateway", "[spec]") {
  test::stub_server backend([](const test::stub_request& r) {
    if (r.target.starts_with("/store/404")) return test::stub_response{404, {}, "no"};
    return test::stub_response{200,
                               {{"Content-Type", "application/json"}, {"X-Server", "stub"}},
                               R"({"at":")" + r.target + R"("})"};
  });
  const auto& keys = gatehouse::test::test_keys::shared();
  gatehouse::openapi_options o;
  o.jwks["eu-west-1_Test"] = keys.jwks_json("rsa1", "ec1");
  o.authorizer_handlers["tok"] = [](const gatehouse::authorizer_request& r) {
    return r.authorization_token() == "Bearer allow" ? gatehouse::authorizer_result::allow("me")
                                                     : gatehouse::authorizer_result::deny("me");
  };
  served s(o, "127.0.0.1:" + std::to_string(backend.port()));
  CHECK(s.api.warnings.empty());
  CHECK(s.api.unbound_authorizers.empty());

  SECTION("request validators and models, a cyclic one too") {
    CHECK(summary(s.send("POST", "/pets?x=1", {}, R"({"type":"dog","price":30})")) ==
          R"(201 {"added":"1"})");
    CHECK(summary(s.send("POST", "/pets", {}, R"({"type":"cow","price":30})")) ==
          R"(400 {"message":"Invalid request body"})");
    CHECK(summary(s.send("POST", "/trees", {}, R"({"children":[{"children":[{}]}]})")) ==
          R"(200 {"ok":true})");
    CHECK(summary(s.send("POST", "/trees", {}, R"({"children":[{"children":5}]})")) ==
          R"(400 {"message":"Invalid request body"})");
    CHECK(summary(s.send("GET", "/search")) ==
          R"(400 {"message":"Missing required request parameters: [q]"})");
    CHECK(s.send("GET", "/search?q=x").status == 200);
  }
  SECTION("API keys") {
    CHECK(summary(s.send("GET", "/keyed")) == R"(403 {"message":"Forbidden"})");
    CHECK(s.send("GET", "/keyed", {{"x-api-key", s.key}}).status == 200);
  }
  SECTION("a custom authorizer bound by name, with the document's settings") {
    CHECK(summary(s.send("GET", "/custom")) == R"(401 {"message":"Unauthorized"})");
    // The identityValidationExpression refuses before the handler is asked.
    CHECK(s.send("GET", "/custom", {{"Authorization", "Bearer 123"}}).status == 401);
    CHECK(s.send("GET", "/custom", {{"Authorization", "Bearer deny"}}).status == 403);
    CHECK(s.send("GET", "/custom", {{"Authorization", "Bearer allow"}}).status == 200);
  }
  SECTION("a Cognito user pool: tokens its keys signed, of its issuer") {
    CHECK(s.send("GET", "/pool").status == 401);
    const auto now = static_cast<long long>(std::time(nullptr));
    auto claims = [&](std::string_view iss) {
      return R"({"sub":"alice","token_use":"id","iss":")" + std::string(iss) + R"(","iat":)" +
             std::to_string(now) + R"(,"exp":)" + std::to_string(now + 600) + "}";
    };
    auto good = keys.sign_rs256(
        "rsa1", claims("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Test"));
    CHECK(s.send("GET", "/pool", {{"Authorization", good}}).status == 200);
    auto other = keys.sign_rs256("rsa1", claims("https://cognito-idp.eu-west-1.amazonaws.com/x"));
    CHECK(s.send("GET", "/pool", {{"Authorization", other}}).status == 401);
  }
  SECTION("IAM: without credentials in the options, no caller gets in") {
    // Unsigned is MISSING_AUTHENTICATION_TOKEN, which this document answers with 404.
    CHECK(s.send("GET", "/iam").status == 404);
    auto r = s.send("GET", "/iam",
                    {{"Authorization",
                      "AWS4-HMAC-SHA256 Credential=AKIDUNKNOWN/20240101/us-east-1/execute-api/"
                      "aws4_request, SignedHeaders=host, Signature=00"},
                     {"X-Amz-Date", "20240101T000000Z"}});
    CHECK(r.status == 403);
  }
  SECTION("MOCK: the request template picks the status, the responses the rest") {
    CHECK(summary(s.send("GET", "/mock/internal")) == R"(200 {"welcome":true})");
    CHECK(summary(s.send("GET", "/mock/external")) == R"(503 {"message":"internal callers only"})");
  }
  SECTION("HTTP: parameter mapping, stage variables, response selection and mapping") {
    auto r = s.send("GET", "/items/42?q=blue");
    CHECK(summary(r) == R"(200 {"at":"/store/42?query=blue"})");
    CHECK(r.headers.get("X-Backend") == "stub");
    auto seen = backend.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].headers.get("x-from") == "gatehouse");
    CHECK(summary(s.send("GET", "/items/404")) == R"(404 {"missing":true})");
  }
  SECTION("gateway responses and the resource policy") {
    auto r = s.send("GET", "/nowhere");
    CHECK(summary(r) == R"(404 {"error":"Missing Authentication Token"})");
    CHECK(r.headers.get("X-Why") == "no route");
    CHECK(s.send("GET", "/denied").status == 403);
  }
}

TEST_CASE("imported API: unbound functions and authorizers answer 500", "[spec]") {
  auto api = gatehouse::import_openapi(R"({"swagger":"2.0","info":{"title":"u"},
    "securityDefinitions":{"tok":{"type":"apiKey","name":"Authorization","in":"header",
      "x-amazon-apigateway-authorizer":{"type":"token"}}},
    "paths":{"/fn":{"get":{"x-amazon-apigateway-integration":{"type":"aws_proxy",
      "uri":"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:f/invocations"}}},
     "/guarded":{"get":{"security":[{"tok":[]}],"x-amazon-apigateway-integration":{"type":"mock"}}},
     "/bare":{"get":{}}}})");
  CHECK(api.unbound_functions == std::vector<std::string>{"arn:aws:lambda:us-east-1:1:function:f"});
  CHECK(api.unbound_authorizers == std::vector<std::string>{"tok"});
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("v1", api.router.deploy()));
  auto r = test::roundtrip(port, test::get("/v1/fn"));
  REQUIRE(r);
  CHECK(summary(*r) == R"(500 {"message":"Internal server error"})");
  r = test::roundtrip(port, test::get("/v1/bare"));
  REQUIRE(r);
  CHECK(summary(*r) == R"(500 {"message":"Internal server error"})");
  r = test::roundtrip(port, "GET /v1/guarded HTTP/1.1\r\nHost: x\r\nAuthorization: t\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 500);
}

TEST_CASE("imported API: {proxy+} mapped to the URI's {proxy} keeps its slashes", "[spec]") {
  // What the console and SAM write for a greedy HTTP_PROXY resource.
  test::stub_server backend([](const test::stub_request&) { return test::stub_response{}; });
  auto api = gatehouse::import_openapi(
      R"({"swagger":"2.0","info":{"title":"p"},"paths":{"/{proxy+}":{
      "x-amazon-apigateway-any-method":{"parameters":[{"name":"proxy","in":"path","required":true}],
      "x-amazon-apigateway-integration":{"type":"http_proxy","httpMethod":"ANY",
      "uri":"http://127.0.0.1:)" +
      std::to_string(backend.port()) +
      R"(/up/{proxy}","requestParameters":{"integration.request.path.proxy":"method.request.path.proxy"}}}}}})");
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("v1", api.router.deploy()));
  auto r = test::roundtrip(port, test::get("/v1/a/b%20c/d?x=1"));
  REQUIRE(r);
  CHECK(r->status == 200);
  auto seen = backend.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].target == "/up/a/b%20c/d?x=1");
}

TEST_CASE("imported API: MOCK without a template answers its default response", "[spec]") {
  auto api = gatehouse::import_openapi(R"(swagger: '2.0'
info: {title: m}
paths:
  /plain:
    get:
      x-amazon-apigateway-integration:
        type: mock
        responses: {default: {statusCode: 204}}
  /bad:
    get:
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: {application/json: 'no status here'}
        responses: {default: {statusCode: 200}}
)");
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("v1", api.router.deploy()));
  auto r = test::roundtrip(port, test::get("/v1/plain"));
  REQUIRE(r);
  CHECK(r->status == 204);
  // A template that writes no statusCode is AWS's configuration error.
  r = test::roundtrip(port, test::get("/v1/bad"));
  REQUIRE(r);
  CHECK(summary(*r) == R"(500 {"message":"Internal server error"})");
}
