// Bodies that carry client text stay JSON (issue 20, item 4). A client can put bytes that are
// not UTF-8 into a path parameter or a query value ("%FF"), a header value (obs-text) or a
// request body; every JSON body the gateway writes with them — gateway responses (default and
// overridden, $context.error.message / messageString / validationErrorString), mapping
// templates ($input.params, $context), the proxy event a function gets — must still parse with
// a strict parser, each ill-formed sequence as U+FFFD (what AWS's Java stack makes of them).

#include "harness.hpp"
#include "strict_json.hpp"

#include <gatehouse/gatehouse.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace {

using gatehouse::proxy_event;
using gatehouse::proxy_result;

const std::string fffd = "\xEF\xBF\xBD";  // U+FFFD

constexpr const char* pet_model =
    R"({"type":"object","required":["type"],)"
    R"("properties":{"type":{"type":"string","enum":["dog","cat","fish"]}}})";

gatehouse::Router client_text_api() {
  gatehouse::Router api({.name = "bodies"});
  // The proxy event as the function got it, in both payload formats.
  api.route("GET", "/event/{id}", gatehouse::function([](const proxy_event& ev) {
              return proxy_result{.body = ev.to_json()};
            }));
  api.route(
      "GET", "/event2/{id}",
      gatehouse::function([](const proxy_event& ev) { return proxy_result{.body = ev.to_json()}; },
                          {.format = gatehouse::payload_format::v2}));
  // A mapping template that writes client text into JSON without $util.escapeJavaScript.
  api.route(
      "GET", "/template/{id}", gatehouse::mock({.body = "{}"}),
      {.integration_responses = {
           {.status = 200,
            .response_templates = {
                {"application/json",
                 R"t({"id":"$input.params('id')","q":"$input.params('q')",)t"
                 R"t("agent":"$context.identity.userAgent","header":"$input.params('X-Bin')"})t"}}}}});
  // Body validation whose error string echoes the client's value.
  api.model("Pet", pet_model);
  api.route("POST", "/pets", gatehouse::mock({.body = "{}"}),
            {.request_models = {{"application/json", "Pet"}},
             .validation = gatehouse::request_validation::body,
             .integration_responses = {{.status = 200}}});
  api.set_gateway_response(gatehouse::response_type::bad_request_body,
                           {.body = R"({"message": $context.error.messageString, "error": )"
                                    R"("$context.error.validationErrorString"})"});
  // SigV4's refusals quote the client's Authorization header in their message.
  auto iam = gatehouse::Authorizer::iam({.credentials = gatehouse::IamCredentials{}});
  api.route("GET", "/signed", gatehouse::mock({.body = "{}"}), {.authorizer = iam});
  api.route("GET", "/signed-raw", gatehouse::mock({.body = "{}"}), {.authorizer = iam});
  return api;
}

// Sends `raw`, and returns the reply's body after checking that it is strict JSON.
std::string json_reply(unsigned short port, const std::string& raw, int status) {
  auto r = test::roundtrip(port, raw);
  REQUIRE(r);
  INFO(raw << "\n-> " << r->body);
  CHECK(r->status == status);
  CHECK(test::json_error(r->body) == "");
  return r->body;
}

}  // namespace

TEST_CASE("client bytes that are not UTF-8 come out of the proxy event as U+FFFD") {
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("prod", client_text_api().deploy()));
  for (const char* route : {"/prod/event/", "/prod/event2/"}) {
    INFO(route);
    auto body = json_reply(port,
                           std::string("GET ") + route +
                               "%FF%22?q=%FE HTTP/1.1\r\nHost: x\r\nUser-Agent: agent\xFF\r\n"
                               "X-Bin: \xC3(\r\n\r\n",
                           200);
    rapidjson::Document ev;
    REQUIRE(test::json_error(body, &ev) == "");
    CHECK(std::string(ev["pathParameters"]["id"].GetString()) == fffd + "\"");
    CHECK(std::string(ev["queryStringParameters"]["q"].GetString()) == fffd);
    const auto& headers = ev["headers"];
    const char* bin = headers.HasMember("X-Bin") ? "X-Bin" : "x-bin";
    CHECK(std::string(headers[bin].GetString()) == fffd + "(");
  }
}

TEST_CASE("client bytes that are not UTF-8 come out of mapping templates as U+FFFD") {
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("prod", client_text_api().deploy()));
  auto body = json_reply(port,
                         "GET /prod/template/%C3%A9%FF?q=a%E2%82 HTTP/1.1\r\nHost: x\r\n"
                         "User-Agent: \xF0\x9F\x98\r\nX-Bin: \x80\r\n\r\n",
                         200);
  CHECK(test::json_member(body, "id") == "\xC3\xA9" + fffd);
  CHECK(test::json_member(body, "q") == "a" + fffd);
  CHECK(test::json_member(body, "agent") == fffd);
  CHECK(test::json_member(body, "header") == fffd);
}

TEST_CASE("gateway responses that echo client bytes stay JSON") {
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("prod", client_text_api().deploy()));
  {  // $context.error.validationErrorString quotes the body's value. Raw bytes that are not
     // UTF-8 make the body no JSON; an escaped lone surrogate parses into such bytes.
    const std::string pet = R"({"type":"b\udc00rd"})";
    auto body =
        json_reply(port,
                   "POST /prod/pets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Content-Length: " +
                       std::to_string(pet.size()) + "\r\n\r\n" + pet,
                   400);
    CHECK(test::json_member(body, "message") == "Invalid request body");
    CHECK(test::json_member(body, "error").find(fffd) != std::string::npos);
  }
  {  // the default template, {"message":$context.error.messageString}, quoting the header
    auto body = json_reply(port,
                           "GET /prod/signed HTTP/1.1\r\nHost: x\r\n"
                           "Authorization: AWS4-HMAC-SHA256 x\xFF\"y\r\n\r\n",
                           403);
    auto message = test::json_member(body, "message");
    CHECK(message.find("x" + fffd + "\"y") != std::string::npos);
  }
}

TEST_CASE("an overridden gateway response's $context.error.message is UTF-8 too") {
  auto api = client_text_api();
  api.set_gateway_response(gatehouse::response_type::invalid_signature,
                           {.body = R"({"raw":"$context.error.message"})"});
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("prod", api.deploy()));
  // Unescaped, as AWS gives it (a '"' from the client would break this template there too),
  // but never bytes that are not UTF-8.
  auto body = json_reply(port,
                         "GET /prod/signed-raw HTTP/1.1\r\nHost: x\r\n"
                         "Authorization: AWS4-HMAC-SHA256 x\xFFy\r\n\r\n",
                         403);
  CHECK(test::json_member(body, "raw").find("x" + fffd + "y") != std::string::npos);
}
