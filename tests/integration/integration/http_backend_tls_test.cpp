// HTTP_PROXY to HTTPS backends through a real gateway: the backend's certificate trusted through
// gateway_options.upstream.ca_pem, refused when untrusted, accepted anyway with
// insecure_skip_verification; and AWS's client certificates: a stage presents one to backends
// that require it (mutual TLS), and a backend refuses the gateway without it.

#include "backend.hpp"
#include "harness.hpp"
#include "util/access.hpp"

#include <gatehouse/gatehouse.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kNetworkError = "Network error communicating with endpoint";

test::backend_options tls_backend(std::string trusted_client_pem = {}) {
  test::backend_options o;
  o.tls = true;
  o.trusted_client_pem = std::move(trusted_client_pem);
  return o;
}

// Stage "prod": ANY /legacy/{proxy+} → https://${stageVariables.backend}/{proxy}.
gatehouse::Stage proxy_stage(const test::backend& b, gatehouse::http_options options = {}) {
  gatehouse::Router api;
  api.route("ANY", "/legacy/{proxy+}",
            gatehouse::http_proxy("https://${stageVariables.backend}/{proxy}", options));
  gatehouse::Stage prod("prod", api.deploy());
  prod.variable("backend", b.address());
  return prod;
}

gatehouse::gateway_options trusting(const test::backend& b) {
  gatehouse::gateway_options o;
  o.upstream.ca_pem = b.certificate_pem();
  return o;
}

std::optional<test::reply> get(unsigned short port, std::string_view target) {
  return test::fetch(port, test::request_text("GET", target));
}

void check_integration_failure(const std::optional<test::reply>& r) {
  REQUIRE(r);
  INFO("body: " << r->body);
  CHECK(r->status == 504);
  CHECK(test::json_message(r->body) == kNetworkError);
  CHECK(r->headers.get("x-amzn-ErrorType").value_or("") == "InternalServerErrorException");
}

void check_echo(const std::optional<test::reply>& r, std::string_view target) {
  REQUIRE(r);
  INFO("body: " << r->body);
  CHECK(r->status == 200);
  auto e = test::parse_echo(r->body);
  REQUIRE(e);
  CHECK(e->target == target);
}

// A private temporary directory, removed with its files on destruction.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "gatehouse-mtls-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path write(const std::string& name, const std::string& text) const {
    auto p = path_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

 private:
  fs::path path_;
};

}  // namespace

TEST_CASE("backend tls: an HTTPS backend whose certificate the gateway trusts",
          "[backend_tls][tls]") {
  test::backend b(tls_backend());
  test::running_gateway gw(trusting(b));
  auto port = gw.serve_plain(proxy_stage(b));
  check_echo(get(port, "/prod/legacy/echo/secure?x=1"), "/echo/secure?x=1");
  auto last = b.last_request();
  REQUIRE(last);
  CHECK(last->headers.get("host").value_or("") == b.address());
  CHECK(last->headers.get("x-forwarded-proto").value_or("") == "http");
  CHECK(b.handshake_failures() == 0);

  SECTION("and keeps its TLS connection alive across requests") {
    for (int i = 0; i < 20; ++i) {
      auto r = get(port, "/prod/legacy/echo/" + std::to_string(i));
      REQUIRE(r);
      REQUIRE(r->status == 200);
    }
    INFO("backend connections: " << b.connections_accepted());
    CHECK(b.connections_accepted() <= 2);
  }
  SECTION("and large bodies both ways") {
    std::string body = test::pattern_bytes(3'000'000);
    auto up = test::fetch(port, test::request_text("PUT", "/prod/legacy/echo/up", {}, body), 60s);
    REQUIRE(up);
    REQUIRE(up->status == 200);
    auto e = test::parse_echo(up->body);
    REQUIRE(e);
    CHECK(e->body_size == body.size());
    CHECK(e->body_hash == test::fnv1a_hex(body));
    auto down = test::fetch(port, test::request_text("GET", "/prod/legacy/chunked/3000000"), 60s);
    REQUIRE(down);
    REQUIRE(down->status == 200);
    REQUIRE(down->body.size() == 3'000'000);
    CHECK(test::fnv1a_hex(down->body) == test::fnv1a_hex(test::pattern_bytes(3'000'000)));
  }
}

TEST_CASE("backend tls: an untrusted backend certificate is INTEGRATION_FAILURE",
          "[backend_tls][tls]") {
  test::backend b(tls_backend());
  test::running_gateway gw;  // the system trust store only
  auto port = gw.serve_plain(proxy_stage(b));
  check_integration_failure(get(port, "/prod/legacy/echo/x"));
  CHECK(b.requests() == 0);
}

TEST_CASE("backend tls: insecure_skip_verification accepts the untrusted certificate",
          "[backend_tls][tls]") {
  test::backend b(tls_backend());
  test::running_gateway gw;
  auto port = gw.serve_plain(proxy_stage(b, {.insecure_skip_verification = true}));
  check_echo(get(port, "/prod/legacy/echo/insecure"), "/echo/insecure");
}

TEST_CASE("backend tls: X-Forwarded-Proto is https when the client came over HTTPS",
          "[backend_tls][tls]") {
  test::backend b(tls_backend());
  test::running_gateway gw(trusting(b));
  auto server_tls = gatehouse::tls::self_signed();
  temp_dir dir;
  auto ca = dir.write("gateway.pem", server_tls.certificate_chain_pem);
  auto port = gw.serve_tls(proxy_stage(b), server_tls);
  int status = -1;
  auto out =
      test::shell("curl -sS --max-time 20 --cacert '" + ca.string() +
                      "' -H 'Host: api.example.test' 'https://127.0.0.1:" + std::to_string(port) +
                      "/prod/legacy/echo/over-https' 2>&1",
                  &status);
  CHECK(status == 0);
  auto e = test::parse_echo(out);
  INFO(out);
  REQUIRE(e);
  CHECK(e->target == "/echo/over-https");
  CHECK(e->headers.get("x-forwarded-proto").value_or("") == "https");
  CHECK(e->headers.get("x-forwarded-host").value_or("") == "api.example.test");
}

TEST_CASE("backend tls: mutual TLS with the stage's client certificate", "[backend_tls][tls]") {
  auto cert = gatehouse::client_certificate::generate("gateway to backend");
  test::backend b(tls_backend(cert.pem_encoded_certificate()));
  test::running_gateway gw(trusting(b));

  SECTION("the stage presents the certificate the backend trusts") {
    auto stage = proxy_stage(b);
    stage.backend_certificate(cert);
    auto port = gw.serve_plain(stage);
    check_echo(get(port, "/prod/legacy/echo/mtls"), "/echo/mtls");
    CHECK(b.handshake_failures() == 0);
  }
  SECTION("a stage without a certificate is refused") {
    auto port = gw.serve_plain(proxy_stage(b));
    check_integration_failure(get(port, "/prod/legacy/echo/mtls"));
    CHECK(test::backend::wait_for([&] { return b.handshake_failures() >= 1; }, 5s));
    CHECK(b.requests() == 0);
  }
  SECTION("a stage with another certificate is refused") {
    auto stage = proxy_stage(b);
    stage.backend_certificate(gatehouse::client_certificate::generate("an impostor"));
    auto port = gw.serve_plain(stage);
    check_integration_failure(get(port, "/prod/legacy/echo/mtls"));
    CHECK(test::backend::wait_for([&] { return b.handshake_failures() >= 1; }, 5s));
    CHECK(b.requests() == 0);
  }
  SECTION("setting and clearing the certificate on a mounted stage applies to later requests") {
    auto stage = proxy_stage(b);
    auto port = gw.serve_plain(stage);
    check_integration_failure(get(port, "/prod/legacy/echo/before"));
    stage.backend_certificate(cert);
    check_echo(get(port, "/prod/legacy/echo/with"), "/echo/with");
    stage.backend_certificate(gatehouse::client_certificate{});
    check_integration_failure(get(port, "/prod/legacy/echo/after"));
    CHECK(b.requests() == 1);
  }
  SECTION("a certificate loaded from PEM files works as the generated one") {
    temp_dir dir;
    auto c = dir.write("client.pem", cert.pem_encoded_certificate());
    auto k = dir.write("client.key", gatehouse::detail::access::data(cert).private_key_pem);
    auto stage = proxy_stage(b);
    stage.backend_certificate(gatehouse::client_certificate::from_files(c, k, "from files"));
    auto port = gw.serve_plain(stage);
    check_echo(get(port, "/prod/legacy/echo/files"), "/echo/files");
  }
}

TEST_CASE("backend tls: client_certificate is AWS's generated client certificate",
          "[backend_tls][tls]") {
  using clock = std::chrono::system_clock;
  auto before = clock::now();
  auto cert = gatehouse::client_certificate::generate("for the backend");
  REQUIRE(cert);
  CHECK_FALSE(gatehouse::client_certificate{});
  CHECK(std::regex_match(cert.id(), std::regex("^[a-z0-9]{6}$")));
  CHECK(cert.description() == "for the backend");
  const auto& pem = cert.pem_encoded_certificate();
  CHECK(pem.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
  CHECK(pem.find("PRIVATE KEY") == std::string::npos);
  CHECK(gatehouse::detail::access::data(cert).private_key_pem.find("PRIVATE KEY") !=
        std::string::npos);
  CHECK(cert.created_date() >= before - 5min);
  CHECK(cert.created_date() <= clock::now() + 5min);
  auto days =
      std::chrono::duration_cast<std::chrono::hours>(cert.expiration_date() - cert.created_date())
          .count() /
      24.0;
  CHECK(days == Approx(365).margin(1));
  auto short_lived = gatehouse::client_certificate::generate({}, 30);
  CHECK(std::chrono::duration_cast<std::chrono::hours>(short_lived.expiration_date() -
                                                       short_lived.created_date())
                .count() /
            24.0 ==
        Approx(30).margin(1));
  CHECK(gatehouse::client_certificate::generate().id() != cert.id());

  SECTION("openssl reads it as an ECDSA P-256 certificate usable by a TLS client") {
    temp_dir dir;
    auto p = dir.write("cert.pem", pem);
    int status = -1;
    auto text =
        test::shell("openssl x509 -in '" + p.string() + "' -noout -text -purpose 2>&1", &status);
    CHECK(status == 0);
    INFO(text);
    CHECK(text.find("prime256v1") != std::string::npos);
    CHECK(text.find("SSL client : Yes") != std::string::npos);
  }
  SECTION("from_pem refuses what does not parse or does not match") {
    auto other = gatehouse::client_certificate::generate();
    CHECK_THROWS_AS(gatehouse::client_certificate::from_pem(
                        pem, gatehouse::detail::access::data(other).private_key_pem),
                    gatehouse::config_error);
    CHECK_THROWS_AS(gatehouse::client_certificate::from_pem(
                        "not a certificate", gatehouse::detail::access::data(cert).private_key_pem),
                    gatehouse::config_error);
    CHECK_THROWS_AS(gatehouse::client_certificate::from_pem(pem, "not a key"),
                    gatehouse::config_error);
    auto loaded = gatehouse::client_certificate::from_pem(
        pem, gatehouse::detail::access::data(cert).private_key_pem, "loaded");
    CHECK(loaded.pem_encoded_certificate() == pem);
    CHECK(loaded.description() == "loaded");
  }
  SECTION("from_files names a file it cannot read") {
    try {
      gatehouse::client_certificate::from_files("/nonexistent/gatehouse/cert.pem",
                                                "/nonexistent/gatehouse/key.pem");
      FAIL("no config_error");
    } catch (const gatehouse::config_error& e) {
      CHECK(std::string(e.what()).find("/nonexistent/gatehouse/") != std::string::npos);
    }
  }
}
