// HTTP integrations, as AWS's HTTP_PROXY and HTTP (non-proxy): build the backend request from
// the method request (a URL template with path parameters and stage variables, forwarded or
// mapped parameters), call the backend with the gateway's HTTP client, and turn the backend's
// answer, or the failure, into the method response.

#include "integration/backend_request.hpp"
#include "integration/integration_impl.hpp"
#include "net/client_core.hpp"
#include "net/url.hpp"
#include "spec/model.hpp"
#include "transform/parameter_mapping.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/http_integration.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace gatehouse {

namespace {
using detail::exchange;
using detail::gateway_error;
using detail::outcome;
using transform::target_kind;

bool hop_by_hop(std::string_view n) noexcept {
  for (std::string_view h :
       {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "trailers", "transfer-encoding", "upgrade"})
    if (iequals(n, h)) return true;
  return false;
}

bool clean(std::string_view s) noexcept {
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

// True when `name` is listed in a Connection field of `headers` (RFC 9110 7.6.1).
bool named_by_connection(const header_map& headers, std::string_view name) {
  for (const auto& f : headers) {
    if (!iequals(f.name, "connection")) continue;
    std::string_view v = f.value;
    while (!v.empty()) {
      auto comma = v.find(',');
      auto token = v.substr(0, comma);
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
      while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
      if (iequals(token, name)) return true;
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return false;
}

class http_integration final : public detail::integration_impl {
 public:
  http_integration(bool proxy, std::string method, std::string url, http_options opts)
      : proxy_(proxy), method_(std::move(method)), url_(std::move(url)), opts_(std::move(opts)) {
    const std::string what =
        proxy_ ? fmt::format("http_proxy '{}'", url_) : fmt::format("http {} '{}'", method_, url_);
    if (opts_.timeout < std::chrono::milliseconds(50) ||
        opts_.timeout > std::chrono::milliseconds(29'000))
      throw config_error(fmt::format("{}: timeout {} ms is outside 50 ms to 29,000 ms", what,
                                     opts_.timeout.count()));
    template_ = detail::url_template(url_, what);
    mapping_ = transform::parameter_mapping(opts_.request_parameters, what);
  }

  void collect_stage_variables(std::vector<std::string>& names) const override {
    template_.collect_stage_variables(names);
    mapping_.collect_stage_variables(names);
  }

  asio::awaitable<outcome> invoke(exchange& ex) const override {
    const detail::mapped_parameters mapped = detail::map_parameters(mapping_, ex);
    std::string url = template_.render(ex, mapped, proxy_);
    if (ex.path_mapped) replace_path(url, ex.mapped_path);  // HTTP APIs' overwrite:path
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

    detail::upstream_address to{parts->tls, parts->host, parts->port, parts->authority};
    detail::call_options copts;
    copts.timeout = opts_.timeout;
    copts.certificate = &ex.stage->backend_certificate;
    copts.skip_verification = opts_.insecure_skip_verification;
    copts.cancel = ex.cancel;  // a client gone cancels the call
    const std::string_view method =
        proxy_ || method_ == "ANY" ? std::string_view(ex.req.method) : std::string_view(method_);
    const std::string_view body =
        proxy_ || !method_forbids_body(method) ? std::string_view(ex.req.body) : std::string_view{};

    head_context hc{this, &ex, &mapped};
    outcome out;
    auto ec = co_await ex.client->call(to, method, parts->target, {&hc, &write_head_fields}, body,
                                       copts, out.res, ex.may_stream ? &ex.stream : nullptr);
    if (!ec && ex.stream) {
      // Large or open-ended bodies pass through as they arrive. Read the first piece now: a
      // backend that fails before sending any body still gets a proper gateway response, and
      // a body that turns out short is sent whole, with its length.
      bool done = false;
      ec = co_await ex.stream->read(out.res.body, done);
      if (ec || done) ex.stream.reset();
    }
    if (ec) {
      out.res = {};
      out.error = detail::call_failure(ec, method, parts->authority, parts->target);
      co_return out;
    }
    shape_response(ex, out.res);
    co_return out;
  }

 private:
  struct head_context {
    const http_integration* self;
    const exchange* ex;
    const detail::mapped_parameters* mapped;
  };

  // Replaces the path of "scheme://authority/path?query" (the query stays).
  static void replace_path(std::string& url, std::string_view path) {
    auto scheme = url.find("://");
    auto start = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    auto query = url.find('?');
    if (start == std::string::npos || (query != std::string::npos && query < start)) start = query;
    if (start == std::string::npos) start = url.size();
    auto end = query == std::string::npos ? url.size() : query;
    url.replace(start, end - start, path);
  }

  static bool method_forbids_body(std::string_view m) noexcept {
    return m == "GET" || m == "HEAD" || m == "DELETE" || m == "OPTIONS";
  }

  // The header fields after the request line and Host.
  static void write_head_fields(const void* context, std::string& out) {
    const auto& hc = *static_cast<const head_context*>(context);
    const auto& self = *hc.self;
    const auto& ex = *hc.ex;
    const auto& headers = ex.req.headers;
    auto mapped_header = [&](std::string_view n) {
      return self.mapping_.maps(target_kind::header, n);
    };
    auto field = [&](std::string_view n, std::string_view v) {
      out.append(n).append(": ").append(v).append("\r\n");
    };
    if (self.proxy_) {
      bool connection_lists = false;
      std::string_view forwarded_for;
      for (const auto& f : headers) {
        if (iequals(f.name, "connection")) connection_lists = true;
      }
      for (const auto& f : headers) {
        std::string_view n = f.name;
        if (hop_by_hop(n) || iequals(n, "host") || iequals(n, "content-length") ||
            iequals(n, "expect") || iequals(n, "x-forwarded-proto") ||
            iequals(n, "x-forwarded-host") || iequals(n, "x-forwarded-port"))
          continue;
        if (iequals(n, "x-forwarded-for")) {
          if (clean(f.value)) forwarded_for = f.value;
          continue;
        }
        if (connection_lists && named_by_connection(headers, n)) continue;
        if (observe::is_trace_field(n)) continue;  // the request's trace replaces them
        if (mapped_header(n) || !clean(n) || !clean(f.value)) continue;
        field(n, f.value);
      }
      out.append("X-Forwarded-For: ");
      if (!forwarded_for.empty()) out.append(forwarded_for).append(", ");
      out.append(ex.req.source_ip).append("\r\n");
      field("X-Forwarded-Proto", ex.req.secure ? "https" : "http");
      if (auto host = headers.get("Host"); host && clean(*host)) field("X-Forwarded-Host", *host);
    } else {
      if (!mapped_header("User-Agent")) {
        out.append("User-Agent: AmazonAPIGateway_");
        out.append(ex.stage->deployment->api.id).append("\r\n");
      }
      if (!mapped_header("Accept")) field("Accept", "application/json");
      if (!ex.req.body.empty() && !mapped_header("Content-Type")) {
        auto ct = headers.get("Content-Type");
        field("Content-Type", ct && clean(*ct) ? *ct : std::string_view("application/json"));
      }
    }
    // One trace id behind both headers, the integration's span as the backend's parent.
    observe::append_trace_fields(ex.trace, out);
    detail::write_mapped_headers(*hc.mapped, out);
    detail::write_override_headers(ex, out);
  }

  // The backend's response as the method response: hop-by-hop fields go; REST APIs remap the
  // fields the gateway owns to x-amzn-Remapped-*, as AWS does.
  void shape_response(exchange& ex, response& res) const {
    const bool rest = ex.stage->deployment->api.type == api_type::rest;
    bool has_content_type = false;
    res.headers.erase_if([&](header_map::field& f) {
      std::string_view n = f.name;
      if (iequals(n, "transfer-encoding") || iequals(n, "keep-alive") || iequals(n, "te") ||
          iequals(n, "trailer") || iequals(n, "upgrade") || iequals(n, "proxy-authenticate"))
        return true;
      if (iequals(n, "content-type")) {
        has_content_type = true;
        return false;
      }
      if (!proxy_) {  // non-proxy: the mapped fields only; step 11 maps from the backend's
        ex.backend_headers.add(std::move(f.name), std::move(f.value));
        return true;
      }
      const bool gateways = iequals(n, "server") || iequals(n, "www-authenticate");
      if (gateways || iequals(n, "connection") || iequals(n, "content-length") ||
          iequals(n, "date")) {
        if (!rest) return !gateways;  // HTTP APIs drop framing and Date, keep the others
        f.name.insert(0, "x-amzn-Remapped-");
      }
      return false;
    });
    if (!has_content_type) res.headers.add("Content-Type", "application/json");
  }

  bool is_proxy() const noexcept override { return proxy_; }

  void describe(spec::integration_model& out, const detail::export_context&) const override {
    out.type = proxy_ ? "HTTP_PROXY" : "HTTP";
    out.http_method = proxy_ ? "ANY" : method_;
    out.uri = url_;
    out.request_parameters = opts_.request_parameters;
    out.timeout_ms = static_cast<int>(opts_.timeout.count());
    out.connection_type = "INTERNET";
    if (opts_.insecure_skip_verification) out.insecure_skip_verification = true;
  }

  bool proxy_;
  std::string method_;
  std::string url_;
  http_options opts_;
  detail::url_template template_;
  transform::parameter_mapping mapping_;
};

std::string checked_method(std::string method) {
  for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (std::string_view m : {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"})
    if (method == m) return method;
  throw config_error(fmt::format(
      "http integration: method '{}' is not GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS or ANY",
      method));
}
}  // namespace

integration http_proxy(std::string url, http_options options) {
  return integration{
      std::make_shared<http_integration>(true, "ANY", std::move(url), std::move(options))};
}

integration http(std::string method, std::string url, http_options options) {
  return integration{std::make_shared<http_integration>(false, checked_method(std::move(method)),
                                                        std::move(url), std::move(options))};
}

}  // namespace gatehouse
