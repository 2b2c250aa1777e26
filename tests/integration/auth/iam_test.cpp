// IAM authorization end to end: a real gateway on loopback, requests signed with Signature
// Version 4 (Authorization header and presigned URLs), AWS's refusals with their status, error
// type and message, the caller's identity policies and the API's resource policy combined as
// IAM does within an account, temporary credentials, changes to the credential store while
// serving, and the caller as integrations see it (requestContext.identity / authorizer.iam).

#include "auth/sigv4.hpp"
#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using gatehouse::Authorizer;
using gatehouse::iam_credential;
using gatehouse::IamCredentials;
using gatehouse::proxy_event;
using gatehouse::proxy_result;
namespace sigv4 = gatehouse::auth::sigv4;

constexpr const char* api_id = "iam0000001";
const std::string arn_prefix =
    std::string("arn:aws:execute-api:us-east-1:123456789012:") + api_id + "/";
constexpr const char* alice_key = "AKIAALICE0000000001";
constexpr const char* alice_secret = "alice/secret+key0000000000000000000000000";
constexpr const char* alice_arn = "arn:aws:iam::123456789012:user/alice";

std::string invoke_policy(std::string_view effect, std::string_view resource) {
  return R"({"Version":"2012-10-17","Statement":[{"Effect":")" + std::string(effect) +
         R"(","Action":"execute-api:Invoke","Resource":")" + std::string(resource) + "\"}]}";
}

struct signed_call {
  std::string method = "GET";
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Signs `call` as the AWS SDKs do (every header sent, Host included) with the given key.
signed_call sign(signed_call call, std::string_view key, std::string_view secret,
                 std::string_view token = {},
                 std::chrono::system_clock::time_point at = std::chrono::system_clock::now(),
                 std::string_view region = "us-east-1") {
  call.headers.insert(call.headers.begin(), {"Host", "localhost"});
  std::vector<sigv4::header_field> fields;
  for (const auto& [n, v] : call.headers) fields.push_back({n, v});
  auto [path, query] = sigv4::split_target(call.target);
  sigv4::signing_params params{
      .creds = {key, secret, token}, .region = region, .service = "execute-api", .time = at};
  auto sig = sigv4::sign({call.method, path, query, fields, call.body}, params);
  for (auto& [n, v] : sig.fields()) call.headers.emplace_back(n, v);
  return call;
}

// A presigned GET (only Host signed), as a browser link would carry it.
std::string presign(std::string_view target, std::chrono::seconds expires,
                    std::chrono::system_clock::time_point at = std::chrono::system_clock::now()) {
  std::vector<sigv4::header_field> fields{{"Host", "localhost"}};
  auto [path, query] = sigv4::split_target(target);
  sigv4::presign_params params{.signing = {.creds = {alice_key, alice_secret, ""},
                                           .region = "us-east-1",
                                           .service = "execute-api",
                                           .time = at},
                               .expires = expires};
  auto p = sigv4::presign({"GET", path, query, fields, ""}, params);
  return std::string(path) + "?" + p.query;
}

std::string raw(const signed_call& c) {
  std::string r = c.method + " " + c.target + " HTTP/1.1\r\n";
  bool host = false;
  for (const auto& [n, v] : c.headers) {
    r.append(n).append(": ").append(v).append("\r\n");
    host = host || n == "Host";
  }
  if (!host) r.append("Host: localhost\r\n");
  if (!c.body.empty()) r.append("Content-Length: ").append(std::to_string(c.body.size()));
  if (!c.body.empty()) r.append("\r\n");
  return r.append("\r\n").append(c.body);
}

// "status error-type body" of one request on a fresh connection.
std::string call(unsigned short port, const signed_call& c) {
  auto r = test::roundtrip(port, raw(c));
  if (!r) return "<no reply>";
  auto type = r->headers.get("x-amzn-ErrorType");
  return std::to_string(r->status) + " " + std::string(type.value_or("-")) + " " + r->body;
}

std::string denied(std::string_view user, std::string_view resource, bool explicit_deny) {
  return std::string(R"(403 AccessDeniedException {"Message":"User: )") + std::string(user) +
         " is not authorized to perform: execute-api:Invoke on resource: " + arn_prefix +
         std::string(resource) + (explicit_deny ? " with an explicit deny" : "") + "\"}";
}

// GET /admin/stats (answers the caller), GET /public, POST /admin/echo (echoes the body),
// GET /admin/event (the v1 event's requestContext.identity), all with IAM authorization.
gatehouse::Router iam_api(const IamCredentials& creds, std::string resource_policy = {},
                          gatehouse::api_type type = gatehouse::api_type::rest) {
  gatehouse::Router api(
      {.name = "iam", .id = api_id, .type = type, .resource_policy = std::move(resource_policy)});
  auto iam = Authorizer::iam({.credentials = creds});
  api.route("GET", "/admin/stats", gatehouse::function([](const proxy_event& ev) {
              auto id = ev.context().iam;
              return proxy_result{
                  .body = std::string(id.user_arn) + " " + std::string(id.access_key) + " " +
                          std::string(id.account_id) + " " + std::string(id.caller)};
            }),
            {.authorizer = iam});
  api.route("GET", "/public", gatehouse::mock({.body = "public"}), {.authorizer = iam});
  api.route("POST", "/admin/echo", gatehouse::function([](const proxy_event& ev) {
              return proxy_result{.body = std::string(ev.body())};
            }),
            {.authorizer = iam});
  api.route("GET", "/admin/event",
            gatehouse::function(
                [](const proxy_event& ev) { return proxy_result{.body = ev.to_json()}; },
                {.format = type == gatehouse::api_type::http ? gatehouse::payload_format::v2
                                                             : gatehouse::payload_format::v1}),
            {.authorizer = iam});
  return api;
}

IamCredentials alice_only(std::vector<std::string> policies) {
  IamCredentials creds;
  creds.put({.access_key_id = alice_key,
             .secret_access_key = alice_secret,
             .principal_arn = alice_arn,
             .user_id = "AIDAALICE",
             .policies = std::move(policies)});
  return creds;
}

const std::string admin_only = invoke_policy("Allow", "arn:aws:execute-api:*:*:*/prod/*/admin/*");

}  // namespace

TEST_CASE("IAM: a signed request of an allowed caller passes, and integrations see the caller",
          "[iam]") {
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("prod", iam_api(alice_only({admin_only})).deploy()));

  CHECK(call(port, sign({.target = "/prod/admin/stats"}, alice_key, alice_secret)) ==
        std::string("200 - ") + alice_arn + " " + alice_key + " 123456789012 AIDAALICE");
  CHECK(call(port, sign({.target = "/prod/admin/stats?b=2&a=1&a=0"}, alice_key, alice_secret))
            .starts_with("200 "));
  CHECK(call(port, sign({.method = "POST", .target = "/prod/admin/echo", .body = "hello"},
                        alice_key, alice_secret)) == "200 - hello");
  // An empty body, a path with an encoded space and unicode.
  CHECK(call(port, sign({.method = "POST", .target = "/prod/admin/echo"}, alice_key,
                        alice_secret)) == "200 - ");

  auto event = call(port, sign({.target = "/prod/admin/event"}, alice_key, alice_secret));
  CHECK(event.find(R"("accessKey":"AKIAALICE0000000001","accountId":"123456789012",)"
                   R"("caller":"AIDAALICE")") != std::string::npos);
  CHECK(event.find(R"("user":"AIDAALICE","userArn":"arn:aws:iam::123456789012:user/alice")") !=
        std::string::npos);
  CHECK(event.find(R"("authorizer")") == std::string::npos);  // REST: IAM is under identity
}

TEST_CASE("IAM: HTTP APIs give the caller as requestContext.authorizer.iam", "[iam]") {
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage(
      "prod", iam_api(alice_only({admin_only}), {}, gatehouse::api_type::http).deploy()));
  auto event = call(port, sign({.target = "/prod/admin/event"}, alice_key, alice_secret));
  CHECK(event.find(R"("authorizer":{"iam":{"accessKey":"AKIAALICE0000000001",)"
                   R"("accountId":"123456789012","callerId":"AIDAALICE","cognitoIdentity":null,)"
                   R"("principalOrgId":null,"userArn":"arn:aws:iam::123456789012:user/alice",)"
                   R"("userId":"AIDAALICE"}})") != std::string::npos);
}

TEST_CASE("IAM: refusals carry AWS's status, error type and message", "[iam]") {
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("prod", iam_api(alice_only({admin_only})).deploy()));

  SECTION("unsigned") {
    CHECK(call(port, {.target = "/prod/admin/stats"}) ==
          R"(403 MissingAuthenticationTokenException {"message":"Missing Authentication Token"})");
  }
  SECTION("a wrong secret") {
    auto r = call(port, sign({.target = "/prod/admin/stats"}, alice_key, "not-the-secret"));
    CHECK(r.starts_with(
        R"(403 InvalidSignatureException {"message":"The request signature we calculated does )"
        R"(not match the signature you provided. Check your AWS Secret Access Key and signing )"
        R"(method. Consult the service documentation for details.\n\nThe Canonical String for )"
        R"(this request should have been\n'GET\n/prod/admin/stats\n)"));
  }
  SECTION("an unknown access key") {
    CHECK(call(port, sign({.target = "/prod/admin/stats"}, "AKIAUNKNOWN000000000", "x")) ==
          R"(403 UnrecognizedClientException {"message":"The security token included in the )"
          R"(request is invalid."})");
  }
  SECTION("a date outside the 5-minute window") {
    auto r = call(port, sign({.target = "/prod/admin/stats"}, alice_key, alice_secret, {},
                             std::chrono::system_clock::now() - 10min));
    CHECK(r.starts_with(R"(403 InvalidSignatureException {"message":"Signature expired: )"));
    CHECK(r.find(" - 5 min.)") != std::string::npos);
  }
  SECTION("another region in the scope") {
    auto r = call(port, sign({.target = "/prod/admin/stats"}, alice_key, alice_secret, {},
                             std::chrono::system_clock::now(), "eu-west-1"));
    CHECK(r.starts_with(R"(403 InvalidSignatureException {"message":"Credential should be )"
                        R"(scoped to a valid region, not 'eu-west-1'. )"));
  }
  SECTION("any change after signing: method, path, query, a signed header, the body") {
    auto base = sign({.method = "POST",
                      .target = "/prod/admin/echo?x=1",
                      .headers = {{"X-Extra", "a"}},
                      .body = "payload"},
                     alice_key, alice_secret);
    auto expect_refused = [&](signed_call c) {
      auto r = call(port, c);
      INFO(r);
      CHECK((r.starts_with("403 InvalidSignatureException") ||
             r.starts_with("403 MissingAuthenticationTokenException")));
    };
    CHECK(call(port, base) == "200 - payload");
    auto c = base;
    c.target = "/prod/admin/echo?x=2";
    expect_refused(c);
    c = base;
    c.body = "paYload";
    expect_refused(c);
    c = base;
    for (auto& [n, v] : c.headers)
      if (n == "X-Extra") v = "b";
    expect_refused(c);
    c = base;
    c.target = "/prod/admin/echo/?x=1";
    auto r = call(port, c);
    CHECK(r.starts_with("403 "));
  }
  SECTION("an allowed caller on a method its policy does not cover") {
    CHECK(call(port, sign({.target = "/prod/public"}, alice_key, alice_secret)) ==
          denied(alice_arn, "prod/GET/public", false));
  }
}

TEST_CASE("IAM: presigned URLs", "[iam]") {
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("prod", iam_api(alice_only({admin_only})).deploy()));
  CHECK(call(port, {.target = presign("/prod/admin/stats?view=all", 60s)}).starts_with("200 - "));
  auto r = call(
      port, {.target = presign("/prod/admin/stats", 60s, std::chrono::system_clock::now() - 2min)});
  CHECK(r == R"(403 InvalidSignatureException {"message":"Request has expired"})");
  auto tampered = presign("/prod/admin/stats?view=all", 60s);
  tampered.replace(tampered.find("view=all"), 8, "view=own");
  CHECK(call(port, {.target = tampered}).starts_with("403 InvalidSignatureException"));
}

TEST_CASE("IAM: identity policies and the resource policy combine as IAM's same-account rules",
          "[iam]") {
  const std::string bob_arn = "arn:aws:iam::123456789012:user/bob";
  auto with_bob = [&](std::vector<std::string> bob_policies) {
    auto creds = alice_only({admin_only});
    creds.put({.access_key_id = "AKIABOB000000000001",
               .secret_access_key = "bob-secret",
               .principal_arn = bob_arn,
               .policies = std::move(bob_policies)});
    return creds;
  };
  auto bob = [&](unsigned short port, std::string target) {
    return call(port, sign({.target = std::move(target)}, "AKIABOB000000000001", "bob-secret"));
  };
  const std::string resource_allows_bob =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":")" + bob_arn +
      R"("},"Action":"execute-api:Invoke","Resource":"execute-api:/prod/GET/public"}]})";

  SECTION("no identity policy, no resource policy: implicitly denied") {
    test::running_gateway gw;
    auto port = gw.serve_plain(gatehouse::Stage("prod", iam_api(with_bob({})).deploy()));
    CHECK(bob(port, "/prod/public") == denied(bob_arn, "prod/GET/public", false));
  }
  SECTION("the resource policy's Allow of the principal is enough") {
    test::running_gateway gw;
    auto port = gw.serve_plain(
        gatehouse::Stage("prod", iam_api(with_bob({}), resource_allows_bob).deploy()));
    CHECK(bob(port, "/prod/public") == "200 - public");
    CHECK(bob(port, "/prod/admin/stats") == denied(bob_arn, "prod/GET/admin/stats", false));
    // Alice is not named by the resource policy, but her own policy allows /admin.
    CHECK(call(port, sign({.target = "/prod/admin/stats"}, alice_key, alice_secret))
              .starts_with("200 "));
  }
  SECTION("a resource policy naming the account allows all its principals") {
    test::running_gateway gw;
    auto port = gw.serve_plain(gatehouse::Stage(
        "prod",
        iam_api(with_bob({}),
                R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":)"
                R"("arn:aws:iam::123456789012:root"},"Action":"execute-api:Invoke",)"
                R"("Resource":"execute-api:/*"}]})")
            .deploy()));
    CHECK(bob(port, "/prod/public") == "200 - public");
  }
  SECTION("an explicit Deny in the identity policy beats the resource policy's Allow") {
    test::running_gateway gw;
    auto port = gw.serve_plain(gatehouse::Stage(
        "prod", iam_api(with_bob({invoke_policy("Deny", "arn:aws:execute-api:*:*:*/*/GET/public")}),
                        resource_allows_bob)
                    .deploy()));
    CHECK(bob(port, "/prod/public") == denied(bob_arn, "prod/GET/public", true));
  }
  SECTION("an explicit Deny in the resource policy beats the identity policy's Allow") {
    test::running_gateway gw;
    auto port = gw.serve_plain(gatehouse::Stage(
        "prod",
        iam_api(with_bob({invoke_policy("Allow", "*")}),
                R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":")" +
                    bob_arn + R"("},"Action":"execute-api:Invoke","Resource":"execute-api:/*"}]})")
            .deploy()));
    CHECK(bob(port, "/prod/public") == denied(bob_arn, "prod/GET/public", true));
    CHECK(call(port, sign({.target = "/prod/admin/stats"}, alice_key, alice_secret))
              .starts_with("200 "));
  }
  SECTION("several policies are evaluated together") {
    test::running_gateway gw;
    auto port = gw.serve_plain(gatehouse::Stage(
        "prod", iam_api(with_bob({invoke_policy("Allow", "arn:aws:execute-api:*:*:*/prod/*"),
                                  invoke_policy("Deny", "arn:aws:execute-api:*:*:*/*/*/admin/*")}))
                    .deploy()));
    CHECK(bob(port, "/prod/public") == "200 - public");
    CHECK(bob(port, "/prod/admin/stats") == denied(bob_arn, "prod/GET/admin/stats", true));
  }
}

TEST_CASE("IAM: temporary credentials need their session token and expire", "[iam]") {
  IamCredentials creds;
  const auto now = std::chrono::system_clock::now();
  creds.put({.access_key_id = "ASIATEMP00000000001",
             .secret_access_key = "temp-secret",
             .principal_arn = "arn:aws:sts::123456789012:assumed-role/reader/session-1",
             .user_id = "AROAREADER:session-1",
             .policies = {admin_only},
             .session_token = "session-token-1",
             .expires = now + 1h});
  creds.put({.access_key_id = "ASIAOLD000000000001",
             .secret_access_key = "old-secret",
             .principal_arn = "arn:aws:sts::123456789012:assumed-role/reader/session-0",
             .policies = {admin_only},
             .session_token = "session-token-0",
             .expires = now - 1s});
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("prod", iam_api(creds).deploy()));
  const signed_call stats{.target = "/prod/admin/stats"};
  const std::string invalid =
      R"(403 UnrecognizedClientException {"message":"The security token included in the )"
      R"(request is invalid."})";

  CHECK(call(port, sign(stats, "ASIATEMP00000000001", "temp-secret", "session-token-1")) ==
        "200 - arn:aws:sts::123456789012:assumed-role/reader/session-1 ASIATEMP00000000001 "
        "123456789012 AROAREADER:session-1");
  CHECK(call(port, sign(stats, "ASIATEMP00000000001", "temp-secret")) == invalid);
  CHECK(call(port, sign(stats, "ASIATEMP00000000001", "temp-secret", "session-token-0")) ==
        invalid);
  CHECK(call(port, sign(stats, alice_key, alice_secret, "a-token-alice-has-not")) ==
        "403 UnrecognizedClientException {\"message\":\"The security token included in the "
        "request is invalid.\"}");
  CHECK(call(port, sign(stats, "ASIAOLD000000000001", "old-secret", "session-token-0")) ==
        R"(403 ExpiredTokenException {"message":"The security token included in the request )"
        R"(is expired"})");
}

TEST_CASE("IAM: the credential store changes while serving", "[iam]") {
  IamCredentials creds;
  test::running_gateway gw;
  auto port = gw.serve_plain(gatehouse::Stage("prod", iam_api(creds).deploy()));
  const signed_call stats{.target = "/prod/admin/stats"};
  CHECK(call(port, sign(stats, alice_key, alice_secret)).starts_with("403 UnrecognizedClient"));
  creds.put({.access_key_id = alice_key,
             .secret_access_key = alice_secret,
             .principal_arn = alice_arn,
             .policies = {admin_only}});
  CHECK(creds.size() == 1);
  CHECK(call(port, sign(stats, alice_key, alice_secret)).starts_with("200 "));
  // A rotated secret: the old one stops working at once.
  creds.put({.access_key_id = alice_key,
             .secret_access_key = "rotated",
             .principal_arn = alice_arn,
             .policies = {admin_only}});
  CHECK(call(port, sign(stats, alice_key, alice_secret)).starts_with("403 InvalidSignature"));
  CHECK(call(port, sign(stats, alice_key, "rotated")).starts_with("200 "));
  CHECK(creds.remove(alice_key));
  CHECK_FALSE(creds.remove(alice_key));
  CHECK(call(port, sign(stats, alice_key, "rotated")).starts_with("403 UnrecognizedClient"));
}

TEST_CASE("IAM: bad credentials and options are config errors naming the item", "[iam]") {
  IamCredentials creds;
  auto message = [&](iam_credential c) -> std::string {
    try {
      creds.put(std::move(c));
    } catch (const gatehouse::config_error& e) {
      return e.what();
    }
    return "<accepted>";
  };
  CHECK(message({.access_key_id = "short", .secret_access_key = "s", .principal_arn = alice_arn})
            .starts_with("IAM credential 'short': the access key id must be"));
  CHECK(message({.access_key_id = alice_key, .principal_arn = alice_arn}) ==
        "IAM credential 'AKIAALICE0000000001': no secret access key");
  CHECK(message({.access_key_id = alice_key,
                 .secret_access_key = "s",
                 .principal_arn = "arn:aws:iam::12345:user/x"})
            .find("is not an IAM or STS ARN") != std::string::npos);
  CHECK(message({.access_key_id = alice_key,
                 .secret_access_key = "s",
                 .principal_arn = alice_arn,
                 .policies = {admin_only, R"({"Statement":[{"Effect":"Perhaps"}]})"}})
            .starts_with("IAM credential 'AKIAALICE0000000001': policy 1: "));
  CHECK(creds.size() == 0);
  CHECK_THROWS_AS(Authorizer::iam({.credentials = creds, .clock_skew = 0s}),
                  gatehouse::config_error);

  SECTION("CSV import: all or nothing, bad rows named by line") {
    creds.import_csv(
        "access_key_id,secret_access_key,user_arn\n"
        "AKIACSV0000000000001,secret1,arn:aws:iam::123456789012:user/one\r\n"
        "\"AKIACSV0000000000002\",\"sec,ret2\",arn:aws:iam::123456789012:user/two\n",
        {admin_only});
    CHECK(creds.size() == 2);
    try {
      creds.import_csv(
          "User_Arn,Access_Key_Id,Secret_Access_Key\n"
          "arn:aws:iam::123456789012:user/three,AKIACSV0000000000003,s3\n"
          "arn:aws:iam::1:user/four,AKIACSV0000000000004,s4\n"
          "arn:aws:iam::123456789012:user/five,AKIA5,s5\n",
          {});
      FAIL("accepted");
    } catch (const gatehouse::config_error& e) {
      std::string what = e.what();
      CHECK(what.find("line 3: IAM credential 'AKIACSV0000000000004'") != std::string::npos);
      CHECK(what.find("line 4: IAM credential 'AKIA5'") != std::string::npos);
    }
    CHECK(creds.size() == 2);
    CHECK_THROWS_WITH(creds.import_csv("key,secret\nA,B\n", {}),
                      Catch::Contains("the header needs access_key_id"));
  }
}
