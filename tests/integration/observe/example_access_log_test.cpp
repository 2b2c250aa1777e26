// The example servers' access logs, as a user runs them: petstore --access-log with curl as the
// client and SIGHUP for rotation, and gatehouse-serve --access-log.

#include "child_process.hpp"
#include "harness.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {
std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The first "serving URL" line of a server's banner.
std::string serving_url(test::child_process& p) {
  for (std::string line = p.line(); !line.empty(); line = p.line()) {
    std::smatch m;
    if (std::regex_search(line, m, std::regex(R"(serving (http://127\.0\.0\.1:\d+/\w+))")))
      return m[1];
  }
  FAIL("no 'serving' line");
  return {};
}

// The x-amzn-RequestId curl saw for `url`.
std::string request_id_of(const std::string& url) {
  const auto head = test::shell("curl -s --max-time 10 -o /dev/null -D - '" + url + "'");
  std::smatch m;
  REQUIRE(std::regex_search(head, m, std::regex(R"(x-amzn-RequestId: ([0-9a-f-]{36}))")));
  return m[1];
}

struct temp_dir {
  fs::path path;
  temp_dir() {
    char pattern[] = "/tmp/gatehouse-example-log.XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};
}  // namespace

#ifdef PETSTORE_BINARY
TEST_CASE("petstore --access-log writes a CSV line per request and reopens it on SIGHUP",
          "[access_log][examples]") {
  temp_dir dir;
  const std::string file = (dir.path / "access.csv").string();
  test::child_process p({PETSTORE_BINARY, "--http", "--listen", "127.0.0.1:0", "--access-log", file,
                         "--access-log-format", "csv"});
  const std::string url = serving_url(p);  // …/prod
  const std::vector<std::string> ids = {request_id_of(url + "/pets?type=dog"),
                                        request_id_of(url + "/pets/9"),
                                        request_id_of(url + "/nothing")};
  fs::rename(file, file + ".1");
  p.signal(SIGHUP);
  for (int i = 0; i < 500 && !fs::exists(file); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(fs::exists(file));  // reopened at the path
  const std::string last = request_id_of(url + "/pets/1");
  CHECK(p.stop(SIGTERM) == 0);  // its stop writes what is left

  // AWS's REST CSV preset: …,status,responseLength,requestId,extendedRequestId.
  const auto rotated = lines_of(file + ".1");
  REQUIRE(rotated.size() == 3);
  const char* statuses[] = {"200", "404", "403"};
  for (std::size_t i = 0; i < 3; ++i) {
    INFO(rotated[i]);
    CHECK(rotated[i].starts_with("127.0.0.1,-,-,"));
    CHECK(rotated[i].ends_with("," + ids[i] + "," + ids[i]));
    CHECK(rotated[i].find(",HTTP/1.1," + std::string(statuses[i]) + ",") != std::string::npos);
  }
  const auto fresh = lines_of(file);
  REQUIRE(fresh.size() == 1);
  CHECK(fresh[0].find(",GET,/pets/{petId},HTTP/1.1,200,") != std::string::npos);
  CHECK(fresh[0].ends_with("," + last + "," + last));
}

TEST_CASE("petstore refuses an access log format that cannot work, naming it",
          "[access_log][examples]") {
  temp_dir dir;
  int status = 0;
  const auto out =
      test::shell(std::string(PETSTORE_BINARY) + " --http --listen 127.0.0.1:0 --access-log " +
                      (dir.path / "x.log").string() + " --access-log-format '$context.status' 2>&1",
                  &status);
  CHECK(status != 0);
  CHECK_THAT(out, Catch::Contains("stage 'prod': access log format: it must contain "
                                  "$context.requestId or $context.extendedRequestId"));
}
#endif

#ifdef SERVE_BINARY
TEST_CASE("gatehouse-serve --access-log writes the API type's preset", "[access_log][examples]") {
  temp_dir dir;
  const std::string file = (dir.path / "access.xml").string();
  test::child_process p({SERVE_BINARY, "--openapi",
                         test::vectors_dir() + "/openapi/sam-shopping-cart-mock-cors.swagger.json",
                         "--http", "--listen", "127.0.0.1:0", "--access-log", file,
                         "--access-log-format", "xml"});
  const std::string url = serving_url(p);  // …/dev
  const auto head =
      test::shell("curl -s --max-time 10 -o /dev/null -D - -X OPTIONS '" + url + "/product'");
  std::smatch m;
  REQUIRE(std::regex_search(head, m, std::regex(R"(x-amzn-RequestId: ([0-9a-f-]{36}))")));
  const std::string id = m[1];
  CHECK(p.stop(SIGTERM) == 0);
  const auto lines = lines_of(file);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "<request id=\"" + id + "\"> <extendedRequestId>" + id +
                        "</extendedRequestId> <ip>127.0.0.1</ip> <caller>-</caller> <user>-</user> "
                        "<requestTime>" +
                        lines[0].substr(lines[0].find("<requestTime>") + 13, 26) +
                        "</requestTime> <httpMethod>OPTIONS</httpMethod> <resourcePath>/product"
                        "</resourcePath> <status>200</status> <protocol>HTTP/1.1</protocol> "
                        "<responseLength>3</responseLength> </request>");
}
#endif
