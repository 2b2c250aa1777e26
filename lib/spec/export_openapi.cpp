// export_openapi: an API's model → the document AWS's GetExport answers with, printed as JSON
// or YAML.

#include "spec/describe_router.hpp"
#include "spec/export.hpp"
#include "spec/export_http.hpp"
#include "util/access.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/openapi.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>

namespace gatehouse {

namespace spec {
std::string export_model(const rest_api_model& api, std::string_view stage,
                         const export_options& options,
                         std::chrono::system_clock::time_point deployed) {
  if (stage.empty()) throw config_error("export: the stage name is empty");
  export_settings s;
  s.oas3 = options.format == openapi_format::oas30;
  s.extensions = parse_extensions(options.extensions);
  s.stage = stage;
  s.region = options.region;
  // AWS writes the deployment's date when the API has no version.
  s.fallback_version = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                                   std::chrono::time_point_cast<std::chrono::seconds>(deployed));
  rapidjson::Document doc;
  build_export(api, s, doc);
  return options.yaml ? print_yaml(doc) : print_json(doc);
}
}  // namespace spec

std::string export_openapi(const openapi_api& api, std::string_view stage,
                           const export_options& options) {
  if (api.http_model) return spec::export_http_model(*api.http_model, stage, options);
  if (!api.model) throw config_error("export: the API has no model (it was not imported)");
  return spec::export_model(*api.model, stage, options);
}

std::string export_openapi(const Stage& stage, const export_options& options) {
  auto snapshot = detail::access::state(stage)->load();
  const detail::export_context context{options.region, options.account_id, {}};
  if (snapshot->deployment->api.type == api_type::http)
    return spec::export_http_model(spec::describe_http_deployment(*snapshot->deployment, context),
                                   snapshot->name, options, snapshot->deployment->created);
  return spec::export_model(spec::describe_deployment(*snapshot->deployment, context),
                            snapshot->name, options, snapshot->deployment->created);
}

}  // namespace gatehouse
