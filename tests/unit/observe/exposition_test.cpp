// The exposition text (Prometheus 0.0.4 and OpenMetrics 1.0.0) of a snapshot made by hand, the
// Accept negotiation, and snapshot lookups.

#include <gatehouse/metrics.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace gatehouse;

namespace {

bool has_line(const std::string& text, std::string_view line) {
  return text.find("\n" + std::string(line) + "\n") != std::string::npos ||
         text.starts_with(std::string(line) + "\n");
}

metrics_snapshot sample_snapshot() {
  metrics_snapshot s;
  api_metrics rest;
  rest.type = metrics_api_type::rest;
  rest.api_name = "shop";
  rest.api_id = "abc123";
  rest.stage = "prod";
  rest.count = 7;
  rest.errors_4xx = 2;
  rest.errors_5xx = 1;
  rest.cache_hits = 3;
  rest.cache_misses = 1;
  rest.latency.buckets[0] = 4;   // ≤ 1 ms
  rest.latency.buckets[6] = 2;   // ≤ 100 ms
  rest.latency.buckets[14] = 1;  // above 30 s
  rest.latency.count = 7;
  rest.latency.sum_ms = 31250.5;
  s.apis.push_back(rest);
  api_metrics method = rest;
  method.method = "GET";
  method.resource = "/pets/{petId}";
  method.count = 5;
  s.apis.push_back(method);
  api_metrics http;
  http.type = metrics_api_type::http;
  http.api_name = "orders \"v2\"\\\nnew";  // a quote, a backslash and a newline to escape
  http.api_id = "h1";
  http.stage = "v2";
  http.data_processed = 1234;
  s.apis.push_back(http);
  api_metrics ws;
  ws.type = metrics_api_type::websocket;
  ws.api_name = "chat\xff";  // not UTF-8: becomes U+FFFD
  ws.api_id = "w1";
  ws.stage = "ws";
  ws.route = "$connect";
  ws.connects = 3;
  s.apis.push_back(ws);
  s.gateway.connections_open = 4;
  s.gateway.tls_handshakes = 9;
  s.gateway.access_log_lines_dropped = 2;
  return s;
}

}  // namespace

TEST_CASE("the Accept header chooses OpenMetrics only when it prefers it") {
  CHECK(negotiate_exposition("") == exposition_format::prometheus);
  CHECK(negotiate_exposition("*/*") == exposition_format::prometheus);
  CHECK(negotiate_exposition("text/plain") == exposition_format::prometheus);
  CHECK(negotiate_exposition("application/openmetrics-text; version=1.0.0") ==
        exposition_format::openmetrics);
  CHECK(negotiate_exposition("application/openmetrics-text") == exposition_format::openmetrics);
  // What Prometheus 2.x sends.
  CHECK(negotiate_exposition("application/openmetrics-text;version=1.0.0,application/"
                             "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"
                             "*/*;q=0.1") == exposition_format::openmetrics);
  // A version we do not write, a refusal by q=0, and a preference for the text format.
  CHECK(negotiate_exposition("application/openmetrics-text;version=0.0.1") ==
        exposition_format::prometheus);
  CHECK(negotiate_exposition("application/openmetrics-text;q=0, text/plain") ==
        exposition_format::prometheus);
  CHECK(negotiate_exposition("application/openmetrics-text;q=0.4, text/plain;q=0.9") ==
        exposition_format::prometheus);
  CHECK(negotiate_exposition("text/plain;q=0.4, Application/OpenMetrics-Text;q=0.9") ==
        exposition_format::openmetrics);
  CHECK(content_type(exposition_format::prometheus) == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(content_type(exposition_format::openmetrics) ==
        "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

TEST_CASE("the Prometheus text names AWS's metrics per API type, with HELP and TYPE") {
  const auto text = to_exposition(sample_snapshot(), exposition_format::prometheus);
  CHECK(has_line(text, "# TYPE gatehouse_rest_requests_total counter"));
  CHECK(text.find("# HELP gatehouse_rest_requests_total AWS Count: requests received, by REST "
                  "API and stage.\n") != std::string::npos);
  CHECK(has_line(text,
                 R"(gatehouse_rest_requests_total{api="shop",api_id="abc123",stage="prod"} 7)"));
  CHECK(has_line(text,
                 R"(gatehouse_rest_4xx_errors_total{api="shop",api_id="abc123",stage="prod"} 2)"));
  CHECK(has_line(text,
                 R"(gatehouse_rest_5xx_errors_total{api="shop",api_id="abc123",stage="prod"} 1)"));
  CHECK(has_line(text,
                 R"(gatehouse_rest_cache_hits_total{api="shop",api_id="abc123",stage="prod"} 3)"));
  CHECK(has_line(
      text, R"(gatehouse_rest_cache_misses_total{api="shop",api_id="abc123",stage="prod"} 1)"));
  // Buckets are cumulative, in seconds, and end with +Inf, which equals _count.
  CHECK(has_line(text, "# TYPE gatehouse_rest_latency_seconds histogram"));
  const std::string l = R"(api="shop",api_id="abc123",stage="prod")";
  CHECK(has_line(text, "gatehouse_rest_latency_seconds_bucket{" + l + R"(,le="0.001"} 4)"));
  CHECK(has_line(text, "gatehouse_rest_latency_seconds_bucket{" + l + R"(,le="0.05"} 4)"));
  CHECK(has_line(text, "gatehouse_rest_latency_seconds_bucket{" + l + R"(,le="0.1"} 6)"));
  CHECK(has_line(text, "gatehouse_rest_latency_seconds_bucket{" + l + R"(,le="1"} 6)"));
  CHECK(has_line(text, "gatehouse_rest_latency_seconds_bucket{" + l + R"(,le="30"} 6)"));
  CHECK(has_line(text, "gatehouse_rest_latency_seconds_bucket{" + l + R"(,le="+Inf"} 7)"));
  CHECK(has_line(text, "gatehouse_rest_latency_seconds_count{" + l + "} 7"));
  CHECK(has_line(text, "gatehouse_rest_latency_seconds_sum{" + l + "} 31.2505"));
  // Detailed metrics are families of their own: a sum over a family counts a request once.
  CHECK(has_line(text, "# TYPE gatehouse_rest_method_requests_total counter"));
  CHECK(has_line(text, R"(gatehouse_rest_method_requests_total{api="shop",api_id="abc123",)"
                       R"(stage="prod",method="GET",resource="/pets/{petId}"} 5)"));
  CHECK(text.find(R"(gatehouse_rest_requests_total{api="shop",api_id="abc123",stage="prod",)") ==
        std::string::npos);
  // HTTP APIs: DataProcessed, and label values escaped.
  CHECK(has_line(text,
                 R"(gatehouse_http_api_data_processed_bytes_total{api="orders \"v2\"\\\nnew",)"
                 R"(api_id="h1",stage="v2"} 1234)"));
  CHECK(text.find("# HELP gatehouse_http_api_4xx_errors_total AWS 4xx:") != std::string::npos);
  // WebSocket routes, and bytes that are not UTF-8 replaced.
  CHECK(has_line(text,
                 "gatehouse_websocket_route_connects_total{api=\"chat\xef\xbf\xbd\","
                 R"(api_id="w1",stage="ws",route="$connect"} 3)"));
  CHECK(text.find("gatehouse_websocket_connects_total{") == std::string::npos);  // no stage series
  // The gateway's own.
  CHECK(has_line(text, "# TYPE gatehouse_connections_open gauge"));
  CHECK(has_line(text, "gatehouse_connections_open 4"));
  CHECK(has_line(text, "gatehouse_tls_handshakes_total 9"));
  CHECK(has_line(text, "gatehouse_access_log_lines_dropped_total 2"));
  CHECK(text.find("gatehouse_build_info{version=\"") != std::string::npos);
  CHECK(text.ends_with("\n"));
  CHECK(text.find("# EOF") == std::string::npos);
  CHECK(text.find('\r') == std::string::npos);
}

TEST_CASE("OpenMetrics names counter families without _total and ends with # EOF") {
  const auto text = to_exposition(sample_snapshot(), exposition_format::openmetrics);
  CHECK(has_line(text, "# TYPE gatehouse_rest_requests counter"));
  CHECK(text.find("# HELP gatehouse_rest_requests AWS Count:") != std::string::npos);
  CHECK(has_line(text,
                 R"(gatehouse_rest_requests_total{api="shop",api_id="abc123",stage="prod"} 7)"));
  const std::string l = R"(api="shop",api_id="abc123",stage="prod")";
  CHECK(has_line(text, "gatehouse_rest_latency_seconds_bucket{" + l + R"(,le="1.0"} 6)"));
  CHECK(has_line(text, "gatehouse_rest_latency_seconds_bucket{" + l + R"(,le="0.0025"} 4)"));
  CHECK(has_line(text, "gatehouse_rest_latency_seconds_bucket{" + l + R"(,le="+Inf"} 7)"));
  CHECK(has_line(text, "# TYPE gatehouse_tls_handshakes counter"));
  CHECK(has_line(text, "gatehouse_tls_handshakes_total 9"));
  CHECK(text.ends_with("\n# EOF\n"));
}

TEST_CASE("an empty snapshot still has the gateway's own families") {
  const auto text = to_exposition({}, exposition_format::prometheus);
  CHECK(text.find("gatehouse_rest_") == std::string::npos);
  CHECK(has_line(text, "gatehouse_requests_abandoned_total 0"));
  CHECK(has_line(text, "gatehouse_unmatched_requests_total 0"));
  CHECK(has_line(text, "gatehouse_store_round_trips_total 0"));
}

TEST_CASE("a snapshot finds a stage's series and its methods' by route key") {
  const auto s = sample_snapshot();
  REQUIRE(s.find("prod"));
  CHECK(s.find("prod")->count == 7);
  REQUIRE(s.find("prod", "GET /pets/{petId}"));
  CHECK(s.find("prod", "GET /pets/{petId}")->count == 5);
  CHECK(s.find("prod", "GET /pets") == nullptr);
  CHECK(s.find("prod", "POST /pets/{petId}") == nullptr);
  REQUIRE(s.find("ws", "$connect"));
  CHECK(s.find("ws", "$connect")->connects == 3);
  CHECK(s.find("ws") == nullptr);
  CHECK(s.find("nope") == nullptr);
}
