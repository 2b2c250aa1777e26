// The warnings a stage's cache settings earn when it is mounted: a cached method behind an
// authorizer or an API key whose cache keys hold no identity, and a cached method whose path
// parameters are not cache keys. Silent where the keys make the entries safe.

#include <gatehouse/gatehouse.hpp>

#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {
// The warnings logged while `stage` is mounted on a gateway.
std::vector<std::string> mount_warnings(const gatehouse::Stage& stage) {
  std::vector<std::string> warnings;
  asio::io_context io;
  gatehouse::gateway_options options;
  options.log = [&](gatehouse::log_level level, std::string_view text) {
    if (level == gatehouse::log_level::warning) warnings.emplace_back(text);
  };
  gatehouse::Gateway gw(io, options);
  gw.mount(stage);
  return warnings;
}

gatehouse::integration ok() { return gatehouse::mock({.body = "{}"}); }

gatehouse::Authorizer token_authorizer() {
  return gatehouse::Authorizer({.name = "tokens"}, [](const gatehouse::authorizer_request&) {
    return gatehouse::authorizer_result::allow("u");
  });
}
}  // namespace

TEST_CASE("cache warnings: a cached method whose keys tell no callers apart", "[cache]") {
  gatehouse::Router api({.name = "shop"});
  api.route("GET", "/orders", ok(), {.authorizer = token_authorizer()});
  api.route("GET", "/keyed", ok(), {.api_key_required = true});
  // Safe: the identity (the Authorization header; the API key) is a cache key.
  api.route("GET", "/mine", ok(),
            {.cache_key_parameters = {"method.request.header.authorization"},
             .authorizer = token_authorizer()});
  api.route(
      "GET", "/keyed-safe", ok(),
      {.api_key_required = true, .cache_key_parameters = {"method.request.header.X-API-Key"}});
  // Not cached (not a GET): nothing to say.
  api.route("POST", "/orders", ok(), {.authorizer = token_authorizer()});
  gatehouse::Stage prod("prod", api.deploy());
  prod.cache(gatehouse::cache_settings{});

  auto warnings = mount_warnings(prod);
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0] ==
        "stage 'prod': GET /orders is cached, but no cache key tells its callers apart "
        "(authorizer 'tokens'): one caller's cached response is served to the next, as AWS "
        "does. Make method.request.header.Authorization a cache key parameter, or turn caching "
        "off for it");
  CHECK(warnings[1].find("GET /keyed is cached, but no cache key tells its callers apart "
                         "(API key)") != std::string::npos);
  CHECK(warnings[1].find("method.request.header.x-api-key") != std::string::npos);

  // A method setting that turns caching off silences it; so does a stage without a cache.
  prod.method("GET /orders", {.caching = false});
  prod.method("GET /keyed", {.caching = false});
  CHECK(mount_warnings(prod).empty());
  gatehouse::Stage uncached("dev", api.deploy());
  CHECK(mount_warnings(uncached).empty());
}

TEST_CASE("cache warnings: a cached method whose path parameters are not cache keys", "[cache]") {
  gatehouse::Router api({.name = "files"});
  api.route("GET", "/files/{proxy+}", ok());
  api.route("ANY", "/docs/{id}", ok());
  api.route("GET", "/pets/{petId}", ok(), {.cache_key_parameters = {"method.request.path.petId"}});
  gatehouse::Stage prod("prod", api.deploy());
  prod.cache(gatehouse::cache_settings{});

  auto warnings = mount_warnings(prod);
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0] ==
        "stage 'prod': GET /files/{proxy+} is cached, but its path parameter proxy is not a "
        "cache key: every proxy gets the response cached for the first, as AWS does. Make "
        "method.request.path.proxy a cache key parameter, or turn caching off for it");
  CHECK(warnings[1].find("ANY /docs/{id} is cached, but its path parameter id") !=
        std::string::npos);
}
