// The examples, run as a user runs them: a separate process, real sockets, a signal to stop.

#include "child_process.hpp"
#include "harness.hpp"
#include "strict_json.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <regex>
#include <string>

#ifdef PETSTORE_BINARY

namespace {
unsigned short port_of(const std::string& banner) {
  std::smatch m;
  std::regex re(R"(:(\d+)/prod)");
  REQUIRE(std::regex_search(banner, m, re));
  return static_cast<unsigned short>(std::stoi(m[1]));
}
}  // namespace

constexpr const char* demo_key = "petstoredemokey0123456789abcdefghij";

std::string post_pet(std::string_view body, std::string_view key) {
  std::string req = "POST /prod/pets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  if (!key.empty()) req.append("x-api-key: ").append(key).append("\r\n");
  return req + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

TEST_CASE("petstore serves AWS's PetStore API over plain HTTP and stops on SIGTERM") {
  test::child_process p(
      {PETSTORE_BINARY, "--http", "--listen", "127.0.0.1:0", "--api-key", demo_key});
  std::string banner = p.line();
  CHECK(banner.find("http://127.0.0.1:") != std::string::npos);
  auto port = port_of(banner);

  test::raw_client c(port);
  c.send(test::get("/prod/pets"));
  auto list = c.read_reply();
  REQUIRE(list);
  CHECK(list->status == 200);
  CHECK(list->body.find(R"("type":"dog")") != std::string::npos);

  c.send(test::get("/prod/pets?type=cat"));
  auto cats = c.read_reply();
  REQUIRE(cats);
  CHECK(cats->body == R"([{"id":2,"type":"cat","price":124.99}])");
  CHECK(cats->headers.get("x-cache") == std::optional<std::string_view>("Miss"));
  // GET /pets is cached per type and page: the same list again is a hit, another page a miss,
  // and a parameter that is not a cache key does not split the entry.
  c.send(test::get("/prod/pets?type=cat&sort=desc"));
  auto again = c.read_reply();
  REQUIRE(again);
  CHECK(again->body == cats->body);
  CHECK(again->headers.get("x-cache") == std::optional<std::string_view>("Hit"));
  c.send(test::get("/prod/pets?type=cat&page=2"));
  auto cat_page2 = c.read_reply();
  REQUIRE(cat_page2);
  CHECK(cat_page2->body == "[]");
  CHECK(cat_page2->headers.get("x-cache") == std::optional<std::string_view>("Miss"));

  std::string body = R"({"type":"fish","price":25.5})";
  c.send(post_pet(body, ""));  // POST /pets needs an API key of the plan "basic"
  auto refused = c.read_reply();
  REQUIRE(refused);
  CHECK(refused->status == 403);
  CHECK(refused->body == R"({"message":"Forbidden"})");
  c.send(post_pet(body, "notthekey0123456789notthekey0123456789"));
  refused = c.read_reply();
  REQUIRE(refused);
  CHECK(refused->status == 403);

  c.send(post_pet(body, demo_key));
  auto created = c.read_reply();
  REQUIRE(created);
  CHECK(created->status == 201);
  CHECK(created->body == R"({"id":4,"type":"fish","price":25.5})");

  // The Pet model: type one of dog, cat, fish; price a number from 25 to 500.
  c.send(post_pet(R"({"type":"bird","price":5})", demo_key));
  auto invalid = c.read_reply();
  REQUIRE(invalid);
  CHECK(invalid->status == 400);
  CHECK(invalid->body == R"({"message":"Invalid request body"})");
  c.send(post_pet(R"({"type":"dog","price":"a lot"})", demo_key));
  invalid = c.read_reply();
  REQUIRE(invalid);
  CHECK(invalid->status == 400);

  c.send(test::get("/prod/pets/4"));
  auto got = c.read_reply();
  REQUIRE(got);
  CHECK(got->status == 200);
  CHECK(got->body == created->body);

  c.send(test::get("/prod/pets/99"));
  auto missing = c.read_reply();
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(missing->body == R"({"message":"Pet 99 not found"})");

  c.send(post_pet("nope!", demo_key));
  auto bad = c.read_reply();
  REQUIRE(bad);
  CHECK(bad->status == 400);

  c.send(test::get("/prod/pets?page=2"));
  auto page2 = c.read_reply();
  REQUIRE(page2);
  CHECK(page2->body == "[]");

  c.send(test::get("/prod/unknown"));
  auto unknown = c.read_reply();
  REQUIRE(unknown);
  CHECK(unknown->status == 403);
  CHECK(unknown->body == R"({"message":"Missing Authentication Token"})");

  c.close();
  CHECK(p.stop(SIGTERM) == 0);
}

TEST_CASE("petstore prints a generated API key, and its plan throttles POST /pets with 429") {
  test::child_process p({PETSTORE_BINARY, "--http", "--listen", "127.0.0.1:0"});
  auto port = port_of(p.line());
  p.line();  // the proxy line
  std::string key_line = p.line();
  std::smatch m;
  REQUIRE(std::regex_search(key_line, m, std::regex(R"(API key .*: ([A-Za-z0-9]{40}))")));
  const std::string key = m[1];

  // The plan "basic" allows a burst of 100 at 50 a second: 150 requests in a row, sent
  // faster than that, meet 429s with Retry-After.
  test::raw_client c(port);
  int created = 0, throttled = 0, other = 0;
  std::optional<test::reply> last_429;
  for (int i = 0; i < 150; ++i) {
    c.send(post_pet(R"({"type":"fish","price":30})", key));
    auto r = c.read_reply();
    REQUIRE(r);
    if (r->status == 201)
      ++created;
    else if (r->status == 429)
      ++throttled, last_429 = r;
    else
      ++other;
  }
  CHECK(other == 0);
  CHECK(created >= 100);
  CHECK(throttled > 0);
  REQUIRE(last_429);
  CHECK(last_429->body == R"({"message":"Too Many Requests"})");
  CHECK(last_429->headers.get("Retry-After") == std::optional<std::string_view>("1"));
  c.close();
  CHECK(p.stop(SIGTERM) == 0);
}

std::string with_auth(std::string_view method, std::string_view target,
                      std::string_view authorization) {
  std::string req = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n";
  if (!authorization.empty()) req.append("Authorization: ").append(authorization).append("\r\n");
  return req + "\r\n";
}

TEST_CASE("petstore guards DELETE with its token authorizer and a pet's owner with a JWT") {
  test::child_process p(
      {PETSTORE_BINARY, "--http", "--listen", "127.0.0.1:0", "--demo-token", "s3cret"});
  auto port = port_of(p.line());
  std::string jwt;
  for (int i = 0; i < 6 && jwt.empty(); ++i) {
    auto line = p.line();
    std::smatch m;
    if (std::regex_search(line, m, std::regex(R"(a JWT for .*: ([-_.A-Za-z0-9]+))"))) jwt = m[1];
  }
  REQUIRE(!jwt.empty());
  test::raw_client c(port);
  auto call = [&](std::string_view method, std::string_view target, std::string_view auth) {
    c.send(with_auth(method, target, auth));
    auto r = c.read_reply();
    REQUIRE(r);
    return *r;
  };
  auto r = call("DELETE", "/prod/pets/3", "");
  CHECK(r.status == 401);
  CHECK(r.body == R"({"message":"Unauthorized"})");
  r = call("DELETE", "/prod/pets/3", "Bearer wrong");
  CHECK(r.status == 403);
  CHECK(r.body ==
        R"({"Message":"User is not authorized to access this resource with an explicit deny"})");
  r = call("DELETE", "/prod/pets/3", "Basic s3cret");  // fails the validation expression
  CHECK(r.status == 401);
  r = call("DELETE", "/prod/pets/3", "Bearer s3cret");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"message":"Pet 3 deleted by petstore-admin"})");
  r = call("GET", "/prod/pets/3", "");
  CHECK(r.status == 404);

  r = call("GET", "/prod/pets/1/owner", "Bearer " + jwt);
  CHECK(r.status == 200);
  CHECK(r.body == R"({"petId":1,"owner":"alice","issuer":"https://petstore.example.com"})");
  r = call("GET", "/prod/pets/1/owner", "");
  CHECK(r.status == 401);
  std::string tampered = jwt;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  r = call("GET", "/prod/pets/1/owner", "Bearer " + tampered);
  CHECK(r.status == 401);
  auto www = r.headers.get("WWW-Authenticate");
  REQUIRE(www);
  CHECK(www->starts_with(R"(Bearer scope="" error="invalid_token" error_description=")"));
  c.close();
  CHECK(p.stop(SIGTERM) == 0);
}

TEST_CASE("petstore verifies a pet's owner's JWT with the keys of a JWKS file") {
  // The Cognito-style vectors: signed with RFC 7515's A.2 key, whose JWKS is beside them.
  const std::string dir = test::vectors_dir() + "/jwt";
  test::child_process p({PETSTORE_BINARY, "--http", "--listen", "127.0.0.1:0", "--jwks",
                         dir + "/jwks_rfc7515_public.json", "--jwt-issuer",
                         "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE",
                         "--jwt-audience", "3n4b5urk1ft4fl3mg5e62d9ado"});
  auto port = port_of(p.line());
  auto tokens = test::shell("python3 -c \"import json;d=json.load(open('" + dir +
                            "/derived/cognito_style_tokens_rfc7515_A2_key.json'));"
                            "t=d['tokens'];print(t['cognito_access_valid_until_2100']['token']);"
                            "print(t['cognito_access_expired']['token'])\"");
  auto nl = tokens.find('\n');
  REQUIRE(nl != std::string::npos);
  std::string valid = tokens.substr(0, nl);
  std::string expired = tokens.substr(nl + 1);
  while (!expired.empty() && expired.back() == '\n') expired.pop_back();
  test::raw_client c(port);
  c.send(with_auth("GET", "/prod/pets/2/owner", "Bearer " + valid));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body.find(R"("owner":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")") != std::string::npos);
  c.send(with_auth("GET", "/prod/pets/2/owner", "Bearer " + expired));
  r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 401);
  CHECK(r->headers.get("WWW-Authenticate").value_or("").find("the token has expired") !=
        std::string_view::npos);
  c.close();
  CHECK(p.stop(SIGTERM) == 0);
}

TEST_CASE("petstore's GET /prod/admin/stats takes SigV4 from the users of --iam-credentials") {
  char path[] = "/tmp/gatehouse-iam-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  const std::string csv =
      "access_key_id,secret_access_key,user_arn\n"
      "AKIASTAFF0000000001,staff/secret+1,arn:aws:iam::123456789012:user/ann\n"
      "AKIASTAFF0000000002,staff-secret-2,arn:aws:iam::123456789012:user/ben\n";
  REQUIRE(::write(fd, csv.data(), csv.size()) == static_cast<ssize_t>(csv.size()));
  ::close(fd);
  test::child_process p({PETSTORE_BINARY, "--listen", "127.0.0.1:0", "--iam-credentials", path});
  auto port = port_of(p.line());
  std::string banner;
  for (int i = 0; i < 6 && banner.find("admin/stats") == std::string::npos; ++i) banner = p.line();
  CHECK(banner.find("from 2 IAM users of") != std::string::npos);
  // curl signs (a signer nobody here wrote), over HTTPS.
  const std::string curl = "curl -sk --max-time 10 --aws-sigv4 aws:amz:us-east-1:execute-api ";
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/prod/admin/stats";
  CHECK(test::shell(curl + "--user 'AKIASTAFF0000000001:staff/secret+1' " + url) ==
        R"({"byType":{"cat":1,"dog":1,"fish":1},"pets":3,)"
        R"("caller":"arn:aws:iam::123456789012:user/ann"})");
  CHECK(test::shell(curl + "--user 'AKIASTAFF0000000002:staff-secret-2' " + url)
            .ends_with(R"("caller":"arn:aws:iam::123456789012:user/ben"})"));
  CHECK(test::shell(curl + "--user 'AKIASTAFF0000000002:staff/secret+1' " + url)
            .starts_with(R"({"message":"The request signature we calculated does not match)"));
  CHECK(test::shell("curl -sk --max-time 10 " + url) ==
        R"({"message":"Missing Authentication Token"})");
  // The users may GET /admin/*, nothing else.
  CHECK(test::shell(curl + "--user 'AKIASTAFF0000000001:staff/secret+1' -X DELETE " + url) ==
        R"({"message":"Missing Authentication Token"})");  // no such method: as AWS's REST APIs
  CHECK(p.stop(SIGTERM) == 0);
  std::remove(path);
}

TEST_CASE("petstore's messages stay JSON when they echo bytes that are not UTF-8") {
  test::child_process p({PETSTORE_BINARY, "--http", "--listen", "127.0.0.1:0"});
  auto port = port_of(p.line());
  const std::string fffd = "\xEF\xBF\xBD";
  // A strict parser of our own and, where there is one, Python's (bytes decoded as UTF-8).
  int status = 0;
  test::shell("command -v python3 >/dev/null 2>&1", &status);
  const bool python = status == 0;
  if (!python) WARN("python3 is not on PATH: bodies checked with RapidJSON only");
  auto json_reply = [&](const std::string& raw, int want) {
    auto r = test::roundtrip(port, raw);
    REQUIRE(r);
    INFO(raw << "\n-> " << r->body);
    CHECK(r->status == want);
    CHECK(test::json_error(r->body) == "");
    if (python) {
      const std::string file = "/tmp/gatehouse-petstore-body-" + std::to_string(::getpid());
      std::FILE* f = std::fopen(file.c_str(), "wb");
      REQUIRE(f);
      std::fwrite(r->body.data(), 1, r->body.size(), f);
      std::fclose(f);
      int rc = 0;
      test::shell(
          "python3 -c 'import json,sys; json.loads(open(sys.argv[1],\"rb\").read()"
          ".decode(\"utf-8\"))' " +
              file + " 2>&1",
          &rc);
      std::remove(file.c_str());
      CHECK(rc == 0);
    }
    return r->body;
  };
  // The pet id is echoed: "%FF" decodes to a byte that is no UTF-8, '"' and '\\' need escapes.
  CHECK(test::json_member(json_reply("GET /prod/pets/%FF HTTP/1.1\r\nHost: x\r\n\r\n", 404),
                          "message") == "Pet " + fffd + " not found");
  CHECK(test::json_member(
            json_reply("GET /prod/pets/caf%C3%A9%22%5C%E2%82 HTTP/1.1\r\nHost: x\r\n\r\n", 404),
            "message") == "Pet caf\xC3\xA9\"\\" + fffd + " not found");
  // Sent raw, the byte is refused before any route (RFC 3986): 400 with the server's JSON.
  CHECK(json_reply("GET /prod/pets/\xFF HTTP/1.1\r\nHost: x\r\n\r\n", 400) ==
        R"({"message":"Bad Request"})");
  // SigV4's refusal quotes the Authorization header, whose value may hold any byte.
  auto refused = json_reply(
      "GET /prod/admin/stats HTTP/1.1\r\nHost: x\r\nAuthorization: AWS4-HMAC-SHA256 "
      "a\xFF\"b\r\n\r\n",
      403);
  CHECK(test::json_member(refused, "message").find("a" + fffd + "\"b") != std::string::npos);
  CHECK(p.stop(SIGTERM) == 0);
}

TEST_CASE("petstore makes an IAM user when it is given none, and prints its keys") {
  test::child_process p({PETSTORE_BINARY, "--http", "--listen", "127.0.0.1:0"});
  auto port = port_of(p.line());
  std::string key, secret;
  for (int i = 0; i < 8 && key.empty(); ++i) {
    auto line = p.line();
    std::smatch m;
    if (std::regex_search(line, m, std::regex(R"(IAM user .*: (AKIA[A-Z0-9]{16}) (\S{40}))")))
      key = m[1], secret = m[2];
  }
  REQUIRE(!key.empty());
  CHECK(test::shell("curl -s --max-time 10 --aws-sigv4 aws:amz:us-east-1:execute-api --user '" +
                    key + ":" + secret + "' http://127.0.0.1:" + std::to_string(port) +
                    "/prod/admin/stats")
            .ends_with(R"("caller":"arn:aws:iam::123456789012:user/petstore-admin"})"));
  CHECK(p.stop(SIGTERM) == 0);
}

TEST_CASE("petstore's catalog is reshaped by AWS's array-of-pets mapping template") {
  test::child_process p({PETSTORE_BINARY, "--http", "--listen", "127.0.0.1:0"});
  auto port = port_of(p.line());
  auto body = test::shell("curl -s --max-time 10 http://127.0.0.1:" + std::to_string(port) +
                          "/prod/catalog");
  CHECK(body ==
        "[\n  {\n    \"description\" : \"Item 1 is a dog.\",\n    \"askingPrice\" : 249.99\n  },"
        "\n  {\n    \"description\" : \"Item 2 is a cat.\",\n    \"askingPrice\" : 124.99\n  },"
        "\n  {\n    \"description\" : \"Item 3 is a fish.\",\n    \"askingPrice\" : 0.99\n  }"
        "\n]");
  CHECK(p.stop(SIGTERM) == 0);
}

TEST_CASE("petstore serves HTTPS by default with a self-signed certificate") {
  test::child_process p({PETSTORE_BINARY, "--listen", "127.0.0.1:0"});
  std::string banner = p.line();
  CHECK(banner.find("https://127.0.0.1:") != std::string::npos);
  auto port = port_of(banner);
  int status = 0;
  auto out = test::shell(
      "curl -sk --max-time 10 https://127.0.0.1:" + std::to_string(port) + "/prod/pets/1", &status);
  CHECK(status == 0);
  CHECK(out == R"({"id":1,"type":"dog","price":249.99})");
  CHECK(p.stop(SIGINT) == 0);
}

TEST_CASE("petstore refuses bad flags with a clear message") {
  int status = 0;
  auto out = test::shell(std::string(PETSTORE_BINARY) + " --cert only.pem 2>&1", &status);
  CHECK(status == 2);
  CHECK(out.find("--cert and --key go together") != std::string::npos);
  out = test::shell(std::string(PETSTORE_BINARY) + " --http --listen nowhere 2>&1", &status);
  CHECK(status == 1);
  CHECK(out.find("listen address 'nowhere'") != std::string::npos);
}

TEST_CASE("embed hands requests from the host's own server to gatehouse") {
  test::child_process p({EMBED_BINARY, "--listen", "127.0.0.1:0"});
  std::string banner = p.line();
  std::smatch m;
  REQUIRE(std::regex_search(banner, m, std::regex(R"(:(\d+)/prod)")));
  int status = 0;
  auto out = test::shell(
      "curl -s --max-time 10 http://127.0.0.1:" + std::string(m[1]) + "/prod/hello/world", &status);
  CHECK(status == 0);
  CHECK(out == "hello, world\n");
  out = test::shell("curl -s --max-time 10 http://127.0.0.1:" + std::string(m[1]) + "/prod/nope",
                    &status);
  CHECK(out == R"({"message":"Missing Authentication Token"})");
  p.stop(SIGTERM);
}

TEST_CASE("petstore's own configuration earns no warning at mount (its cache settings are safe)") {
  // The mount warnings (a cached method whose cache keys tell no callers or paths apart) go to
  // stderr; petstore's banner goes to stdout.
  int status = 0;
  auto err = test::shell(std::string("timeout --preserve-status -s TERM 1 ") + PETSTORE_BINARY +
                             " --http --listen 127.0.0.1:0 2>&1 >/dev/null",
                         &status);
  CHECK(err.find("warning") == std::string::npos);
  CHECK(status == 0);  // it ran, and stopped on the signal as it should
}

#endif
