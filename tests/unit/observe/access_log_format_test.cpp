// Access-log formats: AWS's presets per API type, the variables each API type has (AWS-SEMANTICS
// §14, listed here apart from the library's table), the configuration errors, and how values
// are escaped in each shape of format.

#include "observe/access_log_format.hpp"
#include "observe/access_log_line.hpp"
#include "pipeline/exchange.hpp"

#include <gatehouse/config_error.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

using gatehouse::config_error;
using namespace gatehouse::observe;

namespace {
// §14, variable by variable ("<p>" names stand for any key: here "sub" and "tier").
const std::vector<std::string> rest_variables = {
    "accountId", "apiId", "authorizer.claims.sub", "authorizer.principalId", "authorizer.tier",
    "awsEndpointRequestId", "domainName", "domainPrefix", "error.message", "error.messageString",
    "error.responseType", "error.validationErrorString", "extendedRequestId", "httpMethod",
    "identity.accountId", "identity.apiKey", "identity.apiKeyId", "identity.caller",
    "identity.cognitoAuthenticationProvider", "identity.cognitoAuthenticationType",
    "identity.cognitoIdentityId", "identity.cognitoIdentityPoolId", "identity.principalOrgId",
    "identity.sourceIp", "identity.clientCert.clientCertPem", "identity.clientCert.subjectDN",
    "identity.clientCert.issuerDN", "identity.clientCert.serialNumber",
    "identity.clientCert.validity.notBefore", "identity.clientCert.validity.notAfter",
    "identity.user", "identity.userAgent", "identity.userArn", "path", "protocol", "requestId",
    "requestOverride.header.x", "requestOverride.path.x", "requestOverride.querystring.x",
    "responseOverride.header.x", "responseOverride.status", "requestTime", "requestTimeEpoch",
    "resourceId", "resourcePath", "stage", "wafResponseCode", "webaclArn",
    // access logs only
    "authorize.error", "authorize.latency", "authorize.status", "authorizer.error",
    "authorizer.integrationLatency", "authorizer.integrationStatus", "authorizer.latency",
    "authorizer.requestId", "authorizer.status", "authenticate.error", "authenticate.latency",
    "authenticate.status", "customDomain.basePathMatched", "integration.error",
    "integration.integrationStatus", "integration.latency", "integration.requestId",
    "integration.status", "integrationErrorMessage", "integrationLatency", "integrationStatus",
    "responseLatency", "responseLength", "status", "waf.error", "waf.latency", "waf.status",
    "xrayTraceId",
    // current pages; UNCONFIRMED ones
    "deploymentId", "tlsVersion", "cipherSuite", "identity.vpceId", "isCanaryRequest"};
const std::vector<std::string> http_variables = {"accountId",
                                                 "apiId",
                                                 "authorizer.claims.sub",
                                                 "authorizer.error",
                                                 "authorizer.principalId",
                                                 "authorizer.tier",
                                                 "awsEndpointRequestId",
                                                 "awsEndpointRequestId2",
                                                 "customDomain.basePathMatched",
                                                 "dataProcessed",
                                                 "domainName",
                                                 "domainPrefix",
                                                 "error.message",
                                                 "error.messageString",
                                                 "error.responseType",
                                                 "extendedRequestId",
                                                 "httpMethod",
                                                 "identity.accountId",
                                                 "identity.caller",
                                                 "identity.cognitoAuthenticationProvider",
                                                 "identity.cognitoAuthenticationType",
                                                 "identity.cognitoIdentityId",
                                                 "identity.cognitoIdentityPoolId",
                                                 "identity.principalOrgId",
                                                 "identity.clientCert.clientCertPem",
                                                 "identity.clientCert.subjectDN",
                                                 "identity.clientCert.issuerDN",
                                                 "identity.clientCert.serialNumber",
                                                 "identity.clientCert.validity.notBefore",
                                                 "identity.clientCert.validity.notAfter",
                                                 "identity.sourceIp",
                                                 "identity.user",
                                                 "identity.userAgent",
                                                 "identity.userArn",
                                                 "integration.error",
                                                 "integration.integrationStatus",
                                                 "integration.latency",
                                                 "integration.requestId",
                                                 "integration.status",
                                                 "integrationErrorMessage",
                                                 "integrationLatency",
                                                 "integrationStatus",
                                                 "path",
                                                 "protocol",
                                                 "requestId",
                                                 "requestTime",
                                                 "requestTimeEpoch",
                                                 "responseLatency",
                                                 "responseLength",
                                                 "routeKey",
                                                 "stage",
                                                 "status",
                                                 "authorizer.latency",
                                                 "authorizer.status"};
const std::vector<std::string> websocket_variables = {"apiId",
                                                      "authorize.error",
                                                      "authorize.latency",
                                                      "authorize.status",
                                                      "authorizer.error",
                                                      "authorizer.integrationLatency",
                                                      "authorizer.integrationStatus",
                                                      "authorizer.latency",
                                                      "authorizer.requestId",
                                                      "authorizer.status",
                                                      "authorizer.principalId",
                                                      "authorizer.tier",
                                                      "authenticate.error",
                                                      "authenticate.latency",
                                                      "authenticate.status",
                                                      "connectedAt",
                                                      "connectionId",
                                                      "domainName",
                                                      "error.message",
                                                      "error.messageString",
                                                      "error.responseType",
                                                      "error.validationErrorString",
                                                      "eventType",
                                                      "extendedRequestId",
                                                      "identity.accountId",
                                                      "identity.apiKey",
                                                      "identity.apiKeyId",
                                                      "identity.caller",
                                                      "identity.cognitoAuthenticationProvider",
                                                      "identity.cognitoAuthenticationType",
                                                      "identity.cognitoIdentityId",
                                                      "identity.cognitoIdentityPoolId",
                                                      "identity.principalOrgId",
                                                      "identity.sourceIp",
                                                      "identity.user",
                                                      "identity.userAgent",
                                                      "identity.userArn",
                                                      "integration.error",
                                                      "integration.integrationStatus",
                                                      "integration.latency",
                                                      "integration.requestId",
                                                      "integration.status",
                                                      "integrationLatency",
                                                      "messageId",
                                                      "requestId",
                                                      "requestTime",
                                                      "requestTimeEpoch",
                                                      "routeKey",
                                                      "stage",
                                                      "status",
                                                      "waf.error",
                                                      "waf.latency",
                                                      "waf.status"};

std::string error_of(std::string_view format, log_api api) {
  try {
    compile_access_log_format(format, api, "stage 'prod'");
  } catch (const config_error& e) {
    return e.what();
  }
  return {};
}
}  // namespace

TEST_CASE("every $context variable of each API type compiles in its access log format",
          "[access_log]") {
  struct api_variables {
    log_api api;
    const std::vector<std::string>* names;
  };
  for (auto [api, names] : {api_variables{log_api::rest, &rest_variables},
                            api_variables{log_api::http, &http_variables},
                            api_variables{log_api::websocket, &websocket_variables}}) {
    for (const auto& name : *names) {
      INFO(name);
      auto f = compile_access_log_format("$context.requestId $context." + name, api, "x");
      REQUIRE(f.pieces.size() == 3);
      CHECK(f.pieces[1].var.has_value());
      CHECK(f.pieces[2].literal.empty());
    }
  }
  // The keys of authorizer.<key> and friends are kept; a reserved name is the log's own.
  auto f = compile_access_log_format(
      "$context.requestId $context.authorizer.claims.email $context.authorizer.status",
      log_api::rest, "x");
  CHECK(f.pieces[1].arg == "email");
  CHECK(f.pieces[2].var == gatehouse::transform::context_var::authorizer_status);
  CHECK(f.pieces[2].arg.empty());
}

TEST_CASE("access log formats refuse variables of other API types, by name", "[access_log]") {
  for (const char* name : {"resourcePath", "identity.apiKey", "xrayTraceId", "waf.status",
                           "connectionId", "eventType"})
    CHECK(error_of(std::string("$context.requestId $context.") + name, log_api::http)
              .find(std::string("$context.") + name + " is not a variable of HTTP APIs") !=
          std::string::npos);
  for (const char* name : {"routeKey", "dataProcessed", "connectionId", "messageId"})
    CHECK(error_of(std::string("$context.requestId $context.") + name, log_api::rest)
              .find("is not a variable of REST APIs") != std::string::npos);
  for (const char* name : {"httpMethod", "path", "responseLength", "resourcePath"})
    CHECK(error_of(std::string("$context.requestId $context.") + name, log_api::websocket)
              .find("is not a variable of WebSocket APIs") != std::string::npos);
}

TEST_CASE("access log format errors are config_errors that name the stage and the problem",
          "[access_log]") {
  CHECK(error_of("$context.status $context.httpMethod", log_api::rest) ==
        "stage 'prod': access log format: it must contain $context.requestId or "
        "$context.extendedRequestId");
  CHECK(error_of("$context.extendedRequestId $context.status", log_api::rest).empty());
  CHECK(error_of("$context.requestId $context.nope", log_api::rest) ==
        "stage 'prod': access log format: unknown variable $context.nope");
  CHECK(error_of("$context.requestId $stageVariables.x", log_api::rest)
            .find("only $context variables") != std::string::npos);
  CHECK(error_of("$context.requestId\n$context.status", log_api::rest).find("line break") !=
        std::string::npos);
  CHECK(error_of("", log_api::rest).find("empty") != std::string::npos);
  CHECK(error_of("$context.requestId $context.", log_api::rest).find("without a variable") !=
        std::string::npos);
  // One trailing line break is allowed (every line gets one anyway).
  CHECK(error_of("$context.requestId\n", log_api::http).empty());
  // HTTP and WebSocket formats take at most 3 KB; REST ones are not limited.
  std::string big = "$context.requestId " + std::string(3072 - 19, 'x');
  CHECK(big.size() == 3072);
  CHECK(error_of(big, log_api::http).empty());
  CHECK(error_of(big + "x", log_api::http) ==
        "stage 'prod': access log format: 3073 characters; HTTP APIs take at most 3 KB (3072)");
  CHECK(error_of(big + "x", log_api::websocket).find("WebSocket APIs take at most 3 KB") !=
        std::string::npos);
  CHECK(error_of(big + "x", log_api::rest).empty());
  // A full stop after a variable is text, as are a lone $ and a $ of something else.
  auto f = compile_access_log_format("id $context.requestId. cost $5", log_api::rest, "x");
  REQUIRE(f.pieces.size() == 2);
  CHECK(f.pieces[1].literal == ". cost $5");
}

TEST_CASE("AWS's four presets per API type, by name, and the escaping each shape gets",
          "[access_log]") {
  CHECK(
      *access_log_preset("clf", log_api::http) ==
      R"($context.identity.sourceIp - - [$context.requestTime] "$context.httpMethod $context.routeKey $context.protocol" $context.status $context.responseLength $context.requestId)");
  CHECK(*access_log_preset("CSV", log_api::websocket) ==
        "$context.identity.sourceIp,$context.identity.caller,$context.identity.user,$context."
        "requestTime,$context.eventType,$context.routeKey,$context.connectionId,$context.status,"
        "$context.requestId");
  CHECK_FALSE(access_log_preset("yaml", log_api::rest));
  for (auto api : {log_api::rest, log_api::http, log_api::websocket}) {
    CHECK(compile_access_log_format("clf", api, "x").escaping == log_escaping::text);
    CHECK(compile_access_log_format("json", api, "x").escaping == log_escaping::json);
    CHECK(compile_access_log_format("xml", api, "x").escaping == log_escaping::xml);
    CHECK(compile_access_log_format("csv", api, "x").escaping == log_escaping::csv);
    CHECK(compile_access_log_format("json", api, "x").text == *access_log_preset("json", api));
  }
  // In JSON, the variables inside the format's strings are told from those outside.
  auto f = compile_access_log_format(R"({"id":"$context.requestId","n":$context.status})",
                                     log_api::rest, "x");
  CHECK(f.pieces[0].in_json_string);
  CHECK_FALSE(f.pieces[1].in_json_string);
}

namespace {
// A line for a request with a hostile User-Agent and a gateway error, in `format`.
std::string render(std::string_view format, std::string_view user_agent,
                   const gatehouse::detail::gateway_error* error = nullptr) {
  gatehouse::request req;
  req.method = "GET";
  req.source_ip = "127.0.0.1";
  if (!user_agent.empty()) req.headers.add("User-Agent", std::string(user_agent));
  gatehouse::detail::exchange ex(req, {"123456789012", "us-east-1"});
  std::memcpy(ex.request_id, "00000000-0000-4000-8000-000000000000", 36);
  gatehouse::response res;
  res.status = error ? 403 : 200;
  request_facts facts{ex, res, error};
  return std::string(
      render_access_log_line(compile_access_log_format(format, log_api::rest, "x"), facts));
}
}  // namespace

TEST_CASE("values are escaped so that a line keeps its shape", "[access_log]") {
  const std::string hostile = "a\"b\\c<d>&e,f'\x01\xff";
  // JSON: inside strings, JSON string escapes (ill-formed UTF-8 as U+FFFD); outside, a value.
  CHECK(
      render(
          R"({"ua":"$context.identity.userAgent","s":$context.status,"e":$context.error.message,"id":"$context.requestId"})",
          hostile) ==
      "{\"ua\":\"a\\\"b\\\\c<d>&e,f'\\u0001\xEF\xBF\xBD\",\"s\":200,\"e\":null,"
      "\"id\":\"00000000-0000-4000-8000-000000000000\"}");
  CHECK(render(R"({"id":$context.requestId})", "") ==
        R"({"id":"00000000-0000-4000-8000-000000000000"})");
  // XML: entities, and no control character of XML 1.0's forbidden ones.
  CHECK(render("<r id=\"$context.requestId\"><ua>$context.identity.userAgent</ua></r>", hostile) ==
        "<r id=\"00000000-0000-4000-8000-000000000000\"><ua>a&quot;b\\c&lt;d&gt;&amp;e,f&apos;"
        "\xEF\xBF\xBD\xEF\xBF\xBD</ua></r>");
  // CSV: a field with a comma or a quote is quoted, its quotes doubled.
  CHECK(
      render("$context.identity.userAgent,$context.requestId,$context.identity.caller", hostile) ==
      "\"a\"\"b\\c<d>&e,f'\\x01\xEF\xBF\xBD\",00000000-0000-4000-8000-000000000000,-");
  // Text (CLF): quotes, backslashes and control characters as \xHH; absent values as -.
  CHECK(render("$context.requestId \"$context.identity.userAgent\" $context.identity.user",
               hostile) ==
        "00000000-0000-4000-8000-000000000000 \"a\\x22b\\x5Cc<d>&e,f'\\x01\xEF\xBF\xBD\" -");
  // error.messageString is the message in quotes, in every shape.
  const gatehouse::detail::gateway_error forbidden{gatehouse::response_type::invalid_api_key};
  CHECK(render("$context.requestId $context.error.messageString $context.error.responseType", "",
               &forbidden) == "00000000-0000-4000-8000-000000000000 \"Forbidden\" INVALID_API_KEY");
  CHECK(
      render(
          R"({"id":"$context.requestId","m":$context.error.messageString,"q":"$context.error.messageString"})",
          "", &forbidden) ==
      R"({"id":"00000000-0000-4000-8000-000000000000","m":"Forbidden","q":"\"Forbidden\""})");
}

TEST_CASE("a value of any length is escaped wherever its special byte is", "[access_log]") {
  // Clean values are copied in words (the last one overlapping): every length around the word
  // size, with a special byte at every place, in each shape.
  for (std::size_t size = 1; size <= 26; ++size) {
    const std::string clean(size, 'x');
    INFO("size " << size);
    CHECK(render("$context.requestId \"$context.identity.userAgent\"", clean) ==
          "00000000-0000-4000-8000-000000000000 \"" + clean + "\"");
    CHECK(render(R"({"id":"$context.requestId","ua":"$context.identity.userAgent"})", clean) ==
          R"({"id":"00000000-0000-4000-8000-000000000000","ua":")" + clean + "\"}");
    for (std::size_t at = 0; at < size; ++at) {
      std::string v = clean;
      v[at] = '"';
      INFO("quote at " << at);
      std::string text = clean, json = clean, xml = clean;
      text.replace(at, 1, "\\x22");
      json.replace(at, 1, "\\\"");
      xml.replace(at, 1, "&quot;");
      CHECK(render("$context.requestId \"$context.identity.userAgent\"", v) ==
            "00000000-0000-4000-8000-000000000000 \"" + text + "\"");
      CHECK(render(R"({"id":"$context.requestId","ua":"$context.identity.userAgent"})", v) ==
            R"({"id":"00000000-0000-4000-8000-000000000000","ua":")" + json + "\"}");
      CHECK(render("<r id=\"$context.requestId\">$context.identity.userAgent</r>", v) ==
            "<r id=\"00000000-0000-4000-8000-000000000000\">" + xml + "</r>");
    }
  }
}

TEST_CASE("a line longer than its reservation is whole", "[access_log]") {
  // Many variables and a long value: the render grows its buffer and keeps what it wrote.
  std::string format = "$context.requestId";
  std::string want = "00000000-0000-4000-8000-000000000000";
  const std::string ua(5000, 'u');
  for (int i = 0; i < 40; ++i) {
    format += " [$context.requestId] $context.protocol \"$context.identity.userAgent\"";
    want += " [00000000-0000-4000-8000-000000000000] HTTP/1.1 \"" + ua + "\"";
  }
  CHECK(render(format, ua) == want);
}
