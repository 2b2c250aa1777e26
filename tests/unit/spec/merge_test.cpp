// PutRestApi's modes: a document merged into, or overwriting, an API imported before. The
// binary media types follow what AWS answered when LocalStack recorded
// test_put_rest_api_mode_binary_media_types (pets-binary-media.aws-recorded.json).

#include "spec/model.hpp"

#include "harness.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/openapi.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {
using gatehouse::import_mode;
using strings = std::vector<std::string>;

std::string pets_document() {
  std::ifstream in(test::vectors_dir() + "/openapi/pets-binary-media.swagger.json",
                   std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The API AWS's test created first: only a name and binaryMediaTypes [image/heif] (here with
// one method of its own, and an authorizer, to see what stays).
gatehouse::openapi_api existing_api() {
  return gatehouse::import_openapi(R"({"swagger":"2.0","info":{"title":"before","version":"0"},
    "x-amazon-apigateway-binary-media-types":["image/heif"],
    "x-amazon-apigateway-endpoint-configuration":{"types":["REGIONAL"]},
    "securityDefinitions":{"tok":{"type":"apiKey","name":"Authorization","in":"header",
      "x-amazon-apigateway-authorizer":{"type":"token"}}},
    "paths":{
      "/pets":{"get":{"x-amazon-apigateway-integration":{"type":"mock"}},
               "delete":{"x-amazon-apigateway-integration":{"type":"mock"}}},
      "/old":{"get":{"security":[{"tok":[]}],"x-amazon-apigateway-integration":{"type":"mock"}}}}})",
                                   {.id = "abcde12345"});
}

strings paths(const gatehouse::openapi_api& api) {
  strings out;
  for (const auto& r : api.model->resources) out.push_back(r.path);
  return out;
}

std::string integration_type(const gatehouse::openapi_api& api, std::string_view path,
                             std::string_view method) {
  const auto* r = gatehouse::spec::find_resource(*api.model, path);
  REQUIRE(r);
  const auto* m = gatehouse::spec::find_method(*r, method);
  REQUIRE(m);
  return m->integration ? m->integration->type : "NONE";
}
}  // namespace

TEST_CASE("import into an API: merge keeps what the document does not name", "[spec][merge]") {
  const auto before = existing_api();
  REQUIRE(before.binary_media_types == strings{"image/heif"});
  auto api = gatehouse::import_openapi(pets_document(), before, import_mode::merge);
  // Recorded: [image/heif] + [image/png, image/jpg] → [image/heif, image/png, image/jpg].
  CHECK(api.binary_media_types == strings{"image/heif", "image/png", "image/jpg"});
  CHECK(api.model->binary_media_types == api.binary_media_types);
  // The id stays; name and version are the document's (as recorded: name:2, 1.0.0).
  CHECK(api.id == "abcde12345");
  CHECK(api.router.options().id == "abcde12345");
  CHECK(api.name == "Simple PetStore (Swagger)");
  CHECK(api.version == "1.0.0");
  CHECK(api.endpoint_types == strings{"REGIONAL"});
  CHECK(paths(api) == strings{"/", "/old", "/pets", "/pets/{petId}"});
  // The document's GET /pets replaces the API's; DELETE /pets and GET /old stay.
  CHECK(integration_type(api, "/pets", "GET") == "HTTP");
  CHECK(integration_type(api, "/pets", "DELETE") == "MOCK");
  CHECK(integration_type(api, "/old", "GET") == "MOCK");
  CHECK(integration_type(api, "/pets/{petId}", "GET") == "HTTP");
  REQUIRE(api.model->authorizers.size() == 1);
  CHECK(api.model->authorizers[0].name == "tok");
  CHECK(api.routes.size() == 4);
  // Root extensions are joined, the document's winning.
  CHECK(api.extensions.find("image/png") != std::string::npos);
  CHECK(api.extensions.find("x-amazon-apigateway-endpoint-configuration") != std::string::npos);
  // `existing` is left as it was (its model is shared, not copied, with the result).
  CHECK(before.model->binary_media_types == strings{"image/heif"});
  CHECK(before.model->resources.size() == 3);
}

TEST_CASE("import into an API: overwrite makes it the document", "[spec][merge]") {
  const auto before = existing_api();
  auto api = gatehouse::import_openapi(pets_document(), before, import_mode::overwrite);
  // Recorded: → [image/png, image/jpg].
  CHECK(api.binary_media_types == strings{"image/png", "image/jpg"});
  CHECK(api.id == "abcde12345");
  CHECK(api.name == "Simple PetStore (Swagger)");
  CHECK(paths(api) == strings{"/", "/pets", "/pets/{petId}"});
  CHECK(api.model->authorizers.empty());
  CHECK(api.routes.size() == 2);
  CHECK(api.unbound_authorizers.empty());
  // The endpoint configuration is the API's, not the document's (AWS's guide).
  CHECK(api.endpoint_types == strings{"REGIONAL"});
}

TEST_CASE("import into an API: the same name, model, validator replaced in merge",
          "[spec][merge]") {
  auto before = gatehouse::import_openapi(R"({"swagger":"2.0","info":{"title":"a"},
    "definitions":{"Pet":{"type":"object"},"Old":{"type":"string"}},
    "x-amazon-apigateway-request-validators":{"v":{"validateRequestBody":true}},
    "paths":{"/p":{"post":{"x-amazon-apigateway-request-validator":"v",
      "parameters":[{"in":"body","name":"b","schema":{"$ref":"#/definitions/Pet"}}],
      "x-amazon-apigateway-integration":{"type":"mock"}}}}})");
  auto api = gatehouse::import_openapi(R"({"swagger":"2.0","info":{"title":"b"},
    "definitions":{"Pet":{"type":"array"}},
    "x-amazon-apigateway-request-validators":{"v":{"validateRequestParameters":true}},
    "paths":{}})",
                                       before, import_mode::merge);
  REQUIRE(api.model->models.size() == 2);
  CHECK(api.model->models[0].name == "Pet");
  CHECK(api.model->models[0].schema.find("array") != std::string::npos);
  CHECK(api.model->models[1].name == "Old");
  REQUIRE(api.model->validators.size() == 1);
  CHECK_FALSE(api.model->validators[0].validate_body);
  CHECK(api.model->validators[0].validate_parameters);
  CHECK(api.routes.size() == 1);
  CHECK(api.id == before.id);
}

TEST_CASE("import into an API: AWS's errors, and HTTP APIs refused", "[spec][merge]") {
  const auto before = existing_api();
  CHECK_THROWS_WITH(gatehouse::import_openapi("{not json", before, import_mode::merge),
                    Catch::StartsWith("Invalid OpenAPI input."));
  // Two methods of the same name in one document stay an error in merge mode too.
  CHECK_THROWS_AS(gatehouse::import_openapi(R"({"swagger":"2.0","info":{"title":"x"},
      "paths":{"/pets":{"get":{}},"/pets/":{"get":{}}}})",
                                            before, import_mode::merge),
                  gatehouse::config_error);
  gatehouse::openapi_options http;
  http.type = gatehouse::api_type::http;
  auto http_api =
      gatehouse::import_openapi(R"({"openapi":"3.0.1","info":{"title":"h"},"paths":{}})", http);
  CHECK_THROWS_WITH(gatehouse::import_openapi(pets_document(), http_api, import_mode::merge),
                    Catch::Contains("merge and overwrite import into REST APIs"));
}
