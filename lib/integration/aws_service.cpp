// AWS's AWS (non-proxy) integration: the client's body, and what request parameters map, sent to
// an AWS service's endpoint signed with SigV4; the service's status, body and Content-Type come
// back.

#include "integration/aws_endpoint.hpp"
#include "integration/backend_request.hpp"
#include "integration/integration_impl.hpp"
#include "net/url.hpp"
#include "spec/model.hpp"
#include "transform/parameter_mapping.hpp"

#include <gatehouse/aws_integration.hpp>
#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <cctype>

namespace gatehouse {

namespace {
using detail::exchange;
using detail::gateway_error;
using detail::outcome;
using transform::target_kind;

bool forbids_body(std::string_view m) noexcept {
  return m == "GET" || m == "HEAD" || m == "DELETE" || m == "OPTIONS";
}

std::string checked_method(std::string method, std::string_view what) {
  for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (std::string_view m : {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})
    if (method == m) return method;
  throw config_error(fmt::format(
      "{}: method '{}' is not GET, POST, PUT, DELETE, PATCH, HEAD or OPTIONS", what, method));
}

class aws_service_integration final : public detail::integration_impl {
 public:
  bool is_proxy() const noexcept override { return false; }

  explicit aws_service_integration(aws_service_options o)
      : what_(fmt::format("aws_service {} '{}'", o.service, o.endpoint)),
        method_(checked_method(std::move(o.method), what_)),
        timeout_(o.timeout),
        skip_verification_(o.insecure_skip_verification),
        path_(o.path),
        request_parameters_(o.request_parameters),
        signing_{std::move(o.credentials), std::move(o.region), std::move(o.service)} {
    detail::check_integration_timeout(timeout_, what_);
    const std::string endpoint = detail::checked_aws_endpoint(o.endpoint, what_);
    detail::check_aws_signing(signing_, what_);
    if (o.path.empty() || o.path.front() != '/')
      throw config_error(fmt::format("{}: path '{}' must start with '/'", what_, o.path));
    template_ = detail::url_template(endpoint + o.path, what_);
    mapping_ = transform::parameter_mapping(o.request_parameters, what_);
    for (const auto& rule : mapping_.rules()) {
      if (rule.target != target_kind::header) continue;
      for (std::string_view owned : {"host", "content-length", "transfer-encoding", "connection",
                                     "authorization", "x-amz-date", "x-amz-security-token"})
        if (iequals(rule.target_name, owned))
          throw config_error(fmt::format(
              "{}: request parameter 'integration.request.header.{}' is set by the gateway", what_,
              rule.target_name));
    }
  }

  void collect_stage_variables(std::vector<std::string>& names) const override {
    template_.collect_stage_variables(names);
    mapping_.collect_stage_variables(names);
  }

  // arn:aws:apigateway:{region}:{service}:path/{path} (or action/{Action} for "/?Action=X").
  // The credentials are keys here, not a role: AWS's `credentials` stays empty.
  void describe(spec::integration_model& out, const detail::export_context&) const override {
    out.type = "AWS";
    out.http_method = method_;
    std::string_view path = path_;
    constexpr std::string_view action = "/?Action=";
    out.uri = path.starts_with(action)
                  ? fmt::format("arn:aws:apigateway:{}:{}:action/{}", signing_.region,
                                signing_.service, path.substr(action.size()))
                  : fmt::format("arn:aws:apigateway:{}:{}:path/{}", signing_.region,
                                signing_.service, path.substr(1));
    out.request_parameters = request_parameters_;
    out.timeout_ms = static_cast<int>(timeout_.count());
    out.connection_type.clear();
    if (skip_verification_) out.insecure_skip_verification = true;
  }

  asio::awaitable<outcome> invoke(exchange& ex) const override {
    const detail::mapped_parameters mapped = detail::map_parameters(mapping_, ex);
    const std::string url = template_.render(ex, mapped, false);
    std::string why;
    auto parts = net::parse_url(url, &why);
    if (!parts)
      co_return outcome{{},
                        gateway_error{response_type::api_configuration_error,
                                      0,
                                      {},
                                      fmt::format("Execution failed due to configuration error: "
                                                  "Invalid endpoint address '{}': {}",
                                                  url, why)}};
    if (!ex.client)
      co_return outcome{
          {},
          gateway_error{
              response_type::api_configuration_error, 0, {}, "no HTTP client for this request"}};

    const detail::upstream_address to{parts->tls, parts->host, parts->port, parts->authority};
    detail::call_options copts;
    copts.timeout = timeout_;
    copts.skip_verification = skip_verification_;
    copts.cancel = ex.cancel;
    const std::string_view body =
        forbids_body(method_) ? std::string_view{} : std::string_view(ex.req.body);
    const head_context hc{this, &ex, &mapped, !body.empty()};
    outcome out;
    auto ec = co_await detail::signed_call(*ex.client, signing_, to, method_, parts->target,
                                           {&hc, &write_fields}, body, copts, out.res,
                                           ex.may_stream ? &ex.stream : nullptr);
    if (!ec && ex.stream) {
      // A large body passes through as it arrives; its first piece is read now, so that a
      // service that fails before sending any still gets a proper gateway response.
      bool done = false;
      ec = co_await ex.stream->read(out.res.body, done);
      if (ec || done) ex.stream.reset();
    }
    if (ec) {
      out.res = {};
      out.error = detail::call_failure(ec, method_, parts->authority, parts->target);
      co_return out;
    }
    // Non-proxy: the status, the body and Content-Type only.
    bool has_content_type = false;
    out.res.headers.erase_if([&](const header_map::field& f) {
      if (!iequals(f.name, "content-type")) return true;
      has_content_type = true;
      return false;
    });
    if (!has_content_type) out.res.headers.add("Content-Type", "application/json");
    co_return out;
  }

 private:
  struct head_context {
    const aws_service_integration* self;
    const exchange* ex;
    const detail::mapped_parameters* mapped;
    bool has_body;
  };

  // The header fields after the request line and Host; all of them are signed.
  static void write_fields(const void* context, std::string& out) {
    const auto& hc = *static_cast<const head_context*>(context);
    const auto& mapping = hc.self->mapping_;
    const auto& ex = *hc.ex;
    auto field = [&](std::string_view n, std::string_view v) {
      out.append(n).append(": ").append(v).append("\r\n");
    };
    if (!mapping.maps(target_kind::header, "User-Agent")) {
      out.append("User-Agent: AmazonAPIGateway_");
      out.append(ex.stage->deployment->api.id).append("\r\n");
    }
    if (!mapping.maps(target_kind::header, "Accept")) field("Accept", "application/json");
    if (hc.has_body && !mapping.maps(target_kind::header, "Content-Type")) {
      auto ct = ex.req.headers.get("Content-Type");
      const bool clean = ct && ct->find_first_of("\r\n", 0) == std::string_view::npos &&
                         ct->find('\0') == std::string_view::npos;
      field("Content-Type", clean ? *ct : std::string_view("application/json"));
    }
    out.append("X-Amzn-Trace-Id: ").append(observe::amzn_trace_header(ex.trace)).append("\r\n");
    detail::write_mapped_headers(*hc.mapped, out);
    detail::write_override_headers(*hc.ex, out);
  }

  std::string what_;
  std::string method_;
  std::chrono::milliseconds timeout_;
  bool skip_verification_;
  std::string path_;
  std::vector<std::pair<std::string, std::string>> request_parameters_;
  aws_signing signing_;
  detail::url_template template_;
  transform::parameter_mapping mapping_;
};
}  // namespace

integration aws_service(aws_service_options options) {
  return integration{std::make_shared<aws_service_integration>(std::move(options))};
}

}  // namespace gatehouse
