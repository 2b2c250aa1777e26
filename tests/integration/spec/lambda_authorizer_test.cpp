// Lambda authorizers invoked through the Lambda Invoke API (Authorizer::lambda), on a real
// gateway, against a stand-in for the Invoke API started here that checks every signature and
// answers as an authorizer function would: a TOKEN, a REQUEST and an HTTP API simple-response
// authorizer; AWS's statuses and messages for allow, deny, Unauthorized, a function error, a
// malformed answer, a refusal of the Lambda service and a timeout; the result cache; and
// imported REST and HTTP API documents whose authorizers are invoked at the host's endpoint.

#include "stub_server.hpp"

#include "auth/sigv4.hpp"
#include "backend.hpp"
#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace sigv4 = gatehouse::auth::sigv4;
using header_list = std::vector<std::pair<std::string, std::string>>;

const gatehouse::aws_credentials kCredentials{"AKIDLAMBDAAUTH", "lambda/auth+secret", ""};

// AWS's answers, as summary() writes them.
const std::string unauthorized = R"(401 UnauthorizedException {"message":"Unauthorized"})";
const std::string explicit_deny =
    R"(403 AccessDeniedException {"Message":"User is not authorized to access this resource with an explicit deny"})";
const std::string configuration_error = R"(500 AuthorizerConfigurationException {"message":null})";

std::string at(const rapidjson::Document& d, const char* pointer) {
  const auto* v = rapidjson::Pointer(pointer).Get(d);
  if (!v) return "<missing>";
  if (v->IsString()) return v->GetString();
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v->Accept(w);
  return b.GetString();
}

std::string at(const std::string& json, const char* pointer) {
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  if (d.HasParseError()) return "<not JSON>";
  return at(d, pointer);
}

test::stub_response answer(int status, std::string body, header_list extra = {}) {
  extra.emplace_back("Content-Type", "application/json");
  extra.emplace_back("x-amzn-RequestId", "req-1");
  return {status, std::move(extra), std::move(body)};
}

std::string policy_answer(const std::string& word, const char* effect) {
  return R"({"principalId":"user-)" + word +
         R"(","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":")" +
         effect + R"(","Resource":"*"}]},"context":{"tenant":"t-)" + word + R"(","n":7}})";
}

// The Invoke API: checks the signature (service lambda), then answers for the word the event
// carries (the TOKEN's bearer word, else the first identity source value, else X-Token):
// allow, deny, unauthorized (a function error "Unauthorized"), boom (another function error),
// malformed, refused (the Lambda service's 429), slow (3 s). Function "simple" answers in
// HTTP APIs' simple format.
test::stub_response lambda_api(const test::stub_request& r) {
  sigv4::verifier v({.region = "", .service = "lambda"},
                    [](std::string_view key) -> std::optional<std::string> {
                      if (key == kCredentials.access_key_id) return kCredentials.secret_access_key;
                      return std::nullopt;
                    });
  std::vector<sigv4::header_field> fields;
  for (const auto& f : r.headers) fields.push_back({f.name, f.value});
  auto [path, query] = sigv4::split_target(r.target);
  auto checked = v.verify({r.method, path, query, fields, r.body});
  if (!checked)
    return answer(sigv4::status_of(checked.result), R"({"message":"bad signature"})",
                  {{"x-amzn-ErrorType", std::string(sigv4::error_type(checked.result))}});
  rapidjson::Document event;
  event.Parse(r.body.c_str(), r.body.size());
  if (event.HasParseError() || !event.IsObject()) return answer(400, R"({"message":"not JSON"})");
  std::string word;
  if (at(event, "/type") == "TOKEN") {
    word = at(event, "/authorizationToken");
    if (word.starts_with("Bearer ")) word.erase(0, 7);
  } else if (auto first = at(event, "/identitySource/0"); first != "<missing>") {
    word = first;
  } else if (auto joined = at(event, "/identitySource"); joined != "<missing>") {
    word = joined;
  } else {
    word = at(event, "/headers/X-Token");
  }
  const bool simple = r.target.find("simple/invocations") != std::string::npos;
  if (word == "unauthorized")
    return answer(200, R"({"errorMessage":"Unauthorized","errorType":"Error"})",
                  {{"X-Amz-Function-Error", "Unhandled"}});
  if (word == "boom")
    return answer(200, R"({"errorMessage":"boom","errorType":"Error"})",
                  {{"X-Amz-Function-Error", "Unhandled"}});
  if (word == "refused")
    return answer(429, R"({"message":"Rate exceeded"})",
                  {{"x-amzn-ErrorType", "TooManyRequestsException"}});
  if (word == "malformed")
    return answer(200, simple ? R"({"isAuthorized":"yes"})" : R"({"principalId":5})");
  if (word == "slow") std::this_thread::sleep_for(3s);
  const bool allow = word == "allow" || word == "slow";
  if (simple)
    return answer(200, allow ? R"({"isAuthorized":true,"context":{"tenant":"t-simple","n":7}})"
                             : R"({"isAuthorized":false})");
  return answer(200, policy_answer(word, allow ? "Allow" : "Deny"));
}

// An integration answering "<principalId>|<context tenant>", and its event's JSON in a header.
gatehouse::integration whoami(gatehouse::payload_format format = gatehouse::payload_format::v1) {
  return gatehouse::function(
      [](const gatehouse::proxy_event& ev) {
        gatehouse::proxy_result r;
        auto a = ev.context().authorizer;
        const auto* tenant = a.get("tenant");
        r.body = std::string(a.principal_id) + "|" + (tenant ? gatehouse::to_string(*tenant) : "");
        r.headers.add("X-Event", ev.to_json());
        return r;
      },
      {.format = format});
}

std::string summary(const std::optional<test::reply>& r) {
  if (!r) return "<no reply>";
  auto type = r->headers.get("x-amzn-ErrorType");
  return std::to_string(r->status) + " " + std::string(type.value_or("-")) + " " + r->body;
}

std::string call(unsigned short port, std::string_view target, const header_list& headers = {}) {
  return summary(test::fetch(port, test::request_text("GET", target, headers), 10s));
}

gatehouse::lambda_options function(const test::stub_server& stub, std::string name) {
  gatehouse::lambda_options o;
  o.function_name = std::move(name);
  o.region = "eu-west-1";
  o.credentials = kCredentials;
  o.endpoint = stub.url();
  return o;
}

}  // namespace

TEST_CASE("Authorizer::lambda: a TOKEN authorizer invoked through the Lambda Invoke API",
          "[lambda-authorizer]") {
  test::stub_server lambda(lambda_api);  // declared first: it outlives the gateway
  gatehouse::authorizer_options opts{
      .name = "tokens", .validation_expression = "Bearer [a-z]+", .timeout = 500ms};
  auto auth = gatehouse::Authorizer::lambda(opts, function(lambda, "gate"));
  auto wrong = function(lambda, "gate");
  wrong.credentials.secret_access_key = "not/the/secret";
  opts.name = "wrong";
  auto wrong_auth = gatehouse::Authorizer::lambda(opts, wrong);

  gatehouse::Router api({.name = "shop", .id = "shop000001"});
  api.route("GET", "/pets", whoami(), {.authorizer = auth});
  api.route("GET", "/wrong", whoami(), {.authorizer = wrong_auth});
  test::running_gateway gw;
  const auto port = gw.serve_plain(gatehouse::Stage("prod", api.deploy()));
  auto with = [&](std::string token, std::string_view target = "/prod/pets") {
    return call(port, target, {{"Authorization", "Bearer " + token}});
  };

  // No token, or one the validation expression refuses: 401 without a call.
  CHECK(call(port, "/prod/pets") == unauthorized);
  CHECK(call(port, "/prod/pets", {{"Authorization", "Basic abc"}}) == unauthorized);
  CHECK(lambda.requests().empty());

  // Allow: the integration sees the principal and the context.
  CHECK(with("allow") == "200 - user-allow|t-allow");
  auto got = lambda.requests();
  REQUIRE(got.size() == 1);
  CHECK(got[0].method == "POST");
  CHECK(got[0].target == "/2015-03-31/functions/gate/invocations");
  CHECK(got[0].headers.get("X-Amz-Invocation-Type") == "RequestResponse");
  CHECK(got[0].headers.get("Authorization").value_or("").find("/eu-west-1/lambda/aws4_request") !=
        std::string::npos);
  // AWS's TOKEN event, nothing more.
  CHECK(
      got[0].body ==
      R"({"type":"TOKEN","authorizationToken":"Bearer allow","methodArn":"arn:aws:execute-api:us-east-1:123456789012:shop000001/prod/GET/pets"})");

  // The same token again: the cached result, no call.
  CHECK(with("allow") == "200 - user-allow|t-allow");
  CHECK(lambda.requests().size() == 1);

  // Every other outcome, as AWS answers it.
  CHECK(with("deny") == explicit_deny);
  CHECK(with("unauthorized") == unauthorized);
  CHECK(with("boom") == configuration_error);
  CHECK(with("malformed") == configuration_error);
  CHECK(with("refused") == configuration_error);
  CHECK(lambda.requests().size() == 6);
  // A deny is cached too; errors are not.
  CHECK(with("deny") == explicit_deny);
  CHECK(with("boom") == configuration_error);
  CHECK(lambda.requests().size() == 7);
  // The Lambda service refuses a bad signature: 500.
  CHECK(with("allow", "/prod/wrong") == configuration_error);
  // A function slower than the authorizer's timeout: 500 after the timeout (the stand-in
  // records the call once it has answered, 3 s later).
  const auto started = std::chrono::steady_clock::now();
  CHECK(with("slow") == configuration_error);
  CHECK(std::chrono::steady_clock::now() - started < 2500ms);
}

TEST_CASE("Authorizer::lambda: a REQUEST authorizer gets AWS's REQUEST event",
          "[lambda-authorizer]") {
  test::stub_server lambda(lambda_api);
  auto auth = gatehouse::Authorizer::lambda(
      {.name = "requests",
       .type = gatehouse::authorizer_type::request,
       .identity_sources = {"method.request.header.X-Token", "method.request.querystring.user"}},
      function(lambda, "arn:aws:lambda:eu-west-1:123456789012:function:gate:live"));
  gatehouse::Router api({.name = "shop", .id = "shop000002"});
  api.route("GET", "/pets/{id}", whoami(), {.authorizer = auth});
  test::running_gateway gw;
  const auto port = gw.serve_plain(gatehouse::Stage("prod", api.deploy()));

  CHECK(call(port, "/prod/pets/1?user=ann") == unauthorized);  // a source is missing
  CHECK(call(port, "/prod/pets/1", {{"X-Token", "allow"}}) == unauthorized);
  CHECK(lambda.requests().empty());
  CHECK(call(port, "/prod/pets/1?user=ann", {{"X-Token", "allow"}}) == "200 - user-allow|t-allow");
  auto got = lambda.requests();
  REQUIRE(got.size() == 1);
  CHECK(got[0].target ==
        "/2015-03-31/functions/"
        "arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Agate%3Alive/"
        "invocations");
  const auto& event = got[0].body;
  CHECK(at(event, "/type") == "REQUEST");
  CHECK(at(event, "/methodArn") ==
        "arn:aws:execute-api:us-east-1:123456789012:shop000002/prod/GET/pets/1");
  CHECK(at(event, "/resource") == "/pets/{id}");
  CHECK(at(event, "/httpMethod") == "GET");
  CHECK(at(event, "/headers/X-Token") == "allow");
  CHECK(at(event, "/queryStringParameters/user") == "ann");
  CHECK(at(event, "/pathParameters/id") == "1");
  CHECK(at(event, "/requestContext/stage") == "prod");
  CHECK(at(event, "/authorizationToken") == "<missing>");
  CHECK(at(event, "/body") == "<missing>");  // authorizers get no body

  // The same identity (other parts of the request aside) is cached; another is not.
  CHECK(call(port, "/prod/pets/2?user=ann&page=2", {{"X-Token", "allow"}}) ==
        "200 - user-allow|t-allow");
  CHECK(lambda.requests().size() == 1);
  CHECK(call(port, "/prod/pets/1?user=bob", {{"X-Token", "deny"}}) == explicit_deny);
  CHECK(lambda.requests().size() == 2);
}

TEST_CASE("Authorizer::lambda: HTTP API payloads 1.0 and 2.0, and simple responses",
          "[lambda-authorizer]") {
  test::stub_server lambda(lambda_api);
  const gatehouse::authorizer_options opts{.name = "http",
                                           .type = gatehouse::authorizer_type::request,
                                           .identity_sources = {"$request.header.X-Token"},
                                           .result_ttl = 0s,
                                           .timeout = 500ms};
  using gatehouse::authorizer_payload;
  auto simple = gatehouse::Authorizer::lambda(opts, function(lambda, "simple"),
                                              authorizer_payload::http_v2_simple);
  auto v2 =
      gatehouse::Authorizer::lambda(opts, function(lambda, "v2"), authorizer_payload::http_v2);
  auto v1 =
      gatehouse::Authorizer::lambda(opts, function(lambda, "v1"), authorizer_payload::http_v1);
  CHECK_THROWS_AS(gatehouse::Authorizer::lambda({.name = "t"}, function(lambda, "x"),
                                                authorizer_payload::http_v2),
                  gatehouse::config_error);

  gatehouse::Router api({.name = "items", .id = "items00001", .type = gatehouse::api_type::http});
  const auto v2_events = gatehouse::payload_format::v2;
  api.route("GET", "/simple", whoami(v2_events), {.authorizer = simple});
  api.route("GET", "/v2", whoami(v2_events), {.authorizer = v2});
  api.route("GET", "/v1", whoami(), {.authorizer = v1});
  test::running_gateway gw;
  const auto port = gw.serve_plain(gatehouse::Stage("live", api.deploy()));
  auto with = [&](std::string_view target, std::string token) {
    return call(port, target, {{"X-Token", std::move(token)}});
  };
  const std::string forbidden = R"(403 - {"message":"Forbidden"})";

  // Simple responses: isAuthorized, and the context in requestContext.authorizer.lambda.
  auto allowed =
      test::fetch(port, test::request_text("GET", "/live/simple", {{"X-Token", "allow"}}));
  CHECK(summary(allowed) == "200 - |t-simple");
  REQUIRE(allowed);
  const std::string seen(allowed->headers.get("X-Event").value_or(""));
  CHECK(at(seen, "/requestContext/authorizer/lambda/tenant") == "t-simple");
  CHECK(at(seen, "/requestContext/authorizer/lambda/n") == "7");
  auto got = lambda.requests();
  REQUIRE(got.size() == 1);
  const auto& event = got[0].body;
  CHECK(at(event, "/version") == "2.0");
  CHECK(at(event, "/type") == "REQUEST");
  CHECK(at(event, "/routeArn") ==
        "arn:aws:execute-api:us-east-1:123456789012:items00001/live/GET/simple");
  CHECK(at(event, "/identitySource") == R"(["allow"])");
  CHECK(at(event, "/routeKey") == "GET /simple");
  CHECK(at(event, "/rawPath") == "/live/simple");
  CHECK(at(event, "/headers/x-token") == "allow");
  CHECK(at(event, "/body") == "<missing>");
  CHECK(with("/live/simple", "deny") == forbidden);
  CHECK(with("/live/simple", "malformed") == configuration_error);
  CHECK(with("/live/simple", "unauthorized") == unauthorized);
  CHECK(call(port, "/live/simple") == unauthorized);  // no identity: no call
  CHECK(with("/live/simple", "deny") == forbidden);
  CHECK(lambda.requests().size() == 5);  // no cache (TTL 0)

  // 2.0 with an IAM policy; HTTP APIs answer a deny with 403 Forbidden.
  CHECK(with("/live/v2", "allow") == "200 - user-allow|t-allow");
  CHECK(at(lambda.requests().back().body, "/routeArn").ends_with("/live/GET/v2"));
  CHECK(with("/live/v2", "deny") == forbidden);
  CHECK(with("/live/v2", "boom") == configuration_error);

  // 1.0: the REST-shaped event with version, identitySource and authorizationToken.
  CHECK(with("/live/v1", "allow") == "200 - user-allow|t-allow");
  const auto v1_event = lambda.requests().back().body;
  CHECK(at(v1_event, "/version") == "1.0");
  CHECK(at(v1_event, "/type") == "REQUEST");
  CHECK(at(v1_event, "/identitySource") == "allow");
  CHECK(at(v1_event, "/authorizationToken") == "allow");
  CHECK(at(v1_event, "/methodArn").ends_with("/live/GET/v1"));
  CHECK(at(v1_event, "/httpMethod") == "GET");
  CHECK(with("/live/v1", "deny") == forbidden);
  CHECK(with("/live/simple", "slow") == configuration_error);
}

namespace {
constexpr const char* rest_document = R"({
  "swagger": "2.0",
  "info": {"title": "guarded", "version": "1"},
  "securityDefinitions": {
    "gate": {
      "type": "apiKey", "name": "Authorization", "in": "header",
      "x-amazon-apigateway-authtype": "custom",
      "x-amazon-apigateway-authorizer": {
        "type": "token",
        "authorizerUri": "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:gate/invocations",
        "authorizerCredentials": "arn:aws:iam::123456789012:role/invoker",
        "authorizerResultTtlInSeconds": 300
      }
    }
  },
  "paths": {
    "/pets": {
      "get": {
        "security": [{"gate": []}],
        "x-amazon-apigateway-integration": {
          "type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
          "responses": {"default": {"statusCode": "200",
            "responseTemplates": {"application/json": "{\"who\":\"$context.authorizer.principalId\"}"}}}
        },
        "responses": {"200": {"description": "ok"}}
      }
    }
  }
})";

constexpr const char* http_document = R"(
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
        authorizerUri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:simple/invocations
        authorizerPayloadFormatVersion: '2.0'
        enableSimpleResponses: true
        authorizerResultTtlInSeconds: 300
security: [{gate: []}]
paths:
  /items:
    get:
      x-amazon-apigateway-integration:
        type: aws_proxy
        uri: arn:aws:lambda:us-east-1:123456789012:function:items
        payloadFormatVersion: '2.0'
)";
}  // namespace

TEST_CASE("imported authorizers are invoked at the host's Lambda endpoint", "[lambda-authorizer]") {
  test::stub_server lambda(lambda_api);

  SECTION("a REST API's TOKEN authorizer") {
    gatehouse::openapi_options o;
    // Without an endpoint the authorizer stays unbound, as before.
    CHECK(gatehouse::import_openapi(rest_document, o).unbound_authorizers ==
          std::vector<std::string>{"gate"});
    o.lambda = gatehouse::lambda_endpoint{.endpoint = lambda.url(), .credentials = kCredentials};
    auto api = gatehouse::import_openapi(rest_document, o);
    CHECK(api.unbound_authorizers.empty());
    test::running_gateway gw;
    const auto port = gw.serve_plain(gatehouse::Stage("prod", api.router.deploy()));
    auto with = [&](std::string token) {
      return call(port, "/prod/pets", {{"Authorization", std::move(token)}});
    };
    CHECK(call(port, "/prod/pets") == unauthorized);
    CHECK(with("allow") == R"(200 - {"who":"user-allow"})");
    CHECK(with("allow") == R"(200 - {"who":"user-allow"})");  // cached
    CHECK(with("deny") == explicit_deny);
    CHECK(with("unauthorized") == unauthorized);
    CHECK(with("boom") == configuration_error);
    auto got = lambda.requests();
    REQUIRE(got.size() == 4);
    CHECK(got[0].target ==
          "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Agate/"
          "invocations");
    // Signed with the endpoint's credentials, in the function's region (the role is not used).
    CHECK(got[0].headers.get("Authorization").value_or("").find("Credential=AKIDLAMBDAAUTH/") !=
          std::string::npos);
    CHECK(got[0].headers.get("Authorization").value_or("").find("/eu-west-1/lambda/") !=
          std::string::npos);
    CHECK(at(got[0].body, "/authorizationToken") == "allow");
  }

  SECTION("an HTTP API's simple-response authorizer, its routes' function at the same endpoint") {
    gatehouse::openapi_options o;
    o.type = gatehouse::api_type::http;
    o.lambda = gatehouse::lambda_endpoint{.endpoint = lambda.url(), .credentials = kCredentials};
    auto api = gatehouse::import_openapi(http_document, o);
    CHECK(api.unbound_authorizers.empty());
    test::running_gateway gw;
    const auto port = gw.serve_plain(gatehouse::Stage("live", api.router.deploy()));
    // The items function is the same stand-in: invoked with a proxy event it answers in the
    // simple format, a JSON body without statusCode, which AWS takes as a 200 JSON answer.
    auto allowed = call(port, "/live/items", {{"X-Token", "allow"}});
    CHECK(allowed.starts_with("200 - {"));
    CHECK(call(port, "/live/items", {{"X-Token", "deny"}}) == R"(403 - {"message":"Forbidden"})");
    CHECK(call(port, "/live/items", {{"X-Token", "allow"}}).starts_with("200 "));  // cached
    CHECK(call(port, "/live/items") == unauthorized);
    auto got = lambda.requests();
    // allow (authorizer + function), deny, allow again (function only).
    REQUIRE(got.size() == 4);
    CHECK(
        got[0].target.starts_with("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A"
                                  "123456789012%3Afunction%3Asimple/"));
    CHECK(at(got[0].body, "/routeArn").ends_with("/live/GET/items"));
    CHECK(got[1].target.find("function%3Aitems/") != std::string::npos);
    CHECK(at(got[1].body, "/requestContext/authorizer/lambda/tenant") == "t-simple");
  }
}

TEST_CASE("Authorizer::lambda refuses bad options, naming them", "[lambda-authorizer]") {
  gatehouse::lambda_options f;
  f.function_name = "gate";
  f.region = "eu-west-1";
  f.credentials = kCredentials;
  CHECK_NOTHROW(gatehouse::Authorizer::lambda({.name = "ok"}, f));
  auto bad = [&](auto change, const char* needle,
                 gatehouse::authorizer_options options = {.name = "bad"}) {
    auto o = f;
    change(o);
    CHECK_THROWS_WITH(gatehouse::Authorizer::lambda(options, o), Catch::Contains(needle));
  };
  bad([](auto& o) { o.function_name = "a/b"; }, "function_name");
  bad([](auto& o) { o.qualifier = "a:b"; }, "qualifier");
  bad([](auto& o) { o.credentials = {}; }, "access_key_id");
  bad([](auto& o) { o.endpoint = "lambda.local"; }, "endpoint");
  bad([](auto&) {}, "timeout", {.name = "slow", .timeout = std::chrono::seconds(30)});
  bad([](auto&) {}, "TOKEN authorizer takes exactly one header",
      {.name = "two", .identity_sources = {"method.request.header.A", "method.request.header.B"}});
}
