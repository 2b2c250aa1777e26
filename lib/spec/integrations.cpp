// x-amazon-apigateway-integration → AWS's Integration, and that → gatehouse's integration:
//   http / http_proxy  → http() / http_proxy() (requestParameters, timeout, tlsConfig)
//   mock               → AWS's MOCK (the request template picks the status)
//   aws_proxy          → the host's C++ binding of the Lambda function, else lambda_invoke at
//                        the host's Lambda endpoint, else 500 (an unbound function)
//   aws                → aws_service() at the service's endpoint, signed with the host's keys
// Non-proxy integrations carry request templates, passthrough and integration responses.

#include "integration/aws_mock.hpp"
#include "spec/build.hpp"
#include "spec/import.hpp"
#include "util/text.hpp"

#include <gatehouse/aws_integration.hpp>
#include <gatehouse/config_error.hpp>
#include <gatehouse/http_integration.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace gatehouse::spec {

namespace {

bool one_of(std::string_view s, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

// A map of strings; other values are dropped with AWS's warning (its words, recorded).
text_map strings_of(reader& r, const json* v, std::string_view field, const std::string& path,
                    const std::string& method) {
  text_map out;
  if (!v || !v->IsObject()) return out;
  r.spend(v->MemberCount());
  for (const auto& m : v->GetObject()) {
    if (m.value.IsString()) {
      out.emplace_back(view(m.name), view(m.value));
      continue;
    }
    auto text = m.value.IsObject() || m.value.IsArray() ? json_text(m.value)
                                                        : scalar_text(m.value).value_or("null");
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    r.warn(
        fmt::format("Invalid format for '{}'. Expected type string for property '{}' of "
                    "resource '{}' and method '{}' but got '{}'",
                    field, view(m.name), path, method, text));
  }
  return out;
}

// The response parameter sources gatehouse maps: the backend's headers, its body, or text.
bool supported_response_source(std::string_view source) {
  return source.starts_with("integration.response.header.") ||
         source == "integration.response.body" ||
         (source.size() >= 2 && source.front() == '\'' && source.back() == '\'');
}

// Mapping templates are text; one written as a YAML/JSON structure is taken as its JSON text.
text_map templates_of(reader& r, const json* v) {
  text_map out;
  if (!v || !v->IsObject()) return out;
  r.spend(v->MemberCount());
  for (const auto& m : v->GetObject()) {
    if (m.value.IsString())
      out.emplace_back(view(m.name), view(m.value));
    else if (m.value.IsObject() || m.value.IsArray())
      out.emplace_back(view(m.name), json_text(m.value));
    else if (auto t = scalar_text(m.value))
      out.emplace_back(view(m.name), *t);
  }
  return out;
}
}  // namespace

integration_model read_integration(reader& r, const json& ext, const std::string& path,
                                   const std::string& method) {
  r.spend(1);
  integration_model m;
  auto fail = [&](std::string_view why) { integration_error(method, path, why); };
  auto type = scalar_member(&ext, "type");
  if (!type) fail("Invalid integration type specified: null");
  m.type = util::ascii_upper(*type);
  if (!one_of(m.type, {"HTTP", "HTTP_PROXY", "AWS", "AWS_PROXY", "MOCK"}))
    fail(fmt::format("Invalid integration type specified: {}", *type));
  m.http_method = util::ascii_upper(scalar_member(&ext, "httpMethod").value_or(""));
  // AWS keeps no method for a MOCK that names none; Lambda functions are invoked with POST.
  if (m.http_method.empty() && m.type != "MOCK")
    m.http_method = m.type == "AWS_PROXY" ? "POST" : method;
  if (!m.http_method.empty() &&
      !one_of(m.http_method, {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"}))
    fail(fmt::format("Invalid HTTP method specified: {}", m.http_method));
  m.uri = scalar_member(&ext, "uri").value_or("");
  if (m.uri.empty() && m.type != "MOCK") fail("Invalid integration URI specified");
  m.credentials = scalar_member(&ext, "credentials").value_or("");
  m.request_parameters =
      strings_of(r, member(ext, "requestParameters"), "requestParameters", path, method);
  m.request_templates = templates_of(r, member(ext, "requestTemplates"));
  if (auto p = scalar_member(&ext, "passthroughBehavior")) {
    m.passthrough_behavior = util::ascii_upper(*p);
    if (!one_of(m.passthrough_behavior, {"WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"}))
      fail(fmt::format("Invalid passthrough behavior specified: {}", *p));
  }
  if (auto c = scalar_member(&ext, "contentHandling")) {
    m.content_handling = util::ascii_upper(*c);
    if (!one_of(m.content_handling, {"CONVERT_TO_TEXT", "CONVERT_TO_BINARY"}))
      fail(fmt::format("Invalid content handling specified: {}", *c));
  }
  if (const json* t = member(ext, "timeoutInMillis")) {
    auto ms = integer_of(*t);
    if (!ms || *ms < 50 || *ms > 29'000) fail("Timeout should be between 50 ms and 29000 ms");
    m.timeout_ms = static_cast<int>(*ms);
  }
  m.cache_namespace = scalar_member(&ext, "cacheNamespace").value_or("");
  m.cache_key_parameters = string_list(member(ext, "cacheKeyParameters"));
  const bool http = m.type == "HTTP" || m.type == "HTTP_PROXY";
  m.connection_type =
      util::ascii_upper(scalar_member(&ext, "connectionType").value_or(http ? "INTERNET" : ""));
  m.connection_id = scalar_member(&ext, "connectionId").value_or("");
  if (const json* tls = object_member(&ext, "tlsConfig"))
    if (member(tls, "insecureSkipVerification"))
      m.insecure_skip_verification = truthy(member(tls, "insecureSkipVerification"));
  const std::string where = fmt::format("{} {}", method, path);
  if (!m.content_handling.empty())
    r.note(fmt::format("{}: contentHandling {} is not applied", where, m.content_handling));
  if (m.connection_type == "VPC_LINK")
    r.note(fmt::format("{}: the VPC link is not used; {} is called directly", where, m.uri));
  for (const auto& k : m.cache_key_parameters)
    if (!k.starts_with("method.request."))
      r.note(fmt::format("{}: cache key parameter {} is not used", where, k));
  if (const json* responses = object_member(&ext, "responses")) {
    for (const auto& entry : responses->GetObject()) {
      r.spend(1);
      if (!entry.value.IsObject()) continue;
      integration_response_model ir;
      const auto key = view(entry.name);
      ir.selection_pattern = key == "default" ? "" : std::string(key);
      if (auto problem = pattern_problem(ir.selection_pattern); !problem.empty())
        fail(fmt::format("Invalid selection pattern specified: {}", problem));
      ir.status_code = scalar_member(&entry.value, "statusCode").value_or("200");
      ir.response_parameters = strings_of(r, member(entry.value, "responseParameters"),
                                          "responseParameters", path, method);
      ir.response_templates = templates_of(r, member(entry.value, "responseTemplates"));
      ir.content_handling =
          util::ascii_upper(scalar_member(&entry.value, "contentHandling").value_or(""));
      if (!ir.content_handling.empty())
        r.note(fmt::format("{}: contentHandling {} of integration response {} is not applied",
                           where, ir.content_handling, ir.status_code));
      for (const auto& [target, source] : ir.response_parameters)
        if (!supported_response_source(source))
          r.note(
              fmt::format("{}: response parameter {} = {} is not mapped", where, target, source));
      // AWS keeps integration responses by status code: a later one with the same replaces.
      auto same = std::find_if(m.responses.begin(), m.responses.end(),
                               [&](const auto& x) { return x.status_code == ir.status_code; });
      if (same != m.responses.end())
        *same = std::move(ir);
      else
        m.responses.push_back(std::move(ir));
    }
  }
  return m;
}

std::optional<lambda_function> lambda_of(std::string_view uri) {
  constexpr std::string_view marker = ":lambda:path/";
  auto at = uri.find(marker);
  if (at == std::string_view::npos || !uri.starts_with("arn:")) return std::nullopt;
  auto rest = uri.substr(at + marker.size());
  auto functions = rest.find("/functions/");
  if (functions == std::string_view::npos) return std::nullopt;
  rest.remove_prefix(functions + 11);
  if (!rest.ends_with("/invocations")) return std::nullopt;
  rest.remove_suffix(12);
  if (rest.empty()) return std::nullopt;
  lambda_function f;
  f.written = rest;
  f.arn = rest;
  f.name = rest;
  // arn:aws:lambda:{region}:{account}:function:{name}[:{qualifier}]
  if (rest.starts_with("arn:")) {
    std::vector<std::string_view> parts;
    for (std::string_view s = rest;;) {
      auto colon = s.find(':');
      parts.push_back(s.substr(0, colon));
      if (colon == std::string_view::npos) break;
      s.remove_prefix(colon + 1);
    }
    if (parts.size() >= 7 && parts[2] == "lambda" && parts[5] == "function") {
      f.region = parts[3];
      f.name = parts[6];
      if (parts.size() >= 8) f.qualifier = parts[7];
      f.arn = fmt::format("{}:{}:{}:{}:{}:{}:{}", parts[0], parts[1], parts[2], parts[3], parts[4],
                          parts[5], parts[6]);
    }
  }
  return f;
}

const integration* binding_of(const lambda_function& f, const openapi_options& o) {
  std::array<std::string, 4> keys{
      f.written, f.arn, f.qualifier.empty() ? f.name : f.name + ":" + f.qualifier, f.name};
  for (const auto& k : keys)
    if (auto it = o.functions.find(k); it != o.functions.end() && it->second) return &it->second;
  return nullptr;
}

std::string lambda_endpoint_of(const openapi_options& o, std::string_view region) {
  if (o.lambda && !o.lambda->endpoint.empty()) return o.lambda->endpoint;
  return fmt::format("https://lambda.{}.amazonaws.com", region);
}

std::optional<lambda_options> lambda_invocation(const lambda_function& f,
                                                const openapi_options& o) {
  if (!o.lambda || o.lambda->credentials.access_key_id.empty()) return std::nullopt;
  return lambda_options{.function_name = f.arn,
                        .qualifier = f.qualifier,
                        .region = f.region.empty() ? o.region : f.region,
                        .credentials = o.lambda->credentials,
                        .endpoint = o.lambda->endpoint,
                        .insecure_skip_verification = o.lambda->insecure_skip_verification};
}

std::optional<lambda_options> lambda_authorizer_function(std::string_view uri,
                                                         const openapi_options& o) {
  if (!o.lambda || o.lambda->credentials.access_key_id.empty()) return std::nullopt;
  std::optional<lambda_function> f;
  if (uri.starts_with("arn:") && uri.find(":lambda:path/") == std::string_view::npos) {
    // HTTP APIs also take the function's ARN itself.
    if (uri.find(":lambda:") != std::string_view::npos &&
        uri.find(":function:") != std::string_view::npos)
      f =
          lambda_of(fmt::format("arn:aws:apigateway:{}:lambda:path/2015-03-31/functions/{}/"
                                "invocations",
                                o.region, uri));
  } else {
    f = lambda_of(uri);
  }
  if (!f) return std::nullopt;
  return lambda_invocation(*f, o);
}

namespace {

// arn:{partition}:apigateway:{region}:{subdomain.}{service}:{path|action}/{rest}
struct service_target {
  std::string region, service, host_prefix, path;
};
std::optional<service_target> service_of(std::string_view uri) {
  std::string_view fields[5];
  for (auto& f : fields) {
    auto colon = uri.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    f = uri.substr(0, colon);
    uri.remove_prefix(colon + 1);
  }
  if (fields[0] != "arn" || fields[2] != "apigateway" || fields[4].empty()) return std::nullopt;
  service_target t;
  t.region = fields[3];
  t.host_prefix = fields[4];  // "sqs", or "mybucket.s3"
  auto dot = fields[4].rfind('.');
  t.service = dot == std::string_view::npos ? fields[4] : fields[4].substr(dot + 1);
  if (uri.starts_with("path/"))
    t.path = "/" + std::string(uri.substr(5));
  else if (uri.starts_with("action/"))
    t.path = "/?Action=" + std::string(uri.substr(7));
  else
    return std::nullopt;
  return t;
}
}  // namespace

built_integration make_integration(const method_model& mm, const std::string& path,
                                   const openapi_options& o, build_report& report) {
  built_integration b;
  if (!mm.integration) {
    b.target = detail::misconfigured("No integration defined for method");
    b.description = "NONE";
    return b;
  }
  const integration_model& m = *mm.integration;
  const std::chrono::milliseconds timeout(m.timeout_ms);
  const bool insecure = m.insecure_skip_verification.value_or(false);
  b.proxy = m.type == "HTTP_PROXY" || m.type == "AWS_PROXY";
  try {
    if (m.type == "HTTP" || m.type == "HTTP_PROXY") {
      http_options h{.timeout = timeout,
                     .insecure_skip_verification = insecure,
                     .request_parameters = m.request_parameters};
      b.target =
          b.proxy ? http_proxy(m.uri, std::move(h)) : http(m.http_method, m.uri, std::move(h));
      b.description = fmt::format("{} {} {}", m.type, m.http_method, m.uri);
    } else if (m.type == "MOCK") {
      b.target = detail::aws_mock();
      b.description = "MOCK";
    } else if (auto f = lambda_of(m.uri); f && m.type == "AWS_PROXY") {
      const std::string shown = f->qualifier.empty() ? f->name : f->name + ":" + f->qualifier;
      if (const integration* bound = binding_of(*f, o)) {
        b.target = *bound;
        b.description = fmt::format("AWS_PROXY {} (C++)", shown);
      } else if (auto call = lambda_invocation(*f, o)) {
        call->timeout = timeout;
        b.description =
            fmt::format("AWS_PROXY {} (Lambda at {})", shown, lambda_endpoint_of(o, call->region));
        b.target = lambda_invoke(std::move(*call));
      } else {
        // Neither bound nor callable (no Lambda endpoint, or no credentials to sign with).
        report.unbound_functions.push_back(f->written);
        b.target = detail::misconfigured(
            fmt::format("Execution failed due to configuration error: Lambda function {} is "
                        "not bound",
                        f->written));
        b.description = fmt::format("AWS_PROXY {} (unbound)", shown);
      }
    } else if (auto t = service_of(m.uri); t && m.type == "AWS") {
      const bool lambda = t->service == "lambda";
      const auto& credentials = lambda && o.lambda ? o.lambda->credentials : o.service_credentials;
      if (credentials.access_key_id.empty()) {
        b.target = detail::misconfigured(fmt::format(
            "Execution failed due to configuration error: no credentials for {}", m.uri));
        b.description = fmt::format("AWS {} {} (no credentials)", m.http_method, m.uri);
        b.proxy = true;  // it answers 500 whatever the request: its templates are not used
        return b;
      }
      std::string endpoint =
          lambda && o.lambda ? lambda_endpoint_of(o, t->region)
          : o.aws_endpoint   ? o.aws_endpoint(t->service, t->region)
                           : fmt::format("https://{}.{}.amazonaws.com", t->host_prefix, t->region);
      b.target = aws_service({.endpoint = std::move(endpoint),
                              .region = t->region,
                              .service = t->service,
                              .credentials = credentials,
                              .method = m.http_method == "ANY" ? "POST" : m.http_method,
                              .path = t->path,
                              .timeout = timeout,
                              .request_parameters = m.request_parameters,
                              .insecure_skip_verification = insecure});
      b.description = fmt::format("AWS {} {}", m.http_method, m.uri);
    } else {
      b.target = detail::misconfigured(fmt::format(
          "Execution failed due to configuration error: unusable integration URI {}", m.uri));
      b.description = fmt::format("{} {} (unusable URI)", m.type, m.uri);
      b.proxy = true;
    }
  } catch (const config_error& e) {
    integration_error(mm.http_method, path, e.what());
  }
  return b;
}

void apply_integration_settings(const integration_model& m, bool proxy, const std::string& path,
                                const std::string& method, method_options& out) {
  for (const auto& k : m.cache_key_parameters)
    if (k.starts_with("method.request.")) out.cache_key_parameters.push_back(k);
  // Proxy integrations pass requests and responses as they are; AWS keeps but never uses
  // templates and integration responses on them.
  if (proxy) return;
  out.request_templates = m.request_templates;
  out.passthrough = m.passthrough_behavior == "NEVER" ? passthrough_behavior::never
                    : m.passthrough_behavior == "WHEN_NO_TEMPLATES"
                        ? passthrough_behavior::when_no_templates
                        : passthrough_behavior::when_no_match;
  for (const auto& r : m.responses) {
    integration_response ir;
    int status = 0;
    auto [end, ec] =
        std::from_chars(r.status_code.data(), r.status_code.data() + r.status_code.size(), status);
    if (ec != std::errc() || end != r.status_code.data() + r.status_code.size() || status < 100 ||
        status > 599)
      integration_error(method, path,
                        fmt::format("Invalid status code specified: {}", r.status_code));
    ir.status = status;
    ir.selection_pattern = r.selection_pattern;
    for (const auto& [target, source] : r.response_parameters) {
      if (supported_response_source(source) && target.starts_with("method.response.header."))
        ir.response_parameters.emplace_back(target, source);
    }
    ir.response_templates = r.response_templates;
    out.integration_responses.push_back(std::move(ir));
  }
}

}  // namespace gatehouse::spec
