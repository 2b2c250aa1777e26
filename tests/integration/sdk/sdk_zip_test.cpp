// sdk_zip: the archive AWS's GetSdk answers with, opened by Info-ZIP's unzip (a client nobody
// here wrote): it tests clean, lists every file under its folder, and gives back each file's
// bytes exactly (binary and empty ones too).

#include "harness.hpp"

#include <gatehouse/sdk.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {
std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("sdk_zip: unzip tests the archive clean and extracts every file exactly", "[sdk]") {
  int status = 0;
  test::shell("command -v unzip >/dev/null 2>&1", &status);
  if (status != 0) {
    WARN("skipping: unzip is not installed (scripts/install-deps installs it)");
    return;
  }
  std::string binary;
  for (int i = 0; i < 256; ++i) binary += static_cast<char>(i);
  const gatehouse::sdk_files files{{"apigClient.js", "var apigClientFactory = {};\n"},
                                   {"README.md", "# SDK\n"},
                                   {"lib/nested/data.bin", binary},
                                   {"empty.txt", ""}};
  const std::string zip = gatehouse::sdk_zip(files, "apiGateway-js-sdk");
  // The same files make the same archive.
  CHECK(zip == gatehouse::sdk_zip(files, "apiGateway-js-sdk"));

  std::string tmpl = (std::filesystem::temp_directory_path() / "gatehouse-sdk-zip-XXXXXX").string();
  REQUIRE(mkdtemp(tmpl.data()));
  const std::filesystem::path dir = tmpl;
  {
    std::ofstream out(dir / "sdk.zip", std::ios::binary);
    out << zip;
  }
  auto out = test::shell("cd '" + dir.string() + "' && unzip -t sdk.zip 2>&1", &status);
  INFO(out);
  CHECK(status == 0);
  CHECK(out.find("No errors detected") != std::string::npos);
  out = test::shell("cd '" + dir.string() + "' && unzip -q sdk.zip 2>&1", &status);
  CHECK(status == 0);
  for (const auto& [path, contents] : files) {
    INFO(path);
    const auto extracted = dir / "apiGateway-js-sdk" / path;
    REQUIRE(std::filesystem::exists(extracted));
    CHECK(read_file(extracted) == contents);
  }
  std::filesystem::remove_all(dir);

  // Without a folder the files are at the top.
  const std::string flat = gatehouse::sdk_zip({{"a.txt", "a"}});
  CHECK(flat.substr(30, 5) == "a.txt");  // the first local header's name
}
