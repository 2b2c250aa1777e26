#include "auth/iam_store.hpp"
#include "auth/policy.hpp"
#include "util/csv.hpp"
#include "util/text.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/iam.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace gatehouse {

namespace detail {
std::shared_ptr<const iam_entry> iam_store::find(std::string_view access_key_id) const {
  std::shared_lock lock(mutex);
  auto it = entries.find(access_key_id);
  return it == entries.end() ? nullptr : it->second;
}
}  // namespace detail

namespace {
bool alnum(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

// arn:aws:iam::123456789012:user/alice → "123456789012"; "" when it is not such an ARN.
std::string_view account_of(std::string_view arn) {
  // arn : partition : service : region : account : resource
  std::string_view parts[6];
  for (int i = 0; i < 5; ++i) {
    auto colon = arn.find(':');
    if (colon == std::string_view::npos) return {};
    parts[i] = arn.substr(0, colon);
    arn.remove_prefix(colon + 1);
  }
  parts[5] = arn;
  if (parts[0] != "arn" || parts[1].empty() || (parts[2] != "iam" && parts[2] != "sts") ||
      parts[5].empty())
    return {};
  const auto account = parts[4];
  if (account.size() != 12 ||
      !std::all_of(account.begin(), account.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return {};
  return account;
}

// Checks a credential and compiles it into the entry requests use.
std::shared_ptr<const detail::iam_entry> compile(iam_credential c) {
  auto fail = [&](const std::string& why) {
    throw config_error(fmt::format("IAM credential '{}': {}", c.access_key_id, why));
  };
  if (c.access_key_id.size() < 16 || c.access_key_id.size() > 128 || !alnum(c.access_key_id))
    fail("the access key id must be 16 to 128 letters and digits");
  if (c.secret_access_key.empty()) fail("no secret access key");
  const auto account = account_of(c.principal_arn);
  if (account.empty())
    fail(
        fmt::format("principal_arn '{}' is not an IAM or STS ARN with a 12-digit account "
                    "(arn:aws:iam::123456789012:user/name)",
                    c.principal_arn));
  if (c.expires && c.session_token.empty())
    fail("an expiry is for temporary credentials, which need a session token");

  auto auth = std::make_shared<auth::authorization>();
  for (std::size_t i = 0; i < c.policies.size(); ++i) {
    std::string why;
    auto p = auth::policy::parse(c.policies[i], &why);
    if (!p) fail(fmt::format("policy {}: {}", i, why));
    if (auth->policy_document)
      auth->policy_document->append(*p);
    else
      auth->policy_document = std::move(*p);
  }
  auth->access_key = c.access_key_id;
  auth->account_id = std::string(account);
  auth->caller = c.user_id.empty() ? c.access_key_id : c.user_id;
  auth->user_arn = std::move(c.principal_arn);

  auto entry = std::make_shared<detail::iam_entry>();
  entry->secret = std::move(c.secret_access_key);
  entry->session_token = std::move(c.session_token);
  entry->expires = c.expires;
  entry->auth = std::move(auth);
  return entry;
}

}  // namespace

IamCredentials::IamCredentials() : store_(std::make_shared<detail::iam_store>()) {}

void IamCredentials::put(iam_credential credential) {
  std::string id = credential.access_key_id;
  auto entry = compile(std::move(credential));
  std::unique_lock lock(store_->mutex);
  store_->entries.insert_or_assign(std::move(id), std::move(entry));
}

bool IamCredentials::remove(std::string_view access_key_id) {
  std::unique_lock lock(store_->mutex);
  auto it = store_->entries.find(access_key_id);
  if (it == store_->entries.end()) return false;
  store_->entries.erase(it);
  return true;
}

std::size_t IamCredentials::size() const {
  std::shared_lock lock(store_->mutex);
  return store_->entries.size();
}

void IamCredentials::import_csv(std::string_view csv, const std::vector<std::string>& policies) {
  std::vector<std::string> errors;
  const auto records = util::split_csv(csv, errors);
  if (records.empty()) {
    throw config_error(
        "IAM credentials CSV: no header row (access_key_id,secret_access_key,user_arn)");
  }
  int col_key = -1, col_secret = -1, col_arn = -1;
  const auto& header = records.front();
  for (std::size_t c = 0; c < header.fields.size(); ++c) {
    const auto h = util::ascii_lower(header.fields[c]);
    int* col = h == "access_key_id"       ? &col_key
               : h == "secret_access_key" ? &col_secret
               : h == "user_arn"          ? &col_arn
                                          : nullptr;
    if (col) *col = static_cast<int>(c);
  }
  if (col_key < 0 || col_secret < 0 || col_arn < 0) {
    throw config_error(fmt::format(
        "IAM credentials CSV: line {}: the header needs access_key_id, secret_access_key and "
        "user_arn (found: {})",
        header.line, fmt::join(header.fields, ",")));
  }
  auto field = [](const util::csv_record& r, int col) {
    return static_cast<std::size_t>(col) < r.fields.size() ? r.fields[col] : std::string();
  };
  std::vector<std::pair<std::string, std::shared_ptr<const detail::iam_entry>>> compiled;
  for (std::size_t i = 1; i < records.size(); ++i) {
    const auto& r = records[i];
    iam_credential c;
    c.access_key_id = field(r, col_key);
    c.secret_access_key = field(r, col_secret);
    c.principal_arn = field(r, col_arn);
    c.policies = policies;
    try {
      std::string id = c.access_key_id;
      compiled.emplace_back(std::move(id), compile(std::move(c)));
    } catch (const config_error& e) {
      errors.push_back(fmt::format("line {}: {}", r.line, e.what()));
    }
  }
  if (!errors.empty()) {
    throw config_error(fmt::format("IAM credentials CSV: {}", fmt::join(errors, "; ")));
  }
  std::unique_lock lock(store_->mutex);
  for (auto& [id, entry] : compiled)
    store_->entries.insert_or_assign(std::move(id), std::move(entry));
}

}  // namespace gatehouse
