// The TLS metrics of the gateway's own listener, with real clients: handshakes curl completes
// count as handshakes, a client that speaks plain HTTP to the TLS port as a failure, and a
// stage's requests over HTTPS as requests.

#include "backend.hpp"
#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("tls: handshakes and failed handshakes are counted", "[tls]") {
  test::running_gateway rg({}, 2);
  auto& gw = rg.gateway();
  const auto port = rg.serve_tls(test::echo_stage(), gatehouse::tls::self_signed());
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/prod/echo";
  for (int i = 0; i < 2; ++i) {
    int status = -1;
    CHECK(test::shell("curl -sk --max-time 20 -o /dev/null -w '%{http_code}' " + url, &status) ==
          "200");
    CHECK(status == 0);
  }
  // Plain HTTP to the TLS port: the handshake fails.
  const auto plain = test::roundtrip(port, "GET /prod/echo HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_FALSE(plain.has_value());
  CHECK(test::backend::wait_for([&] {
    const auto g = gw.metrics().gateway;
    return g.tls_handshakes == 2 && g.tls_handshake_failures == 1;
  }));
  const auto s = gw.metrics();
  CHECK(s.gateway.tls_handshakes == 2);
  CHECK(s.gateway.tls_handshake_failures == 1);
  REQUIRE(s.find("prod"));
  CHECK(s.find("prod")->count == 2);
}
