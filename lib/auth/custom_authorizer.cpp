// Custom authorizers: the host's C++ function (or a Lambda function, auth/remote_function.hpp)
// in the place of AWS's Lambda authorizer, with identity sources, the TOKEN validation
// expression and the result cache.

#include "auth/authorizer_impl.hpp"
#include "auth/evaluate.hpp"
#include "auth/identity_sources.hpp"
#include "auth/remote_function.hpp"
#include "auth/result_cache.hpp"
#include "integration/event_json.hpp"
#include "integration/integration_impl.hpp"
#include "spec/model.hpp"
#include "util/access.hpp"
#include "util/json_parse.hpp"
#include "util/json_text.hpp"
#include "util/regex.hpp"

#include <gatehouse/authorizer.hpp>
#include <gatehouse/config_error.hpp>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <cmath>
#include <regex>
#include <utility>
#include <vector>

namespace gatehouse {

std::string to_string(const context_value& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  double d = std::get<double>(value);
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 1e15)
    return fmt::format("{}", static_cast<long long>(d));
  return fmt::format("{}", d);
}

std::string authorizer_request::to_json() const {
  if (type_ == authorizer_type::token) {
    std::string out = "{\"type\":\"TOKEN\",\"authorizationToken\":";
    util::append_json_string(out, token_);
    out.append(",\"methodArn\":");
    util::append_json_string(out, method_arn_);
    out.push_back('}');
    return out;
  }
  // AWS's REQUEST input carries the REST proxy event's fields (but the body) beside type and
  // methodArn.
  rapidjson::StringBuffer buf;
  detail::json_writer w(buf);
  w.StartObject();
  w.Key("type");
  w.String("REQUEST");
  w.Key("methodArn");
  w.String(method_arn_.data(), static_cast<rapidjson::SizeType>(method_arn_.size()));
  detail::write_proxy_event_members(w, detail::access::impl(*request_), payload_format::v1, false);
  w.EndObject();
  std::string out(buf.GetString(), buf.GetSize());
  util::make_valid_utf8(out);
  return out;
}

namespace {
std::string one_statement_policy(std::string_view effect, std::string_view resource) {
  std::string out =
      R"({"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":")";
  out.append(effect).append(R"(","Resource":)");
  util::append_json_string(out, resource);
  out.append("}]}");
  return out;
}

std::string_view sv(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

/// True when `value` nests more than `limit` levels deep; found without recursion, so that
/// writing it out (which recurses) is safe once this is false.
bool nests_deeper_than(const rapidjson::Value& value, std::size_t limit) {
  std::vector<std::pair<const rapidjson::Value*, std::size_t>> pending{{&value, 1}};
  while (!pending.empty()) {
    const auto [v, depth] = pending.back();
    pending.pop_back();
    if (depth > limit) return true;
    if (v->IsArray()) {
      for (const auto& item : v->GetArray()) pending.emplace_back(&item, depth + 1);
    } else if (v->IsObject()) {
      for (const auto& m : v->GetObject()) pending.emplace_back(&m.value, depth + 1);
    }
  }
  return false;
}
}  // namespace

authorizer_result authorizer_result::allow(std::string principal_id, std::string_view resource) {
  authorizer_result r;
  r.principal_id = std::move(principal_id);
  r.policy_document = one_statement_policy("Allow", resource);
  return r;
}

authorizer_result authorizer_result::deny(std::string principal_id, std::string_view resource) {
  authorizer_result r;
  r.principal_id = std::move(principal_id);
  r.policy_document = one_statement_policy("Deny", resource);
  return r;
}

authorizer_result authorizer_result::reject() {
  authorizer_result r;
  r.unauthorized = true;
  return r;
}

std::optional<authorizer_result> authorizer_result::from_json(std::string_view json,
                                                              std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<authorizer_result> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  rapidjson::Document doc;
  if (!util::parse_json(doc, json) || !doc.IsObject())
    return fail("the output is not a JSON object");
  authorizer_result r;
  for (auto& m : doc.GetObject()) {
    auto name = sv(m.name);
    if (name == "principalId") {
      if (!m.value.IsString()) return fail("principalId is not a string");
      r.principal_id = std::string(sv(m.value));
    } else if (name == "policyDocument") {
      if (m.value.IsString()) {
        r.policy_document = std::string(sv(m.value));
      } else if (m.value.IsObject()) {
        // An IAM policy nests five levels deep (Statement, Condition, operator, key, values).
        if (nests_deeper_than(m.value, 32)) return fail("policyDocument is nested too deeply");
        rapidjson::StringBuffer buf;
        rapidjson::Writer<rapidjson::StringBuffer> w(buf);
        m.value.Accept(w);
        r.policy_document.assign(buf.GetString(), buf.GetSize());
      } else {
        return fail("policyDocument is not an object");
      }
    } else if (name == "context") {
      if (m.value.IsNull()) continue;
      if (!m.value.IsObject()) return fail("context is not an object");
      for (auto& c : m.value.GetObject()) {
        auto key = std::string(sv(c.name));
        if (c.value.IsString())
          r.context.emplace_back(std::move(key), std::string(sv(c.value)));
        else if (c.value.IsBool())
          r.context.emplace_back(std::move(key), c.value.GetBool());
        else if (c.value.IsNumber())
          r.context.emplace_back(std::move(key), c.value.GetDouble());
        else
          return fail(
              fmt::format("context value '{}' is not a string, number or boolean", sv(c.name)));
      }
    } else if (name == "usageIdentifierKey") {
      if (m.value.IsNull()) continue;
      if (!m.value.IsString()) return fail("usageIdentifierKey is not a string");
      r.usage_identifier_key = std::string(sv(m.value));
    }
    // Other members (AWS ignores them) are ignored.
  }
  return r;
}

namespace detail {
namespace {

using clock = std::chrono::steady_clock;

class custom_authorizer final : public authorizer_impl {
 public:
  custom_authorizer(authorizer_options o, Authorizer::handler sync, Authorizer::async_handler async,
                    std::shared_ptr<const auth::remote_function> remote = nullptr)
      : authorizer_impl(o.name),
        options_(std::move(o)),
        sync_(std::move(sync)),
        async_(std::move(async)),
        remote_(std::move(remote)),
        cache_(options_.cache_capacity) {
    if (options_.result_ttl < std::chrono::seconds(0) ||
        options_.result_ttl > std::chrono::seconds(3600))
      throw config_error(fmt::format("authorizer '{}': result_ttl {} s is outside 0 to 3,600 s",
                                     name, options_.result_ttl.count()));
    if (options_.timeout < std::chrono::milliseconds(1) ||
        options_.timeout > std::chrono::milliseconds(29'000))
      throw config_error(fmt::format("authorizer '{}': timeout {} ms is outside 1 ms to 29 s", name,
                                     options_.timeout.count()));
    if (options_.identity_sources.empty() && options_.type == authorizer_type::token)
      options_.identity_sources.push_back("method.request.header.Authorization");
    for (const auto& text : options_.identity_sources)
      sources_.push_back(auth::parse_identity_source(text, name));
    if (options_.type == authorizer_type::token) {
      if (sources_.size() != 1 || sources_[0].from != auth::identity_source::kind::header)
        throw config_error(fmt::format(
            "authorizer '{}': a TOKEN authorizer takes exactly one header as identity source",
            name));
      if (!options_.validation_expression.empty()) {
        try {
          expression_.emplace(options_.validation_expression, util::safe_regex_flags);
        } catch (const std::regex_error& e) {
          throw config_error(fmt::format("authorizer '{}': validation expression '{}': {}", name,
                                         options_.validation_expression, e.what()));
        }
      }
    } else {
      if (!options_.validation_expression.empty())
        throw config_error(fmt::format(
            "authorizer '{}': a validation expression applies to TOKEN authorizers only", name));
      if (sources_.empty() && options_.result_ttl.count() > 0)
        throw config_error(fmt::format(
            "authorizer '{}': a REQUEST authorizer that caches results needs at least one "
            "identity source (the cache key)",
            name));
    }
  }

  std::optional<std::optional<gateway_error>> try_authorize(exchange& ex) const override {
    if (options_.result_ttl.count() == 0) return std::nullopt;
    std::string scratch;
    std::string_view key;
    // A cached token passed the validation expression when its result was made.
    auto missing = identity_key(ex, scratch, key, false);
    if (missing) return std::optional<gateway_error>(std::move(*missing));
    auto cached = cache_.find(key, clock::now());
    if (!cached) return std::nullopt;
    ex.auth = std::move(cached);
    return verdict(ex);
  }

  asio::awaitable<std::optional<gateway_error>> authorize(exchange& ex) const override {
    std::string scratch;
    std::string_view key;
    if (auto missing = identity_key(ex, scratch, key, true)) co_return std::move(*missing);
    const bool caching = options_.result_ttl.count() > 0;
    auto event = detail::access::event(ex, payload_format::v1);
    std::string_view token = options_.type == authorizer_type::token ? key : "";
    authorizer_request input(options_.type, token, ex.method_arn, event);
    authorizer_result result;
    std::string failure;
    bool timed_out = false;
    std::shared_ptr<const auth::authorization> made;
    try {
      if (remote_) {
        // Bounded by its own call's timeout (options_.timeout): no race to set up.
        auth::function_answer answer;
        co_await remote_->call(ex, input, key, sources_.size(), answer);
        failure = std::move(answer.failure);
        if (answer.simple && failure.empty())
          made = simple_authorization(answer.authorized, std::move(answer.result.context));
        else
          result = std::move(answer.result);
      } else if (sync_) {
        result = sync_(input);
      } else {
        // The handler races the authorizer's timeout; the loser is cancelled.
        using namespace asio::experimental::awaitable_operators;
        asio::steady_timer timer(co_await asio::this_coro::executor, options_.timeout);
        auto first = co_await (call(input, failure) || timer.async_wait(asio::use_awaitable));
        if (first.index() == 1)
          timed_out = true;
        else if (auto& answer = std::get<0>(first))
          result = std::move(*answer);
      }
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "an exception that is not a std::exception";
    }
    if (timed_out)
      co_return gateway_error{response_type::authorizer_configuration_error,
                              0,
                              {},
                              fmt::format("authorizer '{}' did not answer within {} ms", name,
                                          options_.timeout.count())};
    if (!failure.empty())
      co_return gateway_error{
          response_type::authorizer_configuration_error,
          0,
          {},
          fmt::format("authorizer '{}' {}: {}", name, remote_ ? "failed" : "threw", failure)};
    if (!made && result.unauthorized) co_return gateway_error{response_type::unauthorized};
    std::string why;
    if (!made) made = make_authorization(std::move(result), why);
    if (!made)
      co_return gateway_error{
          response_type::authorizer_configuration_error,
          0,
          {},
          fmt::format("authorizer '{}' returned a malformed result: {}", name, why)};
    if (caching) cache_.put(key, made, clock::now() + options_.result_ttl);
    ex.auth = std::move(made);
    co_return verdict(ex);
  }

  void flush() const override { cache_.clear(); }

  // A C++ authorizer is the Lambda function of its name, as an import binds it again.
  std::string_view describe(spec::authorizer_model& out, const export_context& c) const override {
    out.name = name;
    out.type = options_.type == authorizer_type::token ? "TOKEN" : "REQUEST";
    out.auth_type = "custom";
    out.authorizer_uri = remote_ ? remote_->uri(c) : lambda_function_uri(c, name);
    out.identity_source.clear();
    for (const auto& s : sources_)
      out.identity_source += (out.identity_source.empty() ? "" : ", ") + auth::rest_form(s);
    out.identity_validation_expression = options_.validation_expression;
    out.result_ttl_seconds = static_cast<int>(options_.result_ttl.count());
    return "CUSTOM";
  }

 private:
  // The policy's verdict. HTTP APIs answer every denial with 403 {"message":"Forbidden"}.
  std::optional<gateway_error> verdict(const exchange& ex) const {
    auto denied = auth::authorizer_verdict(ex, *ex.auth);
    if (denied && ex.stage->deployment->api.type == api_type::http)
      return gateway_error{
          response_type::default_4xx, 403, "Forbidden",
          denied->message.empty() ? "the authorizer's policy does not allow it" : denied->message};
    return denied;
  }

  // An HTTP API's simple response: allowed without a policy, or denied by one that denies all.
  std::shared_ptr<const auth::authorization> simple_authorization(
      bool authorized, std::vector<std::pair<std::string, context_value>> context) const {
    auto a = std::make_shared<auth::authorization>();
    a->context = std::move(context);
    if (!authorized)
      a->policy_document = auth::policy::parse(one_statement_policy("Deny", "*"), nullptr);
    return a;
  }

  // The coroutine handler, its exceptions caught here: a throw must end the race with the
  // timeout at once, not after it.
  asio::awaitable<std::optional<authorizer_result>> call(const authorizer_request& input,
                                                         std::string& failure) const {
    try {
      co_return co_await async_(input);
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "an exception that is not a std::exception";
    }
    if (failure.empty()) failure = "an exception with an empty message";
    co_return std::nullopt;
  }

  // The cache key in `key`: one source's value itself (for TOKEN, the token), or the values of
  // several joined by NULs in `scratch`. A 401 when a source is missing or the token fails the
  // validation expression.
  std::optional<gateway_error> identity_key(const exchange& ex, std::string& scratch,
                                            std::string_view& key, bool validate) const {
    if (sources_.size() == 1) {
      auto v = auth::identity_value(sources_[0], ex, scratch);
      if (!v) return gateway_error{response_type::unauthorized};
      key = *v;
    } else {
      std::string value_scratch;
      for (std::size_t i = 0; i < sources_.size(); ++i) {
        auto v = auth::identity_value(sources_[i], ex, value_scratch);
        if (!v) return gateway_error{response_type::unauthorized};
        if (i > 0) scratch.push_back('\0');
        scratch.append(*v);
      }
      key = scratch;
    }
    if (validate && expression_ && !std::regex_match(key.begin(), key.end(), *expression_))
      return gateway_error{response_type::unauthorized};
    return std::nullopt;
  }

  std::shared_ptr<const auth::authorization> make_authorization(authorizer_result r,
                                                                std::string& why) const {
    if (r.principal_id.empty()) {
      why = "principalId is empty";
      return nullptr;
    }
    if (r.policy_document.size() > 8192 * 4) {
      why = "the policy document is too large";
      return nullptr;
    }
    auto p = auth::policy::parse(r.policy_document, &why);
    if (!p) return nullptr;
    auto a = std::make_shared<auth::authorization>();
    a->principal_id = std::move(r.principal_id);
    a->context = std::move(r.context);
    for (const auto& [k, v] : a->context)
      if (k.empty()) {
        why = "a context key is empty";
        return nullptr;
      }
    a->usage_identifier_key = r.usage_identifier_key.value_or("");
    a->policy_document = std::move(p);
    return a;
  }

  authorizer_options options_;
  Authorizer::handler sync_;
  Authorizer::async_handler async_;
  std::shared_ptr<const auth::remote_function> remote_;
  std::vector<auth::identity_source> sources_;
  std::optional<std::regex> expression_;
  mutable auth::result_cache cache_;
};

}  // namespace
}  // namespace detail

std::shared_ptr<detail::authorizer_impl> auth::make_custom_authorizer(
    authorizer_options options, std::shared_ptr<const remote_function> function) {
  return std::make_shared<detail::custom_authorizer>(
      std::move(options), Authorizer::handler{}, Authorizer::async_handler{}, std::move(function));
}

namespace {
void check_handler(bool present, const authorizer_options& options) {
  if (!present)
    throw config_error(fmt::format("authorizer '{}': the handler is empty", options.name));
}
}  // namespace

Authorizer::Authorizer(authorizer_options options, handler h) {
  check_handler(static_cast<bool>(h), options);
  impl_ = std::make_shared<detail::custom_authorizer>(std::move(options), std::move(h),
                                                      async_handler{});
}

Authorizer::Authorizer(authorizer_options options, async_handler h) {
  check_handler(static_cast<bool>(h), options);
  impl_ = std::make_shared<detail::custom_authorizer>(std::move(options), handler{}, std::move(h));
}

void Authorizer::flush_cache() const {
  if (impl_) impl_->flush();
}

const std::string& Authorizer::name() const noexcept {
  static const std::string none;
  return impl_ ? impl_->name : none;
}

}  // namespace gatehouse
