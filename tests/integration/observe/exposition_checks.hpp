#pragma once

// The checks of an exposition that AWS-SEMANTICS §14 lists, with the tools nobody here wrote:
// promtool check metrics (Debian's prometheus), the OpenMetrics parser of Debian's
// python3-prometheus-client, and a search for series that appear twice.

#include "harness.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace test {

inline constexpr const char* promtool = "/usr/bin/promtool";
inline constexpr const char* python = "/usr/bin/python3";  // Debian's, with prometheus_client

// Writes `text` to a file and runs `command` on it (as its standard input); the exit status.
inline int check_with(const std::string& command, const std::string& text, std::string* output) {
  char path[] = "/tmp/gatehouse-metrics-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(path, std::ios::binary) << text;
  int status = -1;
  *output = shell("(" + command + ") < " + path + " 2>&1", &status);
  std::remove(path);
  return status;
}

inline constexpr const char* openmetrics_parser =
    "import sys\n"
    "from prometheus_client.openmetrics.parser import text_string_to_metric_families as p\n"
    "families = list(p(sys.stdin.read()))\n"
    "print(len(families), sum(len(f.samples) for f in families))\n";

// The three checks of AWS-SEMANTICS §14 on what a scrape of `url` returns.
inline void check_exposition(const std::string& url) {
  REQUIRE(::access(promtool, X_OK) == 0);  // Debian's prometheus (scripts/install-deps test)
  REQUIRE(shell(std::string(python) + " -c 'import prometheus_client' && echo yes") == "yes\n");
  int status = -1;
  const std::string text = shell("curl -s " + url, &status);
  REQUIRE(status == 0);
  std::string out;
  INFO(text);
  CHECK(check_with(promtool + std::string(" check metrics"), text, &out) == 0);
  CHECK(out.empty());  // no lint complaints either
  // No series twice: names and labels, without values.
  CHECK(check_with("grep -v '^#' | sed 's/ [^ ]*$//' | sort | uniq -d", text, &out) == 0);
  CHECK(out.empty());
  const std::string om =
      shell("curl -s -H 'Accept: application/openmetrics-text; version=1.0.0' " + url, &status);
  REQUIRE(status == 0);
  CHECK(om.ends_with("# EOF\n"));
  CHECK(check_with(std::string(python) + " -c '" + openmetrics_parser + "'", om, &out) == 0);
  INFO(out);
  CHECK(out.find("Error") == std::string::npos);
}

}  // namespace test
