// authorizer_result::from_json: AWS's Lambda authorizer output, however deeply it nests.

#include <gatehouse/authorizer.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>

using gatehouse::authorizer_result;

namespace {
std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }
}  // namespace

TEST_CASE("authorizer output nested a million levels deep is refused without a stack overflow",
          "[authorizer]") {
  // Found while fuzzing the authorizer output parser: a recursive parse, and writing the policy
  // document object out again, overflowed the stack. Past 1,000 levels the output is not JSON.
  std::string why;
  CHECK_FALSE(authorizer_result::from_json(nested(1'000'000), &why));
  CHECK(why == "the output is not a JSON object");
  CHECK_FALSE(authorizer_result::from_json(
      R"({"principalId":"p","policyDocument":{"Statement":)" + nested(1'000'000) + "}}", &why));
  CHECK(why == "the output is not a JSON object");
  CHECK_FALSE(authorizer_result::from_json(
      R"({"principalId":"p","policyDocument":{"Statement":)" + nested(990) + "}}", &why));
  CHECK(why == "policyDocument is nested too deeply");
  CHECK_FALSE(authorizer_result::from_json(
      R"({"principalId":"p","context":{"a":)" + nested(990) + "}}", &why));
  CHECK(why == "context value 'a' is not a string, number or boolean");
  // Ignored members may nest as deep as JSON goes.
  const auto r =
      authorizer_result::from_json(R"({"principalId":"p","other":)" + nested(999) + "}", &why);
  REQUIRE(r);
  CHECK(r->principal_id == "p");
}

TEST_CASE("a policy document object keeps its text, up to 32 levels deep", "[authorizer]") {
  std::string why;
  const auto r = authorizer_result::from_json(
      R"({"principalId":"p","policyDocument":{"Version":"2012-10-17","Statement":[{"Effect":)"
      R"("Allow","Action":"execute-api:Invoke","Resource":"*","Condition":{"IpAddress":)"
      R"({"aws:SourceIp":["10.0.0.0/8"]}}}]}})",
      &why);
  REQUIRE(r);
  CHECK(r->policy_document ==
        R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke",)"
        R"("Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8"]}}}]})");
  // The object itself is level 1.
  CHECK(authorizer_result::from_json(
      R"({"principalId":"p","policyDocument":{"a":)" + nested(31) + "}}", &why));
  CHECK_FALSE(authorizer_result::from_json(
      R"({"principalId":"p","policyDocument":{"a":)" + nested(32) + "}}", &why));
}
