// The Boost.Beast example (examples/beast; on Boost.Asio builds only) run as a user runs it and
// talked to by curl: Beast's own route, and gatehouse's behind it (a function integration, a
// coroutine on a Boost.Asio timer, a body echoed for an API key, 403 without one, AWS's answer
// for an unknown route), keep-alive across both, a large body, SIGTERM to stop.

#include "child_process.hpp"
#include "harness.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <regex>
#include <string>

#ifdef BEAST_BINARY

namespace {
// curl's -i output: the status line and header fields, then the body.
struct answer {
  int status = 0;
  std::string head;
  std::string body;
};

answer curl(const std::string& args) {
  int exit_status = -1;
  const std::string out = test::shell("curl -s -i --max-time 10 " + args, &exit_status);
  REQUIRE(exit_status == 0);
  const auto end = out.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  answer a;
  a.head = out.substr(0, end + 2);
  a.body = out.substr(end + 4);
  std::smatch m;
  REQUIRE(std::regex_search(a.head, m, std::regex(R"(^HTTP/1\.1 (\d{3}))")));
  a.status = std::stoi(m[1]);
  return a;
}

bool has_field(const std::string& head, const std::string& name) {
  return std::regex_search(head, std::regex("\r\n" + name + ":", std::regex::icase));
}
}  // namespace

TEST_CASE("a Boost.Beast host serves its own route and hands the rest to gatehouse",
          "[beast][boost]") {
  test::child_process p({BEAST_BINARY, "--listen", "127.0.0.1:0"});
  const std::string banner = p.line();
  const std::string key_line = p.line();
  std::smatch m;
  REQUIRE(std::regex_search(banner, m, std::regex(R"(http://127\.0\.0\.1:(\d+))")));
  const std::string base = "http://127.0.0.1:" + std::string(m[1]);
  REQUIRE(std::regex_search(key_line, m, std::regex(R"(API key for POST /prod/echo: (\w{20,}))")));
  const std::string key = m[1];

  SECTION("GET /health is Beast's own") {
    const answer a = curl(base + "/health");
    CHECK(a.status == 200);
    CHECK(a.body == "ok\n");
    CHECK(has_field(a.head, "Date"));
    CHECK_FALSE(has_field(a.head, "x-amzn-RequestId"));
  }
  SECTION("a function integration answers through Beast") {
    const answer a = curl(base + "/prod/hello/world");
    CHECK(a.status == 200);
    CHECK(a.body == "hello, world\n");
    CHECK(has_field(a.head, "x-amzn-RequestId"));
    CHECK(has_field(a.head, "Date"));
    CHECK(std::regex_search(a.head, std::regex("\r\nContent-Length: 13\r\n")));
  }
  SECTION("a coroutine integration waits on the host's Boost.Asio executor") {
    const answer a = curl(base + "/prod/later");
    CHECK(a.status == 200);
    CHECK(a.body == "later\n");
  }
  SECTION("the API key decides: 403 without it, the body echoed with it") {
    answer a = curl("-X POST -H 'Content-Type: text/plain' --data-binary 'a body for gatehouse' " +
                    base + "/prod/echo");
    CHECK(a.status == 403);
    CHECK(a.body == R"({"message":"Forbidden"})");
    a = curl("-H 'x-api-key: " + key +
             "' -H 'Content-Type: text/plain' --data-binary 'a body for gatehouse' " + base +
             "/prod/echo");
    CHECK(a.status == 200);
    CHECK(a.body == "a body for gatehouse");
  }
  SECTION("a large body goes through Beast's parser and gatehouse whole") {
    int status = -1;
    const std::string out = test::shell(
        "head -c 300000 /dev/zero | tr '\\0' a | curl -s --max-time 10 -o /dev/null -w "
        "'%{http_code} %{size_download}' -H 'x-api-key: " +
            key + "' -H 'Content-Type: text/plain' --data-binary @- " + base + "/prod/echo",
        &status);
    CHECK(status == 0);
    CHECK(out == "200 300000");
  }
  SECTION("an unknown route gets AWS's answer from gatehouse") {
    const answer a = curl(base + "/prod/nowhere");
    CHECK(a.status == 403);
    CHECK(a.body == R"({"message":"Missing Authentication Token"})");
  }
  SECTION("one keep-alive connection carries requests for both") {
    int status = -1;
    const std::string out = test::shell(
        "curl -s --max-time 10 -o /dev/null -o /dev/null -w "
        "'%{http_code} %{num_connects}\\n' " +
            base + "/health " + base + "/prod/hello/again",
        &status);
    CHECK(status == 0);
    CHECK(out == "200 1\n200 0\n");
  }
  CHECK(p.stop(SIGTERM) == 0);
}

#endif
