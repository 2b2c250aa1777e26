// petstore: AWS's PetStore sample API served by gatehouse under the stage "prod".
//
//   petstore [--listen ADDR:PORT] [--cert FILE --key FILE] [--http] [--threads N]
//            [--metrics-listen ADDR:PORT] [--detailed-metrics] [--no-metrics] [--no-metering]
//            [--tracing] [--otlp-endpoint URL]
//            [--store redis://HOST:PORT[/DB] [--cache-store redis://…] [--store-fail open|closed]]
//            [--backend HOST:PORT] [--api-key KEY] [--limits aws|off|unrefusing] [--no-cache]
//            [--plan-rate R] [--plan-burst B] [--plan-quota N]
//            [--demo-token TOKEN] [--authorize-reads] [--jwt-issuer ISS] [--jwt-audience AUD]
//            [--jwks URL-or-FILE] [--iam-credentials FILE] [--api-id ID]
//            [--access-log FILE [--access-log-format clf|json|xml|csv|FORMAT]]
//            [--export FILE [--export-format oas30|swagger] [--extensions LIST] [--yaml]]
//            [--sdk javascript|typescript|cpp --out DIR [--invoke-url URL] [--sdk-name NAME]]
//
// ANY /prod/legacy/{proxy+} is proxied to http://BACKEND/{proxy} (default 127.0.0.1:9000; never
// petstore's own address, which would proxy to itself).
// POST /prod/pets needs an API key of the usage plan "basic" (50 requests a second, burst 100,
// 1,000 a day): KEY, or one generated and printed at start. --limits:
//   aws         (default) AWS's account throttle (10,000/s, burst 5,000) and the plan above
//   off         no account throttle: for comparing with servers that do not throttle
//   unrefusing  every level on (account, stage, method, plan, per key and method) and an API key
//               on every route, with limits too high to refuse: for measuring what they cost
// GET /prod/pets is cached for 300 s per type and page (x-cache: Hit / Miss); --no-cache turns
// the stage cache off.
// DELETE /prod/pets/{petId} needs `Authorization: Bearer TOKEN` with the demo token (default
// "allow"; a custom TOKEN authorizer: other tokens get 403, none 401). --authorize-reads puts
// GET /prod/pets/{petId} behind it too, for measuring what a cached authorizer costs.
// GET /prod/pets/{petId}/owner needs a JWT of issuer ISS for audience AUD, verified with the
// keys of --jwks (an https:// URL or a JWKS file). Without --jwks petstore makes its own ES256
// key and prints a token signed with it, valid for an hour.
// GET /prod/admin/stats needs IAM authorization: a request signed with Signature Version 4
// (service execute-api, region us-east-1) by a user of --iam-credentials FILE (CSV with the
// header access_key_id,secret_access_key,user_arn); each user may invoke
// arn:aws:execute-api:*:*:*/prod/GET/admin/*. Without the flag petstore makes one user and
// prints its keys.
// --api-id gives the API its id ($context.apiId, the export's host) instead of a random one, so
// that exports are the same every time.
// --plan-rate, --plan-burst and --plan-quota set the plan "basic"'s limits (a day's quota).
// --store shares limits, quotas, API keys and metering with every petstore on that Redis (the
// plan's id is "basic" everywhere; --api-key KEY is one key on all of them); --cache-store
// puts the stage cache there too.
// --access-log appends a line per request of the prod stage to FILE in AWS's preset (clf, json,
// xml, csv; default json) or a format of $context variables; SIGHUP reopens FILE (logrotate).
// --sdk writes a client SDK of the prod stage into DIR and exits; the client calls --invoke-url,
// by default this server's https://LISTEN/prod (http:// with --http).
// --tracing samples requests as AWS's default rule does (1 a second, then 5 %) and
// --otlp-endpoint sends their spans to an OTLP/HTTP collector;
// --metrics-listen serves GET /metrics (Prometheus text or OpenMetrics) and GET /metering (the
// metering report, ?from=&to=&format=json|csv) on a plain-HTTP listener of its own;
// --detailed-metrics adds series per method; --no-metrics keeps none, --no-metering meters
// nothing (to measure what they cost).

#include "access_log_flags.hpp"
#include "demo_jwt.hpp"
#include "pets.hpp"
#include "sdk_flags.hpp"
#include "server.hpp"

#include <gatehouse/gatehouse.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>
#include <string>

namespace {
struct args {
  examples::listener_flags server{.listen = "127.0.0.1:8443"};
  std::string backend = "127.0.0.1:9000";
  std::string api_key;
  std::string limits = "aws";
  bool cache = true;
  std::string demo_token = "allow";
  bool authorize_reads = false;
  std::string jwt_issuer = "https://petstore.example.com";
  std::string jwt_audience = "petstore";
  std::string jwks;
  std::string iam_credentials;
  std::string api_id;
  std::optional<double> plan_rate;
  std::optional<std::int64_t> plan_burst, plan_quota;
  // --export: write the prod stage's OpenAPI export (as AWS's GetExport) and exit.
  std::string export_file;
  gatehouse::export_options export_options;
  examples::sdk_flags sdk;
  examples::access_log_flags access_log;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(
      stderr,
      "petstore: %s\nusage: petstore %s [--backend HOST:PORT] [--api-key KEY] "
      "[--limits aws|off|unrefusing] [--no-cache] [--demo-token TOKEN] [--authorize-reads] "
      "[--jwt-issuer ISS] [--jwt-audience AUD] [--jwks URL-or-FILE] [--iam-credentials FILE] "
      "[--api-id ID] [--plan-rate R] [--plan-burst B] [--plan-quota N] [--export FILE "
      "[--export-format oas30|swagger] [--extensions LIST] "
      "[--yaml]] %s %s\n",
      why, examples::listener_flags::usage, examples::access_log_flags::usage,
      examples::sdk_flags::usage);
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
    if (arg == "--backend")
      a.backend = value();
    else if (arg == "--api-key")
      a.api_key = value();
    else if (arg == "--limits")
      a.limits = value();
    else if (arg == "--no-cache")
      a.cache = false;
    else if (arg == "--demo-token")
      a.demo_token = value();
    else if (arg == "--authorize-reads")
      a.authorize_reads = true;
    else if (arg == "--jwt-issuer")
      a.jwt_issuer = value();
    else if (arg == "--jwt-audience")
      a.jwt_audience = value();
    else if (arg == "--jwks")
      a.jwks = value();
    else if (arg == "--iam-credentials")
      a.iam_credentials = value();
    else if (arg == "--api-id")
      a.api_id = value();
    else if (arg == "--plan-rate")
      a.plan_rate = std::strtod(value().c_str(), nullptr);
    else if (arg == "--plan-burst")
      a.plan_burst = std::strtoll(value().c_str(), nullptr, 10);
    else if (arg == "--plan-quota")
      a.plan_quota = std::strtoll(value().c_str(), nullptr, 10);
    else if (arg == "--export")
      a.export_file = value();
    else if (arg == "--export-format") {
      const std::string f = value();
      if (f != "oas30" && f != "swagger") usage("--export-format is oas30 or swagger");
      a.export_options.format =
          f == "oas30" ? gatehouse::openapi_format::oas30 : gatehouse::openapi_format::swagger;
    } else if (arg == "--extensions")
      a.export_options.extensions = value();
    else if (arg == "--yaml")
      a.export_options.yaml = true;
    else if (arg == "--help" || arg == "-h")
      usage("AWS's PetStore sample API on gatehouse");
    else
      usage(("unknown flag " + std::string(arg)).c_str());
  }
  if (auto bad = a.server.check(); !bad.empty()) usage(bad.c_str());
  if (auto bad = a.sdk.check(); !bad.empty()) usage(bad.c_str());
  if (auto bad = a.access_log.check(); !bad.empty()) usage(bad.c_str());
  if (a.sdk.wanted() && a.sdk.options.invoke_url.empty())
    a.sdk.options.invoke_url = (a.server.http ? "http://" : "https://") + a.server.listen + "/prod";
  if (a.limits != "aws" && a.limits != "off" && a.limits != "unrefusing")
    usage("--limits is aws, off or unrefusing");
  if (a.demo_token.empty()) usage("--demo-token cannot be empty");
  // AWS's form of an API id.
  if (!a.api_id.empty() &&
      (a.api_id.size() != 10 || !std::all_of(a.api_id.begin(), a.api_id.end(), [](char c) {
         return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
       })))
    usage("--api-id is ten lower-case letters and digits");
  return a;
}

// Whether --backend HOST:PORT is the address petstore listens on (`at`): a literal address of
// it, or with `at` unspecified (0.0.0.0, ::) a loopback one. Names are not resolved.
bool is_own_address(const std::string& backend, const asio::ip::tcp::endpoint& at) {
  const auto colon = backend.rfind(':');
  if (colon == std::string::npos || backend.substr(colon + 1) != std::to_string(at.port()))
    return false;
  std::string host = backend.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost") return at.address().is_loopback() || at.address().is_unspecified();
  asio::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return false;
  return address == at.address() ||
         (at.address().is_unspecified() && (address.is_loopback() || address.is_unspecified()));
}

std::string read_file(const std::string& path) {
  auto text = examples::read_file(path);
  if (!text) usage(("cannot read " + path).c_str());
  return std::move(*text);
}

// What each staff member may do: GET anything under /admin on the prod stage.
constexpr const char* staff_policy =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke",)"
    R"("Resource":"arn:aws:execute-api:*:*:*/prod/GET/admin/*"}]})";
}  // namespace

int main(int argc, char** argv) {
  args a = parse(argc, argv);
  try {
    asio::io_context io{a.server.concurrency_hint()};
    const bool unrefusing = a.limits == "unrefusing";
    // GET /pets/{petId}/owner: a JWT authorizer with the issuer's keys (or petstore's own).
    gatehouse::jwt_options jwt{
        .name = "owner-jwt", .issuer = a.jwt_issuer, .audiences = {a.jwt_audience}};
    std::unique_ptr<petstore::demo_signer> signer;
    if (!a.jwks.empty()) {
      auto keys = examples::load_jwks(a.jwks);
      if (!keys) usage(("cannot read " + a.jwks).c_str());
      jwt.jwks_url = keys->url;
      jwt.jwks = keys->jwks;
    } else {
      jwt.jwks = (signer = std::make_unique<petstore::demo_signer>())->jwks();
    }
    // GET /admin/stats: IAM users from --iam-credentials, or one made up now.
    auto [staff, demo_user] = examples::load_iam_users(
        a.iam_credentials.empty() ? std::nullopt
                                  : std::optional<std::string>(read_file(a.iam_credentials)),
        staff_policy, "arn:aws:iam::123456789012:user/petstore-admin");
    petstore::api_settings settings{
        .api_id = a.api_id,
        .key_everywhere = unrefusing,
        .demo_token = a.demo_token,
        .authorize_reads = a.authorize_reads,
        .owner_authorizer = gatehouse::Authorizer::jwt(jwt),
        .admin_authorizer = gatehouse::Authorizer::iam({.name = "staff", .credentials = staff})};
    gatehouse::Router api = petstore::make_api(settings);
    gatehouse::Stage prod{"prod", api.deploy()};
    prod.variable("backend", a.backend);
    if (!a.export_file.empty()) {
      const std::string doc = gatehouse::export_openapi(prod, a.export_options);
      std::ofstream out(a.export_file, std::ios::binary);
      if (!(out << doc << '\n')) usage(("cannot write " + a.export_file).c_str());
      return 0;
    }
    if (a.sdk.wanted()) {
      auto files =
          gatehouse::generate_sdk(prod, gatehouse::parse_sdk_type(a.sdk.type), a.sdk.options);
      return examples::write_sdk(files, a.sdk.out, "petstore") ? 0 : 1;
    }
    // The stage cache: GET /pets for 300 s per type and page, marked with x-cache: Hit / Miss.
    // As in AWS, a stage cache caches every GET method unless told otherwise: the others here
    // are left to their integrations.
    gatehouse::method_setting by_id, owner, legacy, stats;
    if (a.cache) {
      prod.cache(gatehouse::cache_settings{.ttl = std::chrono::seconds(300), .hit_header = true});
      by_id.caching = owner.caching = legacy.caching = stats.caching = false;
    }

    // The usage plan "basic": 50 requests a second per key, burst 100, 1,000 a day.
    constexpr gatehouse::throttle_settings huge{1e9, 1'000'000'000};
    gatehouse::usage_plan_options basic_options{
        .name = "basic",
        .id = "basic",  // the same on every instance that shares a store
        .throttle = gatehouse::throttle_settings{50, 100},
        .quota = gatehouse::quota_settings{1000, gatehouse::quota_period::day}};
    gatehouse::gateway_options options;
    options.store = examples::make_store(io, a.server);
    options.metrics = !a.server.no_metrics;
    options.metering = !a.server.no_metering;
    if (a.limits == "off") options.throttle.reset();
    if (unrefusing) {
      options.throttle = huge;
      basic_options.throttle = huge;
      basic_options.quota =
          gatehouse::quota_settings{1'000'000'000'000, gatehouse::quota_period::day};
      prod.throttle(huge);
      by_id.throttle = huge;
    }
    if (a.plan_rate) basic_options.throttle->rate = *a.plan_rate;
    if (a.plan_burst) basic_options.throttle->burst = *a.plan_burst;
    if (a.plan_quota) basic_options.quota->limit = *a.plan_quota;
    prod.method("GET /pets/{petId}", by_id);
    prod.method("GET /pets/{petId}/owner", owner);
    prod.method("ANY /legacy/{proxy+}", legacy);
    prod.method("GET /admin/stats", stats);
    gatehouse::UsagePlan basic{basic_options};
    if (unrefusing)
      basic.attach(prod, {{"GET /pets/{petId}", huge}});
    else
      basic.attach(prod);

    auto access_log = a.access_log.apply(prod);
    std::unique_ptr<asio::signal_set> hangup;
    if (access_log) hangup = examples::reopen_on_sighup(io, *access_log);
    gatehouse::Gateway gw{io, options};
    examples::observe(gw, prod, a.server);
    gw.mount(prod);
    std::string key_value;
    if (options.store && !a.api_key.empty()) {
      // Made once for all the instances on the store: imported (made, or found and kept).
      gw.api_keys().import_csv("name,key,enabled,usageplanIds\npetstore-demo," + a.api_key +
                               ",true," + basic.id() + "\n");
      key_value = a.api_key;
    } else {
      key_value = *gw.api_keys()
                       .create({.name = "petstore-demo",
                                .value = a.api_key.empty() ? std::nullopt
                                                           : std::optional<std::string>(a.api_key),
                                .usage_plan_ids = {basic.id()}})
                       .value;
    }
    const auto at = examples::listen(gw, a.server);
    if (is_own_address(a.backend, at))
      usage(("--backend " + a.backend + " is petstore itself: /prod/legacy/… would proxy to itself")
                .c_str());
    const std::string url = examples::base_url(a.server, at);
    std::printf("petstore: serving %s/prod/pets\n", url.c_str());
    examples::listen_metrics(gw, a.server, "petstore");
    std::printf("petstore: %s/prod/legacy/… proxies to http://%s/…\n", url.c_str(),
                a.backend.c_str());
    std::printf("petstore: API key for POST /prod/pets (usage plan basic): %s\n",
                key_value.c_str());
    std::printf("petstore: DELETE /prod/pets/{petId} takes 'Authorization: Bearer %s'\n",
                a.demo_token.c_str());
    if (signer) {
      auto now = static_cast<long long>(std::time(nullptr));
      auto token =
          signer->sign(R"({"sub":"alice","iss":")" + a.jwt_issuer + R"(","aud":")" +
                       a.jwt_audience + R"(","token_use":"id","iat":)" + std::to_string(now) +
                       R"(,"exp":)" + std::to_string(now + 3600) + "}");
      std::printf("petstore: a JWT for GET /prod/pets/{petId}/owner (an hour): %s\n",
                  token.c_str());
    }
    if (access_log)
      std::printf("petstore: access log (%s): %s\n", a.access_log.format.c_str(),
                  a.access_log.file.c_str());
    if (demo_user) {
      std::printf("petstore: IAM user for GET /prod/admin/stats (SigV4, us-east-1): %s %s\n",
                  demo_user->access_key_id.c_str(), demo_user->secret_access_key.c_str());
    } else {
      std::printf("petstore: GET /prod/admin/stats takes SigV4 from %zu IAM users of %s\n",
                  staff.size(), a.iam_credentials.c_str());
    }
    std::fflush(stdout);

    examples::run_until_signalled(io, gw, a.server.threads, "petstore");
    return 0;
  } catch (const gatehouse::config_error& e) {
    std::fprintf(stderr, "petstore: %s\n", e.what());
    return 1;
  } catch (const gatehouse::store_error& e) {  // --store's Redis did not answer at start
    std::fprintf(stderr, "petstore: %s\n", e.what());
    return 1;
  }
}
