// A JWT authorizer whose identity provider is down or untrusted: junk tokens never make the
// gateway fetch the JWKS; well-formed ones make it fetch once per backoff (concurrent and
// back-to-back requests share that fetch, the others get 500 at once), the log has one line per
// failed fetch, and once the provider works again the next fetch after the backoff serves
// tokens again. Connections are counted at the provider's end (a TLS server, a listener that
// resets), log lines through gateway_options::log.
//
// Part of the `tls` program (the file name has "tls" in it).

#include "backend.hpp"
#include "harness.hpp"
#include "jwks_server.hpp"
#include "jwt_mint.hpp"

#include <gatehouse/gatehouse.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using gatehouse::Authorizer;
using gatehouse::jwt_options;
using gatehouse::test::test_keys;

const std::string issuer = "https://issuer.gatehouse.test/pool-9";
const std::string audience = "gatehouse-tests";
const std::string unauthorized = R"(401 UnauthorizedException {"message":"Unauthorized"})";
const std::string authorizer_failure =
    R"(500 AuthorizerFailureException {"message":"Internal server error"})";

std::string claims(std::string_view sub) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return R"({"iss":")" + issuer + R"(","aud":")" + audience + R"(","sub":")" + std::string(sub) +
         R"(","iat":)" + std::to_string(now - 5) + R"(,"exp":)" + std::to_string(now + 600) + "}";
}

// Tokens no key could verify, or that are not JWTs at all: refused with 401 before any fetch.
std::vector<std::string> junk_tokens() {
  using gatehouse::auth::base64url_encode;
  const auto& keys = test_keys::shared();
  const std::string payload = base64url_encode(claims("junk"));
  auto es = keys.sign_es256("some-kid", claims("junk"));
  return {
      "junk",
      "not.a.jwt",
      "a.b.c",
      "eyJhbGciOiJSUzI1NiJ9",                                                 // one part
      base64url_encode(R"({"alg":"none","kid":"k"})") + "." + payload + ".",  // alg none
      gatehouse::test::sign_hs256("secret", R"({"alg":"HS256","kid":"k"})", claims("junk")),
      base64url_encode(R"({"alg":"PS256","kid":"k"})") + "." + payload + ".c2ln",
      base64url_encode(R"({"alg":"RS256"})") + "." + payload + ".c2ln",        // no kid
      base64url_encode(R"({"alg":"RS256","kid":"k"})") + "." + payload + ".",  // no signature
      es.substr(0, es.size() - 8),  // an ES256 signature of the wrong length
  };
}

// Status, x-amzn-ErrorType and body.
std::string summary(const std::optional<test::reply>& r) {
  if (!r || r->status == 0) return "<no reply>";
  auto type = r->headers.get("x-amzn-ErrorType");
  return std::to_string(r->status) + " " + std::string(type.value_or("-")) + " " + r->body;
}

std::string call(test::raw_client& c, const std::string& token) {
  c.send("GET /prod/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\n\r\n");
  return summary(c.read_reply());
}

// The gateway's log lines about the JWKS.
class log_lines {
 public:
  std::function<void(gatehouse::log_level, std::string_view)> sink() {
    return [this](gatehouse::log_level, std::string_view line) {
      if (line.find("JWKS") == std::string_view::npos) return;
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    };
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  std::size_t size() const { return lines().size(); }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// A gateway with GET /prod/v1 (a mock) behind a JWT authorizer for `jwks_url`.
struct jwt_gateway {
  jwt_gateway(jwt_options o, std::string trusted_pem = {}, int threads = 4)
      : gw(options(trusted_pem), threads) {
    gatehouse::Router api({.name = "jwks-api", .id = "jwks000001"});
    api.route("GET", "/v1", gatehouse::mock({.body = "ok"}),
              {.authorizer = Authorizer::jwt(std::move(o))});
    port = gw.serve_plain(gatehouse::Stage("prod", api.deploy()));
  }
  gatehouse::gateway_options options(const std::string& trusted_pem) {
    gatehouse::gateway_options o;
    o.upstream.ca_pem = trusted_pem;
    o.log = log.sink();
    return o;
  }

  log_lines log;  // before gw: the gateway logs into it until it stops
  test::running_gateway gw;
  unsigned short port = 0;
};

jwt_options options_for(std::string url) {
  jwt_options o;
  o.issuer = issuer;
  o.audiences = {audience};
  o.jwks_url = std::move(url);
  return o;
}

// Sends `n` requests on each of `threads` connections at once, each with the next of `tokens`,
// and checks every answer against `expected` (same index). Returns the answers that differed.
std::vector<std::string> hammer(unsigned short port, int threads, int n,
                                const std::vector<std::string>& tokens,
                                const std::vector<std::string>& expected) {
  std::mutex mutex;
  std::vector<std::string> wrong;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      test::raw_client c(port);
      for (int i = 0; i < n; ++i) {
        const auto k = static_cast<std::size_t>(t + i) % tokens.size();
        auto answer = call(c, tokens[k]);
        if (answer != expected[k]) {
          std::lock_guard lock(mutex);
          wrong.push_back(tokens[k] + " → " + answer);
        }
      }
    });
  for (auto& w : workers) w.join();
  return wrong;
}

}  // namespace

TEST_CASE(
    "jwks: with the provider unreachable or untrusted, 1,000 requests make a handful of fetches "
    "and log lines; junk makes none",
    "[jwt][authorizer][jwks]") {
  const auto& keys = test_keys::shared();
  auto junk = junk_tokens();
  // Well-formed tokens the provider's keys would have to judge: unknown kids, all different.
  std::vector<std::string> mixed, expected;
  for (int i = 0; i < 20; ++i) {
    mixed.push_back(keys.sign_es256("kid-" + std::to_string(i), claims("user")));
    expected.push_back(authorizer_failure);
    mixed.push_back(junk[static_cast<std::size_t>(i) % junk.size()]);
    expected.push_back(unauthorized);
  }

  // The provider: nothing listening, a listener that resets each connection, or a TLS server
  // with a certificate the gateway does not trust. `connections` counts what reached it.
  std::unique_ptr<test::counting_listener> resetting;
  std::unique_ptr<test::jwks_server> untrusted;
  std::function<int()> connections;
  std::string url;
  SECTION("nothing listens") {
    url = "https://127.0.0.1:" + std::to_string(test::unused_port()) + "/jwks.json";
  }
  SECTION("a listener that resets every connection") {
    resetting = std::make_unique<test::counting_listener>();
    url = resetting->url();
    connections = [&] { return resetting->connections(); };
  }
  SECTION("a TLS server with a certificate the gateway does not trust") {
    untrusted = std::make_unique<test::jwks_server>(keys.jwks_json("kid-0", "kid-1"));
    url = untrusted->url();
    connections = [&] { return untrusted->connections(); };
  }
  // Defaults: backoff 1 s, doubling up to the refetch interval (30 s).
  jwt_gateway g(options_for(url));

  // 200 junk tokens, one connection: 401 each, no fetch, nothing logged.
  {
    test::raw_client c(g.port);
    for (int i = 0; i < 200; ++i) {
      const auto& token = junk[static_cast<std::size_t>(i) % junk.size()];
      INFO(token);
      REQUIRE(call(c, token) == unauthorized);
    }
  }
  if (connections) CHECK(connections() == 0);
  CHECK(g.log.size() == 0);

  // 800 more, on 4 connections at once, half of them well-formed: 500 for those.
  auto wrong = hammer(g.port, 4, 200, mixed, expected);
  CAPTURE(wrong.size());
  CHECK(wrong.empty());
  if (!wrong.empty()) FAIL_CHECK("first: " << wrong.front());

  // A handful of fetches, each logged once (one fetch, unless the requests took over 1 s).
  auto lines = g.log.lines();
  for (const auto& l : lines) INFO(l);
  CHECK(lines.size() >= 1);
  CHECK(lines.size() <= 4);
  if (connections) {
    CHECK(connections() >= 1);
    CHECK(connections() <= 4);
    CHECK(static_cast<std::size_t>(connections()) == lines.size());
  }
  if (untrusted) CHECK(untrusted->fetches() == 0);
  REQUIRE(!lines.empty());
  CHECK(lines[0].find("JWT authorizer 'jwt': fetching the JWKS from " + url + ": ") !=
        std::string::npos);
  CHECK(lines[0].find("(failure 1 in a row; 0 other requests refused since the last report; "
                      "next try in 1000 ms)") != std::string::npos);
}

TEST_CASE("jwks: a slow provider: concurrent and back-to-back requests share one fetch",
          "[jwt][authorizer][jwks]") {
  const auto& keys = test_keys::shared();
  test::jwks_server provider(keys.jwks_json("rsa-1", "ec-1"));
  provider.set_delay(3000ms);
  auto o = options_for(provider.url());
  o.fetch_timeout = 300ms;
  jwt_gateway g(o, provider.certificate_pem());
  const std::vector<std::string> tokens{keys.sign_es256("ec-1", claims("slow"))};
  const std::vector<std::string> expected{authorizer_failure};

  // 8 at once: all wait for the one fetch, which times out.
  auto wrong = hammer(g.port, 8, 1, tokens, expected);
  CHECK(wrong.empty());
  CHECK(provider.connections() == 1);
  // Right behind it, within the backoff (1 s): answered at once, no fetch.
  auto start = std::chrono::steady_clock::now();
  wrong = hammer(g.port, 2, 50, tokens, expected);
  CHECK(wrong.empty());
  if (std::chrono::steady_clock::now() - start < 900ms) CHECK(provider.connections() == 1);
  CHECK(provider.connections() <= 2);
  CHECK(g.log.size() == static_cast<std::size_t>(provider.connections()));
}

TEST_CASE(
    "jwks: the backoff doubles while the provider fails; after it comes back, the next fetch "
    "serves tokens again",
    "[jwt][authorizer][jwks]") {
  const auto& keys = test_keys::shared();
  const auto token = keys.sign_es256("ec-1", claims("back"));
  auto trusted = gatehouse::tls::self_signed({"localhost", "127.0.0.1"});
  auto untrusted = std::make_unique<test::jwks_server>(keys.jwks_json("rsa-1", "ec-1"));
  const auto port = untrusted->port();
  auto o = options_for(untrusted->url());
  o.fetch_backoff = 50ms;
  o.refetch_interval = 1s;  // the cap: 50, 100, 200, 400, 800, 1000, 1000 … ms
  jwt_gateway g(o, trusted.certificate_chain_pem, 2);
  test::raw_client c(g.port);

  // Failing: requests every 10 ms until three fetches have failed.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  int requests = 0;
  while (g.log.size() < 3 && std::chrono::steady_clock::now() < deadline) {
    REQUIRE(call(c, token) == authorizer_failure);
    ++requests;
    std::this_thread::sleep_for(10ms);
  }
  auto lines = g.log.lines();
  REQUIRE(lines.size() == 3);
  CHECK(untrusted->connections() == 3);
  CHECK(untrusted->fetches() == 0);
  // Each line says how long until the next try: the backoff doubled each time. The refusals
  // reported add up to the requests refused without a fetch of their own.
  const std::regex shape(
      R"(\(failure (\d+) in a row; (\d+) other requests refused since the last report; next try in (\d+) ms\))");
  int refused = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    INFO(lines[i]);
    std::smatch m;
    REQUIRE(std::regex_search(lines[i], m, shape));
    CHECK(std::stoi(m[1]) == static_cast<int>(i) + 1);
    CHECK(std::stoi(m[3]) == 50 << i);
    refused += std::stoi(m[2]);
  }
  CHECK(refused <= requests - 3);
  CHECK(refused >= 1);  // 10 ms apart, some requests fell into a 50 ms or 100 ms backoff

  // The provider comes back on the same port, with the certificate the gateway trusts: within
  // the backoff requests still get 500; after it, the next fetch succeeds.
  untrusted.reset();
  test::jwks_server provider(keys.jwks_json("rsa-1", "ec-1"), port, trusted);
  std::string answer;
  const auto back_by = std::chrono::steady_clock::now() + 5s;
  while ((answer = call(c, token)) != "200 - ok" && std::chrono::steady_clock::now() < back_by) {
    CHECK(answer == authorizer_failure);
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(answer == "200 - ok");
  CHECK(provider.fetches() == 1);
  const auto logged = g.log.size();
  for (int i = 0; i < 20; ++i) CHECK(call(c, token) == "200 - ok");
  CHECK(provider.fetches() == 1);
  // An unknown kid refetches at most once per refetch interval: the keys are good again.
  CHECK(call(c, keys.sign_es256("ec-2", claims("back"))) == unauthorized);
  CHECK(provider.fetches() <= 2);
  CHECK(g.log.size() == logged);  // successes log nothing
}
