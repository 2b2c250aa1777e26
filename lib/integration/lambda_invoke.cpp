// AWS_PROXY to a Lambda function through the Lambda Invoke API: the proxy event POSTed to
// /2015-03-31/functions/{name}/invocations, signed with SigV4 for service "lambda", and the
// function's proxy result answered, with AWS's status codes for the ways it can fail.

#include "auth/sigv4.hpp"
#include "integration/aws_endpoint.hpp"
#include "integration/backend_request.hpp"
#include "integration/integration_impl.hpp"
#include "integration/proxy_response.hpp"
#include "net/url.hpp"
#include "spec/model.hpp"
#include "util/access.hpp"

#include <gatehouse/aws_integration.hpp>
#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace gatehouse {

namespace {
using detail::exchange;
using detail::gateway_error;
using detail::outcome;

// How much of a failed invocation's answer goes into the log reason.
constexpr std::size_t logged_body = 512;

std::string_view head(std::string_view body) noexcept { return body.substr(0, logged_body); }

// A function error or a malformed proxy result: 502, as AWS answers.
outcome function_failed(std::string reason) {
  return {
      {},
      gateway_error{response_type::default_5xx, 502, "Internal server error", std::move(reason)}};
}

// The Lambda service refused the invocation (signature, permissions, no such function,
// throttling): AWS answers 500.
outcome invocation_failed(std::string reason) {
  return {
      {},
      gateway_error{response_type::default_5xx, 500, "Internal server error", std::move(reason)}};
}

// The request's trace goes along as X-Amzn-Trace-Id, as API Gateway sends it to Lambda.
void write_fields(const void* trace, std::string& out) {
  out.append(
      "Content-Type: application/json\r\n"
      "X-Amz-Invocation-Type: RequestResponse\r\n");
  out.append("X-Amzn-Trace-Id: ")
      .append(observe::amzn_trace_header(*static_cast<const observe::trace_context*>(trace)))
      .append("\r\n");
}

class lambda_integration final : public detail::integration_impl {
 public:
  explicit lambda_integration(lambda_options o)
      : format_(o.format),
        function_(o.function_name),
        qualifier_(o.qualifier),
        timeout_(o.timeout),
        skip_verification_(o.insecure_skip_verification),
        signing_{o.credentials, o.region, "lambda"} {
    const std::string what = fmt::format("lambda_invoke '{}'", o.function_name);
    detail::check_integration_timeout(timeout_, what);
    url_ = detail::lambda_invocation_url(o, what);
    std::string why;
    auto parts = net::parse_url(url_, &why);  // views into url_, which does not change again
    if (!parts) throw config_error(fmt::format("{}: bad URL '{}': {}", what, url_, why));
    parts_ = *parts;
  }

  asio::awaitable<outcome> invoke(exchange& ex) const override {
    if (!ex.client)
      co_return outcome{
          {},
          gateway_error{
              response_type::api_configuration_error, 0, {}, "no HTTP client for this request"}};
    const std::string event = detail::access::event(ex, format_).to_json();
    const detail::upstream_address to{parts_.tls, parts_.host, parts_.port, parts_.authority};
    detail::call_options copts;
    copts.timeout = timeout_;
    copts.skip_verification = skip_verification_;
    copts.cancel = ex.cancel;
    response res;
    auto ec = co_await detail::signed_call(*ex.client, signing_, to, "POST", parts_.target,
                                           {&ex.trace, &write_fields}, event, copts, res);
    if (ec)
      co_return outcome{{}, detail::call_failure(ec, "POST", parts_.authority, parts_.target)};

    if (res.status < 200 || res.status > 299)
      co_return invocation_failed(fmt::format(
          "Lambda invocation failed with status: {}. Lambda request id: {}. Response: {}",
          res.status, res.headers.get("x-amzn-RequestId").value_or(""), head(res.body)));
    if (auto error = res.headers.get("X-Amz-Function-Error"))
      co_return function_failed(
          fmt::format("Lambda execution failed with status {} due to "
                      "customer function error: {}. Response: {}",
                      res.status, *error, head(res.body)));
    std::string why;
    auto result = proxy_result::from_json(res.body, format_, &why);
    outcome out;
    if (!result || !detail::to_response(std::move(*result), format_, out.res, why))
      co_return function_failed(
          fmt::format("Execution failed due to configuration error: Malformed Lambda proxy "
                      "response: {}",
                      why));
    co_return out;
  }

  void describe(spec::integration_model& out, const detail::export_context& c) const override {
    out.type = "AWS_PROXY";
    out.http_method = "POST";
    // The function's own region when its ARN names one; the region it is invoked in else.
    detail::export_context in_region = c;
    in_region.region = signing_.region;
    out.uri =
        lambda_function_uri(function_.starts_with("arn:") ? c : in_region, function_, qualifier_);
    out.timeout_ms = static_cast<int>(timeout_.count());
    out.connection_type.clear();
    out.payload_format_version = format_ == payload_format::v2 ? "2.0" : "1.0";
    if (skip_verification_) out.insecure_skip_verification = true;
  }

 private:
  payload_format format_;
  std::string function_;
  std::string qualifier_;
  std::chrono::milliseconds timeout_;
  bool skip_verification_;
  aws_signing signing_;
  std::string url_;
  net::url_parts parts_;
};
}  // namespace

integration lambda_invoke(lambda_options options) {
  return integration{std::make_shared<lambda_integration>(std::move(options))};
}

}  // namespace gatehouse
