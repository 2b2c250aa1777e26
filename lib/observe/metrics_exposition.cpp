// The metrics as Prometheus text (format 0.0.4) and OpenMetrics 1.0.0 text, and the Accept
// negotiation between them.

#include "util/json_text.hpp"
#include "util/text.hpp"

#include <gatehouse/metrics.hpp>
#include <gatehouse/version.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <span>

namespace gatehouse {

const api_metrics* metrics_snapshot::find(std::string_view stage,
                                          std::string_view route) const noexcept {
  for (const auto& m : apis) {
    if (m.stage != stage) continue;
    if (route.empty()) {
      if (m.method.empty() && m.resource.empty() && m.route.empty()) return &m;
      continue;
    }
    if (m.route == route) return &m;
    if (!m.method.empty() && route.size() == m.method.size() + 1 + m.resource.size() &&
        route.starts_with(m.method) && route[m.method.size()] == ' ' && route.ends_with(m.resource))
      return &m;
  }
  return nullptr;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A q-value ("0.5"); 1 when absent or unreadable, as HTTP reads a missing one.
double q_value(std::string_view text) {
  double q = 1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), q);
  if (ec != std::errc() || q < 0 || q > 1) return 1;
  return q;
}

}  // namespace

exposition_format negotiate_exposition(std::string_view accept) noexcept {
  double openmetrics = -1, text = -1;
  while (!accept.empty()) {
    const auto comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    const auto semi = range.find(';');
    const std::string_view type = trim(range.substr(0, semi));
    std::string_view params =
        semi == std::string_view::npos ? std::string_view{} : range.substr(semi + 1);
    double q = 1;
    std::string_view version;
    while (!params.empty()) {
      const auto next = params.find(';');
      const std::string_view p = trim(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
      const auto eq = p.find('=');
      if (eq == std::string_view::npos) continue;
      const auto name = trim(p.substr(0, eq));
      const auto value = trim(p.substr(eq + 1));
      if (util::iequals(name, "q")) q = q_value(value);
      if (util::iequals(name, "version")) version = value;
    }
    if (q <= 0) continue;
    if (util::iequals(type, "application/openmetrics-text")) {
      if (version.empty() || version == "1.0.0") openmetrics = std::max(openmetrics, q);
    } else if (util::iequals(type, "text/plain")) {
      if (version.empty() || version == "0.0.4") text = std::max(text, q);
    } else if (type == "*/*" || util::iequals(type, "text/*")) {
      text = std::max(text, q);
    }
  }
  return openmetrics > 0 && openmetrics >= text ? exposition_format::openmetrics
                                                : exposition_format::prometheus;
}

std::string_view content_type(exposition_format format) noexcept {
  return format == exposition_format::openmetrics
             ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
             : "text/plain; version=0.0.4; charset=utf-8";
}

namespace {

enum class kind { counter, gauge, histogram };

// One AWS metric of one kind of API: its name after the family's prefix, what it is, where its
// value is, and AWS's name and meaning for HELP.
struct aws_metric {
  std::string_view suffix;  // counters without "_total"
  kind type;
  std::uint64_t api_metrics::*value = nullptr;
  latency_histogram api_metrics::*histogram = nullptr;
  std::string_view help;
};

constexpr aws_metric rest_metrics[] = {
    {"requests", kind::counter, &api_metrics::count, nullptr, "AWS Count: requests received"},
    {"4xx_errors", kind::counter, &api_metrics::errors_4xx, nullptr,
     "AWS 4XXError: requests answered with a 4xx status"},
    {"5xx_errors", kind::counter, &api_metrics::errors_5xx, nullptr,
     "AWS 5XXError: requests answered with a 5xx status"},
    {"cache_hits", kind::counter, &api_metrics::cache_hits, nullptr,
     "AWS CacheHitCount: requests answered from the stage cache"},
    {"cache_misses", kind::counter, &api_metrics::cache_misses, nullptr,
     "AWS CacheMissCount: requests of cached methods served by the integration"},
    {"latency_seconds", kind::histogram, nullptr, &api_metrics::latency,
     "AWS Latency (in seconds): from a request's arrival to its response sent"},
    {"integration_latency_seconds", kind::histogram, nullptr, &api_metrics::integration_latency,
     "AWS IntegrationLatency (in seconds): from the call to the integration to its answer"},
};
constexpr aws_metric http_metrics[] = {
    {"requests", kind::counter, &api_metrics::count, nullptr, "AWS Count: requests received"},
    {"4xx_errors", kind::counter, &api_metrics::errors_4xx, nullptr,
     "AWS 4xx: requests answered with a 4xx status"},
    {"5xx_errors", kind::counter, &api_metrics::errors_5xx, nullptr,
     "AWS 5xx: requests answered with a 5xx status"},
    {"data_processed_bytes", kind::counter, &api_metrics::data_processed, nullptr,
     "AWS DataProcessed: request and response body bytes"},
    {"latency_seconds", kind::histogram, nullptr, &api_metrics::latency,
     "AWS Latency (in seconds): from a request's arrival to its response sent"},
    {"integration_latency_seconds", kind::histogram, nullptr, &api_metrics::integration_latency,
     "AWS IntegrationLatency (in seconds): from the call to the integration to its answer"},
};
constexpr aws_metric websocket_metrics[] = {
    {"connects", kind::counter, &api_metrics::connects, nullptr,
     "AWS ConnectCount: connection requests run through $connect"},
    {"messages", kind::counter, &api_metrics::messages, nullptr,
     "AWS MessageCount: data messages received from and sent to clients"},
    {"integration_errors", kind::counter, &api_metrics::integration_errors, nullptr,
     "AWS IntegrationError: integrations that answered with a 4xx or 5xx status"},
    {"client_errors", kind::counter, &api_metrics::client_errors, nullptr,
     "AWS ClientError: requests the gateway refused with a 4xx before the integration"},
    {"execution_errors", kind::counter, &api_metrics::execution_errors, nullptr,
     "AWS ExecutionError: calls to the integration that failed"},
    {"integration_latency_seconds", kind::histogram, nullptr, &api_metrics::integration_latency,
     "AWS IntegrationLatency (in seconds): from the call to the integration to its answer"},
};

struct api_family_set {
  metrics_api_type type;
  std::string_view prefix;           // "gatehouse_rest"
  std::string_view detailed_prefix;  // "gatehouse_rest_method"
  std::string_view subject;          // "REST API", for HELP
  std::string_view by_detail;        // "method and resource"
  std::span<const aws_metric> metrics;
};
const api_family_set api_families[] = {
    {metrics_api_type::rest, "gatehouse_rest", "gatehouse_rest_method", "REST API",
     "method and resource", rest_metrics},
    {metrics_api_type::http, "gatehouse_http_api", "gatehouse_http_api_route", "HTTP API", "route",
     http_metrics},
    {metrics_api_type::websocket, "gatehouse_websocket", "gatehouse_websocket_route",
     "WebSocket API", "route", websocket_metrics},
};

// The buckets' bounds as `le` values: OpenMetrics wants canonical numbers ("1.0"), the
// Prometheus text takes Go's shortest form ("1").
std::string bound_text(double ms, bool openmetrics) {
  auto text = fmt::format("{}", ms / 1000);
  if (openmetrics && text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

class writer {
 public:
  explicit writer(exposition_format f) : om_(f == exposition_format::openmetrics) {}

  // HELP and TYPE of a family; `name` without a counter's "_total".
  void family(std::string_view name, kind type, std::string_view help) {
    const bool total = type == kind::counter && !om_;
    const std::string_view type_name = type == kind::counter ? "counter"
                                       : type == kind::gauge ? "gauge"
                                                             : "histogram";
    out_.append("# HELP ").append(name).append(total ? "_total " : " ");
    append_help(help);
    out_.append("\n# TYPE ").append(name).append(total ? "_total " : " ");
    out_.append(type_name).append("\n");
  }

  // A sample: the name (and suffix), the labels (already written as `a="b",c="d"`), the value.
  void sample(std::string_view name, std::string_view suffix, std::string_view labels,
              std::string_view value) {
    out_.append(name).append(suffix);
    if (!labels.empty()) out_.append("{").append(labels).append("}");
    out_.append(" ").append(value).append("\n");
  }

  void counter(std::string_view name, std::string_view labels, std::uint64_t v) {
    sample(name, "_total", labels, fmt::format("{}", v));
  }
  void gauge(std::string_view name, std::string_view labels, std::uint64_t v) {
    sample(name, "", labels, fmt::format("{}", v));
  }
  void histogram(std::string_view name, std::string_view labels, const latency_histogram& h) {
    std::uint64_t cumulative = 0;
    std::string with_le;
    for (std::size_t i = 0; i < h.buckets.size(); ++i) {
      cumulative += h.buckets[i];
      with_le.assign(labels);
      if (!with_le.empty()) with_le += ',';
      with_le += "le=\"";
      with_le += i < latency_histogram::bounds_ms.size()
                     ? bound_text(latency_histogram::bounds_ms[i], om_)
                     : std::string("+Inf");
      with_le += '"';
      sample(name, "_bucket", with_le, fmt::format("{}", cumulative));
    }
    sample(name, "_sum", labels, fmt::format("{:.12g}", h.sum_ms / 1000));
    sample(name, "_count", labels, fmt::format("{}", cumulative));
  }

  std::string finish() {
    if (om_) out_.append("# EOF\n");
    return std::move(out_);
  }

 private:
  void append_help(std::string_view help) {
    for (char c : help) {
      if (c == '\\')
        out_.append("\\\\");
      else if (c == '\n')
        out_.append("\\n");
      else
        out_ += c;
    }
  }

  bool om_;
  std::string out_;
};

// A label value as the formats want it: UTF-8 (ill-formed bytes become U+FFFD), with
// backslash, double quote and newline escaped.
void append_label(std::string& out, std::string_view name, std::string_view value) {
  if (!out.empty()) out += ',';
  out.append(name).append("=\"");
  std::string valid;
  if (!util::valid_utf8(value)) {
    util::append_valid_utf8(valid, value);
    value = valid;
  }
  for (char c : value) {
    if (c == '\\')
      out.append("\\\\");
    else if (c == '"')
      out.append("\\\"");
    else if (c == '\n')
      out.append("\\n");
    else
      out += c;
  }
  out += '"';
}

std::string labels_of(const api_metrics& m) {
  std::string out;
  append_label(out, "api", m.api_name);
  append_label(out, "api_id", m.api_id);
  append_label(out, "stage", m.stage);
  if (!m.method.empty() || !m.resource.empty()) {
    append_label(out, "method", m.method);
    append_label(out, "resource", m.resource);
  } else if (!m.route.empty()) {
    append_label(out, "route", m.route);
  }
  return out;
}

bool detailed(const api_metrics& m) {
  return !m.method.empty() || !m.resource.empty() || !m.route.empty();
}

void write_api_families(writer& w, const metrics_snapshot& s) {
  std::vector<std::pair<const api_metrics*, std::string>> series;
  for (const auto& set : api_families) {
    for (bool by_route : {false, true}) {
      series.clear();
      for (const auto& m : s.apis)
        if (m.type == set.type && detailed(m) == by_route) series.emplace_back(&m, labels_of(m));
      if (series.empty()) continue;
      const std::string_view prefix = by_route ? set.detailed_prefix : set.prefix;
      for (const auto& metric : set.metrics) {
        const auto name = fmt::format("{}_{}", prefix, metric.suffix);
        const auto help = by_route ? fmt::format("{}, by {}, stage and {} (detailed metrics).",
                                                 metric.help, set.subject, set.by_detail)
                                   : fmt::format("{}, by {} and stage.", metric.help, set.subject);
        w.family(name, metric.type, help);
        for (const auto& [m, labels] : series) {
          if (metric.type == kind::histogram)
            w.histogram(name, labels, m->*metric.histogram);
          else
            w.counter(name, labels, m->*metric.value);
        }
      }
    }
  }
}

void write_gateway_families(writer& w, const gateway_metrics& g) {
  struct own {
    std::string_view name;
    kind type;
    std::uint64_t value;
    std::string_view help;
  };
  const own metrics[] = {
      {"gatehouse_connections_open", kind::gauge, g.connections_open,
       "Client connections open on the gateway's listeners (the metrics listener's too), "
       "WebSocket sessions included."},
      {"gatehouse_tls_handshakes", kind::counter, g.tls_handshakes,
       "TLS handshakes completed on the gateway's listeners."},
      {"gatehouse_tls_handshake_failures", kind::counter, g.tls_handshake_failures,
       "TLS handshakes that failed, timed out or that the client gave up."},
      {"gatehouse_upstream_connections_open", kind::gauge, g.upstream_connections_open,
       "Connections of HTTP integrations to their backends, open now."},
      {"gatehouse_upstream_connections_idle", kind::gauge, g.upstream_connections_idle,
       "Of the backend connections, those idle in the keep-alive pools."},
      {"gatehouse_store_round_trips", kind::counter, g.store_round_trips,
       "Requests the store made to its server (none for the in-memory store)."},
      {"gatehouse_store_failures", kind::counter, g.store_failures,
       "Requests of the store to its server that failed."},
      {"gatehouse_requests_abandoned", kind::counter, g.requests_abandoned,
       "Requests given up while they waited on a step: their client went away, or the host "
       "cancelled them."},
      {"gatehouse_unmatched_requests", kind::counter, g.unmatched_requests,
       "Requests for no mounted stage, answered 403 or 404 before any API."},
      {"gatehouse_requests_refused", kind::counter, g.requests_refused,
       "Requests the server refused before any API (malformed, too slow, too large), answered "
       "with their 4xx and closed."},
      {"gatehouse_access_log_lines_dropped", kind::counter, g.access_log_lines_dropped,
       "Access-log lines dropped because the log's buffer was full."},
  };
  for (const auto& m : metrics) {
    w.family(m.name, m.type, m.help);
    if (m.type == kind::counter)
      w.counter(m.name, {}, m.value);
    else
      w.gauge(m.name, {}, m.value);
  }
  w.family("gatehouse_build_info", kind::gauge,
           "The gatehouse library serving: its version and TLS implementation (always 1).");
  std::string labels;
  append_label(labels, "version", version());
  append_label(labels, "tls", tls_implementation());
  w.gauge("gatehouse_build_info", labels, 1);
}

}  // namespace

std::string to_exposition(const metrics_snapshot& snapshot, exposition_format format) {
  writer w(format);
  write_api_families(w, snapshot);
  write_gateway_families(w, snapshot.gateway);
  return w.finish();
}

}  // namespace gatehouse
