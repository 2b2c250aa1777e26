// The Redis client over TLS (rediss://) against redis-server's own TLS port: verified against
// the server's certificate, refused without it, by name and by address.

#include "redis_server.hpp"
#include "redis_test_util.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace redis = gatehouse::redis;
using redis::errc;
using test::call;
using namespace std::chrono_literals;

TEST_CASE("redis client: rediss:// verifies the server and works like redis://", "[redis]") {
  test::redis_server server({.password = "tls-pw", .tls = true});
  test::io_threads io(1);
  const auto port = std::to_string(server.tls_port());
  const auto options = [&](const std::string& host) {
    redis::client_options o;
    o.url = "rediss://:tls-pw@" + host + ":" + port + "/2";
    o.timeout = 2s;
    o.ca_pem = server.certificate_pem();
    return o;
  };

  SECTION("trusted, by address and by name") {
    for (const char* host : {"127.0.0.1", "localhost"}) {
      CAPTURE(host);
      redis::client c(io.executor(), options(host));
      CHECK(call(c, {"SET", "k", host}).reply.text == "OK");
      CHECK(call(c, {"GET", "k"}).reply.text == host);
      const std::string big(1 << 20, 't');  // many TLS records each way
      CHECK(call(c, {"SET", "big", big}).reply.text == "OK");
      CHECK(call(c, {"GET", "big"}).reply.text == big);
      CHECK(c.stats().connects == 2);  // the pool's two connections, once each
    }
  }
  SECTION("untrusted: the system store does not know the certificate") {
    auto o = options("127.0.0.1");
    o.ca_pem.clear();
    redis::client c(io.executor(), o);
    CHECK(call(c, {"PING"}).error == errc::tls_failed);
    o.insecure_skip_verification = true;  // tests only
    redis::client insecure(io.executor(), o);
    CHECK(call(insecure, {"PING"}).reply.text == "PONG");
  }
  SECTION("plain Redis spoken to the TLS port, and TLS to the plain port, fail") {
    auto o = options("127.0.0.1");
    o.url = "rediss://:tls-pw@127.0.0.1:" + std::to_string(server.port());
    o.connect_timeout = 300ms;
    redis::client tls_to_plain(io.executor(), o);
    // Redis reads the ClientHello as an inline command that never ends: no handshake.
    const auto e = call(tls_to_plain, {"PING"}).error;
    CHECK((e == errc::tls_failed || e == errc::connect_timeout));
    o.url = "redis://:tls-pw@127.0.0.1:" + port;
    redis::client plain_to_tls(io.executor(), o);
    const auto r = call(plain_to_tls, {"PING"});
    CHECK(r.error);
    CHECK_FALSE(r.error == errc::error_reply);
  }
}
