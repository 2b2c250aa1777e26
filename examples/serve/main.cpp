// gatehouse-serve: serves the API of an OpenAPI document (typically an export of an AWS REST API
// with its x-amazon-apigateway-* extensions) on gatehouse, as AWS's importer reads it.
//
//   gatehouse-serve --openapi FILE [--api-type rest|http] [--stage NAME]
//                   [--basepath ignore|prepend|split] [--fail-on-warnings]
//                   [--stage-variable NAME=VALUE]... [--lambda-endpoint URL] [--api-key VALUE]...
//                   [--iam-credentials FILE] [--jwks URL-or-FILE] [--limits aws|off]
//                   [--petstore-functions]
//                   [--access-log FILE [--access-log-format clf|json|xml|csv|FORMAT]]
//                   [--listen ADDR:PORT] [--cert FILE --key FILE] [--http] [--threads N]
//                   [--metrics-listen ADDR:PORT] [--detailed-metrics] [--no-metrics]
//                   [--no-metering] [--tracing] [--otlp-endpoint URL]
//   gatehouse-serve --openapi FILE [--api-type rest|http] [--stage NAME] [--basepath …]
//                   --export FILE --export-format oas30|swagger [--extensions LIST] [--yaml]
//   gatehouse-serve --openapi FILE [--api-type rest|http] [--stage NAME] [--basepath …]
//                   --sdk javascript|typescript|cpp --out DIR [--invoke-url URL] [--sdk-name N]
//
// --api-type http imports the document as an HTTP API (AWS's apigatewayv2 import-api: OpenAPI
// 3.0, route keys, $default route, unknown routes 404). Its stage is served under /{stage} as a
// REST API's is: gatehouse has no stage without a path prefix, so AWS's $default stage is not
// there (--stage '$default' is refused). --export writes the import as deployed to the stage in
// AWS's export layout (export_openapi) and exits; an API the export cannot write exits 1 with
// the reason. --sdk writes a client SDK of the API as deployed to the stage into DIR and exits;
// the client calls --invoke-url, by default https://LISTEN/STAGE (http:// with --http).
//
// --stage defaults to the first segment of the document's base path (Swagger's basePath, OpenAPI
// 3's basePath server variable, as in AWS's exports), else "dev"; with --basepath prepend the
// base path is in the resources already and the stage is "dev". Lambda functions (aws_proxy
// integrations) are invoked at --lambda-endpoint, signed with AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, region AWS_REGION or AWS_DEFAULT_REGION
// (us-east-1); AWS-service integrations are signed with the same. Methods that require an API key
// take the --api-key values (keys of a usage plan attached to the stage; without the flag one is
// made up and printed). Methods with IAM authorization take requests signed by the users of
// --iam-credentials (CSV with the header access_key_id,secret_access_key,user_arn; each may invoke
// every method), or by one made up and printed. Cognito user pool authorizers verify tokens with
// the keys of --jwks (an https:// URL or a JWKS file), else the pool's own. --limits off turns
// AWS's account throttle (10,000 requests a second, burst 5,000) off. A document AWS refuses exits
// 1 with AWS's message. --petstore-functions binds petstore's C++ functions and its demo-token
// authorizer (token "allow") by the names petstore's export gives them (petstore --export):
// the export, served here, answers as petstore does. --metrics-listen serves GET /metrics and
// GET /metering on a plain-HTTP listener of its own (--detailed-metrics: series per method or
// route too). --access-log appends a line per request to FILE in AWS's preset for the API type
// (clf, json, xml, csv; default json) or a format of $context variables; SIGHUP reopens FILE
// (logrotate).

#include "access_log_flags.hpp"
#include "pets.hpp"
#include "sdk_flags.hpp"
#include "server.hpp"

#include <gatehouse/gatehouse.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace {
constexpr const char* program = "gatehouse-serve";

struct args {
  std::string openapi;
  std::string api_type = "rest";
  std::string stage;
  std::string base_path = "ignore";
  bool fail_on_warnings = false;
  std::vector<std::pair<std::string, std::string>> stage_variables;
  std::string lambda_endpoint;
  std::vector<std::string> api_keys;
  std::string iam_credentials;
  std::string jwks;
  std::string limits = "aws";
  bool petstore_functions = false;
  examples::listener_flags server{.listen = "127.0.0.1:8443"};
  examples::access_log_flags access_log;
  // Export instead of serving.
  std::string export_file;
  std::string export_format;
  std::string extensions;
  bool yaml = false;
  // An SDK instead of serving.
  examples::sdk_flags sdk;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "%s: %s\nusage: %s --openapi FILE [--api-type rest|http] [--stage NAME] "
               "[--basepath ignore|prepend|split] [--fail-on-warnings] "
               "[--stage-variable NAME=VALUE]... [--lambda-endpoint URL] [--api-key VALUE]... "
               "[--iam-credentials FILE] [--jwks URL-or-FILE] [--limits aws|off] "
               "[--petstore-functions] %s %s\n"
               "       %s --openapi FILE [--api-type rest|http] [--stage NAME] "
               "--export FILE --export-format oas30|swagger [--extensions LIST] [--yaml]\n"
               "       %s --openapi FILE [--api-type rest|http] [--stage NAME] %s\n",
               program, why.c_str(), program, examples::access_log_flags::usage,
               examples::listener_flags::usage, program, program, examples::sdk_flags::usage);
  std::exit(2);
}

args parse(int argc, char** argv) {
  args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage("a flag is missing its value");
      return argv[++i];
    };
    if (a.server.take(arg, value) || a.sdk.take(arg, value) || a.access_log.take(arg, value))
      continue;
    if (arg == "--openapi") {
      a.openapi = value();
    } else if (arg == "--api-type") {
      a.api_type = value();
    } else if (arg == "--stage") {
      a.stage = value();
    } else if (arg == "--basepath") {
      a.base_path = value();
    } else if (arg == "--fail-on-warnings") {
      a.fail_on_warnings = true;
    } else if (arg == "--stage-variable") {
      auto v = value();
      auto eq = v.find('=');
      if (eq == std::string::npos || eq == 0) usage("--stage-variable takes NAME=VALUE");
      a.stage_variables.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    } else if (arg == "--lambda-endpoint") {
      a.lambda_endpoint = value();
    } else if (arg == "--api-key") {
      a.api_keys.push_back(value());
    } else if (arg == "--iam-credentials") {
      a.iam_credentials = value();
    } else if (arg == "--jwks") {
      a.jwks = value();
    } else if (arg == "--limits") {
      a.limits = value();
    } else if (arg == "--petstore-functions") {
      a.petstore_functions = true;
    } else if (arg == "--export") {
      a.export_file = value();
    } else if (arg == "--export-format") {
      a.export_format = value();
    } else if (arg == "--extensions") {
      a.extensions = value();
    } else if (arg == "--yaml") {
      a.yaml = true;
    } else if (arg == "--help" || arg == "-h") {
      usage("serves an OpenAPI document's API on gatehouse");
    } else {
      usage("unknown flag " + std::string(arg));
    }
  }
  if (a.openapi.empty()) usage("--openapi FILE is required");
  if (auto bad = a.server.check(); !bad.empty()) usage(bad);
  if (auto bad = a.sdk.check(); !bad.empty()) usage(bad);
  if (auto bad = a.access_log.check(); !bad.empty()) usage(bad);
  if (a.api_type != "rest" && a.api_type != "http") usage("--api-type is rest or http");
  if (a.base_path != "ignore" && a.base_path != "prepend" && a.base_path != "split")
    usage("--basepath is ignore, prepend or split");
  if (a.limits != "aws" && a.limits != "off") usage("--limits is aws or off");
  if (!a.lambda_endpoint.empty() && !a.lambda_endpoint.starts_with("http://") &&
      !a.lambda_endpoint.starts_with("https://"))
    usage("--lambda-endpoint is an http:// or https:// URL");
  const bool exporting =
      !a.export_file.empty() || !a.export_format.empty() || !a.extensions.empty() || a.yaml;
  if (exporting) {
    if (a.export_file.empty() || a.export_format.empty())
      usage("--export FILE and --export-format oas30|swagger go together");
    if (a.export_format != "oas30" && a.export_format != "swagger")
      usage("--export-format is oas30 or swagger");
  }
  return a;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The Cognito user pool ids of the document (…:userpool/{id} in providerARNs), so that --jwks
// serves each of them: import_openapi takes keys by pool id.
std::set<std::string> user_pools(std::string_view document) {
  std::set<std::string> pools;
  constexpr std::string_view marker = ":userpool/";
  for (auto at = document.find(marker); at != std::string_view::npos;
       at = document.find(marker, at + 1)) {
    auto begin = at + marker.size(), end = begin;
    while (end < document.size() && (std::isalnum(static_cast<unsigned char>(document[end])) ||
                                     document[end] == '_' || document[end] == '-'))
      ++end;
    if (end > begin) pools.emplace(document.substr(begin, end - begin));
  }
  return pools;
}

// What each IAM user may do: invoke every method.
constexpr const char* invoke_all_policy =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke",)"
    R"("Resource":"arn:aws:execute-api:*:*:*"}]})";

// The one place where the document becomes an API.
gatehouse::openapi_api import_document(std::string_view document, const args& a,
                                       gatehouse::openapi_options options) {
  options.type = a.api_type == "http" ? gatehouse::api_type::http : gatehouse::api_type::rest;
  return gatehouse::import_openapi(document, std::move(options));
}

// Writes the export of `stage` (--export-format, --extensions, --yaml) to --export FILE, as
// petstore --export does, and returns the exit status. export_openapi's config_error (an
// unknown extension, an API it cannot write) goes to main's.
int export_document(const gatehouse::openapi_api& api, const std::string& stage, const args& a,
                    const gatehouse::openapi_options& o) {
  gatehouse::export_options e{.format = a.export_format == "swagger"
                                            ? gatehouse::openapi_format::swagger
                                            : gatehouse::openapi_format::oas30,
                              .extensions = a.extensions,
                              .yaml = a.yaml,
                              .region = o.region,
                              .account_id = o.account_id};
  const std::string doc = gatehouse::export_openapi(api, stage, e);
  std::ofstream out(a.export_file, std::ios::binary);
  if (!(out << doc << '\n')) {
    std::fprintf(stderr, "%s: cannot write %s\n", program, a.export_file.c_str());
    return 1;
  }
  return 0;
}

// The stage: --stage, else the first segment of the document's base path (where AWS's exports
// name their stage), else "dev".
std::string stage_name(const args& a, const gatehouse::openapi_api& api) {
  if (!a.stage.empty()) return a.stage;
  if (a.base_path == "prepend") return "dev";
  std::string_view path = api.base_path;
  while (path.starts_with('/')) path.remove_prefix(1);
  path = path.substr(0, path.find('/'));
  for (char c : path)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return "dev";
  return path.empty() ? "dev" : std::string(path);
}

// One line per HTTP API route: route key ("GET /pets", "$default"), integration, authorization
// (HTTP APIs have no API keys).
void print_http_routes(const std::vector<gatehouse::openapi_route>& routes) {
  std::vector<std::string> keys;
  std::size_t key_w = 5, integration_w = 11;
  for (const auto& r : routes) {
    keys.push_back(r.path == "$default" ? r.path : r.method + " " + r.path);
    key_w = std::max(key_w, keys.back().size());
    integration_w = std::max(integration_w, r.integration.size());
  }
  auto line = [&](std::string_view k, std::string_view i, std::string_view au) {
    std::printf("  %-*.*s  %-*.*s  %.*s\n", int(key_w), int(k.size()), k.data(), int(integration_w),
                int(i.size()), i.data(), int(au.size()), au.data());
  };
  line("ROUTE", "INTEGRATION", "AUTHORIZATION");
  for (std::size_t i = 0; i < routes.size(); ++i)
    line(keys[i], routes[i].integration, routes[i].authorization);
}

// One line per route: method, resource, integration, authorization, API key.
void print_routes(const std::vector<gatehouse::openapi_route>& routes) {
  std::size_t method_w = 6, path_w = 4, integration_w = 11, auth_w = 13;
  for (const auto& r : routes) {
    method_w = std::max(method_w, r.method.size());
    path_w = std::max(path_w, r.path.size());
    integration_w = std::max(integration_w, r.integration.size());
    auth_w = std::max(auth_w, r.authorization.size());
  }
  auto line = [&](std::string_view m, std::string_view p, std::string_view i, std::string_view au,
                  std::string_view k) {
    std::printf("  %-*.*s  %-*.*s  %-*.*s  %-*.*s  %.*s\n", int(method_w), int(m.size()), m.data(),
                int(path_w), int(p.size()), p.data(), int(integration_w), int(i.size()), i.data(),
                int(auth_w), int(au.size()), au.data(), int(k.size()), k.data());
  };
  line("METHOD", "PATH", "INTEGRATION", "AUTHORIZATION", "API KEY");
  for (const auto& r : routes)
    line(r.method, r.path, r.integration, r.authorization, r.api_key_required ? "required" : "-");
}
}  // namespace

int main(int argc, char** argv) {
  args a = parse(argc, argv);
  auto document = examples::read_file(a.openapi);
  if (!document) usage("cannot read " + a.openapi);
  try {
    gatehouse::openapi_options o;
    o.base_path = a.base_path == "prepend" ? gatehouse::base_path_mode::prepend
                  : a.base_path == "split" ? gatehouse::base_path_mode::split
                                           : gatehouse::base_path_mode::ignore;
    o.fail_on_warnings = a.fail_on_warnings;
    if (auto region = env("AWS_REGION"); !region.empty())
      o.region = region;
    else if (auto fallback = env("AWS_DEFAULT_REGION"); !fallback.empty())
      o.region = fallback;
    // AWS-service integrations (type aws) and Lambda calls are signed with the environment's
    // credentials, as the AWS CLI's are.
    gatehouse::aws_credentials credentials{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"),
                                           env("AWS_SESSION_TOKEN")};
    if (!credentials.secret_access_key.empty()) o.service_credentials = credentials;
    if (!a.lambda_endpoint.empty()) {
      if (credentials.access_key_id.empty() || credentials.secret_access_key.empty())
        usage(
            "--lambda-endpoint signs its calls with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "from the environment (any values for a local endpoint): set both");
      o.lambda = gatehouse::lambda_endpoint{.endpoint = a.lambda_endpoint,
                                            .credentials = std::move(credentials)};
    }
    if (!a.jwks.empty()) {
      auto keys = examples::load_jwks(a.jwks);
      if (!keys) usage("cannot read " + a.jwks);
      for (const auto& pool : user_pools(*document))
        o.jwks[pool] = keys->url.empty() ? keys->jwks : keys->url;
    }
    std::optional<std::string> csv;
    if (!a.iam_credentials.empty() && !(csv = examples::read_file(a.iam_credentials)))
      usage("cannot read " + a.iam_credentials);
    auto [users, demo_user] = examples::load_iam_users(
        csv, invoke_all_policy, "arn:aws:iam::" + o.account_id + ":user/gatehouse-serve");
    o.iam = gatehouse::iam_options{.credentials = users, .region = o.region};

    if (a.petstore_functions) {
      o.functions = petstore::make_functions();
      o.authorizer_handlers.emplace("demo-token", petstore::token_handler("allow"));
    }

    auto api = import_document(*document, a, o);
    const std::string stage_id = stage_name(a, api);
    if (stage_id == "$default")
      usage(
          "gatehouse serves a stage under /{stage}: there is no $default stage (one without a "
          "path prefix); give --stage a name");
    if (!a.export_file.empty()) return export_document(api, stage_id, a, o);
    if (a.sdk.wanted()) {
      auto options = a.sdk.options;
      options.region = o.region;
      if (options.invoke_url.empty())
        options.invoke_url =
            (a.server.http ? "http://" : "https://") + a.server.listen + "/" + stage_id;
      auto files =
          gatehouse::generate_sdk(api, stage_id, gatehouse::parse_sdk_type(a.sdk.type), options);
      return examples::write_sdk(files, a.sdk.out, program) ? 0 : 1;
    }

    for (const auto& w : api.warnings) std::printf("%s: warning: %s\n", program, w.c_str());
    for (const auto& i : api.info) std::printf("%s: info: %s\n", program, i.c_str());
    if (!api.cors.empty())
      std::printf(
          "%s: not supported: x-amazon-apigateway-cors (kept; preflights are not answered)\n",
          program);
    for (const auto& u : api.unsupported)
      std::printf("%s: not supported: %s\n", program, u.c_str());
    for (const auto& f : api.unbound_functions)
      std::printf("%s: Lambda function %s answers 500: no --lambda-endpoint\n", program, f.c_str());
    for (const auto& n : api.unbound_authorizers)
      std::printf("%s: authorizer %s answers 500: not bound, and no --lambda-endpoint\n", program,
                  n.c_str());

    asio::io_context io{a.server.concurrency_hint()};
    gatehouse::gateway_options options;
    options.metrics = !a.server.no_metrics;
    options.metering = !a.server.no_metering;
    options.region = o.region;
    if (a.limits == "off") options.throttle.reset();
    gatehouse::Stage stage{stage_id, api.router.deploy()};
    for (const auto& [name, value] : a.stage_variables) stage.variable(name, value);
    // Keys for methods that require one: a usage plan attached to the stage, as on AWS.
    bool keys_needed = !a.api_keys.empty();
    for (const auto& r : api.routes) keys_needed = keys_needed || r.api_key_required;
    std::optional<gatehouse::UsagePlan> plan;
    if (keys_needed) plan.emplace(gatehouse::usage_plan_options{.name = program}).attach(stage);
    auto access_log = a.access_log.apply(stage);
    std::unique_ptr<asio::signal_set> hangup;
    if (access_log) hangup = examples::reopen_on_sighup(io, *access_log);

    gatehouse::Gateway gw{io, options};
    examples::observe(gw, stage, a.server);
    gw.mount(stage);
    std::vector<std::string> keys;
    if (plan) {
      auto create = [&](std::optional<std::string> value) {
        auto name = std::string(program) + "-" + std::to_string(keys.size() + 1);
        keys.push_back(*gw.api_keys()
                            .create({.name = name, .value = value, .usage_plan_ids = {plan->id()}})
                            .value);
      };
      for (const auto& k : a.api_keys) create(k);
      if (keys.empty()) create(std::nullopt);
    }
    const std::string url = examples::base_url(a.server, examples::listen(gw, a.server));

    std::printf("%s: %s (id %s), %zu routes on stage %s:\n", program, api.name.c_str(),
                api.id.c_str(), api.routes.size(), stage_id.c_str());
    if (a.api_type == "http")
      print_http_routes(api.routes);
    else
      print_routes(api.routes);
    for (const auto& k : keys) std::printf("%s: API key: %s\n", program, k.c_str());
    bool iam = false;
    for (const auto& r : api.routes) iam = iam || r.authorization == "AWS_IAM";
    if (iam && demo_user)
      std::printf("%s: IAM user (SigV4, %s): %s %s\n", program, o.region.c_str(),
                  demo_user->access_key_id.c_str(), demo_user->secret_access_key.c_str());
    examples::listen_metrics(gw, a.server, program);
    if (access_log)
      std::printf("%s: access log (%s): %s\n", program, a.access_log.format.c_str(),
                  a.access_log.file.c_str());
    std::printf("%s: serving %s/%s\n", program, url.c_str(), stage_id.c_str());
    std::fflush(stdout);
    examples::run_until_signalled(io, gw, a.server.threads, program);
    return 0;
  } catch (const gatehouse::config_error& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 1;
  }
}
