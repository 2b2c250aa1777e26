// The proxy event a function integration receives, and its JSON form in AWS's payload formats.

#include "auth/authorization.hpp"
#include "integration/event_json.hpp"
#include "pipeline/exchange.hpp"
#include "routing/route_table.hpp"
#include "usage/key_registry.hpp"
#include "util/access.hpp"
#include "util/json_parse.hpp"
#include "util/json_text.hpp"
#include "util/time_text.hpp"

#include <gatehouse/integration.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstdint>
#include <map>

namespace gatehouse {

namespace {
using writer = rapidjson::Writer<rapidjson::StringBuffer>;

void str(writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
void key(writer& w, std::string_view s) {
  w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
void str_or_null(writer& w, std::string_view s) {
  if (s.empty())
    w.Null();
  else
    str(w, s);
}

using routing::parse_query;

std::string_view domain_prefix(std::string_view host) {
  auto dot = host.find('.');
  return host.substr(0, dot);
}

// requestContext.authorizer. REST events (v1) give every value as a string: principalId, the
// custom authorizer's context keys, a JWT's claims under "claims". HTTP API events (v2) keep the
// types: {"jwt":{"claims","scopes"}} or {"principalId","lambda":{…}}.
void write_context_value(writer& w, const context_value& v, bool as_text) {
  if (as_text) return str(w, to_string(v));
  if (const auto* s = std::get_if<std::string>(&v)) return str(w, *s);
  if (const auto* b = std::get_if<bool>(&v)) return static_cast<void>(w.Bool(*b));
  // A whole number as JSON writes it (7, not 7.0), as the authorizer's JSON gave it.
  const double d = std::get<double>(v);
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 1e15)
    return static_cast<void>(w.Int64(static_cast<std::int64_t>(d)));
  w.Double(d);
}

void write_claims_as_text(writer& w, std::string_view claims_json) {
  rapidjson::Document doc;
  const bool parsed = static_cast<bool>(util::parse_json(doc, claims_json));
  w.StartObject();
  if (parsed && doc.IsObject()) {
    for (auto& m : doc.GetObject()) {
      w.Key(m.name.GetString(), m.name.GetStringLength());
      if (m.value.IsString()) {
        w.String(m.value.GetString(), m.value.GetStringLength());
      } else {
        rapidjson::StringBuffer b;
        rapidjson::Writer<rapidjson::StringBuffer> inner(b);
        m.value.Accept(inner);
        w.String(b.GetString(), static_cast<rapidjson::SizeType>(b.GetSize()));
      }
    }
  }
  w.EndObject();
}

void write_authorizer(writer& w, const authorizer_context& a, payload_format format) {
  if (a.empty()) return;
  key(w, "authorizer");
  w.StartObject();
  if (format == payload_format::v1) {
    if (!a.principal_id.empty()) key(w, "principalId"), str(w, a.principal_id);
    for (const auto& [k, v] : a.context) key(w, k), write_context_value(w, v, true);
    if (!a.claims_json.empty()) key(w, "claims"), write_claims_as_text(w, a.claims_json);
  } else if (!a.claims_json.empty()) {
    key(w, "jwt");
    w.StartObject();
    key(w, "claims");
    w.RawValue(a.claims_json.data(), a.claims_json.size(), rapidjson::kObjectType);
    key(w, "scopes");
    if (a.scopes.empty()) {
      w.Null();
    } else {
      w.StartArray();
      for (const auto& s : a.scopes) str(w, s);
      w.EndArray();
    }
    w.EndObject();
  } else {
    key(w, "principalId"), str(w, a.principal_id);
    key(w, "lambda");
    w.StartObject();
    for (const auto& [k, v] : a.context) key(w, k), write_context_value(w, v, false);
    w.EndObject();
  }
  w.EndObject();
}

// HTTP APIs (v2) give an IAM caller as requestContext.authorizer.iam.
void write_iam_authorizer(writer& w, const iam_identity& iam) {
  if (iam.empty()) return;
  key(w, "authorizer");
  w.StartObject();
  key(w, "iam");
  w.StartObject();
  key(w, "accessKey"), str(w, iam.access_key);
  key(w, "accountId"), str(w, iam.account_id);
  key(w, "callerId"), str(w, iam.caller);
  key(w, "cognitoIdentity");
  w.Null();
  key(w, "principalOrgId");
  w.Null();
  key(w, "userArn"), str(w, iam.user_arn);
  key(w, "userId"), str(w, iam.user);
  w.EndObject();
  w.EndObject();
}

std::string_view host_of(const detail::exchange& ex) {
  auto h = ex.req.headers.get("Host");
  return h ? *h : std::string_view{};
}
}  // namespace

std::string_view proxy_event::http_method() const noexcept { return ex_->req.method; }
std::string_view proxy_event::resource() const noexcept { return ex_->match.resource; }
std::string_view proxy_event::path() const noexcept { return ex_->stage_path; }
std::string_view proxy_event::raw_query_string() const noexcept { return ex_->query; }
std::string_view proxy_event::body() const noexcept { return ex_->req.body; }

std::optional<std::string_view> proxy_event::header(std::string_view name) const noexcept {
  // The request's trace, as the gateway passes it on, replaces the client's trace fields.
  if (observe::is_trace_field(name)) return observe::trace_field(ex_->trace, name);
  return ex_->req.headers.get(name);
}

std::optional<std::string> proxy_event::query(std::string_view name) const {
  std::optional<std::string> found;
  for (auto& [k, v] : parse_query(ex_->query))
    if (k == name) found = std::move(v);
  return found;
}

std::optional<std::string_view> proxy_event::path_parameter(std::string_view name) const noexcept {
  return ex_->path_param(name);
}

std::optional<std::string_view> proxy_event::stage_variable(std::string_view name) const noexcept {
  const auto& vars = ex_->stage->variables;
  if (auto it = vars.find(name); it != vars.end()) return std::string_view{it->second};
  return std::nullopt;
}

request_context proxy_event::context() const noexcept {
  const auto& ex = *ex_;
  request_context c;
  c.account_id = ex.gateway.account_id;
  c.api_id = ex.stage->deployment->api.id;
  c.domain_name = host_of(ex);
  c.http_method = ex.req.method;
  c.path = ex.path;
  c.protocol = "HTTP/1.1";
  c.request_id = ex.id();
  c.request_time = ex.request_time;
  c.request_time_epoch = ex.request_time_epoch;
  c.resource_path = ex.match.resource;
  c.stage = ex.stage->name;
  c.source_ip = ex.req.source_ip;
  if (auto ua = ex.req.headers.get("User-Agent")) c.user_agent = *ua;
  c.api_key = ex.api_key_value;
  if (ex.api_key) c.api_key_id = ex.api_key->id;
  c.vpce_id = ex.req.private_endpoint;
  if (ex.auth) c.authorizer = ex.auth->view(), c.iam = ex.auth->iam_view();
  return c;
}

namespace detail {

void write_proxy_event_members(json_writer& w, const exchange& ex, payload_format format,
                               bool with_body) {
  const auto ctx = detail::access::event(ex, format).context();
  const bool binary = !util::valid_utf8(ex.req.body);
  auto body = [&] {
    if (!with_body) return;
    key(w, "body");
    if (ex.req.body.empty())
      w.Null();
    else
      str(w, binary ? util::base64_encode(ex.req.body) : std::string(ex.req.body));
    key(w, "isBase64Encoded");
    w.Bool(binary);
  };
  auto path_params = [&](bool null_when_empty) {
    if (ex.match.param_count == 0) {
      if (null_when_empty) {
        key(w, "pathParameters");
        w.Null();
      }
      return;
    }
    key(w, "pathParameters");
    w.StartObject();
    for (std::size_t i = 0; i < ex.match.param_count; ++i) {
      key(w, ex.match.params[i].name);
      str(w, ex.match.params[i].value);
    }
    w.EndObject();
  };
  auto stage_vars = [&](bool null_when_empty) {
    const auto& vars = ex.stage->variables;
    if (vars.empty()) {
      if (null_when_empty) {
        key(w, "stageVariables");
        w.Null();
      }
      return;
    }
    key(w, "stageVariables");
    w.StartObject();
    for (const auto& [k, v] : vars) {
      key(w, k);
      str(w, v);
    }
    w.EndObject();
  };
  const auto query = parse_query(ex.query);

  if (format == payload_format::v1) {
    key(w, "resource"), str(w, ex.match.resource);
    key(w, "path"), str(w, ex.stage_path);
    key(w, "httpMethod"), str(w, ex.req.method);
    // REST events carry each multi-valued map twice: the last value of each name ("headers"),
    // and all of them ("multiValueHeaders"); null when empty.
    using multi_map = std::map<std::string_view, std::vector<std::string_view>>;
    auto write_both = [&](std::string_view single_key, std::string_view multi_key,
                          const multi_map& m) {
      key(w, single_key);
      if (m.empty()) {
        w.Null();
      } else {
        w.StartObject();
        for (auto& [k, v] : m) key(w, k), str(w, v.back());
        w.EndObject();
      }
      key(w, multi_key);
      if (m.empty()) {
        w.Null();
      } else {
        w.StartObject();
        for (auto& [k, v] : m) {
          key(w, k);
          w.StartArray();
          for (auto s : v) str(w, s);
          w.EndArray();
        }
        w.EndObject();
      }
    };
    multi_map headers, qs;
    for (const auto& f : ex.req.headers)
      if (!observe::is_trace_field(f.name)) headers[f.name].push_back(f.value);
    for (std::string_view n : {"X-Amzn-Trace-Id", "traceparent", "tracestate"})
      if (auto v = observe::trace_field(ex.trace, n)) headers[n].push_back(*v);
    for (const auto& [k, v] : query) qs[k].push_back(v);
    write_both("headers", "multiValueHeaders", headers);
    write_both("queryStringParameters", "multiValueQueryStringParameters", qs);
    path_params(true);
    stage_vars(true);
    key(w, "requestContext");
    w.StartObject();
    key(w, "accountId"), str(w, ctx.account_id);
    key(w, "apiId"), str(w, ctx.api_id);
    key(w, "domainName"), str(w, ctx.domain_name);
    key(w, "domainPrefix"), str(w, domain_prefix(ctx.domain_name));
    write_authorizer(w, ctx.authorizer, payload_format::v1);
    key(w, "extendedRequestId"), str(w, ctx.request_id);
    key(w, "httpMethod"), str(w, ctx.http_method);
    key(w, "identity");
    w.StartObject();
    key(w, "accessKey"), str_or_null(w, ctx.iam.access_key);
    key(w, "accountId"), str_or_null(w, ctx.iam.account_id);
    key(w, "caller"), str_or_null(w, ctx.iam.caller);
    for (auto k : {"cognitoAuthenticationProvider", "cognitoAuthenticationType",
                   "cognitoIdentityId", "cognitoIdentityPoolId", "principalOrgId"}) {
      key(w, k);
      w.Null();
    }
    key(w, "user"), str_or_null(w, ctx.iam.user);
    key(w, "userArn"), str_or_null(w, ctx.iam.user_arn);
    key(w, "clientCert");
    w.Null();
    key(w, "apiKey"), str_or_null(w, ctx.api_key);
    key(w, "apiKeyId"), str_or_null(w, ctx.api_key_id);
    key(w, "sourceIp"), str(w, ctx.source_ip);
    key(w, "userAgent"), str_or_null(w, ctx.user_agent);
    if (!ctx.vpce_id.empty()) key(w, "vpceId"), str(w, ctx.vpce_id);
    w.EndObject();
    key(w, "path"), str(w, ctx.path);
    key(w, "protocol"), str(w, ctx.protocol);
    key(w, "requestId"), str(w, ctx.request_id);
    key(w, "requestTime"), str(w, ctx.request_time);
    key(w, "requestTimeEpoch"), w.Int64(ctx.request_time_epoch);
    key(w, "resourceId"), str(w, ex.match.resource);
    key(w, "resourcePath"), str(w, ctx.resource_path);
    key(w, "stage"), str(w, ctx.stage);
    w.EndObject();
    body();
  } else {
    const std::string route_key =
        ex.match.resource == "$default"
            ? std::string("$default")
            : std::string(ex.match.method) + " " + std::string(ex.match.resource);
    key(w, "version"), str(w, "2.0");
    key(w, "routeKey"), str(w, route_key);
    key(w, "rawPath"), str(w, ex.path);
    key(w, "rawQueryString"), str(w, ex.query);
    // Cookies move out of the headers into their own list; other repeats are comma-joined.
    std::vector<std::string_view> cookies;
    std::map<std::string, std::string> headers;
    for (std::string_view n : {"x-amzn-trace-id", "traceparent", "tracestate"})
      if (auto v = observe::trace_field(ex.trace, n)) headers.emplace(std::string(n), *v);
    for (const auto& f : ex.req.headers) {
      if (observe::is_trace_field(f.name)) continue;
      std::string name = f.name;
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (name == "cookie") {
        std::string_view v = f.value;
        while (!v.empty()) {
          auto semi = v.find(';');
          auto c = v.substr(0, semi);
          while (!c.empty() && c.front() == ' ') c.remove_prefix(1);
          if (!c.empty()) cookies.push_back(c);
          v = semi == std::string_view::npos ? std::string_view{} : v.substr(semi + 1);
        }
        continue;
      }
      auto [it, fresh] = headers.try_emplace(std::move(name), f.value);
      if (!fresh) it->second.append(",").append(f.value);
    }
    if (!cookies.empty()) {
      key(w, "cookies");
      w.StartArray();
      for (auto c : cookies) str(w, c);
      w.EndArray();
    }
    key(w, "headers");
    w.StartObject();
    for (auto& [k, v] : headers) key(w, k), str(w, v);
    w.EndObject();
    if (!query.empty()) {
      std::map<std::string_view, std::string> qs;
      for (const auto& [k, v] : query) {
        auto [it, fresh] = qs.try_emplace(k, v);
        if (!fresh) it->second.append(",").append(v);
      }
      key(w, "queryStringParameters");
      w.StartObject();
      for (auto& [k, v] : qs) key(w, k), str(w, v);
      w.EndObject();
    }
    key(w, "requestContext");
    w.StartObject();
    key(w, "accountId"), str(w, ctx.account_id);
    key(w, "apiId"), str(w, ctx.api_id);
    write_authorizer(w, ctx.authorizer, payload_format::v2);
    write_iam_authorizer(w, ctx.iam);
    key(w, "domainName"), str(w, ctx.domain_name);
    key(w, "domainPrefix"), str(w, domain_prefix(ctx.domain_name));
    key(w, "http");
    w.StartObject();
    key(w, "method"), str(w, ctx.http_method);
    key(w, "path"), str(w, ctx.path);
    key(w, "protocol"), str(w, ctx.protocol);
    key(w, "sourceIp"), str(w, ctx.source_ip);
    key(w, "userAgent"), str(w, ctx.user_agent);
    w.EndObject();
    key(w, "requestId"), str(w, ctx.request_id);
    key(w, "routeKey"), str(w, route_key);
    key(w, "stage"), str(w, ctx.stage);
    key(w, "time"), str(w, ctx.request_time);
    key(w, "timeEpoch"), w.Int64(ctx.request_time_epoch);
    w.EndObject();
    path_params(false);
    stage_vars(false);
    body();
  }
}

}  // namespace detail

std::string proxy_event::to_json() const {
  rapidjson::StringBuffer buf;
  writer w(buf);
  w.StartObject();
  detail::write_proxy_event_members(w, *ex_, format_, true);
  w.EndObject();
  // RapidJSON copies string bytes as they are: headers (obs-text), decoded path and query
  // parameters and the like may hold bytes that are not UTF-8, which JSON cannot carry.
  std::string out(buf.GetString(), buf.GetSize());
  util::make_valid_utf8(out);
  return out;
}

}  // namespace gatehouse
