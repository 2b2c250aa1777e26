// generate_sdk: a stage's API → the client's view of it (sdk_model) → the files of one SDK type.

#include "sdk/sdk_model.hpp"

#include "routing/deployment.hpp"
#include "spec/describe_router.hpp"
#include "spec/export_http.hpp"
#include "util/access.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/sdk.hpp>

#include <fmt/format.h>

namespace gatehouse {

namespace {

// The C++ SDK's namespace: options.name, else the API's title in snake case + "_sdk".
std::string cpp_name(const sdk::api& a, const sdk_options& options) {
  if (!options.name.empty()) {
    const std::string& n = options.name;
    bool ok = !(n[0] >= '0' && n[0] <= '9');
    for (char c : n)
      ok = ok &&
           ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
    if (!ok) throw config_error(fmt::format("sdk: name '{}' is not a C++ identifier", n));
    return n;
  }
  auto words = sdk::words_of(a.title);
  words.emplace_back("sdk");
  return sdk::snake_case(words);
}

sdk_files generate(const sdk::api& a, sdk_type type, const sdk_options& options) {
  switch (type) {
    case sdk_type::javascript:
      return sdk::generate_javascript(a);
    case sdk_type::typescript:
      return sdk::generate_typescript(a);
    case sdk_type::cpp:
      return sdk::generate_cpp(a, cpp_name(a, options));
  }
  throw config_error("sdk: unknown SDK type");
}

}  // namespace

sdk_type parse_sdk_type(std::string_view name) {
  if (name == "javascript") return sdk_type::javascript;
  if (name == "typescript") return sdk_type::typescript;
  if (name == "cpp") return sdk_type::cpp;
  for (std::string_view aws : {"java", "android", "objectivec", "swift", "ruby"})
    if (name == aws)
      throw config_error(
          fmt::format("sdk: gatehouse does not generate AWS's '{}' SDK (it generates javascript, "
                      "typescript and cpp)",
                      name));
  throw config_error(
      fmt::format("sdk: unknown SDK type '{}' (javascript, typescript or cpp)", name));
}

sdk_files generate_sdk(const Stage& stage, sdk_type type, const sdk_options& options) {
  auto snapshot = detail::access::state(stage)->load();
  const detail::export_context context{options.region, "123456789012", {}};
  const auto& deployment = *snapshot->deployment;
  if (deployment.api.type == api_type::http)
    return generate(sdk::from_http(spec::describe_http_deployment(deployment, context),
                                   snapshot->name, options),
                    type, options);
  return generate(
      sdk::from_rest(spec::describe_deployment(deployment, context), snapshot->name, options), type,
      options);
}

sdk_files generate_sdk(const openapi_api& api, std::string_view stage, sdk_type type,
                       const sdk_options& options) {
  if (stage.empty()) throw config_error("sdk: the stage name is empty");
  if (api.http_model)
    return generate(sdk::from_http(*api.http_model, stage, options), type, options);
  if (!api.model) throw config_error("sdk: the API has no model (it was not imported)");
  return generate(sdk::from_rest(*api.model, stage, options), type, options);
}

}  // namespace gatehouse
