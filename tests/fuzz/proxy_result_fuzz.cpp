// Fuzz target: what a function integration or an authorizer hands back to the gateway. The same
// bytes go to each parser: the Lambda proxy result (payload formats 1.0 and 2.0, then into an
// HTTP response), the custom authorizer's output (then its policy document), and an IAM policy
// document (as an authorizer's policy and as a resource policy), evaluated for a few requests.
// Nothing may crash, hang or leak; a refusal gives a reason; a response built is valid HTTP.

#include "auth/policy.hpp"
#include "integration/proxy_response.hpp"

#include <gatehouse/gatehouse.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

void check_proxy_result(std::string_view json, gatehouse::payload_format format) {
  std::string why;
  auto result = gatehouse::proxy_result::from_json(json, format, &why);
  if (!result) {
    check(!why.empty());
    return;
  }
  gatehouse::response out;
  if (!gatehouse::detail::to_response(std::move(*result), format, out, why)) {
    check(!why.empty());
    return;
  }
  check(out.status >= 100 && out.status <= 599);
  for (const auto& field : out.headers) {
    check(!field.name.empty());
    for (char c : field.value) check(c != '\r' && c != '\n' && c != '\0');
  }
}

void check_policy(const gatehouse::auth::policy& policy) {
  using namespace std::chrono_literals;
  const std::chrono::system_clock::time_point now{1700000000s};
  gatehouse::auth::request_facts facts{
      .resource = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/pets/1",
      .principal = "arn:aws:iam::123456789012:user/alice",
      .source_ip = "192.0.2.7",
      .source_vpce = "vpce-0123456789abcdef0",
      .secure_transport = true,
      .user_agent = "curl/7.88.1",
      .referer = "https://example.com/",
      .now = now};
  (void)policy.evaluate(facts);
  facts.resource = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/";
  facts.principal = {};
  facts.source_ip = "::ffff:10.1.2.3";
  facts.source_vpce = {};
  facts.secure_transport = false;
  facts.action = "execute-api:InvalidateCache";
  (void)policy.evaluate(facts);
  facts.source_ip = "2001:db8::1";
  facts.user_agent = {};
  (void)policy.evaluate(facts);
  gatehouse::auth::policy both = policy;
  both.append(policy);
  check(both.size() == 2 * policy.size());
  (void)both.evaluate(facts);
}

void check_policy_text(std::string_view json) {
  std::string why;
  if (auto p = gatehouse::auth::policy::parse(json, &why)) {
    check_policy(*p);
  } else {
    check(!why.empty());
  }
  const gatehouse::auth::arn_base base{"us-east-1", "123456789012", "abc123"};
  if (auto p = gatehouse::auth::policy::parse(json, &why, &base)) check_policy(*p);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_proxy_result(input, gatehouse::payload_format::v1);
  check_proxy_result(input, gatehouse::payload_format::v2);

  std::string why;
  if (auto r = gatehouse::authorizer_result::from_json(input, &why)) {
    check_policy_text(r->policy_document);
  } else {
    check(!why.empty());
  }
  check_policy_text(input);
  return 0;
}
