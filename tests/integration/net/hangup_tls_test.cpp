// Clients over TLS that go away while their request waits on a backend (issue 20): with
// close_notify or without, the backend call is cancelled at once and counted.

#include "eventually.hpp"
#include "hangup_backend.hpp"
#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

using test::eventually;

}  // namespace

TEST_CASE("hang-up over TLS: a client gone while its request waits cancels the backend call") {
  test::silent_backend backend;
  gatehouse::gateway_options options;
  options.log = [](gatehouse::log_level, std::string_view) {};
  test::running_gateway gw(options);
  gatehouse::Router api;
  api.route("GET", "/wait/{proxy+}",
            gatehouse::http_proxy("http://${stageVariables.backend}/{proxy}"));
  api.route("GET", "/hello", gatehouse::mock({.body = "hello"}));
  gatehouse::Stage prod("prod", api.deploy());
  prod.variable("backend", "127.0.0.1:" + std::to_string(backend.port()));
  const auto port = gw.serve_tls(prod, gatehouse::tls::self_signed());

  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);
  auto open = [&] {
    auto s = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(io, ctx);
    s->next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    s->handshake(asio::ssl::stream_base::client);
    return s;
  };

  // An idle keep-alive connection is served as usual, request after request.
  {
    auto s = open();
    for (int i = 0; i < 3; ++i) {
      asio::write(*s, asio::buffer(test::get("/prod/hello")));
      std::string in;
      char buf[4096];
      while (in.find("\r\n\r\nhello") == std::string::npos) {
        auto n = s->read_some(asio::buffer(buf));
        in.append(buf, n);
      }
      CHECK(in.rfind("HTTP/1.1 200 ", 0) == 0);
      std::this_thread::sleep_for(300ms);  // idle long enough for the connection to trim
    }
  }

  auto s = open();
  asio::write(*s, asio::buffer(test::get("/prod/wait/hang")));
  REQUIRE(eventually([&] { return backend.requests() == 1; }));
  SECTION("with close_notify") {
    asio::error_code ec;
    s->shutdown(ec);  // sends close_notify and waits for the server's, which does not come
  }
  SECTION("without close_notify") {}
  s->next_layer().close();
  const auto gone = clock_type::now();
  REQUIRE(eventually([&] { return backend.closed() == 1; }, 5s));
  CHECK(clock_type::now() - gone < 5s);
  CHECK(eventually([&] { return gw.gateway().abandoned_requests() == 1; }));
  CHECK(backend.accepted() == 1);
  CHECK(eventually([&] { return gw.gateway().connection_count() == 0; }));
}
