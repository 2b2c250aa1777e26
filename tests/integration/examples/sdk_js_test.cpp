// petstore's JavaScript and TypeScript SDKs (petstore --sdk), used as their users use them:
// tests/cross/sdk_petstore.mjs drives the JavaScript SDK's CommonJS, ES module and browser builds
// against petstores over HTTPS (its certificate trusted explicitly, through NODE_EXTRA_CA_CERTS)
// and plain HTTP, and compares its signatures with the npm package aws4's; the TypeScript SDK
// and a usage file compile with tsc --strict (npm typescript) and run against petstore.
// Node.js and tests/cross's packages come from scripts/install-deps (skipped, saying so, without).

#include "child_process.hpp"
#include "harness.hpp"

#include <gatehouse/tls.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#ifdef PETSTORE_BINARY

namespace {

std::string cross_dir() { return std::string(GATEHOUSE_SOURCE_DIR) + "/tests/cross"; }

// As the other cross-checks: without node or the packages (scripts/install-deps installs both
// in CI) the test says so and skips.
std::string node_missing(std::initializer_list<const char*> packages) {
  int status = 0;
  test::shell("command -v node >/dev/null 2>&1", &status);
  if (status != 0) return "node is not on PATH";
  for (const char* package : packages)
    if (!std::filesystem::exists(cross_dir() + "/node_modules/" + package + "/package.json"))
      return cross_dir() + "/node_modules/" + package + " is missing (run scripts/install-deps)";
  return {};
}

struct temp_dir {
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "petstore-sdk-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()));
    path = tmpl;
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  std::string path;
};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  REQUIRE(out << text);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A petstore child process and what its banner says: the invoke URL, the API key, the demo
// token, the JWT and the IAM user's keys.
struct petstore {
  explicit petstore(std::vector<std::string> flags) : process(with_binary(std::move(flags))) {
    for (int i = 0; i < 8 && secret_key.empty(); ++i) {
      const std::string line = process.line();
      REQUIRE(!line.empty());
      std::smatch m;
      if (std::regex_search(line, m,
                            std::regex(R"(serving (https?://127\.0\.0\.1:\d+/prod)/pets)")))
        url = m[1];
      else if (std::regex_search(line, m, std::regex(R"(API key .*: (\S+))")))
        api_key = m[1];
      else if (std::regex_search(line, m, std::regex(R"(Bearer ([^']+)')")))
        token = m[1];
      else if (std::regex_search(line, m, std::regex(R"(a JWT for .*: (\S+))")))
        jwt = m[1];
      else if (std::regex_search(line, m, std::regex(R"(IAM user .*: (\S+) (\S+))")))
        access_key = m[1], secret_key = m[2];
    }
    REQUIRE(!url.empty());
    REQUIRE(!jwt.empty());
    REQUIRE(!secret_key.empty());
  }
  static std::vector<std::string> with_binary(std::vector<std::string> flags) {
    flags.insert(flags.begin(), PETSTORE_BINARY);
    return flags;
  }
  // The target's JSON for sdk_petstore.mjs (banner values are base64url, hex and alphanumerics
  // with '/' and '+': nothing JSON needs escaped).
  std::string target(const std::string& name, bool baked) const {
    return R"({"name":")" + name + R"(","url":")" + url + R"(","baked":)" +
           (baked ? "true" : "false") + R"(,"apiKey":")" + api_key + R"(","jwt":")" + jwt +
           R"(","token":")" + token + R"(","accessKey":")" + access_key + R"(","secretKey":")" +
           secret_key + R"("})";
  }
  test::child_process process;
  std::string url, api_key, token, jwt, access_key, secret_key;
};

void generate(const std::string& type, const std::string& dir, const std::string& invoke_url) {
  int status = -1;
  auto out = test::shell(std::string(PETSTORE_BINARY) + " --sdk " + type + " --out '" + dir +
                             "' --invoke-url '" + invoke_url + "' 2>&1",
                         &status);
  INFO(out);
  REQUIRE(status == 0);
}

// Each "FAIL …" line of the node script a failed check, the "PASS …" lines counted.
int passes(const std::string& out) {
  int n = 0;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("PASS ")) ++n;
    if (line.starts_with("FAIL ")) FAIL_CHECK(line);
  }
  return n;
}

}  // namespace

TEST_CASE("petstore's JavaScript SDK: CommonJS, ES module and browser builds over HTTPS and HTTP",
          "[sdk][cross][node]") {
  if (auto why = node_missing({"aws4"}); !why.empty()) {
    WARN("skipping the JavaScript SDK test: " << why);
    return;
  }
  temp_dir dir;
  // petstore's HTTPS certificate, for 127.0.0.1, trusted by node explicitly.
  const auto certificate = gatehouse::tls::self_signed({"127.0.0.1"}, 1);
  write_file(dir.path + "/cert.pem", certificate.certificate_chain_pem);
  write_file(dir.path + "/key.pem", certificate.private_key_pem);
  petstore https({"--listen", "127.0.0.1:0", "--cert", dir.path + "/cert.pem", "--key",
                  dir.path + "/key.pem"});
  petstore http({"--http", "--listen", "127.0.0.1:0"});
  REQUIRE(https.url.starts_with("https://"));
  REQUIRE(http.url.starts_with("http://"));

  // The SDK calls the HTTPS petstore unless told otherwise (the HTTP one is given as invokeUrl).
  const std::string sdk = dir.path + "/js";
  generate("javascript", sdk, https.url);
  for (auto file : {"apigClient.js", "apigClient.mjs", "package.json", "README.md"})
    CHECK(std::filesystem::exists(sdk + "/" + file));
  CHECK(read_file(sdk + "/apigClient.js").find("const INVOKE_URL = '" + https.url + "';") !=
        std::string::npos);

  const std::string config = R"({"sdk":")" + sdk + R"(","targets":[)" +
                             https.target("https", true) + "," + http.target("http", false) + "]}";
  int status = -1;
  auto out = test::shell("cd '" + cross_dir() + "' && NODE_EXTRA_CA_CERTS='" + dir.path +
                             "/cert.pem' node sdk_petstore.mjs '" + config + "' 2>&1",
                         &status);
  INFO(out);
  // 1 + 3 builds × 2 targets × 9 calls + 2 builds × 7 signing checks + 2.
  CHECK(passes(out) == 1 + 3 * 2 * 9 + 2 * 7 + 2);
  CHECK(status == 0);
  CHECK(https.process.stop(SIGTERM) == 0);
  CHECK(http.process.stop(SIGTERM) == 0);
}

TEST_CASE("petstore's TypeScript SDK compiles with tsc --strict and runs against petstore",
          "[sdk][cross][node]") {
  if (auto why = node_missing({"typescript"}); !why.empty()) {
    WARN("skipping the TypeScript SDK test: " << why);
    return;
  }
  temp_dir dir;
  petstore http({"--http", "--listen", "127.0.0.1:0"});
  const std::string sdk = dir.path + "/ts";
  generate("typescript", sdk, http.url);
  // Typed parameters, bodies and results; @ts-expect-error fails the build where a type lets
  // through what it should not.
  write_file(sdk + "/usage.ts", R"ts(import { apigClientFactory, ApiError } from './apigClient.js';
import type { ApigResponse, Pet, PetsGetParams } from './apigClient.js';

const keyed = apigClientFactory.newClient({ apiKey: ')ts" +
                                    http.api_key + R"ts(' });
const open = apigClientFactory.newClient();

const query: PetsGetParams = { type: 'dog', page: 1 };
const list: ApigResponse = await keyed.petsGet(query);
console.log('petsGet', list.status, Array.isArray(list.data));

const pet: Pet = { type: 'fish', price: 42 };
const made = await keyed.petsPost({}, pet);
console.log('petsPost', made.status, (made.data as Pet).type);

try {
  await open.petsPost(null, pet);
  console.log('petsPost without the key: resolved');
} catch (e) {
  if (!(e instanceof ApiError)) throw e;
  console.log('petsPost without the key', e.response.status, JSON.stringify(e.response.data));
}

const byId = await open.petsPetIdGet({ petId: 1 });
console.log('petsPetIdGet', byId.status, byId.headers['content-type']);

// @ts-expect-error: petId is required
void (() => open.petsPetIdGet({}));
// @ts-expect-error: a bird is not one of the Pet model's types
const bird: Pet = { type: 'bird', price: 30 };
// @ts-expect-error: petsPost takes no parameters
void (() => open.petsPost({ petId: 1 }));
void bird;
)ts");
  const std::string tsc = cross_dir() + "/node_modules/.bin/tsc";
  int status = -1;
  auto out = test::shell("cd '" + sdk + "' && '" + tsc +
                             "' --strict --noEmit --skipLibCheck --target ES2022 --module NodeNext "
                             "--moduleResolution NodeNext --lib ES2022,DOM apigClient.ts usage.ts "
                             "2>&1",
                         &status);
  INFO(out);
  CHECK(status == 0);
  // Built with the SDK's own tsconfig.json (strict, NodeNext, ES2022 + DOM) to dist/, then run.
  write_file(sdk + "/tsconfig.test.json",
             R"({"extends": "./tsconfig.json", "files": ["apigClient.ts", "usage.ts"],
                 "compilerOptions": {"skipLibCheck": true}})");
  out = test::shell(
      "cd '" + sdk + "' && '" + tsc + "' -p tsconfig.test.json 2>&1 && node dist/usage.js 2>&1",
      &status);
  CHECK(status == 0);
  CHECK(out ==
        "petsGet 200 true\n"
        "petsPost 201 fish\n"
        "petsPost without the key 403 {\"message\":\"Forbidden\"}\n"
        "petsPetIdGet 200 application/json\n");
  CHECK(std::filesystem::exists(sdk + "/dist/apigClient.d.ts"));
  CHECK(http.process.stop(SIGTERM) == 0);
}

#endif
