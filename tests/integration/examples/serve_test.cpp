// gatehouse-serve, run as a user runs it: a process serving the REST and HTTP API documents of
// ../shared/vectors/openapi/ with their backends and the Lambda Invoke API stood in for by local
// stubs, answering each document's probes (its .source.md) to curl; writing exports as
// export_openapi does; and refusing bad documents and options with AWS's message.

#include "../spec/stub_server.hpp"
#include "child_process.hpp"
#include "harness.hpp"

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <gatehouse/config_error.hpp>
#include <gatehouse/openapi.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#ifdef SERVE_BINARY

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string vector_text(const std::string& name) {
  return read_text(test::vectors_dir() + "/openapi/" + name);
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

// A file for the test's lifetime.
struct temp_file {
  explicit temp_file(std::string_view text, std::string_view suffix = ".json") {
    char name[] = "/tmp/gatehouse-serve-test-XXXXXX";
    int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = std::string(name) + std::string(suffix);
    std::rename(name, path.c_str());
    std::ofstream(path, std::ios::binary) << text;
  }
  ~temp_file() { std::remove(path.c_str()); }
  std::string path;
};

// gatehouse-serve started on a free port: what it printed up to its "serving" line, and the
// base URL of that line.
struct serve {
  explicit serve(std::vector<std::string> args, std::vector<std::string> env = {})
      : process([&] {
          // Through env(1), so that the environment is the child's only.
          std::vector<std::string> argv{"/usr/bin/env"};
          argv.insert(argv.end(), env.begin(), env.end());
          argv.insert(argv.end(), {SERVE_BINARY, "--http", "--listen", "127.0.0.1:0"});
          argv.insert(argv.end(), args.begin(), args.end());
          return argv;
        }()) {
    std::smatch m;
    const std::regex serving(R"(^gatehouse-serve: serving (http://127\.0\.0\.1:\d+/\S+)\n$)");
    for (std::string line; !(line = process.line()).empty();) {
      banner += line;
      if (std::regex_match(line, m, serving)) {
        url = m[1];
        return;
      }
    }
    FAIL("gatehouse-serve did not start; it said:\n" << banner);
  }
  // curl's status line and body: "200 {…}".
  std::string curl(const std::string& options_and_path) const {
    return test::shell("curl -s --max-time 10 -w '\\n%{http_code}' " + options_and_path);
  }
  test::child_process process;
  std::string banner;
  std::string url;
};

// "BODY\nSTATUS" (curl -w) as "STATUS BODY".
std::string status_body(const std::string& curl_output) {
  auto nl = curl_output.rfind('\n');
  REQUIRE(nl != std::string::npos);
  return curl_output.substr(nl + 1) + " " + curl_output.substr(0, nl);
}

rapidjson::Document parse(std::string_view text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

std::string pointer_text(const rapidjson::Document& d, const char* pointer) {
  const auto* v = rapidjson::Pointer(pointer).Get(d);
  return v && v->IsString() ? v->GetString() : "(none)";
}

std::string q(const std::string& s) { return "'" + s + "'"; }

// Runs gatehouse-serve to its exit (without AWS credentials in its environment); its output
// (stdout and stderr) and its exit status.
std::string run_to_exit(const std::string& args, int* status) {
  return test::shell(
      "env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_REGION "
      "-u AWS_DEFAULT_REGION " +
          std::string(SERVE_BINARY) + " --http --listen 127.0.0.1:0 " + args + " 2>&1",
      status);
}
}  // namespace

TEST_CASE("gatehouse-serve: pets-binary-media's probes, backend stubbed", "[serve]") {
  const std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\x00\x01", 20);
  test::stub_server backend([&](const test::stub_request& r) {
    if (r.target == "/petstore/pets")
      return test::stub_response{200, {{"Content-Type", "image/png"}}, png};
    return test::stub_response{200, {{"Content-Type", "application/json"}}, R"({"id":7})"};
  });
  temp_file doc(replace_all(vector_text("pets-binary-media.swagger.json"),
                            "http://petstore-demo-endpoint.execute-api.com", backend.url()));
  serve s({"--openapi", doc.path, "--stage", "local"});
  // The listing: one line per route with its integration, authorization and API key.
  CHECK_THAT(s.banner, Catch::Matches(R"([\s\S]*\n  GET +/pets +HTTP GET )" + backend.url() +
                                      R"(/petstore/pets +NONE +-\n[\s\S]*)"));
  CHECK_THAT(s.banner,
             Catch::Contains("/pets/{petId}  HTTP GET " + backend.url() + "/petstore/pets/{id}"));
  CHECK(s.url.ends_with("/local"));

  // 1. The path parameter petId reaches the backend as the URI's {id}.
  CHECK(status_body(s.curl(s.url + "/pets/7")) == R"(200 {"id":7})");
  REQUIRE(backend.requests().size() == 1);
  CHECK(backend.requests()[0].method == "GET");
  CHECK(backend.requests()[0].target == "/petstore/pets/7");
  // 2. A PNG passes through unchanged.
  temp_file got("", ".png");
  CHECK(s.curl("-H 'Accept: image/png' -o " + got.path + " " + s.url + "/pets") == "\n200");
  CHECK(read_text(got.path) == png);
  // 3. No such resource.
  CHECK(status_body(s.curl(s.url + "/pets/7/x")) ==
        R"(403 {"message":"Missing Authentication Token"})");
  CHECK(s.process.stop(SIGTERM) == 0);
}

TEST_CASE("gatehouse-serve: sam-shopping-cart-mock-cors's probes, Lambda stubbed", "[serve]") {
  // A stand-in for the Lambda Invoke API: answers a proxy result whose body is the event.
  test::stub_server lambda([](const test::stub_request& r) {
    rapidjson::StringBuffer quoted;
    rapidjson::Writer<rapidjson::StringBuffer> w(quoted);
    w.String(r.body.data(), static_cast<rapidjson::SizeType>(r.body.size()));
    return test::stub_response{200,
                               {{"Content-Type", "application/json"}},
                               R"({"statusCode":200,"headers":{"Content-Type":"application/json"},)"
                               R"("body":)" +
                                   std::string(quoted.GetString()) + "}"};
  });
  serve s({"--openapi", test::vectors_dir() + "/openapi/sam-shopping-cart-mock-cors.swagger.json",
           "--lambda-endpoint", lambda.url()},
          {"AWS_ACCESS_KEY_ID=AKIDSERVETEST", "AWS_SECRET_ACCESS_KEY=serve/secret",
           "AWS_REGION=eu-west-1"});
  CHECK_THAT(s.banner, Catch::Contains("GET      /product/{product_id}  AWS_PROXY "));
  CHECK_THAT(s.banner, Catch::Contains("OPTIONS  /product               MOCK"));
  CHECK_THAT(s.banner, Catch::Contains("(Lambda at " + lambda.url() + ")"));
  CHECK(s.url.ends_with("/dev"));

  // 1. The CORS preflight: the MOCK integration's 200 with its three headers and body.
  auto preflight = test::shell("curl -si --max-time 10 -X OPTIONS " + s.url + "/product");
  CHECK_THAT(preflight, Catch::StartsWith("HTTP/1.1 200"));
  CHECK_THAT(preflight, Catch::Contains("Access-Control-Allow-Origin: http://localhost:8080\r\n"));
  CHECK_THAT(preflight, Catch::Contains("Access-Control-Allow-Methods: OPTIONS,POST,GET\r\n"));
  CHECK_THAT(preflight, Catch::Contains("Access-Control-Allow-Headers: Content-Type\r\n"));
  CHECK_THAT(preflight, Catch::EndsWith("\r\n\r\n{}\n"));
  // 2. The Lambda proxy event of GET /product/{product_id}, from a signed Invoke call.
  auto out = s.curl(s.url + "/product/abc");
  REQUIRE_THAT(out, Catch::EndsWith("\n200"));
  auto event = parse(out.substr(0, out.rfind('\n')));
  CHECK(pointer_text(event, "/resource") == "/product/{product_id}");
  CHECK(pointer_text(event, "/pathParameters/product_id") == "abc");
  auto invocations = lambda.requests();
  REQUIRE(invocations.size() == 1);
  CHECK(invocations[0].method == "POST");
  CHECK(invocations[0].target ==
        "/2015-03-31/functions/"
        "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aaws-serverless-shopping-cart-"
        "produc-GetProductFunction-28378339/invocations?Qualifier=live");
  CHECK_THAT(std::string(invocations[0].headers.get("Authorization").value_or("")),
             Catch::StartsWith("AWS4-HMAC-SHA256 Credential=AKIDSERVETEST/"));
  // 3. CORS lists POST, but there is no POST method.
  CHECK(status_body(s.curl("-X POST " + s.url + "/product")) ==
        R"(403 {"message":"Missing Authentication Token"})");
}

TEST_CASE("gatehouse-serve: API keys, IAM users, a user pool's JWKS, stage variables", "[serve]") {
  test::stub_server backend([](const test::stub_request& r) {
    return test::stub_response{
        200, {{"Content-Type", "application/json"}}, R"({"at":")" + r.target + R"("})"};
  });
  temp_file doc(R"(swagger: '2.0'
info: {title: guarded, version: '1'}
basePath: /v2
securityDefinitions:
  api_key: {type: apiKey, name: x-api-key, in: header}
  sigv4: {type: apiKey, name: Authorization, in: header, x-amazon-apigateway-authtype: awsSigv4}
  pool:
    type: apiKey
    name: Authorization
    in: header
    x-amazon-apigateway-authtype: cognito_user_pools
    x-amazon-apigateway-authorizer:
      type: cognito_user_pools
      providerARNs: ['arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_EXAMPLE']
x-mock: &mock
  type: mock
  requestTemplates: {application/json: '{"statusCode": 200}'}
  responses: {default: {statusCode: 200, responseTemplates: {application/json: '{"ok":true}'}}}
paths:
  /keyed:
    get:
      security: [{api_key: []}]
      x-amazon-apigateway-integration: *mock
  /iam:
    get:
      security: [{sigv4: []}]
      x-amazon-apigateway-integration: *mock
  /pool:
    get:
      security: [{pool: []}]
      x-amazon-apigateway-integration: *mock
  /items/{id}:
    get:
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: GET
        uri: http://${stageVariables.backend}/store/{id}
        requestParameters: {integration.request.path.id: method.request.path.id}
)",
                ".yaml");
  temp_file users(
      "access_key_id,secret_access_key,user_arn\n"
      "AKIASERVE00000000001,serve/secret+1,arn:aws:iam::123456789012:user/ann\n",
      ".csv");
  const std::string key = "servetestkey0123456789abcdefghij";
  serve s({"--openapi", doc.path, "--api-key", key, "--iam-credentials", users.path, "--jwks",
           test::vectors_dir() + "/jwt/jwks_rfc7515_public.json", "--stage-variable",
           "backend=127.0.0.1:" + std::to_string(backend.port())});
  CHECK(s.url.ends_with("/v2"));  // the stage: the document's base path
  CHECK_THAT(s.banner, Catch::Matches(R"([\s\S]*\n  GET +/keyed +MOCK +NONE +required\n[\s\S]*)"));
  CHECK_THAT(s.banner, Catch::Matches(R"([\s\S]*\n  GET +/iam +MOCK +AWS_IAM +-\n[\s\S]*)"));
  CHECK_THAT(s.banner,
             Catch::Matches(R"([\s\S]*\n  GET +/pool +MOCK +COGNITO_USER_POOLS pool +-\n[\s\S]*)"));
  CHECK_THAT(s.banner, Catch::Contains("gatehouse-serve: API key: " + key + "\n"));

  CHECK(status_body(s.curl(s.url + "/keyed")) == R"(403 {"message":"Forbidden"})");
  CHECK(status_body(s.curl("-H 'x-api-key: " + key + "' " + s.url + "/keyed")) ==
        R"(200 {"ok":true})");

  const std::string sigv4 = "--aws-sigv4 aws:amz:us-east-1:execute-api ";
  CHECK(status_body(s.curl(sigv4 + "--user 'AKIASERVE00000000001:serve/secret+1' " + s.url +
                           "/iam")) == R"(200 {"ok":true})");
  CHECK(s.curl(sigv4 + "--user 'AKIASERVE00000000001:wrong' " + s.url + "/iam").ends_with("\n403"));

  auto tokens = parse(
      read_text(test::vectors_dir() + "/jwt/derived/cognito_style_tokens_rfc7515_A2_key.json"));
  auto token = pointer_text(tokens, "/tokens/cognito_access_valid_until_2100/token");
  CHECK(status_body(s.curl("-H " + q("Authorization: " + token) + " " + s.url + "/pool")) ==
        R"(200 {"ok":true})");
  auto other = pointer_text(tokens, "/tokens/cognito_access_wrong_issuer/token");
  CHECK(s.curl("-H " + q("Authorization: " + other) + " " + s.url + "/pool").ends_with("\n401"));

  CHECK(status_body(s.curl(s.url + "/items/42")) == R"(200 {"at":"/store/42"})");
}

TEST_CASE("gatehouse-serve: bad documents and options exit non-zero with the reason", "[serve]") {
  int status = 0;
  temp_file v31(R"({"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{}})");
  CHECK(run_to_exit("--openapi " + v31.path, &status) ==
        "gatehouse-serve: Unable to build importer with provided input. Unable to determine OAS "
        "version from '3.1.0'\n");
  CHECK(status == 1);
  temp_file garbage("{\"swagger\": ", ".json");
  CHECK_THAT(run_to_exit("--openapi " + garbage.path, &status),
             Catch::StartsWith("gatehouse-serve: Invalid OpenAPI input."));
  CHECK(status == 1);

  // AWS's warning, printed; with --fail-on-warnings, the import refused.
  temp_file warned(R"({"swagger":"2.0","info":{"title":"w","version":"1"},"paths":{"/test":{"get":{
    "x-amazon-apigateway-integration":{"type":"mock","requestParameters":{
      "integration.request.header.nothing":true}}}}}})");
  const std::string warning =
      "Invalid format for 'requestParameters'. Expected type string for property "
      "'integration.request.header.nothing' of resource '/test' and method 'GET' but got 'true'";
  CHECK_THAT(run_to_exit("--openapi " + warned.path + " --fail-on-warnings", &status),
             Catch::Contains(warning));
  CHECK(status == 1);
  {
    serve s({"--openapi", warned.path});
    CHECK_THAT(s.banner, Catch::StartsWith("gatehouse-serve: warning: " + warning + "\n"));
  }

  const std::string pets = test::vectors_dir() + "/openapi/pets-binary-media.swagger.json";
  CHECK_THAT(run_to_exit("--openapi /nonexistent.json", &status),
             Catch::StartsWith("gatehouse-serve: cannot read /nonexistent.json\n"));
  CHECK(status == 2);
  CHECK_THAT(run_to_exit("--openapi " + pets + " --basepath sideways", &status),
             Catch::StartsWith("gatehouse-serve: --basepath is ignore, prepend or split\n"));
  CHECK(status == 2);
  CHECK_THAT(run_to_exit("--openapi " + pets + " --stage-variable novalue", &status),
             Catch::StartsWith("gatehouse-serve: --stage-variable takes NAME=VALUE\n"));
  CHECK(status == 2);
  CHECK_THAT(run_to_exit("--openapi " + pets + " --stage 'bad stage'", &status),
             Catch::StartsWith("gatehouse-serve: "));
  CHECK(status == 1);
  CHECK_THAT(run_to_exit("--openapi " + pets + " --lambda-endpoint http://127.0.0.1:9", &status),
             Catch::Contains("AWS_ACCESS_KEY_ID"));
  CHECK(status == 2);
  CHECK_THAT(run_to_exit("--openapi " + pets + " --api-type graphql", &status),
             Catch::StartsWith("gatehouse-serve: --api-type is rest or http\n"));
  CHECK(status == 2);
  CHECK_THAT(run_to_exit("--openapi " + pets + " --export /tmp/x.json", &status),
             Catch::StartsWith("gatehouse-serve: --export FILE and --export-format"));
  CHECK(status == 2);
  CHECK_THAT(
      run_to_exit("--openapi " + pets + " --export /tmp/x.json --export-format raml", &status),
      Catch::StartsWith("gatehouse-serve: --export-format is oas30 or swagger\n"));
  CHECK(status == 2);
}

TEST_CASE("gatehouse-serve --api-type http: http-api-petstore-cors's probes, backend stubbed",
          "[serve]") {
  test::stub_server backend([](const test::stub_request& r) {
    return test::stub_response{
        200, {{"Content-Type", "application/json"}}, R"({"at":")" + r.target + R"("})"};
  });
  const std::string text =
      replace_all(vector_text("http-api-petstore-cors.openapi.json"),
                  "http://petstore.execute-api.us-west-1.amazonaws.com", backend.url());
  temp_file doc(text);
  serve s({"--openapi", doc.path, "--api-type", "http"});
  // Route keys, as an HTTP API names its routes; the stage as for a REST API ("dev": the
  // document has no base path).
  CHECK_THAT(s.banner, Catch::Contains("\n  ROUTE              INTEGRATION"));
  CHECK_THAT(s.banner, Catch::Contains("\n  GET /pets/{petId}  HTTP_PROXY GET " + backend.url() +
                                       "/petstore/pets/{petId}  NONE\n"));
  CHECK_THAT(s.banner, Catch::Contains("\n  POST /pets         HTTP_PROXY POST "));
  CHECK_THAT(s.banner, Catch::Contains("not supported: x-amazon-apigateway-cors"));
  CHECK(s.url.ends_with("/dev"));

  // 1. Query and headers pass through the HTTP proxy.
  CHECK(status_body(s.curl("-H 'x-probe: 1' '" + s.url + "/pets?type=dog&page=2'")) ==
        R"(200 {"at":"/petstore/pets?type=dog&page=2"})");
  REQUIRE(backend.requests().size() == 1);
  CHECK(backend.requests()[0].method == "GET");
  CHECK(backend.requests()[0].headers.get("x-probe") == std::optional<std::string_view>("1"));
  // 2. The path variable from the route.
  CHECK(status_body(s.curl(s.url + "/pets/5")) == R"(200 {"at":"/petstore/pets/5"})");
  // 4. No route DELETE /pets: an HTTP API's 404, not a REST API's 403.
  CHECK(status_body(s.curl("-X DELETE " + s.url + "/pets")) == R"(404 {"message":"Not Found"})");
  CHECK(backend.requests().size() == 2);
  CHECK(s.process.stop(SIGTERM) == 0);

  int status = 0;
  // 4b. The same document as Swagger 2.0: HTTP APIs import OpenAPI 3.0 only.
  temp_file swagger(replace_all(text, R"("openapi": "3.0.1")", R"("swagger": "2.0")"));
  CHECK_THAT(run_to_exit("--openapi " + swagger.path + " --api-type http", &status),
             Catch::StartsWith("gatehouse-serve: "));
  CHECK(status == 1);
  // AWS's $default stage has no path prefix: gatehouse serves every stage under /{stage}.
  CHECK_THAT(run_to_exit("--openapi " + doc.path + " --api-type http --stage '$default'", &status),
             Catch::StartsWith("gatehouse-serve: gatehouse serves a stage under /{stage}: there is "
                               "no $default stage"));
  CHECK(status == 2);
}

TEST_CASE("gatehouse-serve --export writes what export_openapi writes", "[serve]") {
  const std::string pets = test::vectors_dir() + "/openapi/pets-binary-media.swagger.json";
  struct variant {
    std::string flags;
    gatehouse::export_options options;
  };
  const std::vector<variant> variants{
      {"--export-format oas30 --extensions apigateway",
       {.format = gatehouse::openapi_format::oas30, .extensions = "apigateway"}},
      {"--export-format swagger", {.format = gatehouse::openapi_format::swagger}},
      {"--export-format swagger --extensions integrations,validators --yaml",
       {.format = gatehouse::openapi_format::swagger,
        .extensions = "integrations,validators",
        .yaml = true}},
  };
  const auto api = gatehouse::import_openapi(vector_text("pets-binary-media.swagger.json"));
  for (const auto& v : variants) {
    INFO(v.flags);
    temp_file out("");
    int status = -1;
    CHECK(run_to_exit("--openapi " + pets + " --stage local --export " + out.path + " " + v.flags,
                      &status)
              .empty());
    CHECK(status == 0);
    const std::string written = read_text(out.path);
    CHECK(written == gatehouse::export_openapi(api, "local", v.options) + "\n");
    CHECK(written.find("local") != std::string::npos);  // the stage is the base path
  }
  int status = 0;
  CHECK_THAT(run_to_exit("--openapi " + pets +
                             " --export /tmp/x.json --export-format oas30 "
                             "--extensions nope",
                         &status),
             Catch::Contains("unknown name 'nope'"));
  CHECK(status == 1);

  // An HTTP API: what the library does with it (an export, or its config_error), exit 1.
  const std::string http = test::vectors_dir() + "/openapi/http-api-petstore-cors.openapi.json";
  const auto http_api = gatehouse::import_openapi(
      vector_text("http-api-petstore-cors.openapi.json"), {.type = gatehouse::api_type::http});
  temp_file out("");
  const auto said = run_to_exit(
      "--openapi " + http + " --api-type http --export " + out.path + " --export-format oas30",
      &status);
  try {
    const auto expected = gatehouse::export_openapi(http_api, "dev");
    CHECK(status == 0);
    CHECK(read_text(out.path) == expected + "\n");
  } catch (const gatehouse::config_error& e) {
    CHECK(said == "gatehouse-serve: " + std::string(e.what()) + "\n");
    CHECK(status == 1);
  }
}

#endif
