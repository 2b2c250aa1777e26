// Request and response transformation end to end (steps 9 and 11): a request template that
// turns a JSON body into a form-encoded upstream request, a backend (a second gateway) that
// answers in form encoding, and integration responses that select by status, map headers and
// turn the answer back into JSON; passthrough behaviours (415), template overrides, C++ hooks,
// and bad templates refused when the API is deployed.

#include "backend.hpp"
#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace {

using gatehouse::integration_response;
using gatehouse::passthrough_behavior;
using gatehouse::proxy_event;
using gatehouse::proxy_result;

// JSON → application/x-www-form-urlencoded.
constexpr const char* to_form =
    "#set($pet = $input.path('$'))\n"
    "name=$util.urlEncode($pet.name)&type=$util.urlEncode($pet.type)";
// application/x-www-form-urlencoded → JSON.
constexpr const char* from_form =
    "#set($fields = $input.body.split(\"&\"))\n"
    "{#foreach($f in $fields)#set($kv = $f.split(\"=\"))"
    "\"$kv[0]\":\"$util.urlDecode($kv[1])\"#if($foreach.hasNext),#end#end}";

std::string summary(unsigned short port, const std::string& raw) {
  auto r = test::roundtrip(port, raw);
  if (!r) return "<no reply>";
  std::string s = std::to_string(r->status);
  for (const char* h : {"Content-Type", "X-Pet-Id", "X-Gateway", "X-Form", "X-Hooked"})
    if (auto v = r->headers.get(h)) s.append(" ").append(h).append("=").append(*v);
  return s + " " + r->body;
}

std::string post(std::string_view target, std::string_view body,
                 std::string_view content_type = "application/json") {
  std::string r = "POST " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n";
  if (!content_type.empty()) r += "Content-Type: " + std::string(content_type) + "\r\n";
  return r + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

// The form-speaking backend: POST /pets answers 201 with id=7 and the fields it got, and says
// what Content-Type it got in X-Got-Type; POST /missing answers 404; POST /broken 500.
gatehouse::Stage form_backend() {
  gatehouse::Router api({.name = "forms"});
  api.route("POST", "/pets", gatehouse::function([](const proxy_event& ev) {
              proxy_result r{.status_code = 201, .body = "id=7&" + std::string(ev.body())};
              r.headers.add("Content-Type", "application/x-www-form-urlencoded");
              r.headers.add("x-id", "7");
              r.headers.add("x-got-type", std::string(ev.header("Content-Type").value_or("-")));
              return r;
            }));
  api.route("POST", "/missing", gatehouse::function([](const proxy_event&) {
              return proxy_result{.status_code = 404, .body = "error=not+found"};
            }));
  api.route("POST", "/broken", gatehouse::function([](const proxy_event&) {
              return proxy_result{.status_code = 500, .body = "error=boom"};
            }));
  return gatehouse::Stage("b", api.deploy());
}

gatehouse::method_options form_options() {
  return {.request_templates = {{"application/json", to_form}},
          .passthrough = passthrough_behavior::never,
          .integration_responses = {
              {.selection_pattern = "2\\d{2}",
               .status = 201,
               .response_parameters =
                   {{"method.response.header.X-Pet-Id", "integration.response.header.x-id"},
                    {"method.response.header.X-Form", "integration.response.header.x-got-type"},
                    {"method.response.header.X-Gateway", "'gatehouse'"}},
               .response_templates = {{"application/json", from_form}}},
              {.selection_pattern = "404",
               .status = 404,
               .response_templates = {{"application/json", R"({"message":"no such pet"})"}}},
          }};
}

}  // namespace

TEST_CASE("transform: JSON to a form-encoded backend and back", "[transform]") {
  test::running_gateway backend;
  auto backend_port = backend.serve_plain(form_backend());
  const std::string base = "http://127.0.0.1:" + std::to_string(backend_port) + "/b";
  gatehouse::Router api;
  // The backend is told the type as AWS users tell it: a static header mapping.
  const gatehouse::http_options form_type{
      .request_parameters = {
          {"integration.request.header.Content-Type", "'application/x-www-form-urlencoded'"}}};
  api.route("POST", "/pets", gatehouse::http("POST", base + "/pets", form_type), form_options());
  api.route("POST", "/missing", gatehouse::http("POST", base + "/missing"), form_options());
  api.route("POST", "/broken", gatehouse::http("POST", base + "/broken"), form_options());
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("prod", api.deploy()));

  CHECK(summary(port, post("/prod/pets", R"({"name":"Rex & Co","type":"dog"})")) ==
        "201 Content-Type=application/json X-Pet-Id=7 X-Gateway=gatehouse "
        "X-Form=application/x-www-form-urlencoded "
        R"({"id":"7","name":"Rex & Co","type":"dog"})");
  CHECK(summary(port, post("/prod/missing", R"({"name":"x","type":"y"})")) ==
        R"(404 Content-Type=application/json {"message":"no such pet"})");
  // No integration response matches 500 and there is no default: AWS's configuration error.
  CHECK(summary(port, post("/prod/broken", R"({"name":"x","type":"y"})")) ==
        R"(500 Content-Type=application/json {"message":"Internal server error"})");
  // NEVER: a media type without a template is refused.
  CHECK(summary(port, post("/prod/pets", "name=x", "text/plain")) ==
        R"(415 Content-Type=application/json {"message":"Unsupported Media Type"})");
}

TEST_CASE("transform: passthrough behaviours", "[transform]") {
  auto run = [](passthrough_behavior p, bool with_template, std::string_view type) {
    gatehouse::Router api;
    gatehouse::method_options o{.passthrough = p};
    if (with_template)
      o.request_templates = {{"application/json", R"({"wrapped":$input.json('$')})"}};
    o.integration_responses = {{.status = 200}};
    api.route("POST", "/a", gatehouse::mock({.body = "mocked"}), o);
    test::running_gateway gw;
    auto port = gw.serve_plain(gatehouse::Stage("prod", api.deploy()));
    return summary(port, post("/prod/a", "{}", type)).substr(0, 3);
  };
  CHECK(run(passthrough_behavior::when_no_match, true, "text/plain") == "200");
  CHECK(run(passthrough_behavior::when_no_match, true, "application/json") == "200");
  CHECK(run(passthrough_behavior::when_no_templates, false, "text/plain") == "200");
  CHECK(run(passthrough_behavior::when_no_templates, true, "text/plain") == "415");
  CHECK(run(passthrough_behavior::when_no_templates, true, "application/json") == "200");
  CHECK(run(passthrough_behavior::never, false, "text/plain") == "415");
  CHECK(run(passthrough_behavior::never, true, "application/json") == "200");
}

TEST_CASE("transform: response templates over a mock, with overrides", "[transform]") {
  gatehouse::Router api;
  api.route("GET", "/pets",
            gatehouse::mock({.body = R"([{"id":1,"type":"dog","price":249.99},)"
                                     R"({"id":2,"type":"cat","price":124.99}])"}),
            {.integration_responses = {
                 {.status = 200,
                  .response_templates = {
                      {"application/json",
                       "#set($inputRoot = $input.path('$'))\n"
                       "[\n"
                       "#foreach($elem in $inputRoot)\n"
                       "  {\"description\" : \"Item $elem.id is a $elem.type.\", "
                       "\"askingPrice\" : $elem.price}#if($foreach.hasNext),#end\n"
                       "#end\n"
                       "]"},
                      {"text/plain",
                       "#set($context.responseOverride.status = 203)"
                       "#set($context.responseOverride.header.X-Hooked = 'by template')"
                       "$input.path('$').size() pets"}}}}});
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("prod", api.deploy()));
  auto squeezed = summary(port, "GET /prod/pets HTTP/1.1\r\nHost: x\r\n\r\n");
  std::erase_if(squeezed, [](char c) { return c == '\n' || c == ' '; });
  CHECK(squeezed ==
        "200Content-Type=application/json["
        "{\"description\":\"Item1isadog.\",\"askingPrice\":249.99},"
        "{\"description\":\"Item2isacat.\",\"askingPrice\":124.99}]");
  CHECK(summary(port, "GET /prod/pets HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n\r\n") ==
        "203 Content-Type=text/plain X-Hooked=by template 2 pets");
}

TEST_CASE("transform: C++ hooks where a template is not enough", "[transform]") {
  gatehouse::Router api;
  api.route("POST", "/shout", gatehouse::function([](const proxy_event& ev) {
              return proxy_result{.body = std::string(ev.body())};
            }),
            {.transform_request =
                 [](gatehouse::request& r) {
                   for (auto& c : r.body) c = static_cast<char>(std::toupper(c));
                 },
             .transform_response =
                 [](gatehouse::response& r) {
                   r.headers.set("X-Hooked", "yes");
                   r.body += "!";
                 }});
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("prod", api.deploy()));
  CHECK(summary(port, post("/prod/shout", "hello", "text/plain")) ==
        "200 Content-Type=application/json X-Hooked=yes HELLO!");
}

TEST_CASE("transform: bad templates and settings are config errors naming them", "[transform]") {
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
          api.route("POST", "/a", gatehouse::mock({}),
                    {.request_templates = {{"application/json", "#if($x)\nno end"}}});
        }).starts_with("mapping template 'POST /a request application/json': line "));
  CHECK(deploy_error([](gatehouse::Router& api) {
          api.route("POST", "/a",
                    gatehouse::function([](const proxy_event&) { return proxy_result{}; }),
                    {.request_templates = {{"application/json", "{}"}}});
        }).find("need a non-proxy integration") != std::string::npos);
  CHECK(deploy_error([](gatehouse::Router& api) {
          api.route("GET", "/a", gatehouse::mock({}),
                    {.integration_responses = {{.selection_pattern = "4(", .status = 400}}});
        }).starts_with("route GET /a: selection pattern '4('"));
  CHECK(deploy_error([](gatehouse::Router& api) {
          api.route("GET", "/a", gatehouse::mock({}),
                    {.integration_responses = {
                         {.response_parameters = {{"method.response.header.X", "nope"}}}}});
        }).find("the source must be") != std::string::npos);
}

TEST_CASE("transform: HTTP APIs' parameter mapping of requests and responses", "[transform]") {
  test::backend backend;
  gatehouse::Router api({.name = "mapped", .type = gatehouse::api_type::http});
  api.route("ANY", "/items/{id}", gatehouse::http_proxy(backend.url("/echo/{id}")),
            {.parameter_mapping = {{"overwrite:header.x-user", "user-$request.header.x-name"},
                                   {"append:header.x-list", "b"},
                                   {"remove:header.x-secret", ""},
                                   {"append:querystring.tag", "$request.path.id"},
                                   {"remove:querystring.drop", ""},
                                   {"overwrite:querystring.stage", "$context.stage"},
                                   {"overwrite:header.x-var", "${stageVariables.color}!"}}});
  api.route("GET", "/moved/{id}", gatehouse::http_proxy(backend.url("/echo/old")),
            {.parameter_mapping = {{"overwrite:path", "/echo/new/$request.path.id"}}});
  api.route("GET", "/gone", gatehouse::http_proxy(backend.url("/status/404")),
            {.response_mapping = {{"404",
                                   {{"overwrite:statuscode", "410"},
                                    {"overwrite:header.x-was", "$response.header.x-backend"},
                                    {"remove:header.set-cookie", ""}}},
                                  {"500", {{"overwrite:statuscode", "503"}}}}});
  gatehouse::Stage prod("prod", api.deploy());
  prod.variable("color", "blue");
  test::running_gateway gw;
  auto port = gw.serve_plain(prod);

  auto r = test::roundtrip(port,
                           "GET /prod/items/7?drop=1&keep=a%20b HTTP/1.1\r\nHost: x\r\n"
                           "x-name: ann\r\nx-list: a\r\nx-secret: s\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 200);
  auto seen = backend.last_request();
  REQUIRE(seen);
  CHECK(seen->target == "/echo/7?keep=a%20b&tag=7&stage=prod");
  CHECK(seen->headers.get("x-user") == std::optional<std::string_view>("user-ann"));
  CHECK(seen->headers.get("x-list") == std::optional<std::string_view>("a,b"));
  CHECK_FALSE(seen->headers.get("x-secret"));
  CHECK(seen->headers.get("x-var") == std::optional<std::string_view>("blue!"));

  r = test::roundtrip(port, "GET /prod/moved/9?q=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(r);
  seen = backend.last_request();
  REQUIRE(seen);
  CHECK(seen->target == "/echo/new/9?q=1");

  r = test::roundtrip(port, "GET /prod/gone HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 410);
  CHECK(r->headers.get("x-was") == std::optional<std::string_view>("status"));
  CHECK_FALSE(r->headers.get("set-cookie"));
}

TEST_CASE("transform: bad parameter mappings are config errors", "[transform]") {
  auto error_of = [](gatehouse::method_options o) -> std::string {
    gatehouse::Router api;
    try {
      api.route("GET", "/a", gatehouse::mock({}), std::move(o));
      api.deploy();
    } catch (const gatehouse::config_error& e) {
      return e.what();
    }
    return "<deployed>";
  };
  CHECK(error_of({.parameter_mapping = {{"replace:header.x", "1"}}}) ==
        "route GET /a: parameter mapping 'replace:header.x': the action must be overwrite, "
        "append or remove");
  CHECK(error_of({.parameter_mapping = {{"append:path", "/x"}}}) ==
        "route GET /a: parameter mapping 'append:path': the path can only be overwritten");
  CHECK(error_of({.parameter_mapping = {{"overwrite:header.x", "$request.cookie.y"}}})
            .find("unknown reference $request.cookie.y") != std::string::npos);
  CHECK(error_of({.response_mapping = {{"4xx", {{"overwrite:statuscode", "400"}}}}}) ==
        "route GET /a: response mapping for '4xx': not a status code");
}
