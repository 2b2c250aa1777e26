// The documents of ../shared/vectors/openapi/, imported as AWS imported them: the resources,
// methods, integrations, parameters and the API itself equal what AWS answered when LocalStack
// recorded it (*.aws-recorded.json), and the probes of each .source.md pass against a real
// gateway serving the imported API, with local stand-ins for the backend and the Lambda API.

#include "spec/describe.hpp"
#include "spec/model.hpp"
#include "stub_server.hpp"

#include "backend.hpp"
#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {
using json = rapidjson::Value;

std::string read_vector(const std::string& name) {
  std::ifstream in(test::vectors_dir() + "/openapi/" + name, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

rapidjson::Document parse(std::string_view text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

std::string text_of(const json& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return b.GetString();
}

// Compares a recorded AWS answer with ours. Recorded text with placeholders (<id:2>,
// <region>) matches any text there; templates the recorder parsed into JSON match our template
// text by its JSON. `subset`: keys we have beyond the recording are allowed.
void compare(const json& expected, const json& actual, const std::string& at,
             std::vector<std::string>& diffs, bool subset = false) {
  if (expected.IsString() &&
      std::string_view(expected.GetString()).find('<') != std::string_view::npos &&
      actual.IsString()) {
    std::string pattern;
    for (std::string_view e = expected.GetString(); !e.empty();) {
      if (e.front() == '<' && e.find('>') != std::string_view::npos) {
        pattern += ".+";
        e.remove_prefix(e.find('>') + 1);
      } else {
        if (std::string_view("\\^$.|?*+()[]{}").find(e.front()) != std::string_view::npos)
          pattern += '\\';
        pattern += e.front();
        e.remove_prefix(1);
      }
    }
    if (!std::regex_match(std::string(actual.GetString()), std::regex(pattern)))
      diffs.push_back(at + ": " + text_of(actual) + " does not match " + text_of(expected));
    return;
  }
  if ((expected.IsObject() || expected.IsArray()) && actual.IsString()) {
    rapidjson::Document parsed;
    parsed.Parse(actual.GetString());
    if (parsed.HasParseError()) {
      diffs.push_back(at + ": " + text_of(actual) + " is not the JSON " + text_of(expected));
      return;
    }
    return compare(expected, parsed, at, diffs);
  }
  if (expected.IsObject() && actual.IsObject()) {
    for (const auto& m : expected.GetObject()) {
      std::string key = m.name.GetString();
      if (key == "ResponseMetadata" || key == "createdDate") continue;
      auto it = actual.FindMember(m.name);
      if (it == actual.MemberEnd())
        diffs.push_back(at + "." + key + ": missing (AWS: " + text_of(m.value) + ")");
      else
        compare(m.value, it->value, at + "." + key, diffs);
    }
    if (!subset)
      for (const auto& m : actual.GetObject())
        if (!expected.HasMember(m.name))
          diffs.push_back(at + "." + m.name.GetString() + ": not in AWS's answer (" +
                          text_of(m.value) + ")");
    return;
  }
  if (expected.IsArray() && actual.IsArray()) {
    if (expected.Size() != actual.Size()) {
      diffs.push_back(at + ": " + text_of(actual) + " vs AWS's " + text_of(expected));
      return;
    }
    for (rapidjson::SizeType i = 0; i < expected.Size(); ++i)
      compare(expected[i], actual[i], at + "[" + std::to_string(i) + "]", diffs);
    return;
  }
  if (expected != actual)
    diffs.push_back(at + ": " + text_of(actual) + " vs AWS's " + text_of(expected));
}

const json& recorded(const rapidjson::Document& file, std::string_view test_suffix) {
  for (const auto& t : file["tests"].GetArray())
    if (std::string_view(t["test"].GetString()).ends_with(test_suffix))
      return t["recorded-content"];
  FAIL("no recorded test " << test_suffix);
  throw;
}

// Every GetMethod / GetIntegration / GetMethodResponse / GetIntegrationResponse AWS answered
// ("method-product/{product_id}-get", "integration-response-product-options" …) against ours.
std::vector<std::string> compare_methods(const json& content,
                                         const gatehouse::spec::rest_api_model& api) {
  std::vector<std::string> diffs;
  int compared = 0;
  for (const auto& entry : content.GetObject()) {
    std::string key = entry.name.GetString();
    std::string kind;
    for (std::string k : {"method-response-", "integration-response-", "method-", "integration-"})
      if (key.starts_with(k)) {
        kind = k;
        break;
      }
    if (kind.empty()) continue;
    auto dash = key.rfind('-');
    std::string path = "/" + key.substr(kind.size(), dash - kind.size());
    std::string method = key.substr(dash + 1);
    for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const auto* r = gatehouse::spec::find_resource(api, path);
    const auto* m = r ? gatehouse::spec::find_method(*r, method) : nullptr;
    if (!m) {
      diffs.push_back(key + ": no method " + method + " " + path);
      continue;
    }
    ++compared;
    auto ours = parse(gatehouse::spec::describe_method(api, *r, *m));
    const json* part = &ours;
    if (kind == "integration-") part = rapidjson::Pointer("/methodIntegration").Get(ours);
    const bool error = entry.value.HasMember("Error");
    if (kind == "method-response-" || kind == "integration-response-") {
      // AWS answered 404 "Invalid Response status code specified": there is none.
      const char* where = kind == "method-response-" ? "/methodResponses"
                                                     : "/methodIntegration/integrationResponses";
      const json* all = rapidjson::Pointer(where).Get(ours);
      if (error) {
        if (all) diffs.push_back(key + ": AWS has none, we have " + text_of(*all));
        continue;
      }
      part = all ? rapidjson::Pointer("/200").Get(*all) : nullptr;
    }
    if (!part) {
      diffs.push_back(key + ": missing");
      continue;
    }
    compare(entry.value, *part, key, diffs);
  }
  if (compared == 0) diffs.push_back("nothing compared");
  return diffs;
}

std::string json_string(std::string_view s) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return b.GetString();
}

// A C++ function standing in for a Lambda function: answers with what the proxy event held.
gatehouse::integration echo_function(std::string name) {
  return gatehouse::function([name](const gatehouse::proxy_event& ev) {
    gatehouse::proxy_result r;
    r.headers.add("Content-Type", "application/json");
    r.body = R"({"function":)" + json_string(name) + R"(,"event":)" + ev.to_json() + "}";
    return r;
  });
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}
}  // namespace

TEST_CASE("openapi vectors: pets-binary-media imports as AWS imported it", "[spec]") {
  auto api = gatehouse::import_openapi(read_vector("pets-binary-media.swagger.json"));
  auto file = parse(read_vector("pets-binary-media.aws-recorded.json"));
  CHECK(api.warnings.empty());
  CHECK(api.unsupported.empty());

  const auto& base_path_test =
      recorded(file, "test_import_rest_apis_with_base_path_swagger[ignore]");
  std::vector<std::string> diffs;
  auto resources = parse(gatehouse::spec::describe_resources(*api.model));
  compare(base_path_test["get-resources-no-base-path-swagger"], resources, "resources", diffs);
  for (auto& d : compare_methods(base_path_test, *api.model)) diffs.push_back(d);
  auto rest_api = parse(gatehouse::spec::describe_rest_api(*api.model));
  for (auto suffix : {"test_export_swagger_openapi[TEST_IMPORT_PETS]",
                      "test_export_oas30_openapi[TEST_IMPORT_PETS]"})
    compare(recorded(file, suffix)["import-api"], rest_api, "import-api", diffs, true);
  CHECK(diffs == std::vector<std::string>{});
  CHECK(api.binary_media_types == std::vector<std::string>{"image/png", "image/jpg"});
}

TEST_CASE("openapi vectors: sam-shopping-cart-mock-cors imports as AWS imported it", "[spec]") {
  auto api = gatehouse::import_openapi(read_vector("sam-shopping-cart-mock-cors.swagger.json"));
  auto file = parse(read_vector("sam-shopping-cart-mock-cors.aws-recorded.json"));
  const auto& content = recorded(file, "test_import_and_validate_rest_api[swagger-mock-cors.json]");
  std::vector<std::string> diffs;
  compare(content["resources"], parse(gatehouse::spec::describe_resources(*api.model)), "resources",
          diffs);
  compare(content["import_tf_rest_api"], parse(gatehouse::spec::describe_rest_api(*api.model)),
          "import", diffs, true);
  compare(content["get-models"], parse(gatehouse::spec::describe_models(*api.model)), "models",
          diffs);
  for (auto& d : compare_methods(content, *api.model)) diffs.push_back(d);
  CHECK(diffs == std::vector<std::string>{});
  CHECK(api.warnings.empty());
  // Nothing bound the two functions: listed, and they answer 500.
  CHECK(api.unbound_functions.size() == 2);
}

TEST_CASE("openapi vectors: pets-binary-media's probes against a served import", "[spec]") {
  const std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\x00\x01", 20);
  test::stub_server backend([&](const test::stub_request& r) {
    if (r.target == "/petstore/pets")
      return test::stub_response{200, {{"Content-Type", "image/png"}}, png};
    return test::stub_response{200, {{"Content-Type", "application/json"}}, R"({"id":7})"};
  });
  auto doc = replace_all(read_vector("pets-binary-media.swagger.json"),
                         "http://petstore-demo-endpoint.execute-api.com",
                         "http://127.0.0.1:" + std::to_string(backend.port()));
  auto api = gatehouse::import_openapi(doc);
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("local", api.router.deploy()));

  // 1. The path parameter petId reaches the backend as the URI's {id}.
  auto r = test::roundtrip(port, test::get("/local/pets/7"));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == R"({"id":7})");
  REQUIRE(backend.requests().size() == 1);
  CHECK(backend.requests()[0].method == "GET");
  CHECK(backend.requests()[0].target == "/petstore/pets/7");
  // 2. A PNG passes through unchanged.
  r = test::roundtrip(port, "GET /local/pets HTTP/1.1\r\nHost: x\r\nAccept: image/png\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->headers.get("Content-Type") == "image/png");
  CHECK(r->body == png);
  // 3. No such resource.
  r = test::roundtrip(port, test::get("/local/pets/7/x"));
  REQUIRE(r);
  CHECK(r->status == 403);
  CHECK(r->body == R"({"message":"Missing Authentication Token"})");
}

TEST_CASE("openapi vectors: sam-shopping-cart-mock-cors's probes, C++ functions bound", "[spec]") {
  gatehouse::openapi_options o;
  o.functions["aws-serverless-shopping-cart-produc-GetProductFunction-28378339"] =
      echo_function("product");
  o.functions["aws-serverless-shopping-cart-produ-GetProductsFunction-c1359550:live"] =
      echo_function("products");
  auto api = gatehouse::import_openapi(read_vector("sam-shopping-cart-mock-cors.swagger.json"), o);
  CHECK(api.unbound_functions.empty());
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("dev", api.router.deploy()));

  // 1. The CORS preflight: the MOCK integration's 200 with its three headers and body.
  auto r = test::roundtrip(port, "OPTIONS /dev/product HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->headers.get("Access-Control-Allow-Origin") == "http://localhost:8080");
  CHECK(r->headers.get("Access-Control-Allow-Methods") == "OPTIONS,POST,GET");
  CHECK(r->headers.get("Access-Control-Allow-Headers") == "Content-Type");
  CHECK(r->body == "{}\n");
  // 2. The Lambda proxy event of GET /product/{product_id}.
  r = test::roundtrip(port, test::get("/dev/product/abc"));
  REQUIRE(r);
  CHECK(r->status == 200);
  auto event = parse(r->body);
  CHECK(std::string(event["function"].GetString()) == "product");
  CHECK(std::string(event["event"]["resource"].GetString()) == "/product/{product_id}");
  CHECK(std::string(event["event"]["pathParameters"]["product_id"].GetString()) == "abc");
  r = test::roundtrip(port, test::get("/dev/product"));
  REQUIRE(r);
  CHECK(std::string(parse(r->body)["function"].GetString()) == "products");
  // 3. CORS lists POST, but there is no POST method.
  r = test::roundtrip(port, "POST /dev/product HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 403);
  CHECK(r->body == R"({"message":"Missing Authentication Token"})");
}

TEST_CASE("openapi vectors: sam-shopping-cart-mock-cors's functions through a Lambda endpoint",
          "[spec]") {
  // A stand-in for the Lambda Invoke API: answers a proxy result naming what was invoked.
  test::stub_server lambda([](const test::stub_request& r) {
    return test::stub_response{
        200,
        {{"Content-Type", "application/json"}},
        R"({"statusCode":200,"headers":{"Content-Type":"text/plain"},"body":)" +
            json_string(r.target) + "}"};
  });
  gatehouse::openapi_options o;
  o.lambda = gatehouse::lambda_endpoint{.endpoint = lambda.url(),
                                        .credentials = {"AKIDEXAMPLE", "example/secret", ""}};
  auto api = gatehouse::import_openapi(read_vector("sam-shopping-cart-mock-cors.swagger.json"), o);
  CHECK(api.unbound_functions.empty());
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("dev", api.router.deploy()));
  auto r = test::roundtrip(port, test::get("/dev/product/abc"));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body ==
        "/2015-03-31/functions/"
        "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aaws-serverless-shopping-cart-"
        "produc-GetProductFunction-28378339/invocations?Qualifier=live");
  r = test::roundtrip(port, test::get("/dev/product"));
  REQUIRE(r);
  CHECK(r->body.ends_with("GetProductsFunction-c1359550/invocations?Qualifier=live"));
  auto invocations = lambda.requests();
  REQUIRE(invocations.size() == 2);
  const auto& invoke = invocations[0];
  CHECK(invoke.method == "POST");
  CHECK(invoke.headers.get("Authorization")
            .value_or("")
            .starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
  auto event = parse(invoke.body);
  const json* id = rapidjson::Pointer("/pathParameters/product_id").Get(event);
  REQUIRE(id);
  CHECK(std::string(id->GetString()) == "abc");
}

TEST_CASE("openapi vectors: the HTTP API petstore, imported as a REST API, proxies", "[spec]") {
  test::stub_server backend([](const test::stub_request&) {
    return test::stub_response{200, {{"Content-Type", "application/json"}}, "[]"};
  });
  auto doc = replace_all(read_vector("http-api-petstore-cors.openapi.json"),
                         "http://petstore.execute-api.us-west-1.amazonaws.com",
                         "http://127.0.0.1:" + std::to_string(backend.port()));
  auto api = gatehouse::import_openapi(doc);
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("prod", api.router.deploy()));
  auto r = test::roundtrip(port, test::get("/prod/pets?type=dog&page=2"));
  REQUIRE(r);
  CHECK(r->status == 200);
  r = test::roundtrip(port, test::get("/prod/pets/5"));
  REQUIRE(r);
  REQUIRE(backend.requests().size() == 2);
  CHECK(backend.requests()[0].target == "/petstore/pets?type=dog&page=2");
  CHECK(backend.requests()[1].target == "/petstore/pets/5");
}
