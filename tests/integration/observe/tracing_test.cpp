// Tracing through a real gateway: trace headers taken from the client (X-Amzn-Trace-Id,
// traceparent) or started, passed on to an HTTP backend (the test backend records what it got)
// and to C++ functions, with one trace id behind both headers; sampling on stages with tracing
// on; spans exported as OTLP/HTTP JSON to a collector (the test backend's /echo, which keeps
// the bodies it receives) with the right parent/child links; a failing collector is counted and
// never holds a request.

#include "backend.hpp"
#include "child_process.hpp"
#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <ctime>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <strings.h>

namespace {

using namespace std::chrono_literals;
using fields = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kAmzn =
    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;"
    "Sampled=1";
constexpr const char* kTraceHex = "5759e988bd862e3fe1be46a994272793";

// The parts of "Root=…;Parent=…;Sampled=…".
std::map<std::string, std::string> amzn_parts(std::string_view v) {
  std::map<std::string, std::string> out;
  while (!v.empty()) {
    auto semi = v.find(';');
    auto part = v.substr(0, semi);
    auto eq = part.find('=');
    if (eq != std::string_view::npos)
      out[std::string(part.substr(0, eq))] = std::string(part.substr(eq + 1));
    v = semi == std::string_view::npos ? std::string_view{} : v.substr(semi + 1);
  }
  return out;
}

std::size_t count_fields(const gatehouse::header_map& h, std::string_view name) {
  std::size_t n = 0;
  for (const auto& f : h)
    if (f.name.size() == name.size() && strncasecmp(f.name.data(), name.data(), name.size()) == 0)
      ++n;
  return n;
}

// Stage "prod" over plain HTTP: GET /proxy/{proxy+} → the backend's /echo/{proxy};
// GET /fn answers the X-Amzn-Trace-Id and traceparent its proxy_event shows;
// GET /guarded/{proxy+} the backend behind a custom authorizer.
struct trace_env {
  explicit trace_env(bool tracing) {
    gatehouse::Router api;
    api.route("GET", "/proxy/{proxy+}",
              gatehouse::http_proxy("http://${stageVariables.backend}/echo/{proxy}"));
    api.route("GET", "/fn", gatehouse::function([](const gatehouse::proxy_event& ev) {
                gatehouse::proxy_result r;
                r.body = std::string(ev.header("X-Amzn-Trace-Id").value_or("-")) + "\n" +
                         std::string(ev.header("traceparent").value_or("-"));
                return r;
              }));
    gatehouse::Authorizer auth({.name = "allow-all", .result_ttl = 0s},
                               [](const gatehouse::authorizer_request&) {
                                 return gatehouse::authorizer_result::allow("me");
                               });
    api.route("GET", "/guarded/{proxy+}",
              gatehouse::http_proxy("http://${stageVariables.backend}/echo/{proxy}"),
              {.authorizer = auth});
    gatehouse::Stage prod("prod", api.deploy());
    prod.variable("backend", backend.address());
    prod.tracing(tracing);
    port = gw.serve_plain(prod);
  }
  std::optional<test::reply> get(std::string_view target, const fields& headers = {}) {
    fields h = headers;
    h.emplace_back("Authorization", "anything");
    return test::fetch(port, test::request_text("GET", target, h));
  }
  // What the backend got as X-Amzn-Trace-Id and traceparent for the last request.
  std::pair<std::string, std::string> forwarded() {
    auto last = backend.last_request();
    REQUIRE(last);
    REQUIRE(count_fields(last->headers, "X-Amzn-Trace-Id") == 1);
    REQUIRE(count_fields(last->headers, "traceparent") == 1);
    return {std::string(*last->headers.get("X-Amzn-Trace-Id")),
            std::string(*last->headers.get("traceparent"))};
  }
  test::backend backend;
  test::backend collector;
  test::running_gateway gw;
  unsigned short port = 0;
};

// The traceparent that carries the same trace and parent as an X-Amzn-Trace-Id.
void require_same_trace(const std::string& amzn, const std::string& traceparent) {
  auto parts = amzn_parts(amzn);
  const std::string& root = parts["Root"];
  REQUIRE(root.size() == 35);
  REQUIRE(traceparent.size() == 55);
  CHECK(traceparent.substr(0, 3) == "00-");
  CHECK(traceparent.substr(3, 32) == root.substr(2, 8) + root.substr(11, 24));
  CHECK(traceparent.substr(36, 16) == parts["Parent"]);
  CHECK(traceparent.substr(53, 2) == (parts["Sampled"] == "1" ? "01" : "00"));
}

// The spans of every export the collector received so far.
std::vector<rapidjson::Document> exports(const test::backend& collector) {
  std::vector<rapidjson::Document> out;
  for (const auto& r : collector.received()) {
    if (r.target != "/echo/v1/traces") continue;
    rapidjson::Document doc;
    doc.Parse(r.body.data(), r.body.size());
    REQUIRE_FALSE(doc.HasParseError());
    out.push_back(std::move(doc));
  }
  return out;
}

struct span_view {
  std::string trace, span, parent, name;
  int kind = 0;
  std::int64_t start = 0, end = 0;
};

std::vector<span_view> spans_of(const std::vector<rapidjson::Document>& docs) {
  std::vector<span_view> out;
  for (const auto& doc : docs)
    for (const auto& rs : doc["resourceSpans"].GetArray())
      for (const auto& ss : rs["scopeSpans"].GetArray())
        for (const auto& s : ss["spans"].GetArray()) {
          span_view v;
          v.trace = s["traceId"].GetString();
          v.span = s["spanId"].GetString();
          if (s.HasMember("parentSpanId")) v.parent = s["parentSpanId"].GetString();
          v.name = s["name"].GetString();
          v.kind = s["kind"].GetInt();
          v.start = std::stoll(s["startTimeUnixNano"].GetString());
          v.end = std::stoll(s["endTimeUnixNano"].GetString());
          out.push_back(std::move(v));
        }
  return out;
}

}  // namespace

TEST_CASE(
    "an X-Amzn-Trace-Id reaches the backend with the gateway's span as its parent, and "
    "traceparent carries the same trace",
    "[tracing]") {
  trace_env env(false);
  auto r =
      env.get("/prod/proxy/a",
              {{"X-Amzn-Trace-Id", kAmzn},
               {"traceparent", "00-" + std::string(32, 'a') + "-" + std::string(16, 'b') + "-01"}});
  REQUIRE(r);
  REQUIRE(r->status == 200);
  auto [amzn, parent] = env.forwarded();
  auto parts = amzn_parts(amzn);
  CHECK(parts["Root"] == "1-5759e988-bd862e3fe1be46a994272793");
  CHECK(parts["Parent"].size() == 16);
  CHECK(parts["Parent"] != "53995c3f42cd8ad8");  // the gateway's own span, not the client's
  CHECK(parts["Sampled"] == "1");                // the client's decision stands
  require_same_trace(amzn, parent);
  // The client's traceparent named another trace: X-Amzn-Trace-Id (AWS's own) wins.
  CHECK(parent.substr(3, 32) == kTraceHex);
}

TEST_CASE("a traceparent alone is taken: its trace id, its sampling and its tracestate go on",
          "[tracing]") {
  trace_env env(false);
  const std::string id = "4bf92f3577b34da6a3ce929d0e0e4736";
  auto r = env.get("/prod/proxy/b", {{"traceparent", "00-" + id + "-00f067aa0ba902b7-00"},
                                     {"tracestate", "vendor=opaque,other=1"}});
  REQUIRE(r);
  REQUIRE(r->status == 200);
  auto [amzn, parent] = env.forwarded();
  CHECK(amzn_parts(amzn)["Root"] == "1-" + id.substr(0, 8) + "-" + id.substr(8));
  CHECK(amzn_parts(amzn)["Sampled"] == "0");
  require_same_trace(amzn, parent);
  CHECK(parent.substr(36, 16) != "00f067aa0ba902b7");
  auto last = env.backend.last_request();
  CHECK(last->headers.get("tracestate").value_or("") == "vendor=opaque,other=1");
}

TEST_CASE(
    "without a valid trace header the gateway starts a trace: epoch seconds first, "
    "tracestate dropped, a new id per request",
    "[tracing]") {
  trace_env env(false);
  const auto bad =
      GENERATE(as<std::string>{}, "", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
               "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
               "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
               "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
               "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra");
  fields h = {{"tracestate", "vendor=opaque"}, {"X-Amzn-Trace-Id", "Root=1-zz-nothex"}};
  if (!bad.empty()) h.emplace_back("traceparent", bad);
  const auto before = std::time(nullptr);
  REQUIRE(env.get("/prod/proxy/c", h)->status == 200);
  auto [amzn, parent] = env.forwarded();
  const std::string root = amzn_parts(amzn)["Root"];
  REQUIRE(root.size() == 35);
  const auto seconds = std::stoll(root.substr(2, 8), nullptr, 16);
  CHECK(seconds >= before - 1);
  CHECK(seconds <= std::time(nullptr) + 1);
  CHECK(amzn_parts(amzn)["Sampled"] == "0");  // tracing is off on this stage
  require_same_trace(amzn, parent);
  CHECK_FALSE(env.backend.last_request()->headers.get("tracestate"));
  REQUIRE(env.get("/prod/proxy/c", h)->status == 200);
  CHECK(amzn_parts(env.forwarded().first)["Root"] != root);
}

TEST_CASE(
    "a C++ function sees the trace as the gateway passes it on: X-Amzn-Trace-Id always, "
    "traceparent when the client sent one",
    "[tracing]") {
  trace_env env(false);
  auto alone = env.get("/prod/fn", {{"X-Amzn-Trace-Id", kAmzn}});
  REQUIRE(alone);
  CHECK(alone->body.substr(alone->body.find('\n') + 1) == "-");
  auto r = env.get("/prod/fn",
                   {{"X-Amzn-Trace-Id", kAmzn},
                    {"traceparent", "00-" + std::string(kTraceHex) + "-00f067aa0ba902b7-01"}});
  REQUIRE(r);
  REQUIRE(r->status == 200);
  auto nl = r->body.find('\n');
  REQUIRE(nl != std::string::npos);
  const std::string amzn = r->body.substr(0, nl), parent = r->body.substr(nl + 1);
  CHECK(amzn_parts(amzn)["Root"] == "1-5759e988-bd862e3fe1be46a994272793");
  CHECK(amzn_parts(amzn)["Parent"] != "53995c3f42cd8ad8");
  require_same_trace(amzn, parent);
}

TEST_CASE(
    "stages with tracing on sample by the rule: the reservoir each second, then the "
    "fixed rate; stages with it off sample nothing they decide",
    "[tracing]") {
  SECTION("rate 0: only the reservoir") {
    trace_env env(true);
    env.gw.gateway().export_traces({.reservoir_per_second = 2, .fixed_rate = 0});
    int sampled = 0;
    for (int i = 0; i < 20; ++i) {
      REQUIRE(env.get("/prod/proxy/s")->status == 200);
      if (amzn_parts(env.forwarded().first)["Sampled"] == "1") ++sampled;
    }
    CHECK(sampled >= 2);
    CHECK(sampled <= 6);  // 20 requests may straddle a second or two on a slow machine
  }
  SECTION("rate 1: every request") {
    trace_env env(true);
    env.gw.gateway().export_traces({.reservoir_per_second = 0, .fixed_rate = 1});
    for (int i = 0; i < 5; ++i) {
      REQUIRE(env.get("/prod/proxy/s")->status == 200);
      CHECK(amzn_parts(env.forwarded().first)["Sampled"] == "1");
    }
  }
  SECTION("tracing off: not sampled, whatever the rule") {
    trace_env env(false);
    env.gw.gateway().export_traces({.reservoir_per_second = 100, .fixed_rate = 1});
    REQUIRE(env.get("/prod/proxy/s")->status == 200);
    CHECK(amzn_parts(env.forwarded().first)["Sampled"] == "0");
  }
}

TEST_CASE(
    "the spans of a sampled request reach an OTLP collector, linked: request → "
    "authorizer, request → integration, whose id the backend got as its parent",
    "[tracing][threads]") {
  trace_env env(true);
  env.gw.gateway().export_traces({.otlp_endpoint = env.collector.url("/echo/v1/traces"),
                                  .service_name = "tracing-test",
                                  .export_interval = 50ms});
  REQUIRE(env.get("/prod/guarded/x", {{"X-Amzn-Trace-Id", kAmzn}})->status == 200);
  const std::string backend_parent = amzn_parts(env.forwarded().first)["Parent"];
  REQUIRE(test::backend::wait_for([&] { return !exports(env.collector).empty(); }));
  auto docs = exports(env.collector);
  auto spans = spans_of(docs);
  REQUIRE(spans.size() == 3);
  const auto& resource = docs[0]["resourceSpans"][0]["resource"]["attributes"][0];
  CHECK(std::string(resource["key"].GetString()) == "service.name");
  CHECK(std::string(resource["value"]["stringValue"].GetString()) == "tracing-test");
  const span_view* server = nullptr;
  const span_view* authorizer = nullptr;
  const span_view* integration = nullptr;
  for (const auto& s : spans) {
    CHECK(s.trace == kTraceHex);
    CHECK(s.end >= s.start);
    if (s.kind == 2) server = &s;
    if (s.kind == 1) authorizer = &s;
    if (s.kind == 3) integration = &s;
  }
  REQUIRE(server);
  REQUIRE(authorizer);
  REQUIRE(integration);
  CHECK(server->parent == "53995c3f42cd8ad8");
  CHECK(server->name == "GET /guarded/{proxy+}");
  CHECK(authorizer->parent == server->span);
  CHECK(integration->parent == server->span);
  CHECK(integration->span == backend_parent);
  CHECK(integration->start >= authorizer->end);
  CHECK(integration->end <= server->end);
  // The collector has the spans before the exporter counts them.
  CHECK(test::backend::wait_for(
      [&] { return env.gw.gateway().trace_export_statistics().spans_exported == 3; }));
  auto collected = env.collector.last_request();
  CHECK(collected->method == "POST");
  CHECK(collected->headers.get("Content-Type").value_or("") == "application/json");
}

TEST_CASE(
    "unsampled requests export nothing; a collector that fails is retried, counted, and "
    "never holds a request",
    "[tracing][threads]") {
  SECTION("not sampled") {
    trace_env env(true);
    env.gw.gateway().export_traces({.otlp_endpoint = env.collector.url("/echo/v1/traces"),
                                    .reservoir_per_second = 0,
                                    .fixed_rate = 0,
                                    .export_interval = 20ms});
    for (int i = 0; i < 5; ++i) REQUIRE(env.get("/prod/proxy/n")->status == 200);
    std::this_thread::sleep_for(200ms);
    CHECK(env.collector.requests() == 0);
  }
  SECTION("collector answering 503") {
    trace_env env(true);
    env.gw.gateway().export_traces({.otlp_endpoint = env.collector.url("/status/503"),
                                    .otlp_headers = "x-api-key=s%20ecret",
                                    .export_interval = 20ms});
    const auto start = std::chrono::steady_clock::now();
    REQUIRE(env.get("/prod/proxy/f", {{"X-Amzn-Trace-Id", kAmzn}})->status == 200);
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    REQUIRE(test::backend::wait_for(
        [&] { return env.gw.gateway().trace_export_statistics().exports_failed == 1; }));
    auto stats = env.gw.gateway().trace_export_statistics();
    CHECK(stats.spans_dropped == 2);  // the request's and the integration's
    CHECK(stats.spans_exported == 0);
    CHECK(env.collector.requests() == 4);  // the first try and three retries
    CHECK(env.collector.last_request()->headers.get("x-api-key").value_or("") == "s ecret");
  }
  SECTION("bad settings are refused") {
    test::running_gateway gw;
    CHECK_THROWS_AS(gw.gateway().export_traces({.otlp_headers = "no-equals-sign"}),
                    gatehouse::config_error);
    CHECK_THROWS_AS(gw.gateway().export_traces({.fixed_rate = 2}), gatehouse::config_error);
  }
}

#ifdef PETSTORE_BINARY
TEST_CASE(
    "petstore --tracing --otlp-endpoint exports the spans of a request curl sends with a "
    "sampled trace header",
    "[tracing]") {
  test::backend collector;
  test::child_process p({PETSTORE_BINARY, "--http", "--listen", "127.0.0.1:0", "--tracing",
                         "--otlp-endpoint", collector.url("/echo/v1/traces")});
  std::string api;
  const std::regex serving(R"(serving (http://127\.0\.0\.1:\d+)/)");
  for (std::string line; api.empty() && !(line = p.line()).empty();) {
    std::smatch m;
    if (std::regex_search(line, m, serving)) api = m[1];
  }
  REQUIRE(!api.empty());
  const std::string status = test::shell(
      "curl -s -o /dev/null -w '%{http_code}' -H 'X-Amzn-Trace-Id: " + std::string(kAmzn) + "' " +
      api + "/prod/pets/1");
  CHECK(status == "200");
  REQUIRE(test::backend::wait_for([&] { return !exports(collector).empty(); }));
  auto spans = spans_of(exports(collector));
  REQUIRE(!spans.empty());
  CHECK(spans[0].trace == kTraceHex);
  CHECK(spans[0].name == "GET /pets/{petId}");
  CHECK(spans[0].parent == "53995c3f42cd8ad8");
  CHECK(p.stop(SIGTERM) == 0);
}

TEST_CASE("petstore refuses --otlp-endpoint without --tracing", "[tracing]") {
  int status = -1;
  const auto out = test::shell(
      std::string(PETSTORE_BINARY) + " --http --otlp-endpoint http://127.0.0.1:1/v1/traces 2>&1",
      &status);
  CHECK(status != 0);
  CHECK(out.find("--tracing") != std::string::npos);
}
#endif
