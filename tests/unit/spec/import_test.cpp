// Importing REST API documents as AWS does: versions, base paths, resources and methods,
// parameters, validators, models and $refs, security, integrations, root extensions, AWS
// variables, warnings and errors in AWS's words.

#include "spec/describe.hpp"
#include "spec/model.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/openapi.hpp>

#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {
using gatehouse::openapi_options;

gatehouse::openapi_api import(std::string_view doc, openapi_options o = {}) {
  return gatehouse::import_openapi(doc, std::move(o));
}

std::string import_error(std::string_view doc, openapi_options o = {}) {
  try {
    gatehouse::import_openapi(doc, std::move(o));
  } catch (const gatehouse::config_error& e) {
    return e.what();
  }
  return "<imported>";
}

std::vector<std::string> paths(const gatehouse::openapi_api& api) {
  std::vector<std::string> out;
  for (const auto& r : api.model->resources) out.push_back(r.path);
  return out;
}

const gatehouse::spec::method_model& method(const gatehouse::openapi_api& api,
                                            std::string_view path, std::string_view m) {
  const auto* r = gatehouse::spec::find_resource(*api.model, path);
  REQUIRE(r);
  const auto* found = gatehouse::spec::find_method(*r, m);
  REQUIRE(found);
  return *found;
}

std::string describe(const gatehouse::openapi_api& api, std::string_view path, std::string_view m) {
  const auto* r = gatehouse::spec::find_resource(*api.model, path);
  REQUIRE(r);
  return gatehouse::spec::describe_method(*api.model, *r, method(api, path, m));
}

// A Swagger 2.0 document around `paths` (and more root members).
std::string swagger(std::string_view paths, std::string_view more = "") {
  return std::string(R"({"swagger":"2.0","info":{"title":"Test","version":"1"},)") +
         std::string(more) + (more.empty() ? "" : ",") + R"("paths":)" + std::string(paths) + "}";
}
std::string oas3(std::string_view paths, std::string_view more = "") {
  return std::string(R"({"openapi":"3.0.1","info":{"title":"Test","version":"1"},)") +
         std::string(more) + (more.empty() ? "" : ",") + R"("paths":)" + std::string(paths) + "}";
}

constexpr const char* mock_get =
    R"({"get":{"x-amazon-apigateway-integration":{"type":"mock",)"
    R"("requestTemplates":{"application/json":"{\"statusCode\": 200}"},)"
    R"("responses":{"default":{"statusCode":200}}}}})";
}  // namespace

TEST_CASE("import: versions AWS takes, and AWS's refusals", "[spec]") {
  CHECK(import(swagger("{}")).name == "Test");
  CHECK(import(oas3("{}")).version == "1");
  CHECK(import("openapi: 3.0.0\ninfo: {title: Y, version: 2.5}\npaths: {}\n").version == "2.5");
  CHECK(import("swagger: 2.0\ninfo: {title: Y, version: 1.0}\npaths: {}\n").version == "1.0");
  CHECK(import_error(R"({"openapi":"3.1.0","info":{"title":"t"},"paths":{}})") ==
        "Unable to build importer with provided input. Unable to determine OAS version from "
        "'3.1.0'");
  CHECK(import_error(R"({"swagger":"1.2","info":{"title":"t"}})")
            .starts_with("Invalid OpenAPI input."));
  CHECK(import_error(R"({"info":{"title":"t"},"paths":{}})").starts_with("Invalid OpenAPI input."));
  CHECK(import_error("not: [valid").starts_with("Invalid OpenAPI input."));
}

TEST_CASE("import: ids are given, or stable and AWS-shaped from the name", "[spec]") {
  auto a = import(swagger("{}"));
  auto b = import(swagger("{}"));
  CHECK(a.id == b.id);
  CHECK(a.id.size() == 10);
  CHECK(a.id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") == std::string::npos);
  CHECK(a.router.options().id == a.id);
  CHECK(import(R"({"swagger":"2.0","info":{"title":"Other"},"paths":{}})").id != a.id);
  openapi_options o;
  o.id = "abc123defg";
  CHECK(import(swagger("{}"), o).id == "abc123defg");
  o.id = "no/slashes";
  CHECK(import_error(swagger("{}"), o) == "API id 'no/slashes': use letters and digits");
}

TEST_CASE("import: resources, {param}, {proxy+}, ANY, and the resources above them", "[spec]") {
  auto api = import(swagger(std::string(R"({"/pets/{petId}/toys":)") + mock_get +
                            R"(,"/legacy/{proxy+}":{"x-amazon-apigateway-any-method":)"
                            R"({"x-amazon-apigateway-integration":{"type":"http_proxy",)"
                            R"("uri":"http://b/{proxy}","httpMethod":"ANY"}}},)"
                            R"("/":)" +
                            mock_get + "}"));
  CHECK(paths(api) == std::vector<std::string>{"/", "/legacy", "/legacy/{proxy+}", "/pets",
                                               "/pets/{petId}", "/pets/{petId}/toys"});
  CHECK(method(api, "/legacy/{proxy+}", "ANY").integration->type == "HTTP_PROXY");
  // {petId} is undeclared: AWS still makes it a required parameter; greedy ones it does not.
  CHECK(method(api, "/pets/{petId}/toys", "GET").request_parameters ==
        gatehouse::spec::flag_map{{"method.request.path.petId", true}});
  CHECK(method(api, "/legacy/{proxy+}", "ANY").request_parameters.empty());
  REQUIRE(api.routes.size() == 3);
  CHECK(api.routes[0].method == "GET");
  CHECK(api.routes[0].path == "/");
  CHECK(api.routes[1].integration == "HTTP_PROXY ANY http://b/{proxy}");

  CHECK(import_error(swagger(R"({"/a/{x}":{},"/a/{y}":{}})")) ==
        "Unable to create resource at path '/a/{y}': A sibling ({x}) of this resource already "
        "has a variable path part -- only one is allowed");
  CHECK(import_error(swagger(R"({"/a b":{}})")) ==
        "Unable to create resource at path '/a b': Resource's path part only allow "
        "a-zA-Z0-9._-: and curly braces at the beginning and the end and an optional plus sign "
        "before the closing brace.");
  CHECK(import_error(swagger(R"({"/{p+}/x":{}})"))
            .starts_with("Unable to create resource at path '/{p+}/x':"));
  CHECK(
      import_error(swagger(std::string(R"({"/a":)") + mock_get + R"(,"/a/":)" + mock_get + "}")) ==
      "Unable to put method 'GET' on resource at path '/a': Method already exists for this "
      "resource");
}

TEST_CASE("import: base paths ignored, prepended or split, as AWS's recorded imports", "[spec]") {
  const std::string get = mock_get;
  auto with_base = swagger(R"({"/test":)" + get + "}", R"("basePath":"/base-url/part/")");
  openapi_options o;
  CHECK(import(with_base, o).base_path == "/base-url/part");
  CHECK(paths(import(with_base, o)) == std::vector<std::string>{"/", "/test"});
  o.base_path = gatehouse::base_path_mode::prepend;
  CHECK(paths(import(with_base, o)) ==
        std::vector<std::string>{"/", "/base-url", "/base-url/part", "/base-url/part/test"});
  CHECK(import(with_base, o).model->resources[1].methods.empty());
  o.base_path = gatehouse::base_path_mode::split;
  CHECK(paths(import(with_base, o)) == std::vector<std::string>{"/", "/part", "/part/test"});

  // OpenAPI 3: the basePath server variable (even unused in the URL), else the URL's path.
  auto with_variable =
      oas3(R"({"/test":)" + get + "}", R"("servers":[{"url":"https://x.example/{v}","variables":)"
                                       R"({"v":{"default":"ignored"}}},{"url":"/","variables":)"
                                       R"({"basePath":{"default":"/base-var"}}}])");
  o.base_path = gatehouse::base_path_mode::ignore;
  CHECK(paths(import(with_variable, o)) == std::vector<std::string>{"/", "/test"});
  o.base_path = gatehouse::base_path_mode::prepend;
  CHECK(paths(import(with_variable, o)) ==
        std::vector<std::string>{"/", "/base-var", "/base-var/test"});
  o.base_path = gatehouse::base_path_mode::split;
  CHECK(paths(import(with_variable, o)) == std::vector<std::string>{"/", "/test"});
  auto with_url = oas3(R"({"/test":)" + get + "}",
                       R"("servers":[{"url":"https://{host}/v1/{stage}","variables":)"
                       R"({"host":{"default":"h"},"stage":{"default":"prod"}}}])");
  CHECK(import(with_url).base_path == "/v1/prod");
  o.base_path = gatehouse::base_path_mode::prepend;
  CHECK(paths(import(with_url, o)).back() == "/v1/prod/test");
}

TEST_CASE("import: parameters, leniently (no types, path-level ones, $refs)", "[spec]") {
  auto api = import(
      swagger(R"({"/pets/{petId}":{"parameters":[{"name":"petId","in":"path","required":true},)"
              R"({"name":"trace","in":"header"}],)"
              R"("get":{"parameters":[{"$ref":"#/parameters/page"},{"name":"trace","in":"header",)"
              R"("required":"true"},{"name":"f","in":"formData"},{"in":"query"}],)"
              R"("x-amazon-apigateway-integration":{"type":"mock"}}}})",
              R"("parameters":{"page":{"name":"page","in":"query","required":false}})"));
  CHECK(method(api, "/pets/{petId}", "GET").request_parameters ==
        gatehouse::spec::flag_map{{"method.request.path.petId", true},
                                  {"method.request.querystring.page", false},
                                  {"method.request.header.trace", true}});
  CHECK(api.warnings == std::vector<std::string>{
                            "Ignoring a parameter of resource '/pets/{petId}' and method 'GET' "
                            "without a name or location"});
}

TEST_CASE("import: request validators, the default one and each method's", "[spec]") {
  auto api = import(
      swagger(R"({"/a":{"get":{"x-amazon-apigateway-integration":{"type":"mock"}},)"
              R"("post":{"x-amazon-apigateway-request-validator":"params-only",)"
              R"("x-amazon-apigateway-integration":{"type":"mock"}},)"
              R"("put":{"x-amazon-apigateway-request-validator":"nope",)"
              R"("x-amazon-apigateway-integration":{"type":"mock"}}}})",
              R"("x-amazon-apigateway-request-validators":{"basic":{"validateRequestBody":true,)"
              R"("validateRequestParameters":true},"params-only":{"validateRequestBody":false,)"
              R"("validateRequestParameters":true}},)"
              R"("x-amazon-apigateway-request-validator":"basic")"));
  CHECK(method(api, "/a", "GET").request_validator == "basic");
  CHECK(method(api, "/a", "POST").request_validator == "params-only");
  CHECK(method(api, "/a", "PUT").request_validator.empty());
  CHECK(api.warnings == std::vector<std::string>{
                            "Invalid request validator 'nope' for resource '/a' and method 'PUT': "
                            "no such validator is defined"});
}

TEST_CASE("import: models, $refs rewritten to AWS's model URIs, cycles allowed", "[spec]") {
  auto api = import(oas3(
      R"({"/trees":{"post":{"requestBody":{"content":{"application/json":{"schema":)"
      R"({"$ref":"#/components/schemas/Tree"}},"text/plain":{"schema":{"type":"string"}}}},)"
      R"("responses":{"200":{"description":"ok","headers":{"X-Id":{"schema":{"type":"string"}}},)"
      R"("content":{"application/json":{"schema":{"$ref":"#/components/schemas/Tree"}}}}},)"
      R"("x-amazon-apigateway-integration":{"type":"mock"}}}})",
      R"("components":{"schemas":{"Tree":{"type":"object","properties":{"children":)"
      R"({"type":"array","items":{"$ref":"#/components/schemas/Tree"}},"leaf":)"
      R"({"$ref":"#/components/schemas/Leaf"},"gone":{"$ref":"#/components/schemas/Gone"}}},)"
      R"("Leaf":{"type":"object","properties":{"up":{"$ref":"#/components/schemas/Tree"}}},)"
      R"("bad_name":{"type":"string"}}})"));
  const auto& models = api.model->models;
  REQUIRE(models.size() == 3);
  CHECK(models[0].name == "Tree");
  const std::string base = "https://apigateway.amazonaws.com/restapis/" + api.id + "/models/";
  CHECK(models[0].schema ==
        R"({"type":"object","properties":{"children":{"type":"array","items":{"$ref":")" + base +
            R"(Tree"}},"leaf":{"$ref":")" + base + R"(Leaf"},"gone":{}}})");
  CHECK(models[2].schema == R"({"type":"string"})");
  CHECK(models[2].name.starts_with("MODEL"));
  const auto& post = method(api, "/trees", "POST");
  CHECK(post.request_models ==
        gatehouse::spec::text_map{{"application/json", "Tree"}, {"text/plain", models[2].name}});
  REQUIRE(post.method_responses.size() == 1);
  CHECK(post.method_responses[0].response_parameters ==
        gatehouse::spec::flag_map{{"method.response.header.X-Id", false}});
  CHECK(post.method_responses[0].response_models ==
        gatehouse::spec::text_map{{"application/json", "Tree"}});
  CHECK(api.warnings == std::vector<std::string>{"Model name must be alphanumeric: bad_name",
                                                 "Reference to model 'Gone' not found. Ignoring."});
  // The cycle Tree → Leaf → Tree deploys (and validates: see the integration tests).
  CHECK(api.router.deploy());
}

TEST_CASE("import: security: API keys, authorizers, IAM, the document's default", "[spec]") {
  const char* schemes =
      R"("securityDefinitions":{"api_key":{"type":"apiKey","name":"x-api-key","in":"header"},)"
      R"("tok":{"type":"apiKey","name":"Authorization","in":"header",)"
      R"("x-amazon-apigateway-authtype":"custom","x-amazon-apigateway-authorizer":{"type":"token",)"
      R"("authorizerUri":"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/)"
      R"(arn:aws:lambda:us-east-1:123456789012:function:auth/invocations",)"
      R"("authorizerResultTtlInSeconds":60,"identityValidationExpression":"Bearer .*"}},)"
      R"("req":{"type":"apiKey","name":"Unused","in":"header","x-amazon-apigateway-authorizer":)"
      R"({"type":"request","identitySource":"method.request.header.A, method.request.querystring.b"}},)"
      R"("pool":{"type":"apiKey","name":"Authorization","in":"header",)"
      R"("x-amazon-apigateway-authtype":"cognito_user_pools","x-amazon-apigateway-authorizer":)"
      R"({"type":"cognito_user_pools","providerARNs":)"
      R"(["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC"]}},)"
      R"("sigv4":{"type":"apiKey","name":"Authorization","in":"header",)"
      R"("x-amazon-apigateway-authtype":"awsSigv4"},)"
      R"("oauth":{"type":"oauth2","flow":"implicit","authorizationUrl":"https://x"}},)"
      R"("security":[{"api_key":[]}])";
  auto api = import(swagger(
      R"({"/default":{"get":{"x-amazon-apigateway-integration":{"type":"mock"}}},)"
      R"("/open":{"get":{"security":[],"x-amazon-apigateway-integration":{"type":"mock"}}},)"
      R"("/tok":{"get":{"security":[{"tok":[]},{"api_key":[]}],)"
      R"("x-amazon-apigateway-integration":{"type":"mock"}}},)"
      R"("/pool":{"get":{"security":[{"pool":["email","openid"]}],)"
      R"("x-amazon-apigateway-integration":{"type":"mock"}}},)"
      R"("/iam":{"get":{"security":[{"sigv4":[]},{"undefined-scheme":[]},{"oauth":[]}],)"
      R"("x-amazon-apigateway-integration":{"type":"mock"}}},)"
      R"("/old":{"get":{"security":[],"x-amazon-apigateway-auth":{"type":"aws_iam"},)"
      R"("x-amazon-apigateway-integration":{"type":"mock"}}}})",
      schemes));
  CHECK(method(api, "/default", "GET").api_key_required);
  CHECK(method(api, "/default", "GET").authorization_type == "NONE");
  CHECK_FALSE(method(api, "/open", "GET").api_key_required);
  const auto& tok = method(api, "/tok", "GET");
  CHECK(tok.authorization_type == "CUSTOM");
  CHECK(tok.authorizer == "tok");
  CHECK(tok.api_key_required);
  const auto& pool = method(api, "/pool", "GET");
  CHECK(pool.authorization_type == "COGNITO_USER_POOLS");
  CHECK(pool.authorization_scopes == std::vector<std::string>{"email", "openid"});
  CHECK(method(api, "/iam", "GET").authorization_type == "AWS_IAM");
  CHECK(method(api, "/old", "GET").authorization_type == "AWS_IAM");
  // Every authorizer is made, used or not; TOKEN/Cognito read the scheme's header by default.
  REQUIRE(api.model->authorizers.size() == 3);
  const auto& a = api.model->authorizers;
  CHECK(a[0].name == "tok");
  CHECK(a[0].type == "TOKEN");
  CHECK(a[0].identity_source == "method.request.header.Authorization");
  CHECK(a[0].result_ttl_seconds == 60);
  CHECK(a[1].type == "REQUEST");
  CHECK(a[1].identity_source == "method.request.header.A, method.request.querystring.b");
  CHECK(a[2].type == "COGNITO_USER_POOLS");
  // Nothing bound: the custom authorizers answer 500; the routes say who guards them.
  CHECK(api.unbound_authorizers == std::vector<std::string>{"tok", "req"});
  CHECK(api.routes[0].authorization == "NONE");  // /default, then /iam, /old, /open …
  CHECK(api.routes[0].api_key_required);
  CHECK(api.routes[1].authorization == "AWS_IAM");
  CHECK(api.routes[4].authorization == "COGNITO_USER_POOLS pool");
  CHECK(api.routes[5].authorization == "CUSTOM tok");
  CHECK(api.warnings.empty());
}

TEST_CASE("import: integrations as AWS reads them", "[spec]") {
  auto api = import(swagger(
      R"({"/http/{id}":{"get":{"x-amazon-apigateway-integration":{"type":"HTTP",)"
      R"("httpMethod":"post","uri":"https://b.example/items/{key}?x=1",)"
      R"("requestParameters":{"integration.request.path.key":"method.request.path.id",)"
      R"("integration.request.header.nothing":true},)"
      R"("requestTemplates":{"application/json":{"statusCode":200}},)"
      R"("passthroughBehavior":"when_no_templates","timeoutInMillis":"5000",)"
      R"("cacheKeyParameters":["method.request.path.id"],"tlsConfig":{"insecureSkipVerification":true},)"
      R"("contentHandling":"CONVERT_TO_TEXT",)"
      R"("responses":{"4\\d{2}":{"statusCode":404,"responseParameters":)"
      R"({"method.response.header.X-A":"'static'","method.response.header.X-B":"context.requestId"}},)"
      R"("default":{"statusCode":"200"},"2\\d{2}":{"statusCode":"200",)"
      R"("responseTemplates":{"application/json":"$input.body"}}}}}},)"
      R"("/fn":{"get":{"x-amazon-apigateway-integration":{"type":"aws_proxy","httpMethod":"POST",)"
      R"("uri":"arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/)"
      R"(arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:items:live/invocations"}}},)"
      R"("/sqs":{"post":{"x-amazon-apigateway-integration":{"type":"aws","httpMethod":"POST",)"
      R"("uri":"arn:aws:apigateway:eu-west-1:sqs:path/123456789012/queue"}}},)"
      R"("/none":{"get":{}}})"));
  const auto& http = *method(api, "/http/{id}", "GET").integration;
  CHECK(http.type == "HTTP");
  CHECK(http.http_method == "POST");
  CHECK(http.request_parameters ==
        gatehouse::spec::text_map{{"integration.request.path.key", "method.request.path.id"}});
  CHECK(http.request_templates ==
        gatehouse::spec::text_map{{"application/json", R"({"statusCode":200})"}});
  CHECK(http.passthrough_behavior == "WHEN_NO_TEMPLATES");
  CHECK(http.timeout_ms == 5000);
  CHECK(http.insecure_skip_verification == true);
  CHECK(http.connection_type == "INTERNET");
  // Integration responses are AWS's, by status code: the later 200 replaced the default one.
  REQUIRE(http.responses.size() == 2);
  CHECK(http.responses[0].selection_pattern == "4\\d{2}");
  CHECK(http.responses[0].status_code == "404");
  CHECK(http.responses[1].selection_pattern == "2\\d{2}");
  CHECK(api.warnings ==
        std::vector<std::string>{"Invalid format for 'requestParameters'. Expected type string for "
                                 "property 'integration.request.header.nothing' of resource "
                                 "'/http/{id}' and method 'GET' but got 'true'"});
  CHECK(api.unsupported ==
        std::vector<std::string>{"GET /http/{id}: contentHandling CONVERT_TO_TEXT is not applied",
                                 "GET /http/{id}: response parameter method.response.header.X-B = "
                                 "context.requestId is not mapped"});
  // ${AWS::…} are put in; the function is not bound: it answers 500, and is listed.
  CHECK(method(api, "/fn", "GET").integration->uri ==
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:us-east-1:123456789012:function:items:live/invocations");
  CHECK(api.unbound_functions ==
        std::vector<std::string>{"arn:aws:lambda:us-east-1:123456789012:function:items:live"});
  CHECK(api.routes[0].integration == "AWS_PROXY items:live (unbound)");
  CHECK(api.routes[1].integration == "HTTP POST https://b.example/items/{key}?x=1");
  CHECK(api.routes[2].integration == "NONE");
  CHECK(api.routes[3].integration ==
        "AWS POST arn:aws:apigateway:eu-west-1:sqs:path/123456789012/queue (no credentials)");
  // Bound by name, qualifier or ARN, the most specific first.
  openapi_options o;
  o.functions["items"] = gatehouse::mock({});
  CHECK(import(swagger(R"({"/fn":{"get":{"x-amazon-apigateway-integration":{"type":"aws_proxy",)"
                       R"("uri":"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/)"
                       R"(arn:aws:lambda:us-east-1:1:function:items:live/invocations"}}}})"),
               o)
            .routes[0]
            .integration == "AWS_PROXY items:live (C++)");
  o.functions.clear();
  o.lambda = gatehouse::lambda_endpoint{.endpoint = "http://127.0.0.1:9",
                                        .credentials = {"AKIDEXAMPLE", "secret", ""}};
  CHECK(import(swagger(R"({"/fn":{"get":{"x-amazon-apigateway-integration":{"type":"aws_proxy",)"
                       R"("uri":"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/)"
                       R"(arn:aws:lambda:eu-west-1:1:function:items/invocations"}}}})"),
               o)
            .routes[0]
            .integration == "AWS_PROXY items (Lambda at http://127.0.0.1:9)");
}

TEST_CASE("import: what AWS refuses in an integration, naming the method", "[spec]") {
  auto with = [](std::string_view integration) {
    return import_error(swagger(std::string(R"({"/a":{"get":{"x-amazon-apigateway-integration":)") +
                                std::string(integration) + "}}}"));
  };
  CHECK(with(R"({"uri":"http://x"})") ==
        "Unable to put integration on 'GET' for resource at path '/a': Invalid integration type "
        "specified: null");
  CHECK(with(R"({"type":"lambda"})").ends_with("Invalid integration type specified: lambda"));
  CHECK(with(R"({"type":"http"})").ends_with("Invalid integration URI specified"));
  CHECK(with(R"({"type":"http","uri":"http://x","timeoutInMillis":30000})")
            .ends_with("Timeout should be between 50 ms and 29000 ms"));
  CHECK(with(R"({"type":"mock","passthroughBehavior":"sometimes"})")
            .ends_with("Invalid passthrough behavior specified: sometimes"));
  CHECK(with(R"({"type":"http","uri":"ftp://x"})")
            .starts_with("Unable to put integration on 'GET' for resource at path '/a': "));
  CHECK(with(R"({"type":"http","uri":"http://x","requestParameters":)"
             R"({"integration.request.header.x":"method.request.nope.y"}})")
            .starts_with("Unable to put integration on 'GET' for resource at path '/a': "));
  CHECK(with(R"({"type":"mock","responses":{"default":{"statusCode":"abc"}}})")
            .ends_with("Invalid status code specified: abc"));
  // Patterns go to std::regex, whose parser recurses per term: their length is bounded.
  CHECK(with(R"({"type":"mock","responses":{")" + std::string(3000, 'a') +
             R"(":{"statusCode":"200"}}})")
            .ends_with("Invalid selection pattern specified: longer than 2048 characters "
                       "(gatehouse's limit)"));
  // A template gatehouse cannot run is found at import, naming the route.
  CHECK(with(R"({"type":"mock","requestTemplates":{"application/json":"#end"}})") ==
        "mapping template 'GET /a request application/json': line 1, column 1: #end without a "
        "matching #if or #foreach");
}

TEST_CASE("import: root extensions: kept, and applied where gatehouse has them", "[spec]") {
  auto api = import(swagger(
      "{}",
      R"("x-amazon-apigateway-binary-media-types":["image/png","image/jpg"],)"
      R"("x-amazon-apigateway-minimum-compression-size":1024,)"
      R"("x-amazon-apigateway-api-key-source":"authorizer",)"
      R"("x-amazon-apigateway-endpoint-configuration":{"vpcEndpointIds":["vpce-1"]},)"
      R"("x-amazon-apigateway-policy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
      R"("Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"}]},)"
      R"("x-amazon-apigateway-cors":{"allowOrigins":["*"]},)"
      R"("x-amazon-apigateway-gateway-responses":{"MISSING_AUTHENTICATION_TOKEN":)"
      R"({"statusCode":404,"responseParameters":{"gatewayresponse.header.X-Why":"'no route'"},)"
      R"("responseTemplates":{"application/json":"{\"error\":\"$context.error.messageString\"}"}},)"
      R"("NOT_A_TYPE":{"statusCode":400}})"));
  CHECK(api.binary_media_types == std::vector<std::string>{"image/png", "image/jpg"});
  CHECK(api.minimum_compression_size == 1024);
  CHECK(api.endpoint_types == std::vector<std::string>{"PRIVATE"});
  CHECK(api.router.options().endpoint == gatehouse::endpoint_type::private_endpoint);
  CHECK(api.router.options().key_source == gatehouse::api_key_source::authorizer);
  CHECK(api.policy.starts_with(R"({"Version":"2012-10-17")"));
  CHECK(api.router.options().resource_policy == api.policy);
  CHECK(api.extensions.find(R"("x-amazon-apigateway-cors":{"allowOrigins":["*"]})") !=
        std::string::npos);
  CHECK(api.warnings == std::vector<std::string>{"Invalid gateway response type 'NOT_A_TYPE'"});
  CHECK(gatehouse::spec::describe_rest_api(*api.model).find(R"("apiKeySource":"AUTHORIZER")") !=
        std::string::npos);
}

TEST_CASE("import: fail_on_warnings refuses what would otherwise import", "[spec]") {
  const auto doc = swagger(R"({"/a":{"get":{"parameters":[{"in":"query"}],)"
                           R"("x-amazon-apigateway-integration":{"type":"mock"}}}})");
  CHECK(import(doc).warnings.size() == 1);
  openapi_options o;
  o.fail_on_warnings = true;
  CHECK(import_error(doc, o) ==
        "Warnings found during import:\n\tIgnoring a parameter of resource '/a' and method 'GET' "
        "without a name or location");
  CHECK(import(swagger("{}"), o).warnings.empty());
}

TEST_CASE("import: YAML documents import as their JSON twins", "[spec]") {
  const char* yaml = R"(
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
  auto api = import(yaml);
  CHECK(api.name == "Pets");
  CHECK(api.version == "2024-01-01");
  CHECK(describe(api, "/pets/{petId}", "GET") ==
        R"({"apiKeyRequired":false,"authorizationType":"NONE","httpMethod":"GET",)"
        R"("methodIntegration":{"cacheKeyParameters":[],"cacheNamespace":")" +
            gatehouse::spec::resource_id(*api.model, api.model->resources.back()) +
            R"(","connectionType":"INTERNET","httpMethod":"GET","integrationResponses":{"200":)"
            R"({"statusCode":"200"}},"passthroughBehavior":"WHEN_NO_MATCH","requestParameters":)"
            R"({"integration.request.path.petId":"method.request.path.petId"},)"
            R"("timeoutInMillis":29000,"type":"HTTP","uri":"http://backend.example/pets/{petId}"},)"
            R"("methodResponses":{"200":{"statusCode":"200"}},"requestParameters":)"
            R"({"method.request.path.petId":true}})");
}

TEST_CASE("an AWS integration that cannot be called keeps its method, templates and all",
          "[spec]") {
  // Without service credentials (or with a URI that names no service) the method answers 500;
  // its mapping templates and integration responses must not stop the import.
  const auto api = import(swagger(
      R"({"/q":{"get":{"x-amazon-apigateway-integration":{"type":"aws","httpMethod":"POST",)"
      R"("uri":"arn:aws:apigateway:us-east-1:sqs:path/123456789012/queue",)"
      R"("requestTemplates":{"application/json":"Action=SendMessage"},)"
      R"("responses":{"default":{"statusCode":"200"}}}}},)"
      R"("/u":{"get":{"x-amazon-apigateway-integration":{"type":"aws","httpMethod":"POST",)"
      R"("uri":"not-an-arn","requestTemplates":{"application/json":"{}"}}}}})"));
  REQUIRE(api.routes.size() == 2);
  CHECK(api.routes[0].integration ==
        "AWS POST arn:aws:apigateway:us-east-1:sqs:path/123456789012/queue (no credentials)");
  CHECK(api.routes[1].integration == "AWS not-an-arn (unusable URI)");
}
