// petstore --export: the prod stage's OpenAPI export, in both formats, with and without AWS's
// extensions, JSON and YAML; each imports back, and passes validators nobody here wrote: the
// npm packages @apidevtools/swagger-parser (validate) and @redocly/cli (lint --extends=minimal),
// installed in tests/cross by scripts/install-deps (skipped, saying so, without node).

#include "harness.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/openapi.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#ifdef PETSTORE_BINARY

namespace {
std::string cross_dir() { return std::string(GATEHOUSE_SOURCE_DIR) + "/tests/cross"; }

std::string validators_missing() {
  int status = 0;
  test::shell("command -v node >/dev/null 2>&1", &status);
  if (status != 0) return "node is not on PATH";
  for (const char* package : {"@apidevtools/swagger-parser", "@redocly/cli"})
    if (!std::filesystem::exists(cross_dir() + "/node_modules/" + package + "/package.json"))
      return cross_dir() + "/node_modules/" + package + " is missing (run scripts/install-deps)";
  return {};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct temp_dir {
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "petstore-export-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()));
    path = tmpl;
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  std::string path;
};
}  // namespace

TEST_CASE("petstore --export writes the prod stage's OpenAPI, valid to npm's validators",
          "[spec][cross]") {
  temp_dir dir;
  struct variant {
    std::string file, flags;
  };
  const std::vector<variant> variants{
      {"oas30.json", "--export-format oas30"},
      {"oas30-extensions.json", "--export-format oas30 --extensions apigateway"},
      {"swagger.json", "--export-format swagger"},
      {"swagger-extensions.json",
       "--export-format swagger --extensions integrations,authorizers,validators"},
      {"oas30-extensions.yaml", "--extensions apigateway --yaml"},
  };
  std::string files;
  for (const auto& v : variants) {
    INFO(v.flags);
    const std::string path = dir.path + "/" + v.file;
    int status = -1;
    auto out = test::shell(
        std::string(PETSTORE_BINARY) + " --export '" + path + "' " + v.flags + " 2>&1", &status);
    REQUIRE(status == 0);
    CHECK(out.empty());  // an export prints nothing and serves nothing
    const std::string doc = read_file(path);
    CHECK(doc.find(v.file.starts_with("oas30") ? "3.0.1" : "\"2.0\"") != std::string::npos);
    CHECK((doc.find("x-amazon-apigateway-integration") != std::string::npos) ==
          (v.flags.find("--extensions") != std::string::npos));
    // It imports back: the same resources and methods.
    auto api = gatehouse::import_openapi(doc);
    CHECK(api.routes.size() == 8);
    CHECK(api.warnings.empty());
    files += " '" + path + "'";
  }

  // Bad flags fail, saying why.
  int status = 0;
  auto out = test::shell(
      std::string(PETSTORE_BINARY) + " --export '" + dir.path + "/x.json' --extensions nope 2>&1",
      &status);
  CHECK(status != 0);
  CHECK(out.find("unknown name 'nope'") != std::string::npos);
  out =
      test::shell(std::string(PETSTORE_BINARY) + " --export x --export-format oas31 2>&1", &status);
  CHECK(status != 0);
  CHECK(out.find("--export-format is oas30 or swagger") != std::string::npos);

  if (auto why = validators_missing(); !why.empty()) {
    WARN("skipping the swagger-parser and redocly checks: " << why);
    return;
  }
  out = test::shell("cd '" + cross_dir() + "' && node validate_openapi.mjs" + files + " 2>&1",
                    &status);
  INFO(out);
  CHECK(status == 0);
  CHECK(out.find("invalid") == std::string::npos);
  out = test::shell("cd '" + cross_dir() +
                        "' && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true "
                        "node_modules/.bin/redocly lint --extends=minimal" +
                        files + " 2>&1",
                    &status);
  INFO(out);
  CHECK(status == 0);
  CHECK(out.find("Your API descriptions are valid") != std::string::npos);
}

#endif
