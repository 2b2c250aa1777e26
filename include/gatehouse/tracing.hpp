#pragma once

// Tracing: every request carries one trace id behind X-Amzn-Trace-Id (AWS X-Ray) and W3C
// traceparent — the client's, or one gatehouse starts — passed on to integrations and into
// $context.xrayTraceId. Stages with tracing on (Stage::tracing) sample requests as AWS's default
// rule does and export their spans (request, authorizer, integration) as OTLP/HTTP JSON.

#include <gatehouse/http.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace gatehouse {

/// Where and how a gateway exports the spans of sampled requests.
struct tracing_options {
  /// The collector's OTLP/HTTP traces URL, e.g. "http://127.0.0.1:4318/v1/traces"; empty: the
  /// trace ids are still propagated, no span is exported.
  std::string otlp_endpoint{};
  /// Header fields sent with every export (a collector's key), written as OpenTelemetry's
  /// OTEL_EXPORTER_OTLP_HEADERS: "name1=value1,name2=value2" (values percent-encoded).
  std::string otlp_headers{};
  std::string service_name = "gatehouse";  ///< the resource's service.name
  /// AWS's default sampling rule: the first requests of each second (reservoir) are sampled,
  /// then this fraction of the rest. Requests whose trace header decided already keep it.
  std::uint32_t reservoir_per_second = 1;
  double fixed_rate = 0.05;
  std::size_t max_queued_spans = 8192;              ///< spans waiting for export; more are dropped
  std::size_t max_batch_spans = 512;                ///< spans per export request
  std::chrono::milliseconds export_interval{1000};  ///< a partial batch waits at most this
  std::chrono::milliseconds export_timeout{5000};   ///< per export request
};

/// What the span exporter did since the gateway started.
struct tracing_statistics {
  std::uint64_t spans_exported = 0;  ///< accepted by the collector
  std::uint64_t spans_dropped = 0;   ///< the queue was full, or the collector refused them
  std::uint64_t exports_failed = 0;  ///< export requests that failed (after retries)
};

}  // namespace gatehouse
