// JWT authorizers (Cognito user pools, HTTP APIs' JWT authorizer): the token from the identity
// source, its signature against the issuer's keys, its claims against the authorizer's rules
// and the method's scopes.

#include "auth/authorization.hpp"
#include "auth/authorizer_impl.hpp"
#include "auth/identity_sources.hpp"
#include "auth/jwks_source.hpp"
#include "auth/jwt.hpp"
#include "auth/result_cache.hpp"
#include "integration/integration_impl.hpp"
#include "spec/model.hpp"
#include "util/text.hpp"

#include <gatehouse/authorizer.hpp>
#include <gatehouse/config_error.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace gatehouse {
namespace detail {
namespace {

using clock = std::chrono::steady_clock;

// A quoted-string's content for WWW-Authenticate: no quotes, backslashes or control characters.
std::string quoted_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '"' || c == '\\')
      out.push_back('\'');
    else if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f)
      out.push_back(c);
  }
  return out;
}

// 401 as AWS's HTTP API JWT authorizer answers it: {"message":"Unauthorized"} and a
// WWW-Authenticate header saying why.
gateway_error invalid_token(std::string_view description) {
  gateway_error e{response_type::unauthorized};
  e.www_authenticate = fmt::format(
      R"(Bearer scope="" error="invalid_token" error_description="{}")", quoted_safe(description));
  return e;
}

constexpr std::string_view unknown_kid = "the token's kid does not name a key of the issuer";

// 500 when no key set could be had; the log line only with a report (one per failed fetch).
gateway_error no_keys(std::string_view authorizer, std::string_view report) {
  return gateway_error{
      response_type::authorizer_failure,
      0,
      {},
      report.empty() ? std::string{} : fmt::format("JWT authorizer '{}': {}", authorizer, report)};
}

class jwt_authorizer final : public authorizer_impl {
 public:
  explicit jwt_authorizer(jwt_options o)
      : authorizer_impl(o.name), options_(std::move(o)), verified_(options_.cache_capacity) {
    auto fail = [&](std::string_view what) {
      throw config_error(fmt::format("JWT authorizer '{}': {}", name, what));
    };
    if (options_.issuer.empty()) fail("the issuer is required");
    if (options_.audiences.size() > 50) fail("more than 50 audiences (AWS's limit)");
    if (options_.token_use != "" && options_.token_use != "id" && options_.token_use != "access")
      fail(fmt::format("token_use '{}' is not \"id\", \"access\" or empty", options_.token_use));
    if (options_.leeway < std::chrono::seconds(0) || options_.leeway > std::chrono::seconds(300))
      fail("the leeway must be between 0 and 300 seconds");
    if (options_.verified_ttl < std::chrono::seconds(0) ||
        options_.verified_ttl > std::chrono::seconds(3600))
      fail("verified_ttl must be between 0 and 3,600 seconds");
    if (options_.jwks_url.empty() == options_.jwks.empty())
      fail("give exactly one of jwks_url (an https:// URL) and jwks (the key set)");
    // Scopes are the method's business: checked apart, also for tokens remembered as verified.
    rules_.issuer = options_.issuer;
    rules_.audiences = options_.audiences;
    rules_.token_use = options_.token_use;
    rules_.leeway = options_.leeway;
    source_ = auth::parse_identity_source(options_.identity_source, name);
    if (source_.from != auth::identity_source::kind::header &&
        source_.from != auth::identity_source::kind::query)
      fail("the identity source must be a header or a query string parameter");
    if (!options_.jwks.empty()) {
      std::string why;
      auto set = auth::key_set::parse(options_.jwks, &why);
      if (!set) fail(fmt::format("the JWKS: {}", why));
      if (set->keys.empty()) fail("the JWKS has no usable RSA or EC keys");
      keys_ = std::make_unique<auth::jwks_source>(std::move(*set));
    } else {
      try {
        keys_ = std::make_unique<auth::jwks_source>(
            auth::jwks_settings{options_.jwks_url, options_.jwks_max_age, options_.refetch_interval,
                                options_.fetch_timeout, options_.fetch_backoff});
      } catch (const config_error& e) {
        fail(e.what());
      }
    }
  }

  std::optional<std::optional<gateway_error>> try_authorize(exchange& ex) const override {
    std::string scratch;
    std::string_view text;
    if (auto refused = token_text(ex, scratch, text))
      return std::optional<gateway_error>(std::move(*refused));
    if (options_.verified_ttl.count() > 0) {
      auto known = verified_.find(text, clock::now());
      // Only while the key that signed it is still served: a key dropped from the JWKS (a
      // revocation) takes its remembered tokens with it.
      if (known) {
        auto keys = keys_->try_keys(known->key_id, clock::now());
        if (!keys || !keys->find(known->key_id)) known.reset();
      }
      if (known) {
        auto verdict = check_scopes(ex, known->scopes);
        if (!verdict) ex.auth = std::move(known);
        return verdict;
      }
    }
    std::optional<auth::jwt> token;
    if (auto refused = decode(text, token)) return std::optional<gateway_error>(*refused);
    const auto now = clock::now();
    auto keys = keys_->try_keys(token->kid, now);
    if (!keys) {
      // Refused at once while a failed fetch backs off; otherwise a fetch is due: wait for it.
      if (keys_->refused_for_now(now)) return std::optional<gateway_error>(no_keys(name, {}));
      return std::nullopt;
    }
    return check(ex, text, *token, *keys);
  }

  asio::awaitable<std::optional<gateway_error>> authorize(exchange& ex) const override {
    std::string scratch;
    std::string_view text;
    if (auto refused = token_text(ex, scratch, text)) co_return refused;
    std::optional<auth::jwt> token;
    if (auto refused = decode(text, token)) co_return refused;
    std::string report;
    auto keys = co_await keys_->keys(token->kid, *ex.client, report);
    if (!keys) co_return no_keys(name, report);
    co_return check(ex, text, *token, *keys);
  }

  void flush() const override { verified_.clear(); }
  bool takes_scopes() const noexcept override { return true; }

  // A Cognito user pool's issuer (https://cognito-idp.{region}.amazonaws.com/{pool}) is AWS's
  // COGNITO_USER_POOLS authorizer; a REST API has no form for other issuers: they export as a
  // TOKEN authorizer of their name, which an import binds to this Authorizer again
  // (openapi_options::authorizers).
  std::string_view describe(spec::authorizer_model& out, const export_context& c) const override {
    out.name = name;
    out.identity_source =
        auth::rest_form(auth::parse_identity_source(options_.identity_source, name));
    out.issuer = options_.issuer;
    out.audiences = options_.audiences;
    constexpr std::string_view prefix = "https://cognito-idp.";
    std::string_view issuer = options_.issuer;
    if (issuer.starts_with(prefix)) {
      auto rest = issuer.substr(prefix.size());
      auto dot = rest.find(".amazonaws.com/");
      if (dot != std::string_view::npos && dot > 0 &&
          rest.substr(dot + 15).find('/') == std::string_view::npos && rest.size() > dot + 15) {
        out.type = "COGNITO_USER_POOLS";
        out.auth_type = "cognito_user_pools";
        out.provider_arns = {fmt::format("arn:aws:cognito-idp:{}:{}:userpool/{}",
                                         rest.substr(0, dot), c.account_id, rest.substr(dot + 15))};
        return "COGNITO_USER_POOLS";
      }
    }
    out.type = "TOKEN";
    out.auth_type = "custom";
    out.authorizer_uri = lambda_function_uri(c, name);
    out.result_ttl_seconds = static_cast<int>(options_.verified_ttl.count());
    return "CUSTOM";
  }

 private:
  // The request's token, without its "Bearer " prefix; a 401 when there is none.
  std::optional<gateway_error> token_text(const exchange& ex, std::string& scratch,
                                          std::string_view& text) const {
    auto value = auth::identity_value(source_, ex, scratch);
    if (!value) {
      gateway_error e{response_type::unauthorized};
      e.www_authenticate = "Bearer";
      return e;
    }
    text = *value;
    if (util::istarts_with(text, "bearer ")) text.remove_prefix(7);
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    return std::nullopt;
  }

  // The token decoded; a 401 when it is malformed or no key could verify it (an algorithm we
  // do not verify, a signature of the wrong form, no kid): refused before keys are needed, so
  // junk never makes the gateway fetch a JWKS.
  std::optional<gateway_error> decode(std::string_view text,
                                      std::optional<auth::jwt>& token) const {
    std::string why;
    token = auth::jwt::decode(text, &why);
    if (!token) return invalid_token(why);
    if (auto refusal = auth::keyless_refusal(*token)) return invalid_token(*refusal);
    if (token->kid.empty()) return invalid_token(unknown_kid);
    return std::nullopt;
  }

  std::optional<gateway_error> check(exchange& ex, std::string_view text, const auth::jwt& token,
                                     const auth::key_set& keys) const {
    const auto* key = keys.find(token.kid);
    if (!key) return invalid_token(unknown_kid);
    std::string why;
    if (!auth::verify_signature(token, *key, &why)) return invalid_token(why);
    if (auto reason = auth::check_claims(token, rules_, ex.start)) return invalid_token(*reason);
    auto a = std::make_shared<auth::authorization>();
    if (auto sub = token.claims.FindMember("sub");
        sub != token.claims.MemberEnd() && sub->value.IsString())
      a->principal_id.assign(sub->value.GetString(), sub->value.GetStringLength());
    a->claims_json = token.payload;
    a->scopes = auth::token_scopes(token);
    a->key_id = token.kid;
    if (options_.verified_ttl.count() > 0) remember(text, token, a);
    auto verdict = check_scopes(ex, a->scopes);
    if (!verdict) ex.auth = std::move(a);
    return verdict;
  }

  // A valid token without any of the method's scopes: 403, as RFC 6750's insufficient_scope
  // (AWS's exact answer here is UNCONFIRMED).
  std::optional<gateway_error> check_scopes(const exchange& ex,
                                            const std::vector<std::string>& held) const {
    if (!ex.match.options || ex.match.options->authorization_scopes.empty()) return std::nullopt;
    const auto& wanted = ex.match.options->authorization_scopes;
    for (const auto& w : wanted)
      for (const auto& h : held)
        if (w == h) return std::nullopt;
    gateway_error e{response_type::default_4xx, 403, "Forbidden"};
    e.www_authenticate =
        fmt::format(R"(Bearer scope="{}" error="insufficient_scope" error_description="{}")",
                    quoted_safe(fmt::format("{}", fmt::join(wanted, " "))), auth::reason::no_scope);
    return e;
  }

  // Keeps a verified token for verified_ttl, but never past its exp (plus the leeway).
  void remember(std::string_view text, const auth::jwt& token,
                const std::shared_ptr<const auth::authorization>& a) const {
    auto exp = token.claims.FindMember("exp");
    if (exp == token.claims.MemberEnd() || !exp->value.IsNumber()) return;
    const double now_s =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    const double left =
        exp->value.GetDouble() + static_cast<double>(options_.leeway.count()) - now_s;
    if (left <= 1) return;
    auto keep = std::min(std::chrono::duration<double>(left),
                         std::chrono::duration<double>(options_.verified_ttl));
    verified_.put(text, a, clock::now() + std::chrono::duration_cast<clock::duration>(keep));
  }

  jwt_options options_;
  auth::claim_rules rules_;  // what the claims must say, but `now` (each request's start)
  auth::identity_source source_;
  std::unique_ptr<auth::jwks_source> keys_;
  mutable auth::result_cache verified_;  // verified tokens → what they said
};

}  // namespace
}  // namespace detail

Authorizer Authorizer::jwt(jwt_options options) {
  return Authorizer(std::make_shared<detail::jwt_authorizer>(std::move(options)));
}

}  // namespace gatehouse
