// gatehouse::http_client over HTTPS against the test backend in TLS mode: verification against
// a given CA (in memory or a file), host name checks, SNI, insecure_skip_verification, pooled
// TLS connections, and client certificates for backends that require one (mutual TLS).

#include "backend.hpp"
#include "client_env.hpp"
#include "harness.hpp"
#include "util/access.hpp"

#include <gatehouse/gatehouse.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using gatehouse::client_errc;

using result = test::client_result;
using test::client_env;

gatehouse::http_client_options trusting(const test::backend& b) {
  gatehouse::http_client_options o;
  o.ca_pem = b.certificate_pem();
  return o;
}

test::backend_options tls_backend(std::string trusted_client_pem = {}) {
  test::backend_options o;
  o.tls = true;
  o.trusted_client_pem = std::move(trusted_client_pem);
  return o;
}

// A file removed on destruction.
struct temp_file {
  explicit temp_file(const std::string& text) {
    std::string pattern = (fs::temp_directory_path() / "gatehouse-ca-XXXXXX").string();
    int fd = ::mkstemp(pattern.data());
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    ::close(fd);
    path = pattern;
    std::ofstream(path, std::ios::binary) << text;
  }
  ~temp_file() {
    std::error_code ec;
    fs::remove(path, ec);
  }
  fs::path path;
};

// A refusal of the client by the server is a failed handshake, also with TLS 1.3, where the
// server's alert arrives only after the client's side of the handshake has ended.
bool refused(std::error_code ec) { return ec == client_errc::tls_handshake_failed; }

}  // namespace

TEST_CASE("http_client tls: HTTPS with the server's certificate trusted in memory",
          "[http_client][tls]") {
  test::backend b(tls_backend());
  client_env env(trusting(b));
  auto r = env.get(b.url("/echo/secure?x=1"));
  REQUIRE_FALSE(r.ec);
  CHECK(r.res.status == 200);
  auto e = test::parse_echo(r.res.body);
  REQUIRE(e);
  CHECK(e->target == "/echo/secure?x=1");
  CHECK(e->headers.get("host").value_or("") == b.address());
  CHECK(b.handshake_failures() == 0);
}

TEST_CASE("http_client tls: ca_file names a PEM file of trusted certificates",
          "[http_client][tls]") {
  test::backend b(tls_backend());
  temp_file ca(b.certificate_pem());
  gatehouse::http_client_options o;
  o.ca_file = ca.path.string();
  client_env env(o);
  auto r = env.get(b.url("/echo/from-file"));
  REQUIRE_FALSE(r.ec);
  CHECK(r.res.status == 200);
}

TEST_CASE("http_client tls: a host name is sent as SNI and checked against the certificate",
          "[http_client][tls]") {
  test::backend b(tls_backend());
  client_env env(trusting(b));
  auto r = env.get("https://localhost:" + std::to_string(b.port()) + "/echo/sni");
  REQUIRE_FALSE(r.ec);
  CHECK(r.res.status == 200);
  auto names = b.server_names();
  REQUIRE_FALSE(names.empty());
  CHECK(names.back() == "localhost");
}

TEST_CASE("http_client tls: an untrusted server certificate is certificate_rejected",
          "[http_client][tls]") {
  test::backend b(tls_backend());
  client_env env;  // the system trust store does not know the backend's self-signed certificate
  auto r = env.get(b.url("/echo/x"));
  CHECK(r.ec == client_errc::certificate_rejected);
  CHECK(b.requests() == 0);
}

TEST_CASE("http_client tls: a certificate for another name is certificate_rejected",
          "[http_client][tls]") {
  test::backend_options o = tls_backend();
  o.certificate = gatehouse::tls::self_signed({"backend.example.com"});
  test::backend b(o);
  client_env env(trusting(b));
  auto r = env.get(b.url("/echo/x"));  // https://127.0.0.1:PORT: not a name in the certificate
  CHECK(r.ec == client_errc::certificate_rejected);
  CHECK(b.requests() == 0);
}

TEST_CASE("http_client tls: insecure_skip_verification accepts any certificate",
          "[http_client][tls]") {
  test::backend b(tls_backend());
  client_env env;
  gatehouse::client_request req;
  req.url = b.url("/echo/insecure");
  req.insecure_skip_verification = true;
  auto r = env.call(std::move(req));
  REQUIRE_FALSE(r.ec);
  CHECK(r.res.status == 200);
}

TEST_CASE("http_client tls: sequential HTTPS calls reuse one connection", "[http_client][tls]") {
  test::backend b(tls_backend());
  client_env env(trusting(b));
  for (int i = 0; i < 10; ++i) {
    auto r = env.get(b.url("/echo/" + std::to_string(i)));
    REQUIRE_FALSE(r.ec);
    REQUIRE(r.res.status == 200);
  }
  CHECK(b.connections_accepted() == 1);
  CHECK(env.client->connection_count() == 1);
}

TEST_CASE("http_client tls: a large response over TLS arrives whole", "[http_client][tls]") {
  test::backend b(tls_backend());
  client_env env(trusting(b));
  const std::size_t n = 4'000'000;
  auto r = env.get(b.url("/chunked/" + std::to_string(n)));
  REQUIRE_FALSE(r.ec);
  REQUIRE(r.res.body.size() == n);
  CHECK(test::fnv1a_hex(r.res.body) == test::fnv1a_hex(test::pattern_bytes(n)));
}

TEST_CASE("http_client tls: the request's client certificate is presented (mutual TLS)",
          "[http_client][tls]") {
  auto cert = gatehouse::client_certificate::generate("gateway");
  test::backend b(tls_backend(cert.pem_encoded_certificate()));
  client_env env(trusting(b));

  SECTION("with the certificate the backend trusts") {
    auto r = env.get(b.url("/echo/mtls"), cert);
    REQUIRE_FALSE(r.ec);
    CHECK(r.res.status == 200);
    CHECK(b.handshake_failures() == 0);
  }
  SECTION("without one") {
    auto r = env.get(b.url("/echo/mtls"));
    INFO(r.ec.message());
    CHECK(refused(r.ec));
    CHECK(test::backend::wait_for([&] { return b.handshake_failures() >= 1; }, 5s));
    CHECK(b.requests() == 0);
  }
  SECTION("with another certificate") {
    auto other = gatehouse::client_certificate::generate("someone else");
    auto r = env.get(b.url("/echo/mtls"), other);
    INFO(r.ec.message());
    CHECK(refused(r.ec));
    CHECK(test::backend::wait_for([&] { return b.handshake_failures() >= 1; }, 5s));
    CHECK(b.requests() == 0);
  }
  SECTION("pools are per certificate: a connection made with it is not used without it") {
    auto r = env.get(b.url("/echo/with"), cert);
    REQUIRE_FALSE(r.ec);
    auto without = env.get(b.url("/echo/without"));
    INFO(without.ec.message());
    CHECK(refused(without.ec));
    auto again = env.get(b.url("/echo/with-again"), cert);
    REQUIRE_FALSE(again.ec);
    CHECK(again.res.status == 200);
    CHECK(b.requests() == 2);
  }
}

TEST_CASE("http_client tls: a certificate loaded from PEM is presented as a generated one is",
          "[http_client][tls]") {
  auto generated = gatehouse::client_certificate::generate("original");
  auto loaded = gatehouse::client_certificate::from_pem(
      generated.pem_encoded_certificate(),
      gatehouse::detail::access::data(generated).private_key_pem, "loaded");
  REQUIRE(loaded);
  CHECK(loaded.pem_encoded_certificate() == generated.pem_encoded_certificate());
  test::backend b(tls_backend(generated.pem_encoded_certificate()));
  client_env env(trusting(b));
  auto r = env.get(b.url("/echo/loaded"), loaded);
  REQUIRE_FALSE(r.ec);
  CHECK(r.res.status == 200);
}

TEST_CASE("http_client tls: https:// to a plain HTTP server fails, and so does http:// to TLS",
          "[http_client][tls]") {
  SECTION("TLS client, plain server") {
    test::backend plain;
    client_env env({.connect_timeout = 1000ms});
    auto r = env.get("https://" + plain.address() + "/echo/x");
    INFO(r.ec.message());
    CHECK((r.ec == client_errc::tls_handshake_failed || r.ec == client_errc::connect_timeout));
  }
  SECTION("plain client, TLS server") {
    test::backend b(tls_backend());
    client_env env;
    auto r = env.get("http://" + b.address() + "/echo/x");
    INFO(r.ec.message());
    CHECK((r.ec == client_errc::connection_reset || r.ec == client_errc::bad_response));
  }
}
