// The mapping-template engine on AWS API Gateway's documented templates and variables:
// $input, $context, $stageVariables, the override variables, and the examples of the docs.

#include "vtl_env.hpp"

#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <string>

using gatehouse::transform::mapping_template;
using vtl_test::map_env;
using vtl_test::render;
using vtl_test::render_body;

namespace {
constexpr const char* pets = R"([
  { "id": 1, "type": "dog", "price": 249.99 },
  { "id": 2, "type": "cat", "price": 124.99 },
  { "id": 3, "type": "fish", "price": 0.99 }
])";

// AWS's PetStore "array of pets" integration response template (Models and mapping templates).
constexpr const char* pets_output_template = R"(#set($inputRoot = $input.path('$'))
[
#foreach($elem in $inputRoot)
  {
    "description" : "Item $elem.id is a $elem.type.",
    "askingPrice" : $elem.price
  }#if($foreach.hasNext),#end

#end
]
)";
}  // namespace

TEST_CASE("AWS's PetStore array-of-pets template gives the documented output", "[vtl]") {
  CHECK(render_body(pets_output_template, pets) == R"([
  {
    "description" : "Item 1 is a dog.",
    "askingPrice" : 249.99
  },
  {
    "description" : "Item 2 is a cat.",
    "askingPrice" : 124.99
  },
  {
    "description" : "Item 3 is a fish.",
    "askingPrice" : 0.99
  }
]
)");
}

TEST_CASE("AWS's photos example template gives the documented output", "[vtl]") {
  const char* body = R"({ "photos": { "page": 1, "pages": "1234", "perpage": 100, "total": "123398",
    "photo": [
      { "id": "12345678901", "owner": "23456789@A12", "photographer_first_name" : "Saanvi",
        "photographer_last_name" : "Sarkar", "secret": "abc123d456", "server": "1234", "farm": 1,
        "title": "Sample photo 1", "ispublic": true, "isfriend": false, "isfamily": false },
      { "id": "23456789012", "owner": "34567890@B23", "photographer_first_name" : "Richard",
        "photographer_last_name" : "Roe", "secret": "bcd234e567", "server": "2345", "farm": 2,
        "title": "Sample photo 2", "ispublic": true, "isfriend": false, "isfamily": false } ] } })";
  const char* t = R"(#set($inputRoot = $input.path('$'))
{
  "photos": [
#foreach($elem in $inputRoot.photos.photo)
    {
      "id": "$elem.id",
      "photographedBy": "$elem.photographer_first_name $elem.photographer_last_name",
      "title": "$elem.title",
      "ispublic": $elem.ispublic,
      "isfriend": $elem.isfriend,
      "isfamily": $elem.isfamily
    }#if($foreach.hasNext),#end
#end
  ]
})";
  const std::string out = render_body(t, body);
  rapidjson::Document doc;
  doc.Parse(out.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc["photos"].Size() == 2);
  CHECK(std::string(doc["photos"][0]["photographedBy"].GetString()) == "Saanvi Sarkar");
  CHECK(std::string(doc["photos"][1]["id"].GetString()) == "23456789012");
  CHECK(doc["photos"][1]["ispublic"].GetBool());
  CHECK_FALSE(doc["photos"][1]["isfamily"].GetBool());
}

TEST_CASE("$input.json gives JSON text of the selection", "[vtl]") {
  const char* body = R"({"name": "Fluffy", "age": 3, "price": 5.0, "tags": ["a", "b"],
                         "owner": {"name": "Ann", "since": 2019}, "ok": true, "none": null})";
  CHECK(render_body("$input.json('$.name')", body) == "\"Fluffy\"");
  CHECK(render_body("$input.json('$.age') $input.json('$.price')", body) == "3 5.0");
  CHECK(render_body("$input.json('$.tags')", body) == "[\"a\",\"b\"]");
  CHECK(render_body("$input.json('$.owner')", body) == R"({"name":"Ann","since":2019})");
  CHECK(render_body("$input.json('$.ok') $input.json('$.none')", body) == "true null");
  CHECK(render_body("$input.json('$.missing')", body) == "\"\"");
  CHECK(render_body("$input.json('name')", body) == "\"Fluffy\"");  // '$.' is implied
  CHECK(render_body("{\"body\": $input.json('$')}", R"({ "a" : [1, 2.5] })") ==
        R"({"body": {"a":[1,2.5]}})");
  CHECK(render_body("$input.json('$')", "") == "{}");
  CHECK(render_body("$input.json('$')", "not json") == "\"not json\"");
  CHECK(render_body("$input.json('$.a')", "not json") == "\"\"");
}

TEST_CASE("$input.path gives values usable as objects, lists, strings and numbers", "[vtl]") {
  CHECK(render_body("$input.path('$').size()", pets) == "3");
  CHECK(render_body("#foreach($pet in $input.path('$'))$pet.id:$pet.type #end", pets) ==
        "1:dog 2:cat 3:fish ");
  CHECK(render_body("$input.path('$[0]')", pets) == "{id=1, type=dog, price=249.99}");
  CHECK(render_body("$input.path('$[-1].type') $input.path('$[1]').price", pets) == "fish 124.99");
  CHECK(render_body("$input.path('$[*].id') $input.path('$..type')", pets) ==
        "[1, 2, 3] [dog, cat, fish]");
  CHECK(render_body("#set($n = $input.path('$[0].id') + 1)$n", pets) == "2");
  CHECK(render_body("#if($input.path('$.missing'))y#{else}n#end", pets) == "n");
  CHECK(render_body("$input.path('$').things.keySet()", R"({"things": {"1": {}, "2": {}}})") ==
        "[1, 2]");
  CHECK(render_body("$input.path('$')", "plain text") == "plain text");
  CHECK(render_body("$input.body", "raw {body") == "raw {body");
  CHECK(render_body("$input.path('$.big') $input.path('$.neg')",
                    R"({"big": 1e300, "neg": -0.5})") == "1.0E300 -0.5");
}

TEST_CASE("JSONPath subset: names, brackets, indices, slices, wildcards, deep scan", "[vtl]") {
  const char* body = R"({"store": {"book": [{"title": "A", "price": 8}, {"title": "B", "price": 12},
                         {"title": "C", "price": 9}], "bike": {"price": 20}}, "odd key": 1})";
  CHECK(render_body("$input.json(\"$['odd key']\")", body) == "1");
  CHECK(render_body("$input.json('$.store.book[1].title')", body) == "\"B\"");
  CHECK(render_body("$input.json(\"$['store']['bike']\")", body) == R"({"price":20})");
  CHECK(render_body("$input.json('$.store.book[0,2].title')", body) == R"(["A","C"])");
  CHECK(render_body("$input.json('$.store.book[1:].title')", body) == R"(["B","C"])");
  CHECK(render_body("$input.json('$.store.book[:-1].price')", body) == "[8,12]");
  CHECK(render_body("$input.json('$.store.book[*].price')", body) == "[8,12,9]");
  CHECK(render_body("$input.json('$.store.*.price')", body) == "[20]");
  CHECK(render_body("$input.json('$..price')", body) == "[8,12,9,20]");
  CHECK(render_body("$input.json('$.store.book[?(@.price > 10)]')", body) == "\"\"");  // no filters
  CHECK(render_body("$input.json('$.store.book[7]')", body) == "\"\"");
  CHECK(render_body("$input.json('$.store..nothing')", body) == "[]");
}

TEST_CASE("$input.params by name and all of them, in AWS's order", "[vtl]") {
  map_env env;
  env.path = {{"petId", "7"}};
  env.querystring = {{"type", "dog"}, {"petId", "shadowed"}};
  env.header = {{"X-Trace", "abc"}, {"Accept", "*/*"}};
  CHECK(render("$input.params('petId') $input.params('type') $input.params('X-Trace') "
               "[$input.params('no')]",
               env) == "7 dog abc []");
  CHECK(render("$input.params().header.get('X-Trace') $input.params().querystring.type", env) ==
        "abc dog");
  CHECK(render("$input.params()", env) ==
        "{path={petId=7}, querystring={type=dog, petId=shadowed}, "
        "header={X-Trace=abc, Accept=*/*}}");
}

TEST_CASE("AWS's method-request passthrough template gives valid JSON with every parameter",
          "[vtl]") {
  const char* t =
      R"T(##  See http://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
##  This template will pass through all parameters including path, querystring, header, stage variables, and context through to the integration endpoint via the body/payload
#set($allParams = $input.params())
{
"body-json" : $input.json('$'),
"params" : {
#foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
"$type" : {
    #foreach($paramName in $params.keySet())
    "$paramName" : "$util.escapeJavaScript($params.get($paramName))"
        #if($foreach.hasNext),#end
    #end
}
    #if($foreach.hasNext),#end
#end
},
"stage-variables" : {
#foreach($key in $stageVariables.keySet())
"$key" : "$util.escapeJavaScript($stageVariables.get($key))"
    #if($foreach.hasNext),#end
#end
},
"context" : {
    "account-id" : "$context.identity.accountId",
    "api-id" : "$context.apiId",
    "api-key" : "$context.identity.apiKey",
    "authorizer-principal-id" : "$context.authorizer.principalId",
    "caller" : "$context.identity.caller",
    "http-method" : "$context.httpMethod",
    "stage" : "$context.stage",
    "source-ip" : "$context.identity.sourceIp",
    "user-agent" : "$context.identity.userAgent",
    "request-id" : "$context.requestId",
    "resource-path" : "$context.resourcePath"
    }
}
)T";
  map_env env;
  env.body_text = R"({"type": "dog", "price": 249.99})";
  env.path = {{"petId", "7"}};
  env.querystring = {{"q", "a \"quoted\" word"}};
  env.header = {{"Host", "example.com"}, {"User-Agent", "curl/8"}};
  env.stage = {{"backend", "10.0.0.1"}};
  env.context_values = {{"httpMethod", "POST"},
                        {"stage", "prod"},
                        {"requestId", "rid-1"},
                        {"identity.sourceIp", "192.0.2.1"},
                        {"resourcePath", "/pets/{petId}"}};
  const std::string out = render(t, env);
  rapidjson::Document doc;
  doc.Parse(out.c_str());
  INFO(out);
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(doc["body-json"]["price"].GetDouble() == 249.99);
  CHECK(std::string(doc["params"]["path"]["petId"].GetString()) == "7");
  CHECK(std::string(doc["params"]["header"]["User-Agent"].GetString()) == "curl/8");
  CHECK(std::string(doc["stage-variables"]["backend"].GetString()) == "10.0.0.1");
  CHECK(std::string(doc["context"]["http-method"].GetString()) == "POST");
  CHECK(std::string(doc["context"]["caller"].GetString()) == "");  // absent: empty
  CHECK(std::string(doc["context"]["source-ip"].GetString()) == "192.0.2.1");
  CHECK(std::string(doc["params"]["querystring"]["q"].GetString()) == "a \"quoted\" word");
  // escapeJavaScript turns ' into \', which is not JSON: with AWS too, a parameter holding a
  // single quote makes this template's output invalid JSON.
}

TEST_CASE("$context and $stageVariables", "[vtl]") {
  map_env env;
  env.context_values = {{"requestId", "r-1"},
                        {"authorizer.claims.sub", "u-9"},
                        {"authorizer.claims.cognito:groups", "admins"}};
  env.stage = {{"name", "v"}, {"url", "https://x"}};
  CHECK(render("$context.requestId $context.authorizer.claims.sub [$context.identity.caller]",
               env) == "r-1 u-9 []");
  CHECK(render("$context.authorizer.claims['cognito:groups'] $context.requestId.length()", env) ==
        "admins 3");
  CHECK(render("$stageVariables.name $stageVariables['url'] ${stageVariables['name']} "
               "[$stageVariables.none]",
               env) == "v https://x v []");
  CHECK(render("$stageVariables.get('url') $stageVariables.keySet()", env) ==
        "https://x [name, url]");
}

TEST_CASE("the override variables set status, headers, query strings and paths", "[vtl]") {
  const char* t = R"T(#set($context.responseOverride.status = 400)
#set($context.responseOverride.header.X-Reason = "bad $input.params('q')")
#set($context.requestOverride.header.X-Forward = 'a')
#set($context.requestOverride.header.X-Forward = 'b')
#set($context.requestOverride.querystring.page = 2)
#set($context.requestOverride.path.petId = '9')
#set($context.requestId = 'ignored')
status=$context.responseOverride.status)T";
  map_env env;
  env.querystring = {{"q", "x"}};
  const auto r = mapping_template::parse(t).evaluate(env);
  CHECK(r.output == "status=400");
  CHECK(r.status_override == 400);
  REQUIRE(r.header_overrides.size() == 2);
  CHECK(r.header_overrides[0] == std::pair<std::string, std::string>{"X-Reason", "bad x"});
  CHECK(r.header_overrides[1] == std::pair<std::string, std::string>{"X-Forward", "b"});
  REQUIRE(r.querystring_overrides.size() == 1);
  CHECK(r.querystring_overrides[0].second == "2");
  REQUIRE(r.path_overrides.size() == 1);
  CHECK(r.path_overrides[0].second == "9");
  CHECK_FALSE(r.limit_exceeded);
  CHECK(mapping_template::parse("#set($context.responseOverride.status = '201')")
            .evaluate(env)
            .status_override == 201);
}
