// HTTPS on gatehouse's own listener, checked with real clients (curl, openssl s_client and
// openssl x509/verify): the self-signed development certificate, certificates from files, the
// TLS version floor, ALPN, and how the listener treats clients that never finish a handshake.
// Runs against BoringSSL (the default build) and OpenSSL (-DGATEHOUSE_TLS=openssl).

#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// A private temporary directory, removed with everything in it on destruction.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "gatehouse-tls-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  // Writes `text` to a file in the directory; returns its path.
  fs::path write(const std::string& name, const std::string& text) const {
    auto p = path_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  const fs::path& path() const noexcept { return path_; }

 private:
  fs::path path_;
};

// An API with a fixed answer and an echo of a path parameter.
gatehouse::Stage make_stage() {
  gatehouse::Router api;
  api.route("GET", "/hello", gatehouse::mock({.body = "hello"}));
  api.route("GET", "/echo/{word}", gatehouse::function([](const gatehouse::proxy_event& ev) {
              return gatehouse::proxy_result{.body = std::string(*ev.path_parameter("word"))};
            }));
  return gatehouse::Stage("prod", api.deploy());
}

// One gateway serving make_stage() over HTTPS with a fresh self-signed certificate, whose PEM
// is also written to a file for the clients' trust stores.
struct tls_fixture {
  explicit tls_fixture(gatehouse::gateway_options options = {})
      : tls(gatehouse::tls::self_signed()), gw(std::move(options)) {
    ca = dir.write("cert.pem", tls.certificate_chain_pem);
    port = gw.serve_tls(make_stage(), tls);
  }
  std::string url(std::string_view path) const {
    return "https://127.0.0.1:" + std::to_string(port) + std::string(path);
  }
  std::string curl(const std::string& args, int* status = nullptr) const {
    return test::shell("curl -sS --max-time 20 --cacert '" + ca.string() + "' " + args + " 2>&1",
                       status);
  }
  // openssl s_client against the listener; stdin from /dev/null unless `input` is given.
  std::string s_client(const std::string& args, int* status = nullptr,
                       const std::string& input = {}) const {
    std::string cmd = "timeout 10 openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                      " -servername localhost " + args;
    if (input.empty())
      cmd += " </dev/null 2>&1";
    else
      cmd = "printf '" + input + "' | " + cmd + " -ign_eof 2>&1";
    return test::shell(cmd, status);
  }

  temp_dir dir;
  gatehouse::tls::config tls;
  fs::path ca;
  test::running_gateway gw;
  unsigned short port = 0;
};

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string openssl(const std::string& args, int* status = nullptr) {
  return test::shell("openssl " + args + " 2>&1", status);
}

}  // namespace

TEST_CASE("tls: curl gets an answer over HTTPS, verifying the self-signed certificate", "[tls]") {
  tls_fixture f;
  int status = -1;
  auto out = f.curl(
      "-w ' %{http_code} %{http_version} %{ssl_verify_result}' " + f.url("/prod/hello"), &status);
  INFO(out);
  CHECK(status == 0);
  CHECK(out == "hello 200 1.1 0");

  // The same with the name in the certificate rather than the address.
  out = f.curl("--resolve localhost:" + std::to_string(f.port) +
                   ":127.0.0.1 -w ' %{http_code}' https://localhost:" + std::to_string(f.port) +
                   "/prod/echo/named",
               &status);
  INFO(out);
  CHECK(status == 0);
  CHECK(out == "named 200");
}

TEST_CASE("tls: curl keeps one connection alive for several URLs", "[tls]") {
  tls_fixture f;
  int status = -1;
  // num_connects is 1 for a transfer that opened a connection and 0 for one that reused it.
  auto out =
      f.curl("-w '|%{http_code} %{num_connects}\\n' " + f.url("/prod/echo/a") + " " +
                 f.url("/prod/echo/b") + " " + f.url("/prod/hello") + " " + f.url("/prod/echo/c"),
             &status);
  INFO(out);
  CHECK(status == 0);
  CHECK(out == "a|200 1\nb|200 0\nhello|200 0\nc|200 0\n");
}

TEST_CASE("tls: a client offering h2 or forcing HTTP/1.1 still speaks HTTP/1.1", "[tls]") {
  tls_fixture f;
  int status = -1;
  auto out = f.curl("--http2 -w ' %{http_code} %{http_version}' " + f.url("/prod/hello"), &status);
  INFO(out);
  CHECK(status == 0);
  CHECK(out == "hello 200 1.1");

  out = f.curl("--http1.1 -w ' %{http_code} %{http_version}' " + f.url("/prod/hello"), &status);
  INFO(out);
  CHECK(status == 0);
  CHECK(out == "hello 200 1.1");

  // Verbose curl shows what ALPN settled on.
  out = f.curl("-v --http2 -o /dev/null " + f.url("/prod/hello"), &status);
  INFO(out);
  CHECK(status == 0);
  CHECK(contains(out, "ALPN: offers h2"));
  CHECK(contains(out, "ALPN: server accepted http/1.1"));
}

TEST_CASE("tls: openssl s_client negotiates ALPN http/1.1, and none for h2 only", "[tls]") {
  tls_fixture f;
  int status = -1;
  auto out = f.s_client("-alpn http/1.1", &status);
  INFO(out);
  CHECK(status == 0);
  CHECK(contains(out, "ALPN protocol: http/1.1"));
  CHECK(contains(out, "Verify return code: 18"));  // self-signed, no -CAfile given

  out = f.s_client("-alpn h2", &status);
  INFO(out);
  CHECK(status == 0);
  CHECK(contains(out, "No ALPN negotiated"));

  out =
      f.s_client("-alpn h2,http/1.1 -CAfile '" + f.ca.string() + "' -verify_return_error", &status);
  INFO(out);
  CHECK(status == 0);
  CHECK(contains(out, "ALPN protocol: http/1.1"));
  CHECK(contains(out, "Verify return code: 0 (ok)"));
}

TEST_CASE("tls: TLS 1.2 and 1.3 are served, TLS 1.1 is refused", "[tls]") {
  tls_fixture f;
  const std::string request =
      "GET /prod/echo/versioned HTTP/1.1\\r\\nHost: localhost\\r\\n"
      "Connection: close\\r\\n\\r\\n";
  for (std::string version : {"tls1_2", "tls1_3"}) {
    INFO(version);
    int status = -1;
    auto out = f.s_client("-" + version + " -quiet", &status, request);
    INFO(out);
    CHECK(contains(out, "HTTP/1.1 200 OK"));
    CHECK(contains(out, "versioned"));

    out = f.s_client("-" + version, &status);
    INFO(out);
    CHECK(status == 0);
    CHECK(contains(out, version == "tls1_2" ? "New, TLSv1.2, Cipher is ECDHE-ECDSA-"
                                            : "New, TLSv1.3, Cipher is TLS_"));
  }

  // Lower the client's own security level so that it does offer TLS 1.1: the refusal must come
  // from the server (a protocol_version alert), not from the client's configuration.
  int status = -1;
  auto out = f.s_client("-tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'", &status);
  INFO(out);
  CHECK(status != 0);
  CHECK(contains(out, "alert protocol version"));
  CHECK(contains(out, "Cipher is (NONE)"));
  CHECK_FALSE(contains(out, "Server certificate"));

  // The listener is still fine afterwards.
  out = f.curl(f.url("/prod/hello"), &status);
  CHECK(out == "hello");
}

TEST_CASE("tls: self_signed makes an ECDSA P-256 certificate for localhost and 127.0.0.1",
          "[tls]") {
  temp_dir dir;
  auto tls = gatehouse::tls::self_signed();
  auto cert = dir.write("cert.pem", tls.certificate_chain_pem);
  auto key = dir.write("key.pem", tls.private_key_pem);
  const std::string c = "'" + cert.string() + "'";

  int status = -1;
  auto text = openssl("x509 -noout -text -in " + c, &status);
  INFO(text);
  REQUIRE(status == 0);
  CHECK(contains(text, "Public Key Algorithm: id-ecPublicKey"));
  CHECK(contains(text, "NIST CURVE: P-256"));
  CHECK(contains(text, "Signature Algorithm: ecdsa-with-SHA256"));
  CHECK(contains(text, "DNS:localhost"));
  CHECK(contains(text, "IP Address:127.0.0.1"));
  CHECK(contains(text, "IP Address:0:0:0:0:0:0:0:1"));
  CHECK(contains(text, "TLS Web Server Authentication"));

  // It verifies as its own trust anchor for both the DNS name and the IP address...
  auto out = openssl("verify -CAfile " + c + " -verify_hostname localhost " + c, &status);
  INFO(out);
  CHECK(status == 0);
  out = openssl("verify -CAfile " + c + " -verify_ip 127.0.0.1 " + c, &status);
  INFO(out);
  CHECK(status == 0);
  // ...and not for names it was not made for.
  out = openssl("verify -CAfile " + c + " -verify_hostname example.com " + c, &status);
  INFO(out);
  CHECK(status != 0);
  out = openssl("verify -CAfile " + c + " -verify_ip 10.1.2.3 " + c, &status);
  INFO(out);
  CHECK(status != 0);

  // The key is the certificate's key, and unencrypted PEM.
  auto cert_pub = openssl("x509 -noout -pubkey -in " + c, &status);
  REQUIRE(status == 0);
  auto key_pub = openssl("pkey -pubout -in '" + key.string() + "'", &status);
  REQUIRE(status == 0);
  CHECK(cert_pub == key_pub);

  // 365 days by default: valid now, still valid in 364 days, expired in 366.
  auto checkend = [&](const fs::path& p, long days) {
    int st = -1;
    openssl("x509 -noout -checkend " + std::to_string(days * 86400) + " -in '" + p.string() + "'",
            &st);
    return st == 0;  // 0: still valid then
  };
  CHECK(checkend(cert, 0));
  CHECK(checkend(cert, 364));
  CHECK_FALSE(checkend(cert, 366));

  // Other names and validity on request; a name that is an address becomes an IP SAN.
  auto custom = gatehouse::tls::self_signed({"api.test", "10.0.0.7"}, 30);
  auto custom_path = dir.write("custom.pem", custom.certificate_chain_pem);
  text = openssl("x509 -noout -text -in '" + custom_path.string() + "'", &status);
  INFO(text);
  CHECK(contains(text, "DNS:api.test"));
  CHECK(contains(text, "IP Address:10.0.0.7"));
  CHECK_FALSE(contains(text, "DNS:localhost"));
  CHECK(checkend(custom_path, 29));
  CHECK_FALSE(checkend(custom_path, 31));

  // Each call makes a new key and serial number.
  auto again = gatehouse::tls::self_signed();
  CHECK(again.private_key_pem != tls.private_key_pem);
  CHECK(again.certificate_chain_pem != tls.certificate_chain_pem);

  CHECK_THROWS_AS(gatehouse::tls::self_signed({}), gatehouse::config_error);
  CHECK_THROWS_AS(gatehouse::tls::self_signed({"localhost"}, 0), gatehouse::config_error);
}

TEST_CASE("tls: from_files serves a certificate and key written to files", "[tls]") {
  temp_dir dir;
  auto made = gatehouse::tls::self_signed();
  auto cert = dir.write("server.crt", made.certificate_chain_pem);
  auto key = dir.write("server.key", made.private_key_pem);

  auto loaded = gatehouse::tls::from_files(cert, key);
  CHECK(loaded.certificate_chain_pem == made.certificate_chain_pem);
  CHECK(loaded.private_key_pem == made.private_key_pem);

  test::running_gateway gw;
  auto port = gw.serve_tls(make_stage(), loaded);
  int status = -1;
  auto out = test::shell("curl -sS --max-time 20 --cacert '" + cert.string() +
                             "' https://127.0.0.1:" + std::to_string(port) + "/prod/hello 2>&1",
                         &status);
  CHECK(status == 0);
  CHECK(out == "hello");
}

TEST_CASE("tls: from_files names a file that cannot be read", "[tls]") {
  temp_dir dir;
  auto made = gatehouse::tls::self_signed();
  auto cert = dir.write("server.crt", made.certificate_chain_pem);
  auto key = dir.write("server.key", made.private_key_pem);
  auto missing = dir.path() / "no-such.pem";

  auto message_of = [](auto&& call) -> std::string {
    try {
      call();
    } catch (const gatehouse::config_error& e) {
      return e.what();
    }
    return "<no config_error>";
  };
  auto m = message_of([&] { gatehouse::tls::from_files(missing, key); });
  CHECK_THAT(m, Catch::Contains(missing.string()));
  CHECK_THAT(m, Catch::Contains("certificate"));
  m = message_of([&] { gatehouse::tls::from_files(cert, missing); });
  CHECK_THAT(m, Catch::Contains(missing.string()));
  CHECK_THAT(m, Catch::Contains("key"));
  // A directory is not a readable file either, nor is a file without any PEM in it.
  m = message_of([&] { gatehouse::tls::from_files(dir.path(), key); });
  CHECK_THAT(m, Catch::Contains(dir.path().string()));
  auto empty = dir.write("empty.key", "");
  m = message_of([&] { gatehouse::tls::from_files(cert, empty); });
  CHECK_THAT(m, Catch::Contains(empty.string()));
  auto text = dir.write("notes.txt", "this is the certificate, honest\n");
  m = message_of([&] { gatehouse::tls::from_files(text, key); });
  CHECK_THAT(m, Catch::Contains(text.string()));
}

TEST_CASE("tls: a key that does not match, or garbage PEM, is a config_error", "[tls]") {
  temp_dir dir;
  auto a = gatehouse::tls::self_signed();
  auto b = gatehouse::tls::self_signed();
  auto cert_a = dir.write("a.crt", a.certificate_chain_pem);
  auto key_b = dir.write("b.key", b.private_key_pem);
  auto key_a = dir.write("a.key", a.private_key_pem);
  auto garbage = dir.write("garbage.pem",
                           "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n"
                           "-----END CERTIFICATE-----\n");
  auto text = dir.write("text.pem", "hello, I am not PEM at all\n");
  auto empty = dir.write("empty.pem", "");

  test::running_gateway gw;
  gw.gateway().mount(make_stage());
  // From files or in memory, an unusable pair is refused by from_files or, at the latest, listen.
  auto listen_files = [&](const fs::path& c, const fs::path& k) {
    gw.gateway().listen("127.0.0.1:0", gatehouse::tls::from_files(c, k));
  };
  CHECK_THROWS_AS(listen_files(cert_a, key_b), gatehouse::config_error);
  CHECK_THROWS_AS(listen_files(garbage, key_a), gatehouse::config_error);
  CHECK_THROWS_AS(listen_files(text, key_a), gatehouse::config_error);
  CHECK_THROWS_AS(listen_files(empty, key_a), gatehouse::config_error);
  CHECK_THROWS_AS(listen_files(cert_a, garbage), gatehouse::config_error);
  CHECK_THROWS_AS(listen_files(cert_a, text), gatehouse::config_error);
  CHECK_THROWS_AS(listen_files(cert_a, empty), gatehouse::config_error);
  CHECK_THROWS_WITH(
      gw.gateway().listen("127.0.0.1:0",
                          gatehouse::tls::config{a.certificate_chain_pem, b.private_key_pem}),
      Catch::Contains("does not match"));
  CHECK_THROWS_AS(gw.gateway().listen("127.0.0.1:0", gatehouse::tls::config{}),
                  gatehouse::config_error);
  CHECK_THROWS_AS(
      gw.gateway().listen("127.0.0.1:0", gatehouse::tls::config{"garbage", a.private_key_pem}),
      gatehouse::config_error);
  CHECK_THROWS_AS(gw.gateway().listen("127.0.0.1:0",
                                      gatehouse::tls::config{a.certificate_chain_pem, "garbage"}),
                  gatehouse::config_error);
  // Certificate and key swapped.
  CHECK_THROWS_AS(
      gw.gateway().listen("127.0.0.1:0",
                          gatehouse::tls::config{a.private_key_pem, a.certificate_chain_pem}),
      gatehouse::config_error);

  // A key encrypted with a pass phrase cannot be used (there is no way to give one), and
  // listen says so instead of asking for it on the terminal.
  int status = -1;
  auto encrypted = dir.path() / "encrypted.key";
  test::shell("openssl pkey -in '" + key_a.string() + "' -aes256 -passout pass:secret -out '" +
                  encrypted.string() + "' 2>&1",
              &status);
  REQUIRE(status == 0);
  auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(listen_files(cert_a, encrypted), gatehouse::config_error);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);

  // None of that left the gateway unable to listen with a good pair.
  auto port = gw.gateway().listen("127.0.0.1:0", gatehouse::tls::from_files(cert_a, key_a)).port();
  auto out = test::shell("curl -sS --max-time 20 --cacert '" + cert_a.string() +
                             "' https://127.0.0.1:" + std::to_string(port) + "/prod/hello 2>&1",
                         &status);
  CHECK(out == "hello");
}

TEST_CASE("tls: a client that never finishes its handshake is closed after the timeout", "[tls]") {
  gatehouse::gateway_options options;
  options.limits.tls_handshake_timeout = 300ms;
  tls_fixture f(options);

  // Some clients connect and say nothing; one sends the start of a ClientHello and stalls.
  auto start = clock_type::now();
  std::vector<std::unique_ptr<test::raw_client>> silent;
  for (int i = 0; i < 4; ++i) silent.push_back(std::make_unique<test::raw_client>(f.port, 5s));
  auto partial = std::make_unique<test::raw_client>(f.port, 5s);
  partial->send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));

  // Meanwhile other clients are served.
  int status = -1;
  auto out = f.curl("-w ' %{http_code}' " + f.url("/prod/echo/meanwhile"), &status);
  CHECK(out == "meanwhile 200");

  silent.push_back(std::move(partial));
  for (auto& c : silent) CHECK(c->wait_closed());
  auto elapsed = clock_type::now() - start;
  CHECK(elapsed >= 250ms);
  CHECK(elapsed < 3s);

  // A client that connects now, after the others were dropped, is served as usual.
  out = f.curl("-w ' %{http_code}' " + f.url("/prod/echo/after"), &status);
  CHECK(out == "after 200");
  // The server no longer holds the dropped connections.
  auto deadline = clock_type::now() + 2s;
  while (f.gw.gateway().connection_count() > 0 && clock_type::now() < deadline)
    std::this_thread::sleep_for(5ms);
  CHECK(f.gw.gateway().connection_count() == 0);
}

TEST_CASE("tls: plain HTTP sent to the TLS port gets the connection closed", "[tls]") {
  tls_fixture f;  // the default handshake timeout (10 s): closing must not wait for it
  auto start = clock_type::now();
  test::raw_client plain(f.port, 5s);
  plain.send(test::get("/prod/hello"));
  CHECK_FALSE(plain.read_reply().has_value());  // no HTTP answer, the connection just ends
  CHECK(clock_type::now() - start < 3s);

  // Several at once, while a TLS client is served.
  std::vector<std::unique_ptr<test::raw_client>> others;
  for (int i = 0; i < 4; ++i) {
    others.push_back(std::make_unique<test::raw_client>(f.port, 5s));
    others.back()->send(test::get("/prod/echo/plain"));
  }
  int status = -1;
  auto out = f.curl("-w ' %{http_code}' " + f.url("/prod/echo/secure"), &status);
  CHECK(out == "secure 200");
  for (auto& c : others) CHECK(c->wait_closed());
  CHECK(clock_type::now() - start < 5s);
}

TEST_CASE("tls: async_stop lets an HTTPS request in flight finish and closes the rest", "[tls]") {
  std::atomic<int> started{0};
  gatehouse::Router api;
  api.route(
      "GET", "/slow",
      gatehouse::function(
          [&started](const gatehouse::proxy_event&) -> asio::awaitable<gatehouse::proxy_result> {
            started.fetch_add(1);
            asio::steady_timer t(co_await asio::this_coro::executor, 300ms);
            co_await t.async_wait(asio::use_awaitable);
            co_return gatehouse::proxy_result{.body = "slow"};
          }));
  temp_dir dir;
  auto tls = gatehouse::tls::self_signed();
  auto ca = dir.write("cert.pem", tls.certificate_chain_pem);
  test::running_gateway gw;
  auto port = gw.serve_tls(gatehouse::Stage("prod", api.deploy()), tls);

  auto in_flight = std::async(std::launch::async, [&] {
    int status = -1;
    auto out = test::shell("curl -sS --max-time 20 -D - --cacert '" + ca.string() +
                               "' https://127.0.0.1:" + std::to_string(port) + "/prod/slow 2>&1",
                           &status);
    return std::to_string(status) + "\n" + out;
  });
  test::raw_client handshaking(port, 5s);  // TCP only: still in its handshake
  auto deadline = clock_type::now() + 5s;
  while (started.load() == 0 && clock_type::now() < deadline) std::this_thread::sleep_for(2ms);
  REQUIRE(started.load() == 1);

  std::promise<void> stopped;
  auto t0 = clock_type::now();
  gw.gateway().async_stop(2s, [&] { stopped.set_value(); });
  CHECK(handshaking.wait_closed());
  CHECK(clock_type::now() - t0 < 250ms);

  auto out = in_flight.get();
  INFO(out);
  CHECK(out.rfind("0\nHTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(contains(out, "\r\nConnection: close\r\n"));
  CHECK(out.size() > 4);
  CHECK(out.substr(out.size() - 4) == "slow");
  REQUIRE(stopped.get_future().wait_for(2s) == std::future_status::ready);
  CHECK(clock_type::now() - t0 < 1500ms);
  CHECK(gw.gateway().connection_count() == 0);
}
