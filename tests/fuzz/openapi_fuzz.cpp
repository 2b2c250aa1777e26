// Fuzz target: the OpenAPI importer, JSON and YAML. The first byte picks the import's options
// (base path mode, fail_on_warnings, bindings for functions and authorizers, a Lambda
// endpoint; with its top bit, a merge or overwrite into an existing API); the rest is the
// document, imported as a REST API and as an HTTP API. An import may refuse the document
// (config_error) but nothing may crash, hang or exhaust memory; an API that imports deploys
// and (REST) is described.

#include "spec/describe.hpp"
#include "spec/model.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/openapi.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  const std::string_view document(reinterpret_cast<const char*>(data + 1), size - 1);
  gatehouse::openapi_options o;
  o.base_path = static_cast<gatehouse::base_path_mode>((flags & 3) % 3);
  o.fail_on_warnings = (flags & 4) != 0;
  if (flags & 8) o.functions["f"] = gatehouse::mock({});
  if (flags & 16)
    o.lambda = gatehouse::lambda_endpoint{.endpoint = "http://127.0.0.1:9",
                                          .credentials = {"AKIDEXAMPLE", "secret", ""}};
  if (flags & 32) {
    o.authorizer_handlers["tok"] = [](const gatehouse::authorizer_request&) {
      return gatehouse::authorizer_result::allow("me");
    };
    o.service_credentials = {"AKIDEXAMPLE", "secret", ""};
  }
  try {
    auto http = o;
    http.type = gatehouse::api_type::http;
    http.functions["arn:aws:lambda:us-east-1:1:function:f"] = gatehouse::mock({});
    auto api = gatehouse::import_openapi(document, http);
    if (!api.router.deploy() || !api.http_model) __builtin_trap();
  } catch (const gatehouse::config_error&) {
  }
  try {
    static const auto existing = gatehouse::import_openapi(
        R"({"swagger":"2.0","info":{"title":"e"},"x-amazon-apigateway-binary-media-types":["a/b"],
            "definitions":{"M":{"type":"object"}},
            "paths":{"/pets":{"get":{"x-amazon-apigateway-integration":{"type":"mock"}}}}})");
    auto api = (flags & 128)
                   ? gatehouse::import_openapi(document, existing,
                                               (flags & 64) ? gatehouse::import_mode::overwrite
                                                            : gatehouse::import_mode::merge,
                                               o)
                   : gatehouse::import_openapi(document, o);
    if (!api.router.deploy()) __builtin_trap();
    (void)gatehouse::spec::describe_rest_api(*api.model);
    (void)gatehouse::spec::describe_resources(*api.model);
    (void)gatehouse::spec::describe_authorizers(*api.model);
    (void)gatehouse::spec::describe_models(*api.model);
    for (const auto& r : api.model->resources)
      for (const auto& m : r.methods) (void)gatehouse::spec::describe_method(*api.model, r, m);
  } catch (const gatehouse::config_error&) {
  }
  return 0;
}
