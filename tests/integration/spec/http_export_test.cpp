// HTTP API exports on real gateways: an HTTP API composed in C++ (functions in both payload
// formats, an http_proxy with parameter mapping, JWT authorization with scopes, a Lambda
// authorizer, IAM, the $default route) exports, imports back with the same functions and
// authorizers bound by name, and both answer the same requests; and the exports (of it and of
// AWS's HTTP API example, JSON and YAML, with and without extensions) pass
// @apidevtools/swagger-parser validate (skipped, saying so, without node).

#include "jwt_mint.hpp"
#include "stub_server.hpp"

#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>
#include <gatehouse/openapi.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>
#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {
constexpr const char* issuer = "https://issuer.example.com";

gatehouse::proxy_result echo(const gatehouse::proxy_event& ev, std::string_view who) {
  gatehouse::proxy_result r;
  r.headers.add("Content-Type", "text/plain");
  r.body = std::string(who) + (ev.format() == gatehouse::payload_format::v2 ? " v2 " : " v1 ") +
           std::string(ev.http_method()) + " " + std::string(ev.path());
  return r;
}

struct bindings {
  gatehouse::integration items = gatehouse::function(
      [](const gatehouse::proxy_event& ev) { return echo(ev, "items"); },
      gatehouse::function_options{.format = gatehouse::payload_format::v2, .name = "items-fn"});
  gatehouse::integration plain =
      gatehouse::function([](const gatehouse::proxy_event& ev) { return echo(ev, "plain"); });
  gatehouse::integration fallback = gatehouse::function(
      [](const gatehouse::proxy_event& ev) { return echo(ev, "fallback"); },
      gatehouse::function_options{.format = gatehouse::payload_format::v2, .name = "fallback"});
  gatehouse::Authorizer gate{{.name = "gate",
                              .type = gatehouse::authorizer_type::request,
                              .identity_sources = {"$request.header.X-Token"},
                              .result_ttl = std::chrono::seconds(0)},
                             [](const gatehouse::authorizer_request& r) {
                               if (r.request().header("X-Token").value_or("") == "allow")
                                 return gatehouse::authorizer_result::allow("me");
                               return gatehouse::authorizer_result::deny("me");
                             }};
};

gatehouse::Router composed(const bindings& b, const std::string& backend) {
  gatehouse::Router api(
      {.name = "Composed HTTP", .id = "httpc12345", .type = gatehouse::api_type::http});
  api.route("GET", "/items/{id}", b.items,
            {.authorizer = gatehouse::Authorizer::jwt(
                 {.name = "jwt",
                  .issuer = issuer,
                  .audiences = {"client1"},
                  .jwks = gatehouse::test::test_keys::shared().jwks_json("rsa1", "ec1")}),
             .authorization_scopes = {"items/read"}});
  api.route("POST", "/items", b.plain, {.authorizer = b.gate});
  api.route("ANY", "/up/{proxy+}", gatehouse::http_proxy(backend + "/up/{proxy}"),
            {.parameter_mapping = {{"overwrite:header.x-from", "gatehouse"}},
             .response_mapping = {{"404", {{"overwrite:statuscode", "410"}}}}});
  api.route("GET", "/iam", b.plain, {.authorizer = gatehouse::Authorizer::iam({})});
  api.route("ANY", "$default", b.fallback);
  return api;
}

gatehouse::openapi_options bound(const bindings& b) {
  gatehouse::openapi_options o;
  o.type = gatehouse::api_type::http;
  o.id = "httpc12345";  // an import derives one from the title otherwise
  o.functions["items-fn"] = b.items;
  o.functions["POST-items"] = b.plain;
  o.functions["GET-iam"] = b.plain;
  o.functions["fallback"] = b.fallback;
  o.authorizers["gate"] = b.gate;
  o.jwks[issuer] = gatehouse::test::test_keys::shared().jwks_json("rsa1", "ec1");
  return o;
}

struct served {
  explicit served(gatehouse::Deployment d) : stage("prod", std::move(d)) {
    port = gw.serve_plain(stage);
  }
  // "<status> <body>".
  std::string send(std::string_view method, std::string_view target,
                   const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    std::string r = std::string(method) + " /prod" + std::string(target) +
                    " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n";
    for (const auto& [n, v] : headers) r += n + ": " + v + "\r\n";
    auto reply = test::roundtrip(port, r + "\r\n");
    REQUIRE(reply);
    return std::to_string(reply->status) + " " + reply->body;
  }
  gatehouse::Stage stage;
  test::running_gateway gw;
  unsigned short port = 0;
};

bool contains(const std::string& text, std::string_view what) {
  return text.find(what) != std::string::npos;
}

std::string cross_dir() { return std::string(GATEHOUSE_SOURCE_DIR) + "/tests/cross"; }

std::string validator_missing() {
  int status = 0;
  test::shell("command -v node >/dev/null 2>&1", &status);
  if (status != 0) return "node is not on PATH";
  if (!std::filesystem::exists(cross_dir() +
                               "/node_modules/@apidevtools/swagger-parser/package.json"))
    return "tests/cross/node_modules/@apidevtools/swagger-parser is missing (run "
           "scripts/install-deps)";
  return {};
}

std::string read_vector(const std::string& name) {
  std::ifstream in(test::vectors_dir() + "/openapi/" + name, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct temp_dir {
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "http-export-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()));
    path = tmpl;
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  std::string path;
};
}  // namespace

TEST_CASE("HTTP API export: a composed HTTP API exports, imports back, and answers the same",
          "[spec][http_export]") {
  test::stub_server backend([](const test::stub_request& r) {
    test::stub_response out;
    if (r.target.starts_with("/up/missing")) out.status = 404;
    out.body =
        r.method + " " + r.target + " from " + std::string(r.headers.get("x-from").value_or("-"));
    return out;
  });
  bindings b;
  served original(composed(b, backend.url()).deploy());

  const auto doc = gatehouse::export_openapi(original.stage, {.extensions = "apigateway"});
  INFO(doc);
  // What each part exports as.
  CHECK(contains(doc,
                 "\"url\" : \"https://httpc12345.execute-api.us-east-1.amazonaws.com/"
                 "{basePath}\",\n    \"variables\" : {\n      \"basePath\" : {\n        "
                 "\"default\" : \"prod\""));
  CHECK(contains(doc,
                 "\"payloadFormatVersion\" : \"2.0\",\n          \"type\" : \"aws_proxy\",\n"
                 "          \"httpMethod\" : \"POST\",\n          \"uri\" : "
                 "\"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                 "arn:aws:lambda:us-east-1:123456789012:function:items-fn/invocations\""));
  CHECK(contains(doc, "function:POST-items/invocations"));
  CHECK(contains(doc, "\"jwt\" : [ \"items/read\" ]"));
  CHECK(contains(doc,
                 "\"audience\" : [ \"client1\" ],\n            \"issuer\" : "
                 "\"https://issuer.example.com\""));
  CHECK(contains(doc, "\"identitySource\" : \"$request.header.X-Token\""));
  CHECK(contains(doc,
                 "\"requestParameters\" : {\n            \"overwrite:header.x-from\" : "
                 "\"gatehouse\"\n          }"));
  CHECK(contains(doc, "\"404\" : {\n              \"overwrite:statuscode\" : \"410\""));
  CHECK(contains(doc, "\"x-amazon-apigateway-authtype\" : \"awsSigv4\""));
  CHECK(contains(doc,
                 "\"/$default\" : {\n      \"x-amazon-apigateway-any-method\" : {\n        "
                 "\"isDefaultRoute\" : true"));

  auto imported = gatehouse::import_openapi(doc, bound(b));
  CHECK(imported.warnings.empty());
  CHECK(imported.unbound_functions.empty());
  CHECK(imported.unbound_authorizers.empty());
  CHECK(imported.id == "httpc12345");
  served again(imported.router.deploy());
  // The imported API's stage exports the same document.
  CHECK(gatehouse::export_openapi(again.stage, {.extensions = "apigateway"}) ==
        gatehouse::export_openapi(imported, "prod", {.extensions = "apigateway"}));

  const auto now = static_cast<long long>(std::time(nullptr));
  auto token = [&](std::string_view scope) {
    return "Bearer " +
           gatehouse::test::test_keys::shared().sign_rs256(
               "rsa1", R"({"sub":"alice","aud":"client1","scope":")" + std::string(scope) +
                           R"(","iss":")" + issuer + R"(","iat":)" + std::to_string(now) +
                           R"(,"exp":)" + std::to_string(now + 600) + "}");
  };
  struct probe {
    std::string method, target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string expected;  // what the composed API answers ("" where only sameness counts)
  };
  const std::vector<probe> probes{
      {"GET", "/items/7", {}, R"(401 {"message":"Unauthorized"})"},
      {"GET", "/items/7", {{"Authorization", token("items/read")}}, "200 items v2 GET /items/7"},
      {"GET", "/items/7", {{"Authorization", token("other")}}, ""},
      {"POST", "/items", {}, R"(401 {"message":"Unauthorized"})"},
      {"POST", "/items", {{"X-Token", "deny"}}, ""},
      {"POST", "/items", {{"X-Token", "allow"}}, "200 plain v1 POST /items"},
      {"PUT", "/up/a/b?x=1", {}, "200 PUT /up/a/b?x=1 from gatehouse"},
      {"GET", "/up/missing", {}, "410 GET /up/missing from gatehouse"},
      {"GET", "/iam", {}, ""},
      {"DELETE", "/somewhere/else", {}, "200 fallback v2 DELETE /somewhere/else"},
  };
  for (const auto& p : probes) {
    INFO(p.method << " " << p.target);
    auto want = original.send(p.method, p.target, p.headers);
    if (!p.expected.empty()) CHECK(want == p.expected);
    CHECK(again.send(p.method, p.target, p.headers) == want);
  }
}

TEST_CASE("HTTP API export: the exports pass swagger-parser's validation", "[spec][http_export]") {
  bindings b;
  gatehouse::Stage composed_stage("prod", composed(b, "http://127.0.0.1:9").deploy());
  gatehouse::openapi_options o;
  o.type = gatehouse::api_type::http;
  auto example = gatehouse::import_openapi(read_vector("http-api-petstore-cors.openapi.json"), o);

  temp_dir dir;
  std::string files;
  int n = 0;
  auto write = [&](const std::string& text, bool yaml) {
    const auto path = dir.path + "/export" + std::to_string(n++) + (yaml ? ".yaml" : ".json");
    std::ofstream(path, std::ios::binary) << text;
    files += " '" + path + "'";
  };
  for (bool yaml : {false, true}) {
    for (std::string extensions : {"apigateway", ""}) {
      gatehouse::export_options e{.extensions = extensions, .yaml = yaml};
      write(gatehouse::export_openapi(composed_stage, e), yaml);
      write(gatehouse::export_openapi(example, "$default", e), yaml);
      // Each imports back.
      CHECK_NOTHROW(
          gatehouse::import_openapi(gatehouse::export_openapi(example, "$default", e), o));
    }
  }
  if (auto why = validator_missing(); !why.empty()) {
    WARN("skipping the swagger-parser check: " << why);
    return;
  }
  int status = -1;
  auto out = test::shell("cd '" + cross_dir() + "' && node validate_openapi.mjs" + files + " 2>&1",
                         &status);
  INFO(out);
  CHECK(status == 0);
  CHECK(out.find("invalid") == std::string::npos);
  CHECK(std::count(out.begin(), out.end(), '\n') == 8);
}
