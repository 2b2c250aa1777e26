#pragma once

// Metrics: AWS API Gateway's CloudWatch metrics of each mounted stage (and of each method or
// route where the stage turns detailed metrics on), and the gateway's own. Gateway::metrics()
// takes a snapshot for hosts that ship metrics elsewhere; to_exposition() writes it as the
// Prometheus text format 0.0.4 or OpenMetrics 1.0.0, which Gateway::listen_metrics serves at
// GET /metrics on a listener of the host's choosing (never on a client-facing API path).
//
// Prometheus names, each family's HELP starting with AWS's metric name:
//   REST APIs       gatehouse_rest_{requests_total (Count), 4xx_errors_total (4XXError),
//                   5xx_errors_total (5XXError), cache_hits_total (CacheHitCount),
//                   cache_misses_total (CacheMissCount), latency_seconds (Latency),
//                   integration_latency_seconds (IntegrationLatency)}
//   HTTP APIs       gatehouse_http_api_{requests_total (Count), 4xx_errors_total (4xx),
//                   5xx_errors_total (5xx), latency_seconds, integration_latency_seconds,
//                   data_processed_bytes_total (DataProcessed)}
//   WebSocket APIs  gatehouse_websocket_{connects_total (ConnectCount), messages_total
//                   (MessageCount), integration_errors_total (IntegrationError),
//                   client_errors_total (ClientError), execution_errors_total (ExecutionError),
//                   integration_latency_seconds (IntegrationLatency)}
// labelled api, api_id, stage. With detailed metrics the same metrics per method (REST:
// gatehouse_rest_method_*, labels method and resource) or route (gatehouse_http_api_route_*,
// gatehouse_websocket_route_*, label route) are separate families, so that summing a family
// never counts a request twice. Latencies are histograms in seconds (Prometheus's base unit;
// AWS reports milliseconds) with fixed buckets. The gateway's own: gatehouse_connections_open,
// gatehouse_tls_handshakes_total, gatehouse_tls_handshake_failures_total,
// gatehouse_upstream_connections_open, gatehouse_upstream_connections_idle,
// gatehouse_store_round_trips_total, gatehouse_store_failures_total,
// gatehouse_requests_abandoned_total, gatehouse_unmatched_requests_total,
// gatehouse_requests_refused_total,
// gatehouse_access_log_lines_dropped_total, gatehouse_build_info.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse {

/// A latency distribution with fixed buckets.
struct latency_histogram {
  /// The buckets' upper bounds in milliseconds; one more bucket (+Inf) takes the rest.
  static constexpr std::array<double, 14> bounds_ms{1,   2.5, 5,    10,   25,   50,    100,
                                                    250, 500, 1000, 2500, 5000, 10000, 30000};
  /// Samples per bucket (not cumulative): buckets[i] ≤ bounds_ms[i], the last one above all.
  std::array<std::uint64_t, bounds_ms.size() + 1> buckets{};
  std::uint64_t count = 0;  ///< samples in all
  double sum_ms = 0;        ///< their sum
};

/// Which kind of API a series belongs to; what its metrics mean follows AWS's for that kind.
enum class metrics_api_type { rest, http, websocket };

/// AWS's metrics of one stage, or of one method (REST) or route (HTTP, WebSocket) of it.
struct api_metrics {
  metrics_api_type type = metrics_api_type::rest;
  std::string api_name{};  ///< AWS's ApiName dimension
  std::string api_id{};    ///< AWS's ApiId dimension
  std::string stage{};
  /// Empty for the stage as a whole. With detailed metrics, REST: "GET" and "/pets/{petId}"
  /// (AWS's Method and Resource dimensions); HTTP and WebSocket: the route key, "GET /pets",
  /// "$default", "sendmessage" (AWS's Route dimension).
  std::string method{}, resource{}, route{};

  // REST and HTTP APIs.
  std::uint64_t count = 0;           ///< Count: requests received
  std::uint64_t errors_4xx = 0;      ///< 4XXError (HTTP: 4xx): answered with a 4xx status
  std::uint64_t errors_5xx = 0;      ///< 5XXError (HTTP: 5xx): answered with a 5xx status
  std::uint64_t cache_hits = 0;      ///< REST CacheHitCount: answered from the stage cache
  std::uint64_t cache_misses = 0;    ///< REST CacheMissCount: a cached method's request served
                                     ///< by the integration
  std::uint64_t data_processed = 0;  ///< HTTP DataProcessed: request and response body bytes
  /// Latency: from the request's arrival to its response sent (answered requests only).
  latency_histogram latency{};
  /// IntegrationLatency (all kinds): from the call to the integration to its answer.
  latency_histogram integration_latency{};

  // WebSocket APIs.
  std::uint64_t connects = 0;            ///< ConnectCount: connection requests run through $connect
  std::uint64_t messages = 0;            ///< MessageCount: data messages from and to clients
  std::uint64_t integration_errors = 0;  ///< IntegrationError: the integration answered 4xx/5xx
  std::uint64_t client_errors = 0;       ///< ClientError: refused by the gateway before the
                                         ///< integration (4xx: authorizer, key, throttle, route)
  std::uint64_t execution_errors = 0;    ///< ExecutionError: calling the integration failed
};

/// The gateway's own metrics.
struct gateway_metrics {
  std::uint64_t connections_open = 0;           ///< client connections, WebSocket sessions included
  std::uint64_t tls_handshakes = 0;             ///< TLS handshakes completed on the listeners
  std::uint64_t tls_handshake_failures = 0;     ///< failed, timed out or given up by the client
  std::uint64_t upstream_connections_open = 0;  ///< HTTP integrations' backend connections
  std::uint64_t upstream_connections_idle = 0;  ///< of those, idle in the keep-alive pools
  std::uint64_t store_round_trips = 0;  ///< requests the store made to a server (store::statistics)
  std::uint64_t store_failures = 0;     ///< of those, failed
  std::uint64_t requests_abandoned = 0;  ///< Gateway::abandoned_requests()
  std::uint64_t unmatched_requests = 0;  ///< requests for no mounted stage (answered 403/404)
  std::uint64_t requests_refused = 0;    ///< refused by the server before any API: malformed (400),
                                         ///< too slow (408), too large (413, 431), and the like
  std::uint64_t access_log_lines_dropped = 0;  ///< access-log lines lost to a full buffer
};

/// What Gateway::metrics() returns: every series since the gateway started.
struct metrics_snapshot {
  /// Each stage's series, then its methods' or routes' (detailed metrics), in the order they
  /// appeared; a series stays once it exists (a counter never goes back).
  std::vector<api_metrics> apis{};
  gateway_metrics gateway{};

  /// The series of a stage (`route` empty) or of one of its methods or routes, named as routed
  /// ("GET /pets/{petId}", "$default"); null when there is none.
  const api_metrics* find(std::string_view stage, std::string_view route = {}) const noexcept;
};

/// The text formats of the exposition.
enum class exposition_format {
  prometheus,   ///< text/plain; version=0.0.4
  openmetrics,  ///< application/openmetrics-text; version=1.0.0 (ends with "# EOF")
};

/// The format an Accept header asks for (by its q-values): OpenMetrics 1.0.0 when it prefers
/// application/openmetrics-text (without a version, or 1.0.0), otherwise the Prometheus text.
exposition_format negotiate_exposition(std::string_view accept) noexcept;

/// The Content-Type of a format ("text/plain; version=0.0.4; charset=utf-8" …).
std::string_view content_type(exposition_format format) noexcept;

/// The snapshot as exposition text: HELP and TYPE for every family, one line per series.
std::string to_exposition(const metrics_snapshot& snapshot, exposition_format format);

}  // namespace gatehouse
