#pragma once

// IAM policy documents for the execute-api service: API resource policies and the policies
// Lambda authorizers return. A document is parsed and compiled once (CIDRs parsed, actions
// lowercased, short-form resources expanded), then evaluated per request without allocating.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::auth {

/// The outcome of evaluating a policy, in IAM's terms.
enum class decision { implicit_deny, allow, explicit_deny };

/// "implicit_deny", "allow" or "explicit_deny", for logs and test output.
std::string_view to_string(decision d) noexcept;

/// What conditions, principals, actions and resources are tested against. An empty view means
/// the value is absent (its condition keys are missing).
struct request_facts {
  std::string_view action = "execute-api:Invoke";
  /// A method ARN: arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/pets/1
  std::string_view resource;
  /// The caller's ARN (arn:aws:iam::123456789012:user/alice); "" = anonymous.
  std::string_view principal;
  /// As the socket gave it: "127.0.0.1", "::1", "::ffff:127.0.0.1".
  std::string_view source_ip;
  /// The private endpoint id ("vpce-0abc…") or "".
  std::string_view source_vpce;
  bool secure_transport = false;
  std::string_view user_agent;
  std::string_view referer;
  /// The time for aws:CurrentTime / aws:EpochTime; left default, the clock is read instead.
  std::chrono::system_clock::time_point now{};
};

/// For expanding resource-policy short forms "execute-api:/prod/GET/pets" and "execute-api:/*"
/// into arn:aws:execute-api:{region}:{account}:{api_id}/prod/GET/pets.
struct arn_base {
  std::string_view region, account_id, api_id;
};

namespace policy_detail {
struct statement;  // a compiled statement, defined in policy.cpp
}

/// A parsed, compiled IAM policy document.
class policy {
 public:
  /// Parses an IAM policy document. nullopt + *why (a clear English reason naming the
  /// statement index / field) when malformed; `why` may be null. `base` given → short-form
  /// resources are expanded (resource policies); without it they are taken literally.
  static std::optional<policy> parse(std::string_view json, std::string* why,
                                     const arn_base* base = nullptr);

  /// Explicit Deny wins; else some Allow → allow; else implicit_deny. A statement applies when
  /// its action, resource, principal and every condition match.
  ///
  /// A condition whose key is missing from the facts (an empty view) is false for positive
  /// operators unless they end in IfExists, and true for negated ones (as IAM: a
  /// {"Deny", StringNotEquals aws:SourceVpce} statement denies requests without an endpoint);
  /// Null tests presence.
  decision evaluate(const request_facts& facts) const noexcept;

  /// Adds another document's statements: evaluating the result is evaluating both together, as
  /// IAM evaluates all the policies attached to a principal.
  void append(const policy& other);

  /// True when no statement names a principal or has a condition: then evaluate() reads only
  /// the facts' action and resource.
  bool reads_only_action_and_resource() const noexcept;

  /// True when the document has no statements (every request is implicitly denied).
  bool empty() const noexcept;
  /// The number of statements.
  std::size_t size() const noexcept;

  policy(const policy&);
  policy(policy&&) noexcept;
  policy& operator=(const policy&);
  policy& operator=(policy&&) noexcept;
  ~policy();

 private:
  policy();

  std::vector<policy_detail::statement> statements_;
};

/// IAM-style glob: '*' any run of characters (including none and '/'), '?' exactly one.
/// Case-sensitive. Backtracks only to the last '*', so the cost is at most pattern × value
/// steps, never exponential ("a*a*a*…b").
bool glob_match(std::string_view pattern, std::string_view value) noexcept;

/// glob_match with ASCII letters compared case-insensitively.
bool glob_match_ignore_case(std::string_view pattern, std::string_view value) noexcept;

/// arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{METHOD}/{path without leading '/'}
/// The root path "/" gives ".../prod/GET/".
std::string method_arn(std::string_view region, std::string_view account, std::string_view api_id,
                       std::string_view stage, std::string_view method, std::string_view path);
/// The part of a method ARN before the method: arn:aws:execute-api:{region}:{account}:{api_id}/
/// {stage}/.
std::string method_arn_prefix(std::string_view region, std::string_view account,
                              std::string_view api_id, std::string_view stage);
/// method_arn from its prefix, written into `out` (replacing its contents, keeping its buffer).
void write_method_arn(std::string& out, std::string_view prefix, std::string_view method,
                      std::string_view path);

}  // namespace gatehouse::auth
