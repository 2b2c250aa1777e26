// The round trip of issue 21: petstore's export (petstore --export), served by gatehouse-serve,
// answers a list of petstore probes exactly as petstore does. Both run as processes, each with
// a fresh store; curl sends each probe to one and then the other, and the status line, the
// headers and the body must be the same. gatehouse-serve binds the Lambda functions and the
// custom authorizer the export names to petstore's own C++ code (--petstore-functions): what
// the export carries — routes, API keys, the request validator and its model, the authorizers'
// settings, IAM, Cognito, the HTTP proxy's stage variable — is what is compared.

#include "../spec/stub_server.hpp"
#include "child_process.hpp"
#include "harness.hpp"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include <unistd.h>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#if defined(PETSTORE_BINARY) && defined(SERVE_BINARY)

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct temp_dir {
  temp_dir() {
    char name[] = "/tmp/gatehouse-roundtrip-XXXXXX";
    REQUIRE(::mkdtemp(name));
    path = name;
  }
  ~temp_dir() { test::shell("rm -rf '" + path + "'"); }
  std::string path;
};

// A server process and the base URL of its stage, from the first line of its output that
// matches `serving` (group 1: the URL).
struct server {
  server(std::vector<std::string> argv, const std::regex& serving) : process(std::move(argv)) {
    std::smatch m;
    for (std::string line; !(line = process.line()).empty();) {
      banner += line;
      if (std::regex_search(line, m, serving)) {
        url = m[1];
        host = url.substr(7, url.find('/', 7) - 7);
        return;
      }
    }
    FAIL("the server did not start; it said:\n" << banner);
  }
  test::child_process process;
  std::string banner;
  std::string url;   // http://127.0.0.1:PORT/prod
  std::string host;  // 127.0.0.1:PORT
};

// One answer as compared: "STATUS LINE\nheader: value\n…\n\nBODY", without the headers that
// differ on every request (Date, x-amzn-RequestId) and Content-Length (the body is compared),
// the server's own host:port written HOST.
std::string answer(const server& s, const std::string& curl_options, const std::string& path) {
  std::string raw =
      test::shell("curl -si --max-time 10 " + curl_options + " '" + s.url + path + "'");
  const auto end = raw.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  std::string out;
  std::istringstream head(raw.substr(0, end));
  for (std::string line; std::getline(head, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string lower;
    for (char c : line.substr(0, line.find(':'))) lower += char(std::tolower((unsigned char)c));
    if (lower == "date" || lower == "x-amzn-requestid" || lower == "content-length") continue;
    out += line + "\n";
  }
  std::string body = raw.substr(end + 4);
  for (auto at = body.find(s.host); at != std::string::npos; at = body.find(s.host, at))
    body.replace(at, s.host.size(), "HOST");
  return out + "\n" + body;
}

std::string token(const rapidjson::Document& tokens, const char* name) {
  return tokens["tokens"][name]["token"].GetString();
}

struct probe {
  std::string what;
  std::string options;  // curl's
  std::string path;     // under the stage
  int status;           // what petstore answers (so that two equal wrong answers fail too)
  // Compared up to here (the rest differs legitimately: see where it is set); "" compares all.
  std::string body_up_to = {};
};
}  // namespace

TEST_CASE("petstore's export served by gatehouse-serve answers as petstore does", "[serve]") {
  temp_dir dir;
  test::stub_server backend([](const test::stub_request& r) {
    return test::stub_response{200,
                               {{"Content-Type", "application/json"}, {"X-Legacy", "yes"}},
                               R"({"method":")" + r.method + R"(","at":")" + r.target + "\"}"};
  });
  const std::string jwt_dir = test::vectors_dir() + "/jwt";
  rapidjson::Document tokens;
  tokens.Parse(read_text(jwt_dir + "/derived/cognito_style_tokens_rfc7515_A2_key.json").c_str());
  REQUIRE(tokens.IsObject());
  const std::string users = dir.path + "/users.csv";
  std::ofstream(users) << "access_key_id,secret_access_key,user_arn\n"
                          "AKIAROUNDTRIP0000001,rt/secret+1,arn:aws:iam::123456789012:user/ann\n";
  const std::string key = "roundtripkey0123456789abcdefghij";
  // Flags both take alike. A Cognito user pool's issuer, so that petstore's JWT authorizer
  // exports as a COGNITO_USER_POOLS authorizer (another issuer has no form in a REST API's
  // document) verified with the same keys.
  const std::vector<std::string> common{
      "--api-key", key,      "--iam-credentials",
      users,       "--jwks", jwt_dir + "/jwks_rfc7515_public.json"};
  const std::vector<std::string> petstore_only{
      "--jwt-issuer",   "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE",
      "--jwt-audience", "3n4b5urk1ft4fl3mg5e62d9ado",
      "--api-id",       "petstore01"};

  const std::string json = "-H 'Content-Type: application/json' ";
  const std::string keyed = "-H 'x-api-key: " + key + "' ";
  const std::string sigv4 = "--aws-sigv4 aws:amz:us-east-1:execute-api ";
  const std::vector<probe> probes{
      {"list", "", "/pets", 200},
      {"list by type", "", "/pets?type=cat", 200},
      {"an empty page", "", "/pets?type=dog&page=2", 200},
      {"a bad page", "", "/pets?page=0", 400},
      {"get", "", "/pets/2", 200},
      {"get an unknown pet", "", "/pets/99", 404},
      {"get a pet id that is no UTF-8", "", "/pets/abc%FF", 404},
      {"create without an API key", "-X POST " + json + "-d '{\"type\":\"dog\",\"price\":30}'",
       "/pets", 403},
      {"create with a wrong API key",
       "-X POST -H 'x-api-key: nope' " + json + "-d '{\"type\":\"dog\",\"price\":30}'", "/pets",
       403},
      {"create", "-X POST " + keyed + json + "-d '{\"type\":\"dog\",\"price\":30}'", "/pets", 201},
      {"create: not a pet type",
       "-X POST " + keyed + json + "-d '{\"type\":\"bird\",\"price\":30}'", "/pets", 400},
      {"create: too cheap", "-X POST " + keyed + json + "-d '{\"type\":\"cat\",\"price\":3}'",
       "/pets", 400},
      {"create: no price", "-X POST " + keyed + json + "-d '{\"type\":\"cat\"}'", "/pets", 400},
      {"create: not JSON", "-X POST " + keyed + json + "-d 'pet'", "/pets", 400},
      {"get the new pet", "", "/pets/4", 200},
      {"no such resource", "", "/nowhere", 403},
      {"no such method", "-X PUT", "/pets", 403},
      {"delete without a token", "-X DELETE", "/pets/1", 401},
      {"delete, token not matching the validation expression", "-X DELETE -H 'Authorization: x'",
       "/pets/1", 401},
      {"delete, token denied", "-X DELETE -H 'Authorization: Bearer nope'", "/pets/1", 403},
      {"delete", "-X DELETE -H 'Authorization: Bearer allow'", "/pets/1", 200},
      {"delete again: gone", "-X DELETE -H 'Authorization: Bearer allow'", "/pets/1", 404},
      {"list after create and delete", "", "/pets", 200},
      {"owner, access token",
       "-H 'Authorization: " + token(tokens, "cognito_access_valid_until_2100") + "'",
       "/pets/2/owner", 200},
      {"owner, ID token",
       "-H 'Authorization: " + token(tokens, "cognito_id_token_valid_until_2100") + "'",
       "/pets/3/owner", 200},
      {"owner, expired", "-H 'Authorization: " + token(tokens, "cognito_access_expired") + "'",
       "/pets/2/owner", 401},
      {"owner, another pool",
       "-H 'Authorization: " + token(tokens, "cognito_access_wrong_issuer") + "'", "/pets/2/owner",
       401},
      {"owner, no token", "", "/pets/2/owner", 401},
      {"stats, signed", sigv4 + "--user 'AKIAROUNDTRIP0000001:rt/secret+1'", "/admin/stats", 200},
      // AWS's message goes on with the canonical request, which holds curl's x-amz-date: the
      // two requests may be signed a second apart.
      {"stats, bad signature", sigv4 + "--user 'AKIAROUNDTRIP0000001:wrong'", "/admin/stats", 403,
       "The request signature we calculated does not match"},
      {"stats, unknown user", sigv4 + "--user 'AKIAUNKNOWN000000001:x'", "/admin/stats", 403},
      {"stats, unsigned", "", "/admin/stats", 403},
      // A C++ mock answers with its body and the integration response's template reshapes it;
      // AWS's MOCK has no body of its own (only what a template writes), so the export keeps
      // the template but not the body: the status and headers are compared, the body is not.
      {"catalog", "", "/catalog", 200, "["},
      {"legacy GET", "-H 'x-probe: 1'", "/legacy/shelf/7?q=1", 200},
      {"legacy POST", "-X POST " + json + "-d '{\"order\":1}'", "/legacy/orders", 200},
  };

  struct variant {
    std::string file;
    std::vector<std::string> flags;
  };
  const std::vector<variant> variants{
      {"oas30.json", {"--export-format", "oas30", "--extensions", "apigateway"}},
      {"swagger.json",
       {"--export-format", "swagger", "--extensions", "integrations,authorizers,validators"}},
      {"oas30.yaml", {"--export-format", "oas30", "--extensions", "apigateway", "--yaml"}},
  };
  for (const auto& v : variants) {
    DYNAMIC_SECTION(v.file) {
      const std::string doc = dir.path + "/" + v.file;
      std::vector<std::string> exporting{PETSTORE_BINARY, "--export", doc};
      for (const auto* list : {&v.flags, &common, &petstore_only})
        exporting.insert(exporting.end(), list->begin(), list->end());
      std::string command;
      for (const auto& a : exporting) command += "'" + a + "' ";
      int status = -1;
      test::shell(command, &status);
      REQUIRE(status == 0);
      CHECK(read_text(doc).find("petstore01.execute-api.us-east-1.amazonaws.com") !=
            std::string::npos);

      // petstore without its stage cache: a stage setting, which no export holds (GET /pets
      // would answer from the cache after a create).
      std::vector<std::string> p{PETSTORE_BINARY, "--http",
                                 "--listen",      "127.0.0.1:0",
                                 "--backend",     "127.0.0.1:" + std::to_string(backend.port()),
                                 "--no-cache"};
      for (const auto* list : {&common, &petstore_only})
        p.insert(p.end(), list->begin(), list->end());
      server petstore(p, std::regex(R"(^petstore: serving (http://\S+/prod)/pets\n$)"));
      std::vector<std::string> s{SERVE_BINARY,
                                 "--http",
                                 "--listen",
                                 "127.0.0.1:0",
                                 "--openapi",
                                 doc,
                                 "--petstore-functions",
                                 "--stage-variable",
                                 "backend=127.0.0.1:" + std::to_string(backend.port())};
      s.insert(s.end(), common.begin(), common.end());
      server serve(s, std::regex(R"(^gatehouse-serve: serving (http://\S+)\n$)"));
      CHECK(serve.url.ends_with("/prod"));  // the stage: the export's base path
      // Every function and authorizer is bound: nothing answers 500.
      CHECK_THAT(serve.banner, !Catch::Contains("answers 500"));
      CHECK_THAT(serve.banner, Catch::Contains("COGNITO_USER_POOLS owner-jwt"));
      CHECK_THAT(serve.banner, Catch::Contains("CUSTOM demo-token"));

      const auto before = backend.requests().size();
      for (const auto& pr : probes) {
        INFO(pr.what << ": curl " << pr.options << " …" << pr.path);
        auto expected = answer(petstore, pr.options, pr.path);
        auto got = answer(serve, pr.options, pr.path);
        CHECK_THAT(expected, Catch::StartsWith("HTTP/1.1 " + std::to_string(pr.status) + " "));
        if (!pr.body_up_to.empty()) {
          auto cut = [&](std::string& a) {
            auto body = a.find("\n\n") + 2;
            auto at = a.find(pr.body_up_to, body);
            REQUIRE(at != std::string::npos);
            a.resize(at + pr.body_up_to.size());
          };
          cut(expected);
          cut(got);
        }
        CHECK(got == expected);
      }
      // The legacy backend got the same requests from both.
      auto seen = backend.requests();
      REQUIRE(seen.size() == before + 4);
      for (std::size_t i = before; i < seen.size(); i += 2) {
        CHECK(seen[i + 1].method == seen[i].method);
        CHECK(seen[i + 1].target == seen[i].target);
        CHECK(seen[i + 1].body == seen[i].body);
        CHECK(seen[i + 1].headers.get("x-probe") == seen[i].headers.get("x-probe"));
      }
      CHECK(seen[before].target == "/shelf/7?q=1");
      CHECK(serve.process.stop(SIGTERM) == 0);
      CHECK(petstore.process.stop(SIGTERM) == 0);
    }
  }
}

#endif
