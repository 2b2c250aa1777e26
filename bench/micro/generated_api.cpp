// The generated OpenAPI document the import and SDK benchmarks read (see generated_api.hpp).

#include "generated_api.hpp"

#include <fmt/format.h>

namespace bench {

namespace {
constexpr int model_count = 100;

// One path of five kinds in turn, each with two or three methods.
std::string path_item(int i) {
  const int m = i % model_count;
  // Exports carry prose: a summary and a description, as long as a sentence or three.
  std::string out = fmt::format(
      R"("/r{0}/items/{{id}}":{{"summary":"Items of collection {0}","description":"Reads and )"
      R"(writes the items of collection {0}. Each item is addressed by its id; page through a )"
      R"(listing with the page parameter. Responses carry the backend's X-Backend header, and )"
      R"(errors come back as JSON with a message. This description is what a real export holds )"
      R"(for each resource, and it is here so that the document has a realistic size: teams )"
      R"(document their APIs in the document itself, with examples of requests and answers, )"
      R"(notes on paging and on errors, and who to ask; the importer reads past all of it. )"
      R"(Changes to this resource are announced a week ahead, in the changelog.",)",
      i);
  const std::string params =
      R"("parameters":[{"name":"id","in":"path","required":true,"description":"the item's id",)"
      R"("schema":{"type":"string"}},{"name":"page","in":"query","description":"which page",)"
      R"("schema":{"type":"integer"}},{"name":"X-Trace","in":"header","description":"a trace id",)"
      R"("schema":{"type":"string"}},{"name":"Accept-Language","in":"header",)"
      R"("schema":{"type":"string"}}],)";
  const std::string body =
      fmt::format(R"("requestBody":{{"required":true,"content":{{"application/json":{{"schema":)"
                  R"({{"$ref":"#/components/schemas/Model{}"}}}}}}}},)",
                  m);
  switch (i % 5) {
    case 0:  // HTTP with mapping and responses
      out += fmt::format(
          R"("get":{{"operationId":"get{0}","x-amazon-apigateway-request-validator":"params",{1})"
          R"("responses":{{"200":{{"description":"ok","headers":{{"X-Backend":)"
          R"({{"schema":{{"type":"string"}}}}}}}},)"
          R"("404":{{"description":"missing"}}}},)"
          R"("x-amazon-apigateway-integration":{{"type":"http","httpMethod":"GET",)"
          R"("uri":"http://${{stageVariables.backend}}/store/{0}/{{key}}","timeoutInMillis":5000,)"
          R"("requestParameters":{{"integration.request.path.key":"method.request.path.id",)"
          R"("integration.request.querystring.p":"method.request.querystring.page",)"
          R"("integration.request.header.x-from":"'gatehouse'"}},)"
          R"("cacheKeyParameters":["method.request.path.id"],)"
          R"("responses":{{"4\\d{{2}}":{{"statusCode":"404","responseTemplates":)"
          R"({{"application/json":"{{\"missing\":\"$input.params('id')\"}}"}}}},)"
          R"("default":{{"statusCode":"200","responseParameters":)"
          R"({{"method.response.header.X-Backend":"integration.response.header.Server"}},)"
          R"("responseTemplates":{{"application/json":"#set($r = $input.path('$'))\n{{\"id\":)"
          R"(\"$r.id\",\"items\":[#foreach($x in $r.items)\"$x\"#if($foreach.hasNext),#end)"
          R"(#end]}}"}}}}}}}}}},)",
          i, params);
      out += fmt::format(
          R"("put":{{"x-amazon-apigateway-request-validator":"all",{0}{1})"
          R"("responses":{{"200":{{"description":"ok"}}}},)"
          R"("x-amazon-apigateway-integration":{{"type":"http","httpMethod":"PUT",)"
          R"("uri":"http://${{stageVariables.backend}}/store/{2}","passthroughBehavior":"never",)"
          R"("requestTemplates":{{"application/json":"{{\"body\":$input.json('$'),)"
          R"(\"id\":\"$input.params('id')\",\"stage\":\"$context.stage\"}}"}},)"
          R"("responses":{{"default":{{"statusCode":"200"}}}}}}}})",
          params, body, i);
      break;
    case 1:  // HTTP_PROXY, any method
      out += fmt::format(
          R"("x-amazon-apigateway-any-method":{{{0})"
          R"("responses":{{"200":{{"description":"ok"}}}},)"
          R"("x-amazon-apigateway-integration":{{"type":"http_proxy","httpMethod":"ANY",)"
          R"("uri":"http://${{stageVariables.backend}}/proxy/{1}/{{id}}",)"
          R"("requestParameters":{{"integration.request.path.id":"method.request.path.id"}}}}}})",
          params, i);
      break;
    case 2:  // MOCK: the template picks the status
      out += fmt::format(
          R"("post":{{"x-amazon-apigateway-request-validator":"all",{0}{1})"
          R"("responses":{{"201":{{"description":"created"}},"400":{{"description":"bad"}}}},)"
          R"("x-amazon-apigateway-integration":{{"type":"mock","requestTemplates":)"
          R"({{"application/json":"#if($input.path('$.name') == \"\")\n{{\"statusCode\": 400}})"
          R"(\n#else\n{{\"statusCode\": 201}}\n#end"}},)"
          R"("responses":{{"default":{{"statusCode":"201",)"
          R"("responseTemplates":{{"application/json":)"
          R"("{{\"created\":\"$input.params('id')\"}}"}}}},)"
          R"("400":{{"statusCode":"400","responseTemplates":{{"application/json":)"
          R"("{{\"message\":\"name is required\"}}"}}}}}}}}}},)",
          params, body);
      out += fmt::format(
          R"("options":{{"responses":{{"200":{{"description":"cors"}}}},)"
          R"("x-amazon-apigateway-integration":{{"type":"mock","requestTemplates":)"
          R"({{"application/json":"{{\"statusCode\": 200}}"}},"responses":{{"default":)"
          R"({{"statusCode":"200","responseParameters":{{)"
          R"("method.response.header.Access-Control-Allow-Origin":"'*'",)"
          R"("method.response.header.Access-Control-Allow-Methods":"'OPTIONS,POST'"}}}}}}}}}})");
      break;
    case 3:  // AWS service: a DynamoDB query built by a template
      out += fmt::format(R"("get":{{{0}"responses":{{"200":{{"description":"ok"}}}},)"
                         R"("x-amazon-apigateway-integration":{{"type":"aws","httpMethod":"POST",)"
                         R"("uri":"arn:aws:apigateway:${{AWS::Region}}:dynamodb:action/Query",)"
                         R"("credentials":"arn:aws:iam::${{AWS::AccountId}}:role/reader",)"
                         R"("requestTemplates":{{"application/json":"{{\"TableName\":\"t{1}\",)"
                         R"(\"KeyConditionExpression\":\"id = :v\",\"ExpressionAttributeValues\":)"
                         R"({{\":v\":{{\"S\":\"$input.params('id')\"}}}}}}"}},)"
                         R"("responses":{{"default":{{"statusCode":"200"}}}}}}}})",
                         params, i);
      break;
    default:  // Lambda proxy, with an API key
      out += fmt::format(
          R"("get":{{{0}"security":[{{"api_key":[]}}],)"
          R"("responses":{{"200":{{"description":"ok"}}}},)"
          R"("x-amazon-apigateway-integration":{{"type":"aws_proxy","httpMethod":"POST",)"
          R"("uri":"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/)"
          R"(arn:aws:lambda:us-east-1:123456789012:function:fn{1}/invocations"}}}},)",
          params, i);
      out += fmt::format(
          R"("delete":{{{0}"security":[{{"api_key":[]}}],)"
          R"("responses":{{"204":{{"description":"gone"}}}},)"
          R"("x-amazon-apigateway-integration":{{"type":"aws_proxy","httpMethod":"POST",)"
          R"("uri":"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/)"
          R"(arn:aws:lambda:us-east-1:123456789012:function:fn{1}:live/invocations"}}}})",
          params, i);
  }
  return out + "}";
}

// Models: objects with a few typed properties, a pattern, and a $ref to the next one (the last
// back to the first: a cycle).
std::string model(int m) {
  return fmt::format(R"("Model{0}":{{"type":"object","required":["name"],"properties":{{)"
                     R"("name":{{"type":"string","minLength":1,"maxLength":64}},)"
                     R"("code":{{"type":"string","pattern":"^[A-Z]{{2}}\\d{{4}}$"}},)"
                     R"("price":{{"type":"number","minimum":0,"maximum":10000}},)"
                     R"("tags":{{"type":"array","items":{{"type":"string"}},"maxItems":20}},)"
                     R"("kind":{{"type":"string","enum":["a","b","c","d"]}},)"
                     R"("next":{{"$ref":"#/components/schemas/Model{1}"}}}}}})",
                     m, (m + 1) % model_count);
}

}  // namespace

const std::string& generated_document() {
  static const std::string doc = [] {
    std::string d =
        R"({"openapi":"3.0.1","info":{"title":"Generated","version":"1.0"},)"
        R"("servers":[{"url":"https://example.execute-api.us-east-1.amazonaws.com/{basePath}",)"
        R"("variables":{"basePath":{"default":"prod"}}}],)"
        R"("x-amazon-apigateway-request-validators":{"all":{"validateRequestBody":true,)"
        R"("validateRequestParameters":true},"params":{"validateRequestBody":false,)"
        R"("validateRequestParameters":true}},)"
        R"("x-amazon-apigateway-binary-media-types":["image/png"],"paths":{)";
    for (int i = 0; i < path_count; ++i) d += (i ? "," : "") + path_item(i);
    d += R"(},"components":{"securitySchemes":{"api_key":{"type":"apiKey","name":"x-api-key",)"
         R"("in":"header"}},"schemas":{)";
    for (int m = 0; m < model_count; ++m) d += (m ? "," : "") + model(m);
    return d + "}}}";
  }();
  return doc;
}

}  // namespace bench
