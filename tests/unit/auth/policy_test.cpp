#include "auth/policy.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

using Catch::Matchers::Contains;
using gatehouse::auth::arn_base;
using gatehouse::auth::decision;
using gatehouse::auth::glob_match;
using gatehouse::auth::glob_match_ignore_case;
using gatehouse::auth::method_arn;
using gatehouse::auth::policy;
using gatehouse::auth::request_facts;

namespace gatehouse::auth {
// Lets Catch print decisions in failed comparisons (static: other tests may want their own).
static std::ostream& operator<<(std::ostream& os, decision d) { return os << to_string(d); }
}  // namespace gatehouse::auth

namespace {

constexpr std::string_view pets_get =
    "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/pets";

/// A policy the test expects to parse.
policy parsed(std::string_view json, const arn_base* base = nullptr) {
  std::string why;
  auto p = policy::parse(json, &why, base);
  INFO("parse error: " << why);
  REQUIRE(p);
  return *p;
}

/// The reason a policy the test expects to be rejected was rejected.
std::string rejection(std::string_view json) {
  std::string why;
  auto p = policy::parse(json, &why);
  INFO("policy: " << std::string(json));
  CHECK_FALSE(p);
  CHECK_FALSE(why.empty());
  return why;
}

/// Facts for invoking `resource`, otherwise empty.
request_facts invoke(std::string_view resource) {
  request_facts f;
  f.resource = resource;
  return f;
}

/// Facts for invoking `resource` from `ip`.
request_facts invoke_from(std::string_view resource, std::string_view ip) {
  auto f = invoke(resource);
  f.source_ip = ip;
  return f;
}

std::chrono::system_clock::time_point at_epoch_seconds(long long seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// glob_match and method_arn
// ---------------------------------------------------------------------------------------------

TEST_CASE("glob_match: literals, '*' and '?'", "[policy]") {
  CHECK(glob_match("abc", "abc"));
  CHECK_FALSE(glob_match("abc", "abd"));
  CHECK_FALSE(glob_match("abc", "ABC"));  // case-sensitive
  CHECK(glob_match("*", ""));
  CHECK(glob_match("*", "anything/at/all"));
  CHECK(glob_match("a*", "a"));
  CHECK(glob_match("a*", "a/b/c"));
  CHECK(glob_match("*c", "abc"));
  CHECK(glob_match("a*c", "ac"));
  CHECK(glob_match("a*c", "a/b/c"));
  CHECK_FALSE(glob_match("a*c", "a/b/cd"));
  CHECK(glob_match("a?c", "abc"));
  CHECK(glob_match("a?c", "a/c"));
  CHECK_FALSE(glob_match("a?c", "ac"));  // '?' is exactly one character
  CHECK_FALSE(glob_match("a?c", "abbc"));
  CHECK(glob_match("???", "xyz"));
  CHECK_FALSE(glob_match("???", "xy"));
  CHECK(glob_match("*?", "x"));
  CHECK_FALSE(glob_match("*?", ""));
  CHECK(glob_match("a*b*c", "aXXbYYc"));
  CHECK(glob_match("a*b*c", "abcbc"));
  CHECK_FALSE(glob_match("a*b*c", "acb"));
}

TEST_CASE("glob_match: consecutive stars, empty sides, long patterns", "[policy]") {
  CHECK(glob_match("a**b", "ab"));
  CHECK(glob_match("a***b", "a-x-b"));
  CHECK(glob_match("***", ""));
  CHECK(glob_match("", ""));
  CHECK_FALSE(glob_match("", "a"));
  CHECK_FALSE(glob_match("a", ""));
  CHECK_FALSE(glob_match("abcd", "abc"));  // pattern longer than value
  CHECK_FALSE(glob_match("abc*d", "abc"));
  CHECK(glob_match("abc*", "abc"));
  CHECK(glob_match("*/GET/*", "abc/prod/GET/pets/1"));
  CHECK_FALSE(glob_match("*/GET/*", "abc/prod/POST/pets/1"));
  CHECK(glob_match("a*", "a*"));  // a '*' in the value is an ordinary character
  CHECK_FALSE(glob_match("ab", "a*"));
}

TEST_CASE("glob_match: pathological patterns stay fast", "[policy]") {
  std::string pattern;
  for (int i = 0; i < 40; ++i) pattern += "a*";
  pattern += "b";
  std::string value(20000, 'a');
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(glob_match(pattern, value));
  CHECK(glob_match(pattern, value + "b"));
  CHECK_FALSE(glob_match(std::string(200, '*') + "b", value));
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed < std::chrono::seconds(2));  // exponential backtracking would never finish
}

TEST_CASE("glob_match_ignore_case", "[policy]") {
  CHECK(glob_match_ignore_case("execute-api:inv*", "EXECUTE-API:Invoke"));
  CHECK(glob_match_ignore_case("Execute-API:Invoke", "execute-api:invoke"));
  CHECK_FALSE(glob_match_ignore_case("execute-api:invoke?", "execute-api:Invoke"));
}

TEST_CASE("method_arn", "[policy]") {
  CHECK(method_arn("us-east-1", "123456789012", "abc123", "prod", "GET", "/pets/1") ==
        "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/pets/1");
  CHECK(method_arn("us-east-1", "123456789012", "abc123", "prod", "GET", "/") ==
        "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/");
  CHECK(method_arn("us-east-1", "123456789012", "abc123", "prod", "GET", "") ==
        "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/");
  CHECK(method_arn("eu-west-1", "111122223333", "x1", "$default", "POST", "orders") ==
        "arn:aws:execute-api:eu-west-1:111122223333:x1/$default/POST/orders");
}

// ---------------------------------------------------------------------------------------------
// Actions and resources
// ---------------------------------------------------------------------------------------------

TEST_CASE("policy: authorizer policy allows a method in every stage", "[policy]") {
  auto p = parsed(R"({
    "Version": "2012-10-17",
    "Statement": [{
      "Action": "execute-api:Invoke",
      "Effect": "Allow",
      "Resource": "arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/pets"
    }]})");
  CHECK(p.size() == 1);
  CHECK_FALSE(p.empty());
  CHECK(p.evaluate(invoke(pets_get)) == decision::allow);
  CHECK(p.evaluate(invoke("arn:aws:execute-api:us-east-1:123456789012:abc/test/GET/pets")) ==
        decision::allow);
  CHECK(p.evaluate(invoke("arn:aws:execute-api:us-east-1:123456789012:abc/prod/POST/pets")) ==
        decision::implicit_deny);
  CHECK(p.evaluate(invoke("arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/pets/1")) ==
        decision::implicit_deny);
  CHECK(p.evaluate(invoke("arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/PETS")) ==
        decision::implicit_deny);  // resources are case-sensitive
  CHECK(p.evaluate(invoke("arn:aws:execute-api:us-east-1:123456789012:xyz/prod/GET/pets")) ==
        decision::implicit_deny);
}

TEST_CASE("policy: a stage wildcard covers every method and path of the stage", "[policy]") {
  auto p = parsed(R"({"Statement": {"Effect": "Allow", "Action": "execute-api:Invoke",
    "Resource": "arn:aws:execute-api:us-east-1:123456789012:abc/prod/*"}})");
  CHECK(p.evaluate(invoke(pets_get)) == decision::allow);
  CHECK(p.evaluate(invoke("arn:aws:execute-api:us-east-1:123456789012:abc/prod/POST/")) ==
        decision::allow);
  CHECK(p.evaluate(invoke("arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/a/b/c")) ==
        decision::allow);
  CHECK(p.evaluate(invoke("arn:aws:execute-api:us-east-1:123456789012:abc/test/GET/pets")) ==
        decision::implicit_deny);
}

TEST_CASE("policy: explicit Deny wins over Allow, in either order", "[policy]") {
  for (const char* json : {
           R"({"Statement": [
             {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
             {"Effect": "Deny", "Action": "execute-api:Invoke",
              "Resource": "arn:aws:execute-api:*:*:abc/prod/DELETE/*"}]})",
           R"({"Statement": [
             {"Effect": "Deny", "Action": "execute-api:Invoke",
              "Resource": "arn:aws:execute-api:*:*:abc/prod/DELETE/*"},
             {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]})"}) {
    auto p = parsed(json);
    CHECK(p.evaluate(invoke(pets_get)) == decision::allow);
    CHECK(p.evaluate(invoke("arn:aws:execute-api:us-east-1:123456789012:abc/prod/DELETE/pets/1")) ==
          decision::explicit_deny);
  }
}

TEST_CASE("policy: no matching Allow is an implicit deny", "[policy]") {
  auto p = parsed(R"({"Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke",
    "Resource": "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/cats"}]})");
  CHECK(p.evaluate(invoke(pets_get)) == decision::implicit_deny);

  auto none = parsed(R"({"Version": "2012-10-17", "Statement": []})");
  CHECK(none.empty());
  CHECK(none.size() == 0);
  CHECK(none.evaluate(invoke(pets_get)) == decision::implicit_deny);

  auto deny_only = parsed(R"({"Statement": {"Effect": "Deny", "Action": "*",
    "Resource": "arn:aws:execute-api:*:*:abc/test/*"}})");
  CHECK(deny_only.evaluate(invoke(pets_get)) == decision::implicit_deny);
}

TEST_CASE("policy: actions match as case-insensitive globs", "[policy]") {
  for (const char* action : {"execute-api:Invoke", "EXECUTE-API:invoke", "execute-api:*", "*",
                             "execute-api:Inv*", "execute-api:Invok?"}) {
    INFO("Action: " << action);
    auto p =
        parsed(std::string(R"({"Statement": {"Effect": "Allow", "Resource": "*", "Action": ")") +
               action + "\"}}");
    CHECK(p.evaluate(invoke(pets_get)) == decision::allow);
  }
  auto p = parsed(R"({"Statement": {"Effect": "Allow", "Resource": "*",
    "Action": ["execute-api:ManageConnections", "execute-api:InvalidateCache"]}})");
  CHECK(p.evaluate(invoke(pets_get)) == decision::implicit_deny);
  auto f = invoke(pets_get);
  f.action = "execute-api:invalidatecache";
  CHECK(p.evaluate(f) == decision::allow);
}

TEST_CASE("policy: NotAction and NotResource", "[policy]") {
  auto not_action = parsed(R"({"Statement": {"Effect": "Allow", "Resource": "*",
    "NotAction": "execute-api:InvalidateCache"}})");
  auto f = invoke(pets_get);
  CHECK(not_action.evaluate(f) == decision::allow);
  f.action = "execute-api:InvalidateCache";
  CHECK(not_action.evaluate(f) == decision::implicit_deny);

  auto not_resource = parsed(R"({"Statement": [
    {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
    {"Effect": "Deny", "Action": "execute-api:Invoke",
     "NotResource": ["arn:aws:execute-api:*:*:abc/prod/GET/public/*",
                     "arn:aws:execute-api:*:*:abc/prod/GET/health"]}]})");
  CHECK(not_resource.evaluate(
            invoke("arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/public/logo.png")) ==
        decision::allow);
  CHECK(not_resource.evaluate(invoke(
            "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/health")) == decision::allow);
  CHECK(not_resource.evaluate(invoke(pets_get)) == decision::explicit_deny);
}

TEST_CASE("policy: resource-policy short forms expand with an arn_base", "[policy]") {
  arn_base base{"us-east-1", "123456789012", "abc123"};
  auto all = parsed(R"({"Statement": {"Effect": "Allow", "Principal": "*",
    "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}})",
                    &base);
  CHECK(all.evaluate(invoke("arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/pets")) ==
        decision::allow);
  CHECK(all.evaluate(invoke("arn:aws:execute-api:us-east-1:123456789012:other/prod/GET/pets")) ==
        decision::implicit_deny);
  CHECK(all.evaluate(invoke("arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/pets")) ==
        decision::implicit_deny);

  auto one = parsed(R"({"Statement": {"Effect": "Allow", "Principal": "*",
    "Action": "execute-api:Invoke", "Resource": ["execute-api:/prod/GET/pets"]}})",
                    &base);
  CHECK(one.evaluate(invoke("arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/pets")) ==
        decision::allow);
  CHECK(one.evaluate(invoke("arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/pets/1")) ==
        decision::implicit_deny);

  // Without a base the short form is taken literally and matches no method ARN.
  auto literal = parsed(R"({"Statement": {"Effect": "Allow", "Principal": "*",
    "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}})");
  CHECK(
      literal.evaluate(invoke("arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/pets")) ==
      decision::implicit_deny);
}

// ---------------------------------------------------------------------------------------------
// Principals
// ---------------------------------------------------------------------------------------------

TEST_CASE("policy: Principal forms", "[policy]") {
  auto facts_for = [](std::string_view principal) {
    auto f = invoke(pets_get);
    f.principal = principal;
    return f;
  };
  constexpr std::string_view alice = "arn:aws:iam::123456789012:user/alice";
  constexpr std::string_view bob = "arn:aws:iam::123456789012:user/bob";
  constexpr std::string_view role = "arn:aws:sts::123456789012:assumed-role/ops/session";
  constexpr std::string_view stranger = "arn:aws:iam::999999999999:user/alice";
  auto with_principal = [](std::string_view principal_json) {
    return parsed(std::string(R"({"Statement": {"Effect": "Allow", "Action": "*",
      "Resource": "*", "Principal": )") +
                  std::string(principal_json) + "}}");
  };

  SECTION("\"*\" and {\"AWS\": \"*\"} match everyone, anonymous included") {
    for (auto p : {with_principal(R"("*")"), with_principal(R"({"AWS": "*"})")}) {
      CHECK(p.evaluate(facts_for("")) == decision::allow);
      CHECK(p.evaluate(facts_for(alice)) == decision::allow);
      CHECK(p.evaluate(facts_for(stranger)) == decision::allow);
    }
  }
  SECTION("an account id or its root ARN matches every principal of the account") {
    for (auto p : {with_principal(R"({"AWS": "123456789012"})"),
                   with_principal(R"({"AWS": "arn:aws:iam::123456789012:root"})"),
                   with_principal(R"({"AWS": ["111111111111", "123456789012"]})")}) {
      CHECK(p.evaluate(facts_for(alice)) == decision::allow);
      CHECK(p.evaluate(facts_for(role)) == decision::allow);
      CHECK(p.evaluate(facts_for(stranger)) == decision::implicit_deny);
      CHECK(p.evaluate(facts_for("")) == decision::implicit_deny);
    }
  }
  SECTION("a principal ARN matches exactly that principal") {
    auto p = with_principal(R"({"AWS": "arn:aws:iam::123456789012:user/alice"})");
    CHECK(p.evaluate(facts_for(alice)) == decision::allow);
    CHECK(p.evaluate(facts_for(bob)) == decision::implicit_deny);
    CHECK(p.evaluate(facts_for(stranger)) == decision::implicit_deny);
    CHECK(p.evaluate(facts_for("")) == decision::implicit_deny);
  }
  SECTION("service principals never match an API caller") {
    auto p = with_principal(R"({"Service": "lambda.amazonaws.com"})");
    CHECK(p.evaluate(facts_for(alice)) == decision::implicit_deny);
  }
  SECTION("no Principal matches any caller") {
    auto p = parsed(R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})");
    CHECK(p.evaluate(facts_for("")) == decision::allow);
    CHECK(p.evaluate(facts_for(stranger)) == decision::allow);
  }
  SECTION("NotPrincipal matches everyone not listed") {
    auto p = parsed(R"({"Statement": [
      {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
      {"Effect": "Deny", "NotPrincipal": {"AWS": ["arn:aws:iam::123456789012:user/alice"]},
       "Action": "*", "Resource": "*"}]})");
    CHECK(p.evaluate(facts_for(alice)) == decision::allow);
    CHECK(p.evaluate(facts_for(bob)) == decision::explicit_deny);
    CHECK(p.evaluate(facts_for("")) == decision::explicit_deny);
  }
}

// ---------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------

TEST_CASE("policy: IP allow-list (AWS example, NotIpAddress deny)", "[policy]") {
  arn_base base{"us-east-1", "123456789012", "abc"};
  auto p = parsed(R"({
    "Version": "2012-10-17",
    "Statement": [
      {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
       "Resource": "execute-api:/*"},
      {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
       "Resource": "execute-api:/*",
       "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "198.51.100.0/24"]}}}
    ]})",
                  &base);
  CHECK(p.evaluate(invoke_from(pets_get, "192.0.2.10")) == decision::allow);
  CHECK(p.evaluate(invoke_from(pets_get, "198.51.100.200")) == decision::allow);
  CHECK(p.evaluate(invoke_from(pets_get, "::ffff:198.51.100.7")) == decision::allow);
  CHECK(p.evaluate(invoke_from(pets_get, "203.0.113.1")) == decision::explicit_deny);
  CHECK(p.evaluate(invoke_from(pets_get, "2001:db8::1")) == decision::explicit_deny);
  CHECK(p.evaluate(invoke_from(pets_get, "garbage")) == decision::explicit_deny);
}

TEST_CASE("policy: IP deny-list (AWS example, IpAddress deny)", "[policy]") {
  arn_base base{"us-east-1", "123456789012", "abc"};
  auto p = parsed(R"({"Statement": [
      {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
       "Resource": "execute-api:/*"},
      {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
       "Resource": "execute-api:/*",
       "Condition": {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "198.51.100.0/24"]}}}
    ]})",
                  &base);
  CHECK(p.evaluate(invoke_from(pets_get, "192.0.2.5")) == decision::explicit_deny);
  CHECK(p.evaluate(invoke_from(pets_get, "::ffff:192.0.2.5")) == decision::explicit_deny);
  CHECK(p.evaluate(invoke_from(pets_get, "10.0.0.1")) == decision::allow);
  CHECK(p.evaluate(invoke_from(pets_get, "::1")) == decision::allow);
}

TEST_CASE("policy: IPv6 source addresses", "[policy]") {
  auto p = parsed(R"({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*",
    "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}}})");
  CHECK(p.evaluate(invoke_from(pets_get, "2001:db8::1")) == decision::allow);
  CHECK(p.evaluate(invoke_from(pets_get, "2001:db8:ffff::1")) == decision::allow);
  CHECK(p.evaluate(invoke_from(pets_get, "2001:db9::1")) == decision::implicit_deny);
  CHECK(p.evaluate(invoke_from(pets_get, "192.0.2.1")) == decision::implicit_deny);
}

TEST_CASE("policy: aws:SourceVpce (private API examples)", "[policy]") {
  SECTION("allow only from one endpoint: StringNotEquals deny") {
    auto p = parsed(R"({"Statement": [
      {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*",
       "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}},
      {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*"}]})");
    auto f = invoke(pets_get);
    f.source_vpce = "vpce-1a2b3c4d";
    CHECK(p.evaluate(f) == decision::allow);
    f.source_vpce = "vpce-99999999";
    CHECK(p.evaluate(f) == decision::explicit_deny);
    // As IAM: a missing key satisfies a negated operator, so requests without an endpoint
    // are denied too.
    f.source_vpce = "";
    CHECK(p.evaluate(f) == decision::explicit_deny);
  }
  SECTION("allow from listed endpoints: StringEquals allow") {
    auto p = parsed(R"({"Statement": {"Effect": "Allow", "Principal": "*",
      "Action": "execute-api:Invoke", "Resource": "*",
      "Condition": {"StringEquals": {"aws:SourceVpce": ["vpce-1a2b3c4d", "vpce-5e6f7a8b"]}}}})");
    auto f = invoke(pets_get);
    f.source_vpce = "vpce-5e6f7a8b";
    CHECK(p.evaluate(f) == decision::allow);
    f.source_vpce = "vpce-5E6F7A8B";  // StringEquals is case-sensitive
    CHECK(p.evaluate(f) == decision::implicit_deny);
    f.source_vpce = "";
    CHECK(p.evaluate(f) == decision::implicit_deny);
  }
  SECTION("StringNotEqualsIfExists denies requests without an endpoint too") {
    auto p = parsed(R"({"Statement": [
      {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
       "Condition": {"StringNotEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c4d"}}},
      {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})");
    auto f = invoke(pets_get);
    f.source_vpce = "vpce-1a2b3c4d";
    CHECK(p.evaluate(f) == decision::allow);
    f.source_vpce = "";
    CHECK(p.evaluate(f) == decision::explicit_deny);
  }
}

TEST_CASE("policy: IfExists and missing keys", "[policy]") {
  auto allow_if = [](std::string_view condition) {
    return parsed(std::string(R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
      "Condition": )") +
                  std::string(condition) + "}}");
  };
  auto no_ip = invoke(pets_get);
  auto inside = invoke_from(pets_get, "192.0.2.1");
  auto outside = invoke_from(pets_get, "10.0.0.1");

  auto strict = allow_if(R"({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}})");
  CHECK(strict.evaluate(no_ip) == decision::implicit_deny);
  CHECK(strict.evaluate(inside) == decision::allow);

  auto lenient = allow_if(R"({"IpAddressIfExists": {"aws:SourceIp": "192.0.2.0/24"}})");
  CHECK(lenient.evaluate(no_ip) == decision::allow);
  CHECK(lenient.evaluate(inside) == decision::allow);
  CHECK(lenient.evaluate(outside) == decision::implicit_deny);

  auto negated = allow_if(R"({"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}})");
  CHECK(negated.evaluate(no_ip) == decision::allow);  // missing key: a negated operator holds
  CHECK(negated.evaluate(outside) == decision::allow);
  CHECK(negated.evaluate(inside) == decision::implicit_deny);

  auto null_check = allow_if(R"({"Null": {"aws:SourceVpce": "true"}})");
  auto from_vpce = invoke(pets_get);
  from_vpce.source_vpce = "vpce-1";
  CHECK(null_check.evaluate(no_ip) == decision::allow);
  CHECK(null_check.evaluate(from_vpce) == decision::implicit_deny);
}

TEST_CASE("policy: conditions combine with AND across keys, OR across values", "[policy]") {
  auto p = parsed(R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
    "Condition": {
      "IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]},
      "Bool": {"aws:SecureTransport": "true"},
      "StringLike": {"aws:UserAgent": ["curl/*", "Mozilla/*"]}}}})");
  auto f = invoke_from(pets_get, "2001:db8::5");
  f.secure_transport = true;
  f.user_agent = "curl/8.1";
  CHECK(p.evaluate(f) == decision::allow);
  f.user_agent = "Mozilla/5.0 (X11)";
  CHECK(p.evaluate(f) == decision::allow);
  f.user_agent = "wget/1.0";
  CHECK(p.evaluate(f) == decision::implicit_deny);
  f.user_agent = "curl/8.1";
  f.secure_transport = false;
  CHECK(p.evaluate(f) == decision::implicit_deny);
  f.secure_transport = true;
  f.source_ip = "198.51.100.1";
  CHECK(p.evaluate(f) == decision::implicit_deny);
}

TEST_CASE("policy: string operators", "[policy]") {
  auto allow_if = [](std::string_view op, std::string_view values) {
    return parsed(std::string(R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
      "Condition": {")") +
                  std::string(op) + R"(": {"aws:Referer": )" + std::string(values) + "}}}}");
  };
  auto from = [](std::string_view referer) {
    auto f = invoke(pets_get);
    f.referer = referer;
    return f;
  };
  auto eq_ic = allow_if("StringEqualsIgnoreCase", R"("HTTPS://Example.com/")");
  CHECK(eq_ic.evaluate(from("https://example.COM/")) == decision::allow);
  CHECK(eq_ic.evaluate(from("https://example.org/")) == decision::implicit_deny);

  auto ne_ic =
      allow_if("StringNotEqualsIgnoreCase", R"(["https://a.example/", "https://b.example/"])");
  CHECK(ne_ic.evaluate(from("HTTPS://A.EXAMPLE/")) == decision::implicit_deny);
  CHECK(ne_ic.evaluate(from("https://c.example/")) == decision::allow);

  auto like = allow_if("StringLike", R"("https://*.example.com/*")");
  CHECK(like.evaluate(from("https://www.example.com/page")) == decision::allow);
  CHECK(like.evaluate(from("https://www.EXAMPLE.com/page")) == decision::implicit_deny);

  auto not_like = allow_if("StringNotLike", R"(["*evil*", "*spam*"])");
  CHECK(not_like.evaluate(from("https://good.example/")) == decision::allow);
  CHECK(not_like.evaluate(from("https://spam.example/")) == decision::implicit_deny);

  auto ne = allow_if("StringNotEquals", R"(["a", "b"])");
  CHECK(ne.evaluate(from("c")) == decision::allow);
  CHECK(ne.evaluate(from("b")) == decision::implicit_deny);
}

TEST_CASE("policy: aws:PrincipalArn conditions", "[policy]") {
  auto p = parsed(R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
    "Condition": {"ArnLike": {"aws:principalarn": "arn:aws:iam::123456789012:role/ops-*"}}}})");
  auto f = invoke(pets_get);
  f.principal = "arn:aws:iam::123456789012:role/ops-admin";
  CHECK(p.evaluate(f) == decision::allow);
  f.principal = "arn:aws:iam::123456789012:role/dev";
  CHECK(p.evaluate(f) == decision::implicit_deny);
  f.principal = "";
  CHECK(p.evaluate(f) == decision::implicit_deny);
}

TEST_CASE("policy: time conditions", "[policy]") {
  // 2026-01-01T00:00:00Z is 1767225600 seconds after the epoch.
  auto window = parsed(R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
    "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2025-12-31T00:00:00Z"},
                  "DateLessThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}}})");
  auto f = invoke(pets_get);
  f.now = at_epoch_seconds(1767225600 - 1);
  CHECK(window.evaluate(f) == decision::allow);
  f.now = at_epoch_seconds(1767225600);
  CHECK(window.evaluate(f) == decision::implicit_deny);
  f.now = at_epoch_seconds(1767225600 - 86400);
  CHECK(window.evaluate(f) == decision::implicit_deny);

  auto epoch_dates = parsed(R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
    "Condition": {"DateLessThan": {"aws:EpochTime": 1767225600}}}})");
  f.now = at_epoch_seconds(1767225599);
  CHECK(epoch_dates.evaluate(f) == decision::allow);
  f.now = at_epoch_seconds(1767225600);
  CHECK(epoch_dates.evaluate(f) == decision::implicit_deny);

  auto numeric = parsed(R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
    "Condition": {"NumericGreaterThanEquals": {"aws:EpochTime": "1767225600"}}}})");
  CHECK(numeric.evaluate(f) == decision::allow);
  f.now = at_epoch_seconds(1767225599);
  CHECK(numeric.evaluate(f) == decision::implicit_deny);

  auto offset = parsed(R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
    "Condition": {"DateLessThan": {"aws:CurrentTime": "2026-01-01T01:00:00+01:00"}}}})");
  f.now = at_epoch_seconds(1767225599);
  CHECK(offset.evaluate(f) == decision::allow);
  f.now = at_epoch_seconds(1767225600);
  CHECK(offset.evaluate(f) == decision::implicit_deny);

  auto iso_text = parsed(R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
    "Condition": {"StringLike": {"aws:CurrentTime": "2026-01-01T*"}}}})");
  f.now = at_epoch_seconds(1767225600 + 3600);
  CHECK(iso_text.evaluate(f) == decision::allow);

  // Facts without a time are evaluated at the clock's time.
  auto since_2020 = parsed(R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
    "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}}}})");
  CHECK(since_2020.evaluate(invoke(pets_get)) == decision::allow);
}

TEST_CASE("policy: Bool and numeric values may be JSON literals", "[policy]") {
  auto p = parsed(R"({"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*",
    "Condition": {"Bool": {"aws:SecureTransport": false}}}})");
  auto f = invoke(pets_get);
  CHECK(p.evaluate(f) == decision::explicit_deny);
  f.secure_transport = true;
  CHECK(p.evaluate(f) == decision::implicit_deny);

  auto upper = parsed(R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
    "Condition": {"Bool": {"aws:SecureTransport": "TRUE"}}}})");
  CHECK(upper.evaluate(f) == decision::allow);
}

TEST_CASE("policy: condition keys are case-insensitive", "[policy]") {
  auto p = parsed(R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
    "Condition": {"IpAddress": {"AWS:SOURCEIP": "192.0.2.0/24"}}}})");
  CHECK(p.evaluate(invoke_from(pets_get, "192.0.2.9")) == decision::allow);
}

TEST_CASE("policy: copies evaluate like the original", "[policy]") {
  auto original = parsed(R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
    "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}})");
  policy copy = original;
  policy moved = std::move(original);
  CHECK(copy.evaluate(invoke_from(pets_get, "192.0.2.9")) == decision::allow);
  CHECK(moved.evaluate(invoke_from(pets_get, "10.0.0.1")) == decision::implicit_deny);
}

// ---------------------------------------------------------------------------------------------
// Malformed documents
// ---------------------------------------------------------------------------------------------

TEST_CASE("policy: malformed documents are rejected with a reason", "[policy]") {
  struct bad_case {
    const char* json;
    const char* mentions;
  };
  const bad_case cases[] = {
      {"", "not valid JSON"},
      {"null", "not a JSON object"},
      {"42", "not a JSON object"},
      {"\"Statement\"", "not a JSON object"},
      {"[]", "not a JSON object"},
      {"{", "not valid JSON"},
      {R"({"Statement": []} trailing)", "not valid JSON"},
      {R"({})", "Statement"},
      {R"({"Version": "2020-01-01", "Statement": []})", "Version"},
      {R"({"Version": 2012, "Statement": []})", "Version"},
      {R"({"Statement": "Allow"})", "Statement must be an object or an array"},
      {R"({"Statement": null})", "Statement must be an object or an array"},
      {R"({"Statement": [42]})", "Statement[0] is not an object"},
      {R"({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, []]})",
       "Statement[1] is not an object"},
      {R"({"Statement": {"Action": "*", "Resource": "*"}})", "Statement[0].Effect"},
      {R"({"Statement": {"Effect": "allow", "Action": "*", "Resource": "*"}})",
       "Statement[0].Effect"},
      {R"({"Statement": {"Effect": true, "Action": "*", "Resource": "*"}})", "Statement[0].Effect"},
      {R"({"Statement": {"Effect": "Allow", "Resource": "*"}})", "Action or NotAction"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "NotAction": "x", "Resource": "*"}})",
       "both Action and NotAction"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*"}})", "Resource or NotResource"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "NotResource": "*"}})",
       "both Resource and NotResource"},
      {R"({"Statement": {"Effect": "Allow", "Action": 7, "Resource": "*"}})",
       "Statement[0].Action"},
      {R"({"Statement": {"Effect": "Allow", "Action": [], "Resource": "*"}})",
       "Statement[0].Action is an empty array"},
      {R"({"Statement": {"Effect": "Allow", "Action": ["*", 1], "Resource": "*"}})",
       "Statement[0].Action[1]"},
      {R"({"Statement": {"Effect": "Allow", "Action": "", "Resource": "*"}})",
       "Statement[0].Action"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": {"a": 1}}})",
       "Statement[0].Resource"},
      {R"({"Statement": {"Effect": "Allow", "NotAction": "*", "NotResource": [null]}})",
       "Statement[0].NotResource[0]"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Extra": 1}})",
       "unknown field \"Extra\""},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "effect": "Deny"}})",
       "unknown field \"effect\""},
      {R"({"Statement": {"Effect": "Allow", "Effect": "Deny", "Action": "*", "Resource": "*"}})",
       "\"Effect\" twice"},
      {R"({"Statement": {"Sid": 1, "Effect": "Allow", "Action": "*", "Resource": "*"}})",
       "Statement[0].Sid"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "Principal": "*", "NotPrincipal": "*"}})",
       "both Principal and NotPrincipal"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "Principal": "123456789012"}})",
       "Statement[0].Principal"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": {}}})",
       "Statement[0].Principal"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "Principal": {"Aws": "*"}}})",
       "unknown principal type \"Aws\""},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "Principal": {"AWS": 123456789012}}})",
       "Statement[0].Principal.AWS"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "NotPrincipal": [1]}})",
       "Statement[0].NotPrincipal"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": []}})",
       "Statement[0].Condition must be an object"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "Condition": {"StringEqual": {"aws:SourceVpce": "v"}}}})",
       "unknown condition operator \"StringEqual\""},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "Condition": {"ForAnyValue:StringEquals": {"aws:SourceVpce": "v"}}}})",
       "unknown condition operator"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "Condition": {"NullIfExists": {"aws:SourceVpce": "true"}}}})",
       "unknown condition operator \"NullIfExists\""},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}}})",
       "Statement[0].Condition.StringEquals has an unknown condition key \"aws:SourceVpc\""},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "Condition": {"StringEquals": "aws:SourceVpce"}}})",
       "Statement[0].Condition.StringEquals must be an object"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "Condition": {"IpAddress": {"aws:SourceIp": "1.2.3.4/33"}}}})",
       "Statement[0].Condition.IpAddress.aws:SourceIp: \"1.2.3.4/33\" is not an IP address"},
      {R"({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
          {"Effect": "Deny", "Action": "*", "Resource": "*",
           "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "x"]}}}]})",
       "Statement[1].Condition.NotIpAddress.aws:SourceIp[1]"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "Condition": {"StringEquals": {"aws:SourceVpce": []}}}})",
       "aws:SourceVpce is an empty array"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "Condition": {"StringEquals": {"aws:SourceVpce": {"a": "b"}}}}})",
       "aws:SourceVpce must be a string, number or boolean"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "Condition": {"StringEquals": {"aws:SourceVpce": [null]}}}})",
       "aws:SourceVpce[0] must be a string, number or boolean"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "Condition": {"Bool": {"aws:SecureTransport": "yes"}}}})",
       "Bool.aws:SecureTransport must be \"true\" or \"false\""},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "Condition": {"NumericLessThan": {"aws:EpochTime": "soon"}}}})",
       "NumericLessThan.aws:EpochTime: \"soon\" is not a number"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "Condition": {"DateLessThan": {"aws:CurrentTime": "2026-13-01T00:00:00Z"}}}})",
       "DateLessThan.aws:CurrentTime: \"2026-13-01T00:00:00Z\" is not an ISO 8601 date"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "Condition": {"DateLessThan": {"aws:CurrentTime": "2026-01-01T25:00:00Z"}}}})",
       "DateLessThan.aws:CurrentTime"},
      {R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
          "Condition": {"DateLessThan": {"aws:CurrentTime": "tomorrow"}}}})",
       "DateLessThan.aws:CurrentTime"},
  };
  for (const auto& c : cases) {
    auto why = rejection(c.json);
    INFO("policy: " << c.json);
    CHECK_THAT(why, Contains(c.mentions));
  }
}

TEST_CASE("policy: odd but valid documents", "[policy]") {
  // Unknown top-level keys are ignored; Version is optional; 2008-10-17 is accepted.
  CHECK(parsed(R"({"Id": "x", "Whatever": [1, 2], "Statement": []})").empty());
  CHECK(parsed(R"({"Version": "2008-10-17", "Statement": []})").empty());
  // Sid, a Condition with no operators, and a null `why` are all fine.
  auto p = policy::parse(R"({"Statement": {"Sid": "A1", "Effect": "Allow", "Action": "*",
    "Resource": "*", "Condition": {}}})",
                         nullptr);
  REQUIRE(p);
  CHECK(p->evaluate(invoke(pets_get)) == decision::allow);
  CHECK_FALSE(policy::parse("nope", nullptr));
}

TEST_CASE("policy: hostile input never crashes", "[policy]") {
  std::string deep(100000, '[');
  CHECK_FALSE(policy::parse(deep, nullptr));
  std::string deep_object =
      R"({"Statement": )" + std::string(50000, '[') + std::string(50000, ']') + "}";
  std::string why;
  CHECK_FALSE(policy::parse(deep_object, &why));
  CHECK_THAT(why, Contains("Nesting too deep"));  // past 1,000 levels: not JSON
  CHECK_FALSE(policy::parse(std::string_view("{\"Statement\"\0: []}", 18), nullptr));
  CHECK_FALSE(policy::parse("\xff\xfe", nullptr));
  CHECK_FALSE(policy::parse("1e999", nullptr));
  // Embedded NULs inside strings are kept and never match more than they say.
  auto p = parsed(R"({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "a\u0000*"}})");
  CHECK(p.evaluate(invoke(std::string_view("a\0b", 3))) == decision::allow);
  CHECK(p.evaluate(invoke("ab")) == decision::implicit_deny);
}

TEST_CASE("policy: whether evaluation reads more than the action and resource", "[policy]") {
  CHECK(parsed(R"({"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"},
                   {"Effect":"Deny","Action":"*","Resource":"arn:*/DELETE/*"}]})")
            .reads_only_action_and_resource());
  CHECK_FALSE(
      parsed(R"({"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*",
                         "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]})")
          .reads_only_action_and_resource());
  CHECK_FALSE(parsed(R"({"Statement":[{"Effect":"Allow","Principal":"*",
                         "Action":"execute-api:Invoke","Resource":"*"}]})")
                  .reads_only_action_and_resource());
}
