// An API composed in C++ exports as AWS would have it, and its export, imported again with the
// same functions and authorizers bound by name, serves the same API: both are served on real
// gateways and asked the same requests (every integration kind: C++ functions named and
// unnamed, http, http_proxy, mock, aws_service, lambda_invoke; custom, Cognito and IAM
// authorization, API keys, validation, templates, integration responses).

#include "jwt_mint.hpp"
#include "stub_server.hpp"

#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>
#include <gatehouse/openapi.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace {
constexpr const char* key_value = "exportkey0123456789exportkey0123";
constexpr const char* pool_issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Test";
const gatehouse::aws_credentials credentials{"AKIDEXAMPLE", "secret", ""};

gatehouse::proxy_result echo(const gatehouse::proxy_event& ev, std::string_view who) {
  gatehouse::proxy_result r;
  r.headers.add("Content-Type", "text/plain");
  r.body = std::string(who) + " " + std::string(ev.http_method()) + " " +
           std::string(ev.resource()) + " " + std::string(ev.path());
  return r;
}

struct bindings {
  gatehouse::integration named =
      gatehouse::function([](const gatehouse::proxy_event& ev) { return echo(ev, "named"); },
                          gatehouse::function_options{.name = "list-fn"});
  gatehouse::integration unnamed =
      gatehouse::function([](const gatehouse::proxy_event& ev) { return echo(ev, "unnamed"); });
  gatehouse::Authorizer tok{{.name = "tok",
                             .identity_sources = {"method.request.header.Authorization"},
                             .result_ttl = std::chrono::seconds(0)},
                            [](const gatehouse::authorizer_request& r) {
                              if (r.authorization_token() == "allow")
                                return gatehouse::authorizer_result::allow("user");
                              return gatehouse::authorizer_result::deny("user");
                            }};
};

gatehouse::Router composed(const bindings& b, const std::string& backend,
                           const std::string& lambda) {
  gatehouse::Router api({.name = "Composed", .id = "compose123"});
  api.model("Pet", R"({"type":"object","required":["type"],"properties":{"type":{"type":"string",
                       "enum":["dog","cat"]},"owner":{"$ref":"https://apigateway.amazonaws.com/restapis/compose123/models/Owner"}}})");
  api.model("Owner", R"({"type":"object","properties":{"name":{"type":"string"}}})");
  gatehouse::gateway_response missing{.status = 404,
                                      .body = R"({"error":$context.error.messageString})"};
  missing.headers.add("X-Why", "no route");
  api.set_gateway_response(gatehouse::response_type::missing_authentication_token, missing);
  api.route("GET", "/fn", b.named);
  api.route("GET", "/unnamed/{id}", b.unnamed);
  api.route(
      "GET", "/http/{id}",
      gatehouse::http(
          "GET", backend + "/items/{key}",
          {.request_parameters = {{"integration.request.path.key", "method.request.path.id"}}}),
      {.request_parameters = {{"method.request.path.id", true},
                              {"method.request.querystring.q", true}},
       .validation = gatehouse::request_validation::parameters,
       .integration_responses = {
           {.selection_pattern = "404",
            .status = 404,
            .response_parameters = {{"method.response.header.X-Cause", "'gone'"}},
            .response_templates = {{"application/json", R"x({"missing":"$input.path('$.id')"})x"}}},
           {.status = 200}}});
  api.route("ANY", "/proxy/{proxy+}", gatehouse::http_proxy(backend + "/up/{proxy}"));
  gatehouse::mock_response mocked{.status = 201, .body = R"({"m":1})"};
  mocked.headers.add("X-Mock", "yes");
  api.route("GET", "/mock", gatehouse::mock(mocked));
  api.route("POST", "/pets", gatehouse::mock({.status = 201, .body = R"({"made":true})"}),
            {.api_key_required = true,
             .request_models = {{"application/json", "Pet"}},
             .validation = gatehouse::request_validation::body});
  api.route(
      "POST", "/sqs",
      gatehouse::aws_service({.endpoint = backend,
                              .region = "us-east-1",
                              .service = "sqs",
                              .credentials = credentials,
                              .path = "/123456789012/queue"}),
      {.request_templates = {{"application/json", "Action=SendMessage&MessageBody=$input.body"}},
       .integration_responses = {
           {.status = 200,
            .response_templates = {{"application/json", R"({"sent":"$input.body"})"}}}}});
  api.route("GET", "/lambda",
            gatehouse::lambda_invoke({.function_name = "remote-fn",
                                      .region = "us-east-1",
                                      .credentials = credentials,
                                      .endpoint = lambda}));
  api.route("DELETE", "/guarded", b.unnamed, {.authorizer = b.tok});
  const auto& keys = gatehouse::test::test_keys::shared();
  api.route("GET", "/pool", b.named,
            {.authorizer = gatehouse::Authorizer::jwt(
                 {.name = "pool",
                  .issuer = pool_issuer,
                  .jwks = keys.jwks_json("rsa1", "ec1"),
                  .identity_source = "method.request.header.Authorization"})});
  api.route("GET", "/iam", b.named, {.authorizer = gatehouse::Authorizer::iam({})});
  return api;
}

struct served {
  explicit served(gatehouse::Deployment d) : stage("prod", std::move(d)) {
    plan.attach(stage);
    port = gw.serve_plain(stage);
    gw.gateway().api_keys().create(
        {.name = "k", .value = key_value, .usage_plan_ids = {plan.id()}});
  }
  test::reply send(std::string_view method, std::string_view target,
                   const std::vector<std::pair<std::string, std::string>>& headers = {},
                   std::string_view body = {}) {
    std::string r = std::string(method) + " /prod" + std::string(target) +
                    " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
    for (const auto& [n, v] : headers) r += n + ": " + v + "\r\n";
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
    auto reply = test::roundtrip(port, r);
    REQUIRE(reply);
    return *reply;
  }
  gatehouse::Stage stage;
  gatehouse::UsagePlan plan{{.name = "plan"}};
  test::running_gateway gw;
  unsigned short port = 0;
};

struct probe {
  std::string method, target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string expected;  // status and body the composed API answers with
};

std::string summary(const test::reply& r) {
  std::string out = std::to_string(r.status) + " " + r.body;
  for (const char* h : {"X-Mock", "X-Cause", "X-Why"})
    if (auto v = r.headers.get(h)) out += " " + std::string(h) + ":" + std::string(*v);
  return out;
}

bool contains(const std::string& text, std::string_view what) {
  return text.find(what) != std::string::npos;
}
}  // namespace

TEST_CASE("export: an API composed in C++ exports, imports back, and answers the same", "[spec]") {
  test::stub_server backend([](const test::stub_request& r) {
    test::stub_response out;
    out.headers = {{"Content-Type", "application/json"}};
    if (r.target.starts_with("/items/404")) out.status = 404;
    if (r.target.starts_with("/items/"))
      out.body = R"({"id":")" + r.target.substr(7, r.target.find('?') - 7) + R"("})";
    else if (r.method == "POST" && r.target == "/123456789012/queue")
      out.body = "queued:" + r.body;
    else
      out.body = R"({"up":")" + r.method + " " + r.target + R"("})";
    return out;
  });
  test::stub_server lambda([](const test::stub_request&) {
    return test::stub_response{200, {}, R"({"statusCode":200,"body":"from lambda"})"};
  });
  bindings b;
  gatehouse::Router router = composed(b, backend.url(), lambda.url());
  served original(router.deploy());

  for (auto format : {gatehouse::openapi_format::oas30, gatehouse::openapi_format::swagger}) {
    const auto doc =
        gatehouse::export_openapi(original.stage, {.format = format, .extensions = "apigateway"});
    // What each kind exports as.
    CHECK(contains(doc, "function:list-fn/invocations"));
    CHECK(contains(doc, "function:GET-unnamed-id/invocations"));
    CHECK(contains(doc, "arn:aws:apigateway:us-east-1:sqs:path/123456789012/queue"));
    CHECK(contains(doc, "arn:aws:lambda:us-east-1:123456789012:function:remote-fn/invocations"));
    CHECK(contains(doc, "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Test"));
    CHECK(contains(doc, "\"x-amazon-apigateway-authtype\" : \"awsSigv4\""));
    CHECK(contains(doc, "\"Validate body\""));
    CHECK(contains(doc,
                   "\"#/" +
                       std::string(format == gatehouse::openapi_format::oas30 ? "components/schemas"
                                                                              : "definitions") +
                       "/Owner\""));

    gatehouse::openapi_options o;
    o.functions["list-fn"] = b.named;
    o.functions["GET-unnamed-id"] = b.unnamed;
    o.functions["DELETE-guarded"] = b.unnamed;  // one handler, two routes: two names
    o.id = "compose123";
    o.authorizers["tok"] = b.tok;
    o.jwks["eu-west-1_Test"] = gatehouse::test::test_keys::shared().jwks_json("rsa1", "ec1");
    o.lambda = gatehouse::lambda_endpoint{.endpoint = lambda.url(), .credentials = credentials};
    o.aws_endpoint = [&](std::string_view, std::string_view) { return backend.url(); };
    o.service_credentials = credentials;
    auto imported = gatehouse::import_openapi(doc, o);
    CHECK(imported.warnings.empty());
    CHECK(imported.unbound_functions.empty());
    CHECK(imported.unbound_authorizers.empty());
    CHECK(imported.id == "compose123");
    served again(imported.router.deploy());

    const auto now = static_cast<long long>(std::time(nullptr));
    auto token = [&](std::string_view iss) {
      return gatehouse::test::test_keys::shared().sign_rs256(
          "rsa1", R"({"sub":"alice","token_use":"id","iss":")" + std::string(iss) + R"(","iat":)" +
                      std::to_string(now) + R"(,"exp":)" + std::to_string(now + 600) + "}");
    };
    const std::vector<probe> probes{
        {"GET", "/fn", {}, "", "200 named GET /fn /fn"},
        {"GET", "/unnamed/7", {}, "", "200 unnamed GET /unnamed/{id} /unnamed/7"},
        {"GET", "/http/7?q=1", {}, "", R"(200 {"id":"7"})"},
        {"GET", "/http/404?q=1", {}, "", R"(404 {"missing":"404"} X-Cause:gone)"},
        {"GET", "/http/7", {}, "", R"(400 {"message":"Missing required request parameters: [q]"})"},
        {"PUT", "/proxy/a/b?x=1", {}, "", R"(200 {"up":"PUT /up/a/b?x=1"})"},
        {"GET", "/mock", {}, "", R"(201 {"m":1} X-Mock:yes)"},
        {"POST", "/pets", {}, R"({"type":"dog"})", R"(403 {"message":"Forbidden"})"},
        {"POST",
         "/pets",
         {{"x-api-key", key_value}},
         R"({"type":"bird"})",
         R"(400 {"message":"Invalid request body"})"},
        {"POST", "/pets", {{"x-api-key", key_value}}, R"({"type":"dog"})", R"(201 {"made":true})"},
        {"POST",
         "/sqs",
         {},
         "hello",
         R"(200 {"sent":"queued:Action=SendMessage&MessageBody=hello"})"},
        {"GET", "/lambda", {}, "", "200 from lambda"},
        {"DELETE", "/guarded", {}, "", R"(401 {"message":"Unauthorized"})"},
        {"DELETE", "/guarded", {{"Authorization", "deny"}}, "", ""},
        {"DELETE",
         "/guarded",
         {{"Authorization", "allow"}},
         "",
         "200 unnamed DELETE /guarded /guarded"},
        {"GET", "/pool", {}, "", R"(401 {"message":"Unauthorized"})"},
        {"GET", "/pool", {{"Authorization", token(pool_issuer)}}, "", "200 named GET /pool /pool"},
        {"GET", "/pool", {{"Authorization", token("https://elsewhere.example")}}, "", ""},
        {"GET", "/iam", {}, "", ""},
        {"GET",
         "/nowhere",
         {},
         "",
         R"(404 {"error":"Missing Authentication Token"} X-Why:no route)"},
    };
    for (const auto& p : probes) {
      INFO(p.method << " " << p.target << " " << p.body);
      auto want = summary(original.send(p.method, p.target, p.headers, p.body));
      if (!p.expected.empty()) CHECK(want == p.expected);
      CHECK(summary(again.send(p.method, p.target, p.headers, p.body)) == want);
    }
  }
}

TEST_CASE("export: a stage of an imported API exports as its import", "[spec]") {
  auto api = gatehouse::import_openapi(R"({"swagger":"2.0","info":{"title":"T","version":"3"},
    "x-amazon-apigateway-binary-media-types":["image/png"],
    "paths":{"/a":{"get":{"responses":{"200":{"description":"ok"}},
      "x-amazon-apigateway-integration":{"type":"mock","requestTemplates":
        {"application/json":"{\"statusCode\": 200}"},"responses":{"default":{"statusCode":"200"}}}}}}})");
  gatehouse::Stage stage("v1", api.router.deploy());
  for (auto format : {gatehouse::openapi_format::oas30, gatehouse::openapi_format::swagger}) {
    gatehouse::export_options o{.format = format, .extensions = "apigateway"};
    CHECK(gatehouse::export_openapi(stage, o) == gatehouse::export_openapi(api, "v1", o));
  }
  // A route added after the import makes it an API of its own, described route by route.
  gatehouse::Router router = api.router;
  router.route("GET", "/b", gatehouse::mock({}));
  gatehouse::Stage changed("v1", router.deploy());
  auto doc = gatehouse::export_openapi(changed, {.extensions = "apigateway"});
  CHECK(contains(doc, "\"/b\""));
  CHECK_FALSE(contains(doc, "binary-media-types"));
  // Without a version of its own, the API is versioned by its deployment's date (AWS's way), so
  // a deployment exports the same every time.
  CHECK(std::regex_search(doc, std::regex(R"("version" : "20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ")")));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK(gatehouse::export_openapi(changed, {.extensions = "apigateway"}) == doc);
}
