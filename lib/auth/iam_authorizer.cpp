// IAM authorization (AWS_IAM): step 4 for methods whose callers sign with Signature Version 4.
// The request is verified against the credential store, then the caller's identity policies and
// the API's resource policy decide, as IAM combines them within one account: an explicit Deny
// in either refuses, else an Allow in either admits, else the request is implicitly denied.

#include "auth/authorizer_impl.hpp"
#include "auth/evaluate.hpp"
#include "auth/iam_store.hpp"
#include "auth/sigv4.hpp"
#include "routing/deployment.hpp"

#include <gatehouse/authorizer.hpp>
#include <gatehouse/config_error.hpp>

#include <openssl/crypto.h>

#include <fmt/format.h>

#include <array>

namespace gatehouse {

namespace detail {
namespace {

constexpr std::string_view msg_invalid_token =
    "The security token included in the request is invalid.";

// The request as the verifier reads it: views into the exchange. Up to 48 header fields live on
// the stack; more spill to the heap.
class request_view {
 public:
  explicit request_view(const request& req) {
    const std::size_t n = req.headers.size();
    std::span<sigv4_field> out(small_);
    if (n > small_.size()) {
      large_.resize(n);
      out = large_;
    }
    std::size_t i = 0;
    for (const auto& f : req.headers) out[i++] = {f.name, f.value};
    auto [path, query] = auth::sigv4::split_target(req.target);
    signed_ = {req.method, path, query, out.first(n), req.body};
  }
  const auth::sigv4::signed_request& get() const noexcept { return signed_; }

 private:
  using sigv4_field = auth::sigv4::header_field;
  std::array<sigv4_field, 48> small_;
  std::vector<sigv4_field> large_;
  auth::sigv4::signed_request signed_;
};

bool same_token(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

class iam_authorizer final : public authorizer_impl {
 public:
  explicit iam_authorizer(iam_options o)
      : authorizer_impl(o.name),
        options_(std::move(o)),
        verifier_({.region = options_.region,
                   .service = "execute-api",
                   .clock_skew = options_.clock_skew},
                  nullptr) {
    if (options_.clock_skew < std::chrono::seconds(1) ||
        options_.clock_skew > std::chrono::seconds(3600)) {
      throw config_error(fmt::format("IAM authorizer '{}': clock_skew {} s is outside 1 to 3,600 s",
                                     name, options_.clock_skew.count()));
    }
    if (!options_.credentials.store())
      throw config_error(fmt::format("IAM authorizer '{}': no credential store", name));
  }

  std::optional<std::optional<gateway_error>> try_authorize(exchange& ex) const override {
    return decide(ex);
  }
  asio::awaitable<std::optional<gateway_error>> authorize(exchange& ex) const override {
    co_return decide(ex);
  }
  void flush() const override {}
  bool checks_resource_policy() const noexcept override { return true; }
  std::string_view describe(spec::authorizer_model&, const export_context&) const override {
    return "AWS_IAM";
  }

 private:
  std::optional<gateway_error> decide(exchange& ex) const {
    namespace sigv4 = auth::sigv4;
    const request_view view(ex.req);
    std::shared_ptr<const iam_entry> entry;
    const auto& store = *options_.credentials.store();
    const sigv4::secret_lookup lookup = [&](std::string_view key) -> std::optional<std::string> {
      entry = store.find(key);
      if (!entry) return std::nullopt;
      return entry->secret;
    };
    const std::string_view region = options_.region.empty() ? ex.gateway.region : options_.region;
    sigv4::verification v = verifier_.verify(view.get(), ex.start, region, lookup);

    // The key's session token must come with it, and only with it; a temporary key expires.
    if (entry && !same_token(entry->session_token, v.session_token))
      return refusal(response_type::invalid_signature, sigv4::outcome::unknown_key,
                     std::string(msg_invalid_token));
    if (entry && entry->expires && ex.start >= *entry->expires)
      return gateway_error{response_type::expired_token};
    if (!v.ok()) {
      if (v.result == sigv4::outcome::missing)
        return gateway_error{response_type::missing_authentication_token};
      return refusal(response_type::invalid_signature, v.result, std::move(v.message));
    }

    const auto& caller = entry->auth;
    const auto facts = auth::facts_of(ex, caller->user_arn);
    const auto identity = caller->policy_document ? caller->policy_document->evaluate(facts)
                                                  : auth::decision::implicit_deny;
    const auto& resource_policy = ex.stage->deployment->resource_policy;
    const auto resource =
        resource_policy ? resource_policy->evaluate(facts) : auth::decision::implicit_deny;
    const bool denied =
        identity == auth::decision::explicit_deny || resource == auth::decision::explicit_deny;
    if (denied || (identity != auth::decision::allow && resource != auth::decision::allow)) {
      return gateway_error{
          response_type::access_denied, 0,
          fmt::format("User: {} is not authorized to perform: execute-api:Invoke "
                      "on resource: {}{}",
                      caller->user_arn, ex.method_arn, denied ? " with an explicit deny" : "")};
    }
    ex.auth = caller;
    return std::nullopt;
  }

  static gateway_error refusal(response_type type, auth::sigv4::outcome why, std::string message) {
    gateway_error e{type, auth::sigv4::status_of(why), std::move(message)};
    e.error_type = auth::sigv4::error_type(why);
    return e;
  }

  iam_options options_;
  auth::sigv4::verifier verifier_;
};

}  // namespace
}  // namespace detail

Authorizer Authorizer::iam(iam_options options) {
  return Authorizer(std::make_shared<detail::iam_authorizer>(std::move(options)));
}

}  // namespace gatehouse
