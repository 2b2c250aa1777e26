// HTTP integrations, as AWS's HTTP_PROXY and HTTP (non-proxy): build the backend request from
// the method request (a URL template with path parameters and stage variables, forwarded or
// mapped parameters), call the backend with the gateway's HTTP client, and turn the backend's
// answer, or the failure, into the method response.

#include "integration/integration_impl.hpp"
#include "net/client_core.hpp"
#include "net/url.hpp"
#include "routing/stage_variables.hpp"
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

// A piece of the URL template: text, ${stageVariables.NAME} or {NAME}.
struct url_piece {
  enum class kind { text, stage_variable, path_parameter } k;
  std::string s;
};

std::vector<url_piece> parse_url_template(std::string_view url, std::string_view what) {
  std::vector<url_piece> out;
  std::string text;
  constexpr std::string_view stage_prefix = "${stageVariables.";
  for (std::size_t i = 0; i < url.size();) {
    if (url.substr(i, stage_prefix.size()) == stage_prefix) {
      auto close = url.find('}', i);
      auto name = close == std::string_view::npos
                      ? std::string_view{}
                      : url.substr(i + stage_prefix.size(), close - i - stage_prefix.size());
      if (!routing::valid_stage_variable_name(name))
        throw config_error(
            fmt::format("{}: malformed stage variable reference in '{}'", what, url));
      if (!text.empty()) out.push_back({url_piece::kind::text, std::exchange(text, {})});
      out.push_back({url_piece::kind::stage_variable, std::string(name)});
      i = close + 1;
    } else if (url[i] == '{') {
      auto close = url.find('}', i);
      auto name =
          close == std::string_view::npos ? std::string_view{} : url.substr(i + 1, close - i - 1);
      if (!name.empty() && name.back() == '+') name.remove_suffix(1);
      bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      });
      if (!ok) throw config_error(fmt::format("{}: malformed path parameter in '{}'", what, url));
      if (!text.empty()) out.push_back({url_piece::kind::text, std::exchange(text, {})});
      out.push_back({url_piece::kind::path_parameter, std::string(name)});
      i = close + 1;
    } else {
      text.push_back(url[i++]);
    }
  }
  if (!text.empty()) out.push_back({url_piece::kind::text, std::move(text)});
  return out;
}

// Percent-encodes a path parameter's (decoded) value for a URL path; '/' stays for greedy ones.
void append_path_encoded(std::string& out, std::string_view v, bool keep_slash) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned char c : v) {
    bool plain = std::isalnum(c) || std::strchr("-._~!$&'()*+,;=:@", c) != nullptr ||
                 (keep_slash && c == '/');
    if (plain && c != 0) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
}

// Percent-encodes a query component.
void append_query_encoded(std::string& out, std::string_view v) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned char c : v) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
}

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
    pieces_ = parse_url_template(url_, what);
    mapping_ = transform::parameter_mapping(opts_.request_parameters, what);
    // A template that starts with its scheme and host can be checked now; one whose start is a
    // stage variable is checked per request (API_CONFIGURATION_ERROR when it is bad).
    if (!pieces_.empty() && pieces_.front().k == url_piece::kind::text &&
        pieces_.front().s.find("://") != std::string::npos) {
      std::string probe;
      for (const auto& p : pieces_) probe += p.k == url_piece::kind::text ? p.s : "x";
      std::string why;
      if (!net::parse_url(probe, &why))
        throw config_error(fmt::format("{}: bad URL: {}", what, why));
    } else if (pieces_.empty() || pieces_.front().k != url_piece::kind::stage_variable) {
      throw config_error(fmt::format("{}: bad URL: it must start with http:// or https://", what));
    }
  }

  void collect_stage_variables(std::vector<std::string>& names) const override {
    for (const auto& p : pieces_)
      if (p.k == url_piece::kind::stage_variable) names.push_back(p.s);
    mapping_.collect_stage_variables(names);
  }

  asio::awaitable<outcome> invoke(exchange& ex) const override {
    // The mapped parameters, evaluated once.
    std::vector<std::pair<const transform::mapping_rule*, std::string>> mapped;
    if (!mapping_.empty()) {
      std::vector<std::string> vals;
      for (const auto& rule : mapping_.rules()) {
        transform::parameter_mapping::values(rule, ex, vals);
        if (vals.empty()) continue;
        if (rule.target == target_kind::querystring) {
          for (auto& v : vals) mapped.emplace_back(&rule, std::move(v));
        } else {
          std::string joined;
          for (std::size_t i = 0; i < vals.size(); ++i) {
            if (i) joined += ',';
            joined += vals[i];
          }
          mapped.emplace_back(&rule, std::move(joined));
        }
      }
    }

    std::string url = render_url(ex, mapped);
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
      const bool timeout = ec == client_errc::timed_out || ec == client_errc::connect_timeout;
      out.res = {};
      out.error = gateway_error{
          timeout ? response_type::integration_timeout : response_type::integration_failure,
          0,
          {},
          timeout ? fmt::format("Execution failed due to a timeout error ({} {}{})", method,
                                parts->authority, parts->target)
                  : fmt::format("Execution failed: Network error "
                                "communicating with endpoint {} {}{}: {}",
                                method, parts->authority, parts->target, ec.message())};
      co_return out;
    }
    shape_response(ex, out.res);
    co_return out;
  }

 private:
  struct head_context {
    const http_integration* self;
    const exchange* ex;
    const std::vector<std::pair<const transform::mapping_rule*, std::string>>* mapped;
  };

  static bool method_forbids_body(std::string_view m) noexcept {
    return m == "GET" || m == "HEAD" || m == "DELETE" || m == "OPTIONS";
  }

  std::string render_url(
      const exchange& ex,
      const std::vector<std::pair<const transform::mapping_rule*, std::string>>& mapped) const {
    std::string url;
    url.reserve(url_.size() + ex.stage_path.size() + ex.query.size() + 16);
    for (const auto& p : pieces_) {
      switch (p.k) {
        case url_piece::kind::text:
          url.append(p.s);
          break;
        case url_piece::kind::stage_variable:
          if (auto it = ex.stage->variables.find(p.s); it != ex.stage->variables.end())
            url.append(it->second);
          break;
        case url_piece::kind::path_parameter: {
          const std::string* m = nullptr;
          for (const auto& [rule, value] : mapped)
            if (rule->target == target_kind::path && rule->target_name == p.s) m = &value;
          if (m) {
            append_path_encoded(url, *m, false);
          } else if (auto v = ex.path_param(p.s)) {
            append_path_encoded(url, *v, greedy(ex, p.s));
          }
          break;
        }
      }
    }
    bool has_query = url.find('?') != std::string::npos;
    if (proxy_ && !ex.query.empty()) {
      url.push_back(has_query ? '&' : '?');
      url.append(ex.query);
      has_query = true;
    }
    for (const auto& [rule, value] : mapped) {
      if (rule->target != target_kind::querystring) continue;
      url.push_back(has_query ? '&' : '?');
      has_query = true;
      append_query_encoded(url, rule->target_name);
      url.push_back('=');
      append_query_encoded(url, value);
    }
    return url;
  }

  // Whether {name} is the route's greedy {name+} parameter, whose value keeps its slashes.
  static bool greedy(const exchange& ex, std::string_view name) noexcept {
    auto r = ex.match.resource;
    auto pos = r.find(name);
    while (pos != std::string_view::npos) {
      if (pos > 0 && r[pos - 1] == '{' && r.substr(pos + name.size(), 2) == "+}") return true;
      pos = r.find(name, pos + 1);
    }
    return false;
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
    for (const auto& [rule, value] : *hc.mapped) {
      if (rule->target != target_kind::header) continue;
      // A mapped value may come percent-decoded from the query string: no line breaks in it.
      out.append(rule->target_name).append(": ");
      for (char c : value) out.push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
      out.append("\r\n");
    }
  }

  // The backend's response as the method response: hop-by-hop fields go; REST APIs remap the
  // fields the gateway owns to x-amzn-Remapped-*, as AWS does.
  void shape_response(const exchange& ex, response& res) const {
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
      if (!proxy_) return true;  // non-proxy: the mapped fields only
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

  bool proxy_;
  std::string method_;
  std::string url_;
  http_options opts_;
  std::vector<url_piece> pieces_;
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
