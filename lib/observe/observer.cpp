#include "observe/observer.hpp"

#include "observe/stage_access_log.hpp"
#include "pipeline/exchange.hpp"
#include "pipeline/request_id.hpp"
#include "util/text.hpp"

#include <charconv>

namespace gatehouse::observe {

observer::observer(const gateway_options& options, std::shared_ptr<store> store,
                   asio::any_io_executor executor)
    : metrics_(options.metrics ? std::make_shared<observe::metrics>() : nullptr),
      meter_(options.metering
                 ? std::make_shared<observe::meter>(std::move(store), std::move(executor),
                                                    options.metering_flush_interval)
                 : nullptr),
      spans_(std::make_shared<span_exporter>(tracing_options{})) {}
observer::~observer() = default;

void observer::mounted(
    const std::shared_ptr<const detail::stage_snapshot>& snapshot) const noexcept {
  if (metrics_) metrics_->prepare(snapshot);
}

void observer::export_traces(tracing_options options) {
  spans_.store(std::make_shared<span_exporter>(std::move(options)));
}

tracing_statistics observer::trace_export_statistics() const noexcept {
  return spans_.load()->statistics();
}

void observer::record(const request_facts& facts) const noexcept {
  if (metrics_) metrics_->record(facts);
  // The stage's access log; requests that found no stage have none.
  if (const auto& stage = facts.ex.stage)
    if (const auto& log = stage->access_log) log->write(facts);
  if (meter_) meter_->record(facts);
  if (facts.ex.trace.is_sampled() && facts.ex.stage && facts.ex.stage->tracing) {
    auto exporter = spans_.load(std::memory_order_acquire);
    if (exporter->enabled()) export_spans(facts, *exporter);
  }
}

void observer::sample(detail::exchange& ex) const noexcept {
  trace_context& t = ex.trace;
  if (t.sampled != sampling::undecided) return;
  if (!ex.stage || !ex.stage->tracing) {
    t.sampled = sampling::not_sampled;
    return;
  }
  const auto second =
      std::chrono::duration_cast<std::chrono::seconds>(ex.start.time_since_epoch()).count();
  t.sampled = spans_.load(std::memory_order_acquire)->sample(second) ? sampling::sampled
                                                                     : sampling::not_sampled;
}

namespace {
std::int64_t unix_ns(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
}  // namespace

// The spans of a sampled request: the request's own (server), its authorizer's and its
// integration's (client), children of it; the integration span's id is the parent the backend
// was sent.
void observer::export_spans(const request_facts& facts, span_exporter& exporter) const noexcept {
  try {
    const detail::exchange& ex = facts.ex;
    const trace_context& t = ex.trace;
    const std::int64_t start = unix_ns(ex.start);
    auto at = [&](std::chrono::steady_clock::time_point p) {
      return start + std::chrono::duration_cast<std::chrono::nanoseconds>(p - ex.received).count();
    };
    std::vector<span_record> spans;
    spans.reserve(3);
    span_record& req = spans.emplace_back();
    req.trace_high = t.trace_high;
    req.trace_low = t.trace_low;
    req.span = t.span;
    req.parent = t.parent;
    const std::string_view stage = ex.stage ? std::string_view(ex.stage->name) : "";
    const bool routed = !ex.match.resource.empty();
    req.name = ex.req.method;
    req.name.append(" ").append(routed ? ex.match.resource : std::string_view("(unmatched)"));
    req.kind = 2;
    req.start_unix_ns = start;
    req.end_unix_ns = start + facts.latency.count();
    req.error = facts.res.status >= 500;
    req.text_attributes = {{"http.request.method", ex.req.method},
                           {"url.path", std::string(ex.path)},
                           {"aws.api_gateway.stage", std::string(stage)},
                           {"aws.request_id", std::string(ex.id())}};
    if (ex.stage)
      req.text_attributes.emplace_back("aws.api_gateway.api_id", ex.stage->deployment->api.id);
    if (routed) req.text_attributes.emplace_back("http.route", std::string(ex.match.resource));
    req.int_attributes = {{"http.response.status_code", facts.res.status}};
    if (ex.authorizer_latency.count() >= 0) {
      span_record& a = spans.emplace_back();
      a.trace_high = t.trace_high;
      a.trace_low = t.trace_low;
      a.span = detail::random_bits() | 1;
      a.parent = t.span;
      a.name = "authorizer";
      a.kind = 1;
      a.start_unix_ns = at(ex.authorizer_start);
      a.end_unix_ns = a.start_unix_ns + ex.authorizer_latency.count();
    }
    if (ex.integration_latency.count() >= 0) {
      span_record& i = spans.emplace_back();
      i.trace_high = t.trace_high;
      i.trace_low = t.trace_low;
      i.span = t.integration_span;
      i.parent = t.span;
      i.name = "integration";
      i.kind = 3;
      i.start_unix_ns = at(ex.integration_start);
      i.end_unix_ns = i.start_unix_ns + ex.integration_latency.count();
    }
    exporter.push(std::move(spans));
  } catch (...) {
    // Out of memory while building the record: the spans are lost, the request is not.
  }
}

void observer::record_event(const request_facts& facts) const noexcept {
  if (const auto& stage = facts.ex.stage)
    if (const auto& log = stage->access_log) log->write(facts);
}

std::uint64_t wire_size(const response& res) noexcept {
  constexpr std::uint64_t status_line = sizeof("HTTP/1.1 200 OK\r\n") - 1;  // reason phrases vary
  std::uint64_t n = status_line + 2;                                        // + the blank line
  bool has_length = false;
  for (const auto& f : res.headers) {
    n += f.name.size() + 2 + f.value.size() + 2;
    if (util::iequals(f.name, "Content-Length")) has_length = true;
  }
  if (!has_length) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, res.body.size());
    n += sizeof("Content-Length: \r\n") - 1 + static_cast<std::uint64_t>(end - digits);
  }
  return n + res.body.size();
}

}  // namespace gatehouse::observe
