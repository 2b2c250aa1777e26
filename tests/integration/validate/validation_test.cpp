// Request validation end to end (step 7): required parameters and bodies against models, with
// AWS's 400 messages, the model chosen by Content-Type, the validation error string in a
// gateway response template, and bad models refused when the API is deployed.

#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace {

using gatehouse::proxy_event;
using gatehouse::proxy_result;
using gatehouse::request_validation;

constexpr const char* pet_schema = R"({"type":"object","required":["type","price"],"properties":{)"
                                   R"("type":{"type":"string","enum":["dog","cat","fish"]},)"
                                   R"("price":{"type":"number","minimum":25,"maximum":500}}})";

std::string summary(unsigned short port, std::string raw) {
  auto r = test::roundtrip(port, raw);
  if (!r) return "<no reply>";
  auto type = r->headers.get("x-amzn-ErrorType");
  return std::to_string(r->status) + " " + std::string(type.value_or("-")) + " " + r->body;
}

std::string post(std::string_view target, std::string_view body,
                 std::string_view content_type = "application/json") {
  std::string r = "POST " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n";
  if (!content_type.empty()) r += "Content-Type: " + std::string(content_type) + "\r\n";
  return r + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

std::string get(std::string_view target, std::string_view headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n" + std::string(headers) + "\r\n";
}

gatehouse::integration echo() {
  return gatehouse::function(
      [](const proxy_event& ev) { return proxy_result{.body = "ok " + std::string(ev.body())}; });
}

gatehouse::Router validated_api() {
  gatehouse::Router api;
  api.model("Pet", pet_schema);
  api.model("Pets", R"({"type":"array","items":{"$ref":)"
                    R"("https://apigateway.amazonaws.com/restapis/x/models/Pet"}})");
  api.model("Anything", R"({"type":"string","minLength":2})");
  api.route(
      "POST", "/pets", echo(),
      {.request_models = {{"application/json", "Pet"}}, .validation = request_validation::body});
  api.route("PUT", "/pets", echo(),
            {.request_models = {{"application/json", "Pets"}, {"$default", "Anything"}},
             .validation = request_validation::body});
  api.route("GET", "/pets/{petId}", echo(),
            {.request_parameters = {{"method.request.path.petId", true},
                                    {"method.request.querystring.page", true},
                                    {"method.request.header.x-trace", true},
                                    {"method.request.querystring.sort", false}},
             .validation = request_validation::parameters});
  api.route("PATCH", "/pets/{petId}", echo(),
            {.request_parameters = {{"method.request.header.x-trace", true}},
             .request_models = {{"application/json", "Pet"}},
             .validation = request_validation::body_and_parameters});
  // Declared but not validated: AWS checks nothing without a validator.
  api.route("DELETE", "/pets/{petId}", echo(),
            {.request_parameters = {{"method.request.querystring.reason", true}}});
  return api;
}

}  // namespace

TEST_CASE("validation: bodies against the method's model", "[validate]") {
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("prod", validated_api().deploy()));
  CHECK(summary(port, post("/prod/pets", R"({"type":"dog","price":249.99})")) ==
        R"(200 - ok {"type":"dog","price":249.99})");
  CHECK(summary(port, post("/prod/pets", R"({"type":"bird","price":100})")) ==
        R"(400 BadRequestException {"message":"Invalid request body"})");
  CHECK(summary(port, post("/prod/pets", R"({"type":"dog","price":5})")) ==
        R"(400 BadRequestException {"message":"Invalid request body"})");
  CHECK(summary(port, post("/prod/pets", "not json")) ==
        R"(400 BadRequestException {"message":"Invalid request body"})");
  CHECK(summary(port, post("/prod/pets", "")) ==
        R"(400 BadRequestException {"message":"Invalid request body"})");
  // No Content-Type: taken as application/json, as AWS does.
  CHECK(summary(port, post("/prod/pets", R"({"type":"cow","price":50})", "")) ==
        R"(400 BadRequestException {"message":"Invalid request body"})");
  CHECK(summary(port, post("/prod/pets", R"({"type":"cat","price":50})",
                           "Application/JSON; charset=utf-8")) ==
        R"(200 - ok {"type":"cat","price":50})");
  // A media type without a model is not validated.
  CHECK(summary(port, post("/prod/pets", "anything", "text/plain")) == "200 - ok anything");
  // $default serves the other types; a model that $refs another.
  CHECK(summary(port, post("/prod/pets", "x", "text/plain")).starts_with("200"));
  auto put = [&](std::string_view body, std::string_view type) {
    auto raw = post("/prod/pets", body, type);
    raw.replace(0, 4, "PUT");
    return summary(port, raw);
  };
  CHECK(put(R"([{"type":"dog","price":30}])", "application/json").starts_with("200"));
  CHECK(put(R"([{"type":"dog","price":3}])", "application/json").starts_with("400"));
  CHECK(put("x", "text/plain").starts_with("400"));
  CHECK(put(R"("xy")", "text/plain").starts_with("200"));
}

TEST_CASE("validation: required parameters, present and not blank", "[validate]") {
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("prod", validated_api().deploy()));
  CHECK(summary(port, get("/prod/pets/1?page=2", "x-trace: abc\r\n")) == "200 - ok ");
  CHECK(summary(port, get("/prod/pets/1?page=2")) ==
        R"(400 BadRequestException {"message":"Missing required request parameters: [x-trace]"})");
  CHECK(summary(port, get("/prod/pets/1")) ==
        R"(400 BadRequestException {"message":"Missing required request parameters: [page, )"
        R"(x-trace]"})");
  CHECK(summary(port, get("/prod/pets/1?page=", "X-Trace: \r\n")) ==
        R"(400 BadRequestException {"message":"Missing required request parameters: [page, )"
        R"(x-trace]"})");
  CHECK(summary(port, get("/prod/pets/1?sort=a&pag%65=1", "X-TRACE: t\r\n")) == "200 - ok ");
  // Parameters first, then the body.
  auto patch = [&](std::string_view body, std::string_view headers) {
    std::string r = "PATCH /prod/pets/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
                    std::string(headers) + "Content-Length: " + std::to_string(body.size()) +
                    "\r\n\r\n" + std::string(body);
    return summary(port, r);
  };
  CHECK(patch("{}", "") ==
        R"(400 BadRequestException {"message":"Missing required request parameters: [x-trace]"})");
  CHECK(patch("{}", "x-trace: 1\r\n") ==
        R"(400 BadRequestException {"message":"Invalid request body"})");
  CHECK(patch(R"({"type":"fish","price":30})", "x-trace: 1\r\n").starts_with("200"));
  // Without a validator nothing is checked.
  CHECK(summary(port, "DELETE /prod/pets/1 HTTP/1.1\r\nHost: x\r\n\r\n") == "200 - ok ");
}

TEST_CASE("validation: the reason reaches gateway response templates", "[validate]") {
  auto api = validated_api();
  api.set_gateway_response(gatehouse::response_type::bad_request_body,
                           {.body = R"({"message": $context.error.messageString, "error": )"
                                    R"("$context.error.validationErrorString"})"});
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("prod", api.deploy()));
  CHECK(summary(port, post("/prod/pets", R"({"type":"bird","price":100})")) ==
        R"(400 BadRequestException {"message": "Invalid request body", "error": "[instance )"
        R"(value (\"bird\") not found in enum (possible values: [\"dog\",\"cat\",\"fish\"])]"})");
  CHECK(summary(port, post("/prod/pets", R"({"type":"dog"})")) ==
        R"(400 BadRequestException {"message": "Invalid request body", "error": "[object has )"
        R"(missing required properties ([\"price\"])]"})");
}

TEST_CASE("validation: bad models and settings are config errors naming them", "[validate]") {
  auto deploy_error = [](auto change) -> std::string {
    gatehouse::Router api;
    try {
      change(api);
      api.deploy();
    } catch (const gatehouse::config_error& e) {
      return e.what();
    }
    return "<deployed>";
  };
  CHECK(deploy_error([](gatehouse::Router& api) {
          api.model("Pet", "{");
        }).starts_with("model 'Pet': the schema is not JSON"));
  CHECK(deploy_error([](gatehouse::Router& api) {
          api.model("Pet", R"j({"properties":{"a":{"pattern":"(?<=x)"}}})j");
        }).starts_with("model 'Pet': pattern \"(?<=x)\" cannot be used"));
  CHECK(deploy_error([](gatehouse::Router& api) {
          api.model("A", R"({"$ref":"https://apigateway.amazonaws.com/restapis/x/models/B"})");
          api.model("B", R"({"$ref":"https://apigateway.amazonaws.com/restapis/x/models/A"})");
        }).find("leads only to itself") != std::string::npos);
  CHECK(deploy_error([](gatehouse::Router& api) {
          api.route("POST", "/a", echo(), {.request_models = {{"application/json", "Nope"}}});
        }) ==
        "route POST /a: request model 'Nope' (for application/json) is not a model of the API");
  CHECK(
      deploy_error([](gatehouse::Router& api) {
        api.route("GET", "/a", echo(), {.request_parameters = {{"method.request.cookie.x", true}}});
      }).starts_with("route GET /a: request parameter 'method.request.cookie.x': 'cookie' is not"));
  CHECK_THROWS_WITH(gatehouse::Router().model("Pet", "{}").model("Pet", "{}"),
                    "model 'Pet' is defined twice");
  CHECK_THROWS_WITH(gatehouse::Router().model("my-pet", "{}"),
                    Catch::StartsWith("model 'my-pet': a name is 1 to 128 letters and digits"));
}
