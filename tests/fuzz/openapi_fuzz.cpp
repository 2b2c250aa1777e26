// Fuzz target: the OpenAPI importer, JSON and YAML. The first byte picks the import's options
// (base path mode, fail_on_warnings, bindings for functions and authorizers, a Lambda
// endpoint); the rest is the document. An import may refuse the document (config_error) but
// nothing may crash, hang or exhaust memory; an API that imports deploys and is described.

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
    auto api = gatehouse::import_openapi(document, o);
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
