#pragma once

// IAM authorization (AWS_IAM): the credential store a host fills in code, and the options of the
// authorizer that verifies Signature Version 4 against it (Authorizer::iam).

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse {

/// One access key of an IAM principal (a user, or a role session with temporary credentials).
struct iam_credential {
  std::string access_key_id{};      ///< "AKIA…": 16–128 letters and digits
  std::string secret_access_key{};  ///< what requests are signed with; never leaves the store
  /// The principal: arn:aws:iam::123456789012:user/alice, or for a role session
  /// arn:aws:sts::123456789012:assumed-role/reader/session. Its account id is the caller's.
  std::string principal_arn{};
  /// AWS's unique id of the principal ($context.identity.user and .caller: "AIDA…", or
  /// "AROA…:session" for a role); empty: the access key id.
  std::string user_id{};
  /// The principal's identity policies (IAM JSON documents) for execute-api:Invoke and
  /// execute-api:InvalidateCache on method ARNs. A request is allowed when one of them or the
  /// API's resource policy allows it, and neither denies it.
  std::vector<std::string> policies{};
  /// Temporary credentials: requests must carry this as X-Amz-Security-Token; "" for none.
  std::string session_token{};
  /// Temporary credentials stop working at this time (403 "The security token included in the
  /// request is expired"); unset: never.
  std::optional<std::chrono::system_clock::time_point> expires{};
};

namespace detail {
struct iam_store;
}

/// The credential store: access key id → credential. The host fills it in code, before or while
/// serving, from any thread; a change applies to the next request. Cheap to copy: copies share
/// one store.
class IamCredentials {
 public:
  IamCredentials();

  /// Adds a credential, or replaces the one with its access key id. Throws config_error, naming
  /// the access key, for a missing or malformed field or policy.
  void put(iam_credential credential);
  /// Removes an access key: requests signed with it are refused from now on. False if unknown.
  bool remove(std::string_view access_key_id);
  /// The number of access keys.
  std::size_t size() const;

  /// Adds one credential per row of a CSV file with the header
  /// `access_key_id,secret_access_key,user_arn` (any order and case; more columns ignored),
  /// each with `policies`. All or nothing: a config_error names every bad row by line.
  void import_csv(std::string_view csv, const std::vector<std::string>& policies);

  const std::shared_ptr<detail::iam_store>& store() const noexcept { return store_; }

 private:
  std::shared_ptr<detail::iam_store> store_{};
};

/// Settings of an IAM authorizer.
struct iam_options {
  std::string name = "iam";
  IamCredentials credentials{};
  /// The region requests must be signed for; "" means the gateway's (gateway_options::region).
  std::string region{};
  /// How far a signature's date may be from the gateway's clock: AWS's 5 minutes.
  std::chrono::seconds clock_skew{300};
};

}  // namespace gatehouse
