#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <asio/use_future.hpp>
#include <catch2/catch.hpp>

using namespace gatehouse;

namespace {
response dispatch(test::running_gateway& g, std::string method, std::string target) {
  request req;
  req.method = std::move(method);
  req.target = std::move(target);
  req.source_ip = "127.0.0.1";
  return g.gateway().async_dispatch(std::move(req), asio::use_future).get();
}
}  // namespace

TEST_CASE("every gateway response type has AWS's status, error type and message") {
  struct row {
    response_type type;
    std::string_view name;
    int status;
    std::string_view error_type;
  };
  const row rows[] = {
      {response_type::access_denied, "ACCESS_DENIED", 403, "AccessDeniedException"},
      {response_type::api_configuration_error, "API_CONFIGURATION_ERROR", 500,
       "ApiConfigurationException"},
      {response_type::authorizer_configuration_error, "AUTHORIZER_CONFIGURATION_ERROR", 500,
       "AuthorizerConfigurationException"},
      {response_type::authorizer_failure, "AUTHORIZER_FAILURE", 500, "AuthorizerFailureException"},
      {response_type::bad_request_parameters, "BAD_REQUEST_PARAMETERS", 400, "BadRequestException"},
      {response_type::bad_request_body, "BAD_REQUEST_BODY", 400, "BadRequestException"},
      {response_type::default_4xx, "DEFAULT_4XX", 0, ""},
      {response_type::default_5xx, "DEFAULT_5XX", 0, "InternalServerErrorException"},
      {response_type::expired_token, "EXPIRED_TOKEN", 403, "ExpiredTokenException"},
      {response_type::integration_failure, "INTEGRATION_FAILURE", 504,
       "InternalServerErrorException"},
      {response_type::integration_timeout, "INTEGRATION_TIMEOUT", 504,
       "InternalServerErrorException"},
      {response_type::invalid_api_key, "INVALID_API_KEY", 403, "ForbiddenException"},
      {response_type::invalid_signature, "INVALID_SIGNATURE", 403, "InvalidSignatureException"},
      {response_type::missing_authentication_token, "MISSING_AUTHENTICATION_TOKEN", 403,
       "MissingAuthenticationTokenException"},
      {response_type::quota_exceeded, "QUOTA_EXCEEDED", 429, "LimitExceededException"},
      {response_type::request_too_large, "REQUEST_TOO_LARGE", 413, "RequestTooLargeException"},
      {response_type::resource_not_found, "RESOURCE_NOT_FOUND", 404, "ResourceNotFoundException"},
      {response_type::throttled, "THROTTLED", 429, "TooManyRequestsException"},
      {response_type::unauthorized, "UNAUTHORIZED", 401, "UnauthorizedException"},
      {response_type::unsupported_media_type, "UNSUPPORTED_MEDIA_TYPE", 415, "BadRequestException"},
      {response_type::waf_filtered, "WAF_FILTERED", 403, "WafFilteredException"},
  };
  for (const auto& r : rows) {
    INFO(r.name);
    CHECK(to_string(r.type) == r.name);
    CHECK(response_type_from_string(r.name) == r.type);
    CHECK(default_status(r.type) == r.status);
    CHECK(error_type_header(r.type) == r.error_type);
  }
  CHECK(default_message(response_type::throttled) == "Too Many Requests");
  CHECK(default_message(response_type::quota_exceeded) == "Limit Exceeded");
  CHECK(default_message(response_type::invalid_api_key) == "Forbidden");
  CHECK(default_message(response_type::unauthorized) == "Unauthorized");
  CHECK(default_message(response_type::integration_timeout) == "Endpoint request timed out");
  CHECK_FALSE(response_type_from_string("NOPE").has_value());
}

TEST_CASE("REST APIs answer unknown routes with 403 Missing Authentication Token") {
  test::running_gateway g;
  Router api;
  api.route("GET", "/pets", mock({.body = "[]"}));
  Stage prod{"prod", api.deploy()};
  g.gateway().mount(prod);

  for (auto [method, target] : {std::pair{"GET", "/prod/dogs"}, std::pair{"POST", "/prod/pets"},
                                std::pair{"GET", "/nostage/pets"}, std::pair{"GET", "/"}}) {
    INFO(method << " " << target);
    auto res = dispatch(g, method, target);
    CHECK(res.status == 403);
    CHECK(res.body == R"({"message":"Missing Authentication Token"})");
    CHECK(res.headers.get("x-amzn-ErrorType") == "MissingAuthenticationTokenException");
    CHECK(res.headers.get("Content-Type") == "application/json");
    auto id = res.headers.get("x-amzn-RequestId");
    REQUIRE(id);
    CHECK(id->size() == 36);
  }
  CHECK(dispatch(g, "GET", "/prod/pets").status == 200);
}

TEST_CASE("HTTP APIs answer unknown routes with 404 Not Found") {
  test::running_gateway g;
  Router api({.type = api_type::http});
  api.route("GET", "/pets", mock({.body = "[]"}));
  g.gateway().mount(Stage{"v1", api.deploy()});
  auto res = dispatch(g, "GET", "/v1/dogs");
  CHECK(res.status == 404);
  CHECK(res.body == R"({"message":"Not Found"})");
  // No stage of a REST API is mounted, so an unknown stage is a 404 too.
  CHECK(dispatch(g, "GET", "/v2/pets").status == 404);
}

TEST_CASE("a host overrides a gateway response's status, headers and body") {
  test::running_gateway g;
  Router api;
  api.route("GET", "/pets", mock({.body = "[]"}));
  gateway_response custom;
  custom.status = 404;
  custom.headers.add("x-reason", "$context.error.responseType");
  custom.body =
      R"({"error":$context.error.messageString,"id":"$context.requestId","stage":"$context.stage","v":"$stageVariables.who"})";
  api.set_gateway_response(response_type::missing_authentication_token, custom);
  Stage prod{"prod", api.deploy()};
  prod.variable("who", "ops");
  g.gateway().mount(prod);

  auto res = dispatch(g, "GET", "/prod/nothing");
  CHECK(res.status == 404);
  CHECK(res.headers.get("x-reason") == "MISSING_AUTHENTICATION_TOKEN");
  CHECK(res.headers.get("x-amzn-ErrorType") == "MissingAuthenticationTokenException");
  auto id = std::string(*res.headers.get("x-amzn-RequestId"));
  CHECK(res.body == R"({"error":"Missing Authentication Token","id":")" + id +
                        R"(","stage":"prod","v":"ops"})");
}

TEST_CASE("DEFAULT_4XX and DEFAULT_5XX apply to types without their own override") {
  test::running_gateway g;
  Router api;
  api.route("GET", "/boom",
            function([](const proxy_event&) -> proxy_result { throw std::runtime_error("boom"); }));
  gateway_response four;
  four.body = R"({"oops":$context.error.messageString})";
  api.set_gateway_response(response_type::default_4xx, four);
  gateway_response five;
  five.status = 503;
  api.set_gateway_response(response_type::default_5xx, five);
  g.gateway().mount(Stage{"prod", api.deploy()});

  auto missing = dispatch(g, "GET", "/prod/missing");
  CHECK(missing.status == 403);
  CHECK(missing.body == R"({"oops":"Missing Authentication Token"})");
  auto boom = dispatch(g, "GET", "/prod/boom");
  CHECK(boom.status == 503);
  CHECK(boom.body == R"({"message":"Internal server error"})");
}

TEST_CASE("REQUEST_TOO_LARGE cannot be customised, and override statuses are checked") {
  Router api;
  CHECK_THROWS_AS(api.set_gateway_response(response_type::request_too_large, {}), config_error);
  gateway_response bad;
  bad.status = 42;
  CHECK_THROWS_WITH(api.set_gateway_response(response_type::throttled, bad),
                    Catch::Contains("THROTTLED") && Catch::Contains("42"));
}
