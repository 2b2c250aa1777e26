// petstore and gatehouse-serve with --metrics-listen, as a user runs them: requests with curl,
// then a scrape of GET /metrics with curl, checked by promtool and the OpenMetrics parser.

#include "backend.hpp"
#include "child_process.hpp"
#include "exposition_checks.hpp"
#include "harness.hpp"

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <regex>
#include <string>

namespace {

// Reads the program's banner up to the line that says where the metrics are; returns the API's
// base URL (up to the port) and the metrics URL.
std::pair<std::string, std::string> urls_of(test::child_process& p) {
  std::string api, metrics, banner;
  const std::regex serving(R"(serving (http://127\.0\.0\.1:\d+)/)");
  const std::regex scrape(R"(metrics on (http://127\.0\.0\.1:\d+/metrics)\n$)");
  for (std::string line; metrics.empty() && !(line = p.line()).empty();) {
    banner += line;
    std::smatch m;
    if (std::regex_search(line, m, serving)) api = m[1];
    if (std::regex_search(line, m, scrape)) metrics = m[1];
  }
  INFO(banner);
  REQUIRE(!metrics.empty());
  return {api, metrics};
}

std::string curl_status(const std::string& url) {
  return test::shell("curl -s -o /dev/null -w '%{http_code}' " + url);
}

}  // namespace

#ifdef PETSTORE_BINARY
TEST_CASE("petstore --metrics-listen serves GET /metrics to curl") {
  test::child_process p({PETSTORE_BINARY, "--http", "--listen", "127.0.0.1:0", "--metrics-listen",
                         "127.0.0.1:0", "--detailed-metrics"});
  auto [api, metrics] = urls_of(p);
  // The banner's "serving" line comes first.
  REQUIRE(!api.empty());
  CHECK(curl_status(api + "/prod/pets?type=dog") == "200");  // a cache miss
  CHECK(curl_status(api + "/prod/pets?type=dog") == "200");  // a hit
  CHECK(curl_status(api + "/prod/pets/9") == "404");
  CHECK(curl_status(api + "/prod/nothing") == "403");
  CHECK(curl_status(metrics.substr(0, metrics.size() - 8) + "/prod/pets") == "404");

  const std::string text = test::shell("curl -s " + metrics);
  const auto has = [&](const std::string& line) { return text.find("\n" + line + "\n"); };
  std::smatch m;
  REQUIRE(std::regex_search(text, m, std::regex(R"re(api_id="([a-z0-9]{10})",stage="prod")re")));
  const std::string labels = fmt::format(R"(api="PetStore",api_id="{}",stage="prod")", m[1].str());
  CHECK(has("gatehouse_rest_requests_total{" + labels + "} 4") != std::string::npos);
  CHECK(has("gatehouse_rest_4xx_errors_total{" + labels + "} 2") != std::string::npos);
  CHECK(has("gatehouse_rest_cache_hits_total{" + labels + "} 1") != std::string::npos);
  CHECK(has("gatehouse_rest_cache_misses_total{" + labels + "} 1") != std::string::npos);
  CHECK(has("gatehouse_rest_method_requests_total{" + labels +
            R"(,method="GET",resource="/pets"} 2)") != std::string::npos);
  CHECK(has("gatehouse_rest_method_requests_total{" + labels +
            R"(,method="GET",resource="/pets/{petId}"} 1)") != std::string::npos);
  test::check_exposition(metrics);
  CHECK(p.stop(SIGTERM) == 0);
}

TEST_CASE("petstore refuses --no-metrics with --metrics-listen") {
  int status = -1;
  const auto out = test::shell(
      std::string(PETSTORE_BINARY) + " --http --no-metrics --metrics-listen 127.0.0.1:0 2>&1",
      &status);
  CHECK(status != 0);
  CHECK(out.find("--no-metrics") != std::string::npos);
}
#endif

#ifdef SERVE_BINARY
TEST_CASE("gatehouse-serve --metrics-listen serves GET /metrics to curl") {
  test::backend backend;  // answers /pets with 404, which the proxy passes on
  test::child_process p({SERVE_BINARY, "--openapi", GATEHOUSE_SOURCE_DIR "/bench/serve/api.json",
                         "--http", "--listen", "127.0.0.1:0", "--stage-variable",
                         "backend=" + backend.address(), "--metrics-listen", "127.0.0.1:0"});
  auto [api, metrics] = urls_of(p);
  // Here the metrics line comes before the "serving" one.
  std::string serving = p.line();
  std::smatch m;
  REQUIRE(std::regex_search(serving, m, std::regex(R"(serving (http://127\.0\.0\.1:\d+)/prod)")));
  api = m[1];
  CHECK(curl_status(api + "/prod/pets") == "404");
  CHECK(curl_status(api + "/prod/pets") == "404");
  const std::string text = test::shell("curl -s " + metrics);
  CHECK(std::regex_search(
      text,
      std::regex(
          R"(\ngatehouse_rest_requests_total\{api="Legacy PetStore",api_id="[a-z0-9]+",stage="prod"\} 2\n)")));
  CHECK(std::regex_search(
      text,
      std::regex(
          R"(\ngatehouse_rest_4xx_errors_total\{api="Legacy PetStore",api_id="[a-z0-9]+",stage="prod"\} 2\n)")));
  CHECK(text.find("gatehouse_rest_method_") == std::string::npos);  // no --detailed-metrics
  test::check_exposition(metrics);
  CHECK(p.stop(SIGTERM) == 0);
}
#endif
