// Lambda authorizers: a custom authorizer whose function is a Lambda function, invoked through
// the Lambda Invoke API as lambda_invoke invokes one (POST /2015-03-31/functions/{name}/
// invocations, SigV4-signed, through the gateway's HTTP client), sent AWS's authorizer event
// and read as AWS reads the answer. Identity sources, the validation expression and the result
// cache are the custom authorizer's (custom_authorizer.cpp).

#include "auth/remote_function.hpp"
#include "integration/aws_endpoint.hpp"
#include "integration/event_json.hpp"
#include "integration/integration_impl.hpp"
#include "net/url.hpp"
#include "util/json_parse.hpp"
#include "util/json_text.hpp"

#include <gatehouse/authorizer.hpp>
#include <gatehouse/aws_integration.hpp>
#include <gatehouse/config_error.hpp>

#include <fmt/format.h>
#include <rapidjson/document.h>

namespace gatehouse {

namespace {

using detail::exchange;

// How much of a failed invocation's answer goes into the log reason.
constexpr std::size_t logged_body = 512;
std::string_view head(std::string_view body) noexcept { return body.substr(0, logged_body); }

void write_fields(const void*, std::string& out) {
  out.append(
      "Content-Type: application/json\r\n"
      "X-Amz-Invocation-Type: RequestResponse\r\n");
}

void str(detail::json_writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Calls `each` with every identity source value: `identity` holds `count` of them, NUL-joined.
template <class F>
void for_each_value(std::string_view identity, std::size_t count, F each) {
  if (count <= 1) return each(identity);
  for (std::size_t i = 0; i < count; ++i) {
    auto nul = identity.find('\0');
    each(identity.substr(0, nul));
    identity = nul == std::string_view::npos ? std::string_view{} : identity.substr(nul + 1);
  }
}

class lambda_function final : public auth::remote_function {
 public:
  lambda_function(const lambda_options& o, authorizer_payload payload,
                  std::chrono::milliseconds timeout, std::string_view what)
      : payload_(payload),
        function_(o.function_name),
        qualifier_(o.qualifier),
        timeout_(timeout),
        skip_verification_(o.insecure_skip_verification),
        signing_{o.credentials, o.region, "lambda"},
        url_(detail::lambda_invocation_url(o, what)) {
    std::string why;
    auto parts = net::parse_url(url_, &why);  // views into url_, which does not change again
    if (!parts) throw config_error(fmt::format("{}: bad URL '{}': {}", what, url_, why));
    parts_ = *parts;
  }

  asio::awaitable<void> call(exchange& ex, const authorizer_request& input,
                             std::string_view identity, std::size_t count,
                             auth::function_answer& out) const override {
    if (!ex.client) {
      out.failure = "no HTTP client for this request";
      co_return;
    }
    const std::string event = event_of(ex, input, identity, count);
    const detail::upstream_address to{parts_.tls, parts_.host, parts_.port, parts_.authority};
    detail::call_options copts;
    copts.timeout = timeout_;
    copts.skip_verification = skip_verification_;
    copts.cancel = ex.cancel;
    response res;
    auto ec = co_await detail::signed_call(*ex.client, signing_, to, "POST", parts_.target,
                                           {nullptr, &write_fields}, event, copts, res);
    if (ec) {
      out.failure = ec == client_errc::timed_out || ec == client_errc::connect_timeout
                        ? fmt::format(
                              "Execution failed due to a timeout error: the Lambda function did "
                              "not answer within {} ms",
                              timeout_.count())
                        : fmt::format("Execution failed: Network error communicating with {}: {}",
                                      parts_.authority, ec.message());
      co_return;
    }
    if (res.status < 200 || res.status > 299) {
      out.failure = fmt::format(
          "Lambda invocation failed with status: {}. Lambda request id: {}. Response: {}",
          res.status, res.headers.get("x-amzn-RequestId").value_or(""), head(res.body));
      co_return;
    }
    if (res.headers.get("X-Amz-Function-Error")) {
      // AWS's one function error with a meaning: "Unauthorized" (a thrown Error('Unauthorized')).
      if (error_message(res.body) == "Unauthorized") {
        out.result.unauthorized = true;
        co_return;
      }
      out.failure = fmt::format("Lambda function error: {}", head(res.body));
      co_return;
    }
    std::string why;
    if (payload_ == authorizer_payload::http_v2_simple) {
      if (!read_simple(res.body, out, why))
        out.failure = fmt::format("Invalid simple response from the Lambda function: {}", why);
      co_return;
    }
    if (auto result = authorizer_result::from_json(res.body, &why))
      out.result = std::move(*result);
    else
      out.failure = fmt::format("Invalid authorizer response from the Lambda function: {}", why);
  }

  std::string uri(const detail::export_context& c) const override {
    // The function's own region when its ARN names one; the region it is invoked in else.
    detail::export_context in_region = c;
    in_region.region = signing_.region;
    return lambda_function_uri(function_.starts_with("arn:") ? c : in_region, function_,
                               qualifier_);
  }

 private:
  // AWS's authorizer event for this payload format.
  std::string event_of(const exchange& ex, const authorizer_request& input,
                       std::string_view identity, std::size_t count) const {
    if (payload_ == authorizer_payload::rest) return input.to_json();
    rapidjson::StringBuffer buf;
    detail::json_writer w(buf);
    w.StartObject();
    w.Key("type");
    w.String("REQUEST");
    if (payload_ == authorizer_payload::http_v1) {
      // 1.0: the REST event with the identity sources' values joined by commas, twice.
      std::string joined;
      for_each_value(identity, count, [&](std::string_view v) {
        if (!joined.empty()) joined.push_back(',');
        joined.append(v);
      });
      w.Key("version");
      w.String("1.0");
      w.Key("methodArn");
      str(w, input.method_arn());
      w.Key("identitySource");
      str(w, joined);
      w.Key("authorizationToken");
      str(w, joined);
      detail::write_proxy_event_members(w, ex, payload_format::v1, false);
    } else {
      // 2.0: the HTTP API event (its version, routeKey, rawPath …) with routeArn and the list.
      w.Key("routeArn");
      str(w, input.method_arn());
      w.Key("identitySource");
      w.StartArray();
      for_each_value(identity, count, [&](std::string_view v) { str(w, v); });
      w.EndArray();
      detail::write_proxy_event_members(w, ex, payload_format::v2, false);
    }
    w.EndObject();
    std::string out(buf.GetString(), buf.GetSize());
    util::make_valid_utf8(out);
    return out;
  }

  // A function error's errorMessage ("" when there is none).
  static std::string error_message(std::string_view body) {
    rapidjson::Document doc;
    if (!util::parse_json(doc, body) || !doc.IsObject()) return {};
    auto m = doc.FindMember("errorMessage");
    if (m == doc.MemberEnd() || !m->value.IsString()) return {};
    return {m->value.GetString(), m->value.GetStringLength()};
  }

  // {"isAuthorized": bool, "context": {…}}: isAuthorized is required.
  static bool read_simple(std::string_view body, auth::function_answer& out, std::string& why) {
    rapidjson::Document doc;
    if (!util::parse_json(doc, body) || !doc.IsObject()) {
      why = "the output is not a JSON object";
      return false;
    }
    auto m = doc.FindMember("isAuthorized");
    if (m == doc.MemberEnd() || !m->value.IsBool()) {
      why = "isAuthorized is missing or not a boolean";
      return false;
    }
    out.simple = true;
    out.authorized = m->value.GetBool();
    // The context, read as a policy answer's context is (string, number and boolean values).
    auto context = doc.FindMember("context");
    if (context == doc.MemberEnd() || context->value.IsNull()) return true;
    if (!context->value.IsObject()) {
      why = "context is not an object";
      return false;
    }
    auto parsed = authorizer_result::from_json(body, &why);
    if (!parsed) return false;
    out.result.context = std::move(parsed->context);
    return true;
  }

  authorizer_payload payload_;
  std::string function_;
  std::string qualifier_;
  std::chrono::milliseconds timeout_;
  bool skip_verification_;
  aws_signing signing_;
  std::string url_;
  net::url_parts parts_;
};

}  // namespace

Authorizer Authorizer::lambda(authorizer_options options, const lambda_options& function,
                              authorizer_payload payload) {
  const std::string what =
      fmt::format("authorizer '{}' (Lambda function '{}')", options.name, function.function_name);
  if (payload != authorizer_payload::rest && options.type != authorizer_type::request)
    throw config_error(
        fmt::format("{}: HTTP APIs' Lambda authorizers are REQUEST authorizers", what));
  auto remote = std::make_shared<lambda_function>(function, payload, options.timeout, what);
  return Authorizer(auth::make_custom_authorizer(std::move(options), std::move(remote)));
}

}  // namespace gatehouse
