#include "transform/method_transform.hpp"
#include "util/text.hpp"

#include "routing/deployment.hpp"
#include "routing/route_table.hpp"
#include "transform/parameter_mapping.hpp"
#include "util/regex.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <cctype>

namespace gatehouse::transform {

using gatehouse::detail::exchange;
using gatehouse::detail::gateway_error;

namespace {
// What templates read: the exchange's method request, with `body` as $input's body (the method
// request's for request templates, the backend's for response templates).
class exchange_environment final : public template_environment {
 public:
  exchange_environment(const exchange& ex, std::string_view body) : ex_(ex), body_(body) {}

  std::string_view body() const override { return body_; }
  std::optional<std::string_view> param(std::string_view name) const override {
    if (auto v = ex_.path_param(name)) return v;
    for (const auto& [k, v] : query())
      if (k == name) return std::string_view(v);
    return ex_.req.headers.get(name);
  }
  void params(param_kind kind,
              std::vector<std::pair<std::string_view, std::string_view>>& out) const override {
    switch (kind) {
      case param_kind::path:
        for (std::size_t i = 0; i < ex_.match.param_count; ++i)
          out.emplace_back(ex_.match.params[i].name, ex_.match.params[i].value);
        break;
      case param_kind::querystring:
        for (const auto& [k, v] : query()) out.emplace_back(k, v);
        break;
      case param_kind::header:
        for (const auto& f : ex_.req.headers) out.emplace_back(f.name, f.value);
        break;
    }
  }
  bool context(std::string_view name, std::string& out) const override {
    auto v = context_value(ex_, name);
    if (!v) return false;
    out = std::move(*v);
    return true;
  }
  std::optional<std::string_view> stage_variable(std::string_view name) const override {
    const auto& vars = ex_.stage->variables;
    if (auto it = vars.find(name); it != vars.end()) return std::string_view(it->second);
    return std::nullopt;
  }
  void stage_variables(
      std::vector<std::pair<std::string_view, std::string_view>>& out) const override {
    for (const auto& [k, v] : ex_.stage->variables) out.emplace_back(k, v);
  }

 private:
  // The query string decoded once, when a template asks.
  const std::vector<std::pair<std::string, std::string>>& query() const {
    if (!query_) query_ = routing::parse_query(ex_.query);
    return *query_;
  }
  const exchange& ex_;
  std::string_view body_;
  mutable std::optional<std::vector<std::pair<std::string, std::string>>> query_;
};

const method_transform* transform_of(const exchange& ex) {
  if (!ex.stage || !ex.match.target) return nullptr;  // ended before a route matched
  const auto& table = ex.stage->deployment->transforms;
  return ex.match.index < table.size() ? table[ex.match.index].get() : nullptr;
}

gateway_error template_failure(const exchange& ex, std::string_view which) {
  return gateway_error{response_type::api_configuration_error,
                       0,
                       {},
                       fmt::format("{} {}: the {} mapping template hit a limit", ex.req.method,
                                   ex.match.resource, which)};
}
}  // namespace

std::shared_ptr<const method_transform> compile(std::string_view route_key,
                                                const method_options& options, bool proxy) {
  auto fail = [&](const std::string& what) {
    throw config_error(fmt::format("route {}: {}", route_key, what));
  };
  const bool any = !options.request_templates.empty() || !options.integration_responses.empty() ||
                   options.passthrough != passthrough_behavior::when_no_match;
  if (!any && !options.transform_request && !options.transform_response &&
      options.parameter_mapping.empty() && options.response_mapping.empty())
    return nullptr;
  if (proxy && any)
    fail(
        "mapping templates and integration responses need a non-proxy integration (http, "
        "aws_service or mock), as in AWS");
  auto t = std::make_shared<method_transform>();
  t->passthrough = options.passthrough;
  t->on_request = options.transform_request;
  t->on_response = options.transform_response;
  const std::string what = fmt::format("route {}", route_key);
  t->request_mapping = compile_request_mapping(options.parameter_mapping, what);
  t->response_mapping = compile_response_mapping(options.response_mapping, what);
  for (const auto& [media, text] : options.request_templates) {
    if (media.empty()) fail("a request template has an empty media type");
    t->request_templates.emplace_back(
        util::ascii_lower(media),
        mapping_template::parse(text, fmt::format("{} request {}", route_key, media)));
  }
  bool has_default = false;
  for (const auto& r : options.integration_responses) {
    compiled_response c;
    c.status = r.status;
    if (r.status < 100 || r.status > 599)
      fail(fmt::format("integration response status {} is not an HTTP status", r.status));
    if (r.selection_pattern.empty()) {
      if (has_default) fail("two default integration responses (empty selection patterns)");
      has_default = true;
    } else {
      try {
        c.pattern.emplace(r.selection_pattern, util::safe_regex_flags);
      } catch (const std::regex_error& e) {
        fail(fmt::format("selection pattern '{}': {}", r.selection_pattern, e.what()));
      }
    }
    for (const auto& [target, source] : r.response_parameters) {
      constexpr std::string_view header_target = "method.response.header.";
      if (!target.starts_with(header_target) || target.size() == header_target.size())
        fail(fmt::format("response parameter '{}' is not method.response.header.NAME", target));
      compiled_response::header_rule rule;
      rule.target = target.substr(header_target.size());
      if (source.starts_with("integration.response.header.") && source.size() > 28) {
        rule.source = compiled_response::header_rule::from::header;
        rule.value = source.substr(28);
      } else if (source == "integration.response.body") {
        rule.source = compiled_response::header_rule::from::body;
      } else if (source.size() >= 2 && source.front() == '\'' && source.back() == '\'') {
        rule.source = compiled_response::header_rule::from::literal;
        rule.value = source.substr(1, source.size() - 2);
      } else {
        fail(
            fmt::format("response parameter '{}' = '{}': the source must be "
                        "integration.response.header.NAME, integration.response.body or "
                        "'static text'",
                        target, source));
      }
      c.headers.push_back(std::move(rule));
    }
    for (const auto& [media, text] : r.response_templates) {
      if (media.empty()) fail("a response template has an empty media type");
      c.templates.emplace_back(
          util::ascii_lower(media),
          mapping_template::parse(text,
                                  fmt::format("{} response {} {}", route_key, r.status, media)));
    }
    t->responses.push_back(std::move(c));
  }
  return t;
}

std::optional<gateway_error> transform_request(exchange& ex) {
  const method_transform* t = transform_of(ex);
  if (!t) return std::nullopt;
  // Step 11 needs the backend's whole body.
  if (!t->responses.empty() || t->on_response) ex.may_stream = false;
  const std::string_view type =
      util::media_type(ex.req.headers.get("Content-Type").value_or("application/json"));
  const mapping_template* chosen = nullptr;
  for (const auto& [media, tmpl] : t->request_templates) {
    if (media.size() == type.size() && iequals(media, type)) {
      chosen = &tmpl;
      break;
    }
  }
  if (!chosen) {
    const bool refuse = t->passthrough == passthrough_behavior::never ||
                        (t->passthrough == passthrough_behavior::when_no_templates &&
                         !t->request_templates.empty());
    if (refuse) return gateway_error{response_type::unsupported_media_type};
  } else {
    template_result r;
    {
      exchange_environment env(ex, ex.req.body);
      chosen->evaluate(env, r);
    }
    if (r.limit_exceeded) return template_failure(ex, "request");
    // The integration request's Content-Type stays the method request's unless a mapping
    // (integration.request.header.Content-Type) or an override says otherwise, as in AWS.
    ex.req.body = std::move(r.output);
    for (auto& [name, value] : r.header_overrides)
      ex.override_headers.emplace_back(std::move(name), std::move(value));
  }
  apply_request_mapping(t->request_mapping, ex);
  if (t->on_request) t->on_request(ex.req);
  return std::nullopt;
}

void transform_response(exchange& ex, gatehouse::detail::outcome& out) {
  if (out.error) return;
  const method_transform* t = transform_of(ex);
  if (!t) return;
  response& res = out.res;
  if (!t->responses.empty()) {
    // The integration response whose pattern matches the backend's status, else the default.
    const std::string status = std::to_string(res.status);
    const compiled_response* chosen = nullptr;
    for (const auto& r : t->responses) {
      if (r.pattern && std::regex_match(status, *r.pattern)) {
        chosen = &r;
        break;
      }
    }
    if (!chosen) {
      for (const auto& r : t->responses)
        if (!r.pattern) chosen = &r;
    }
    if (!chosen) {
      out.error = gateway_error{response_type::api_configuration_error,
                                0,
                                {},
                                fmt::format("no integration response matches status {}", status)};
      return;
    }
    response method_response;
    method_response.status = chosen->status;
    for (const auto& h : chosen->headers) {
      switch (h.source) {
        case compiled_response::header_rule::from::header:
          if (auto v = res.headers.get(h.value))
            method_response.headers.set(h.target, std::string(*v));
          else if (auto b = ex.backend_headers.get(h.value))
            method_response.headers.set(h.target, std::string(*b));
          break;
        case compiled_response::header_rule::from::body:
          method_response.headers.set(h.target, res.body);
          break;
        case compiled_response::header_rule::from::literal:
          method_response.headers.set(h.target, h.value);
          break;
      }
    }
    // The response template for the client's Accept type, else application/json, else the
    // first; without templates the backend's body and Content-Type pass.
    const mapping_template* tmpl = nullptr;
    std::string_view tmpl_type;
    if (!chosen->templates.empty()) {
      const std::string_view accept =
          util::media_type(ex.req.headers.get("Accept").value_or("application/json"));
      for (const auto& [media, m] : chosen->templates)
        if (media.size() == accept.size() && iequals(media, accept)) tmpl = &m, tmpl_type = media;
      for (const auto& [media, m] : chosen->templates)
        if (!tmpl && media == "application/json") tmpl = &m, tmpl_type = media;
      if (!tmpl)
        tmpl = &chosen->templates.front().second, tmpl_type = chosen->templates.front().first;
    }
    if (tmpl) {
      template_result r;
      {
        exchange_environment env(ex, res.body);
        tmpl->evaluate(env, r);
      }
      if (r.limit_exceeded) {
        out.error = template_failure(ex, "response");
        return;
      }
      method_response.body = std::move(r.output);
      method_response.headers.set("Content-Type", std::string(tmpl_type));
      if (r.status_override && *r.status_override >= 100 && *r.status_override <= 599)
        method_response.status = *r.status_override;
      for (auto& [name, value] : r.header_overrides)
        method_response.headers.set(name, std::move(value));
    } else {
      method_response.body = std::move(res.body);
      if (auto ct = res.headers.get("Content-Type"))
        method_response.headers.set("Content-Type", std::string(*ct));
    }
    res = std::move(method_response);
  }
  apply_response_mapping(t->response_mapping, ex, res);
  if (t->on_response) t->on_response(res);
}

}  // namespace gatehouse::transform
