// IAM authorization cross-checked with signers nobody here wrote: the npm package aws4
// (tests/cross/sigv4_requests.mjs sends its requests to a running gateway) and curl's
// --aws-sigv4. Signed and presigned requests, paths with spaces and unicode, repeated query keys,
// empty bodies and temporary credentials pass; a wrong secret, a stale date, a changed header or
// body and an expired presigned URL are refused with AWS's messages.
//
// The aws4 cases need `node` on PATH and tests/cross/node_modules/aws4 (scripts/install-deps);
// without them they are skipped with a warning.

#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <sstream>
#include <string>

namespace {

using gatehouse::proxy_event;
using gatehouse::proxy_result;

constexpr const char* key = "AKIACROSS0000000001";
constexpr const char* secret = "cross/Secret+Key/0000000000000000000000000";
constexpr const char* temp_key = "ASIACROSS0000000001";
constexpr const char* temp_secret = "temporary-secret";
constexpr const char* session_token = "FwoGZXIvYXdzEBYaDH//session+token==";

// Stage prod: ANY /admin/{proxy+} with IAM, answering "METHOD path|body".
gatehouse::Stage iam_stage() {
  gatehouse::IamCredentials creds;
  const std::string policy =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke",)"
      R"("Resource":"arn:aws:execute-api:*:*:*/prod/*/admin/*"}]})";
  creds.put({.access_key_id = key,
             .secret_access_key = secret,
             .principal_arn = "arn:aws:iam::123456789012:user/cross",
             .policies = {policy}});
  creds.put({.access_key_id = temp_key,
             .secret_access_key = temp_secret,
             .principal_arn = "arn:aws:sts::123456789012:assumed-role/cross/s",
             .policies = {policy},
             .session_token = session_token});
  gatehouse::Router api({.name = "cross"});
  api.route("ANY", "/admin/{proxy+}", gatehouse::function([](const proxy_event& ev) {
              return proxy_result{.body = std::string(ev.http_method()) + " " +
                                          std::string(ev.path()) + "|" + std::string(ev.body())};
            }),
            {.authorizer = gatehouse::Authorizer::iam({.credentials = creds})});
  return gatehouse::Stage("prod", api.deploy());
}

std::string cross_dir() { return std::string(GATEHOUSE_SOURCE_DIR) + "/tests/cross"; }

std::string aws4_missing() {
  int status = 0;
  test::shell("command -v node >/dev/null 2>&1", &status);
  if (status != 0) return "node is not on PATH";
  if (!std::filesystem::exists(cross_dir() + "/node_modules/aws4/package.json"))
    return cross_dir() + "/node_modules/aws4 is missing (run scripts/install-deps)";
  return {};
}

struct result {
  int status = 0;
  std::string type, body;
};

}  // namespace

TEST_CASE("IAM cross-check: requests signed by the npm package aws4", "[iam][cross]") {
  if (auto why = aws4_missing(); !why.empty()) {
    WARN("skipping the aws4 cross-check: " << why);
    return;
  }
  test::running_gateway gw;
  auto port = gw.serve_plain(iam_stage());
  int status = 0;
  auto out = test::shell("node '" + cross_dir() + "/sigv4_requests.mjs' " + std::to_string(port) +
                             " '" + key + "' '" + secret + "' '" + temp_key + "' '" + temp_secret +
                             "' '" + session_token + "' 2>&1",
                         &status);
  INFO("sigv4_requests.mjs said:\n" << out);
  REQUIRE(status == 0);
  std::map<std::string, result> results;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string name, code;
    result r;
    std::getline(fields, name, '\t');
    std::getline(fields, code, '\t');
    std::getline(fields, r.type, '\t');
    std::getline(fields, r.body);
    r.status = std::atoi(code.c_str());
    results[name] = r;
  }
  auto ok = [&](const std::string& name, const std::string& body) {
    INFO(name);
    REQUIRE(results.count(name));
    CHECK(results[name].status == 200);
    CHECK(results[name].body == body);
  };
  ok("get", "GET /admin/stats|");
  ok("query-repeated-keys", "GET /admin/stats|");
  ok("path-space-unicode", "GET /admin/a%20b/caf%C3%A9|");
  ok("post-body", R"(POST /admin/echo|{"pets":[1,2,3]})");
  ok("post-empty-body", "POST /admin/echo|");
  ok("presigned", "GET /admin/stats|");
  ok("presigned-unicode", "GET /admin/a%20b/caf%C3%A9|");
  ok("session-token", "GET /admin/stats|");

  auto refused = [&](const std::string& name, const std::string& type, const std::string& start) {
    INFO(name << ": " << results[name].body);
    REQUIRE(results.count(name));
    CHECK(results[name].status == 403);
    CHECK(results[name].type == type);
    CHECK(results[name].body.starts_with(start));
  };
  const std::string mismatch =
      R"({"message":"The request signature we calculated does not match the signature you )"
      R"(provided. Check your AWS Secret Access Key and signing method.)";
  refused("wrong-secret", "InvalidSignatureException", mismatch);
  refused("changed-header", "InvalidSignatureException", mismatch);
  refused("changed-body", "InvalidSignatureException", mismatch);
  refused("unknown-key", "UnrecognizedClientException",
          R"({"message":"The security token included in the request is invalid."})");
  refused("session-token-missing", "UnrecognizedClientException",
          R"({"message":"The security token included in the request is invalid."})");
  refused("stale-date", "InvalidSignatureException", R"({"message":"Signature expired: )");
  refused("presigned-expired", "InvalidSignatureException", R"({"message":"Request has expired"})");
}

TEST_CASE("IAM cross-check: curl --aws-sigv4", "[iam][cross]") {
  test::running_gateway gw;
  auto port = gw.serve_plain(iam_stage());
  const std::string base = "curl -s --max-time 10 --aws-sigv4 aws:amz:us-east-1:execute-api ";
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/prod/admin/stats";
  int status = 0;
  CHECK(test::shell(base + "--user '" + key + ":" + secret + "' " + url, &status) ==
        "GET /admin/stats|");
  CHECK(status == 0);
  CHECK(test::shell(base + "--user '" + key + ":" + secret + "' -d 'type=dog' " + url) ==
        "POST /admin/stats|type=dog");
  CHECK(test::shell(base + "--user '" + key + ":wrong' " + url)
            .starts_with(R"({"message":"The request signature we calculated does not match)"));
  CHECK(
      test::shell(base + "--user '" + key + ":" + secret + "' -H 'x-amz-date: 20200101T000000Z' " +
                  url)
          .starts_with(R"({"message":"Signature expired: 20200101T000000Z is now earlier than )"));
}
