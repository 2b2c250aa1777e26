// beast: a Boost.Beast server that serves some routes itself and hands the rest to gatehouse.
//
// Needs gatehouse built on Boost.Asio (-DGATEHOUSE_ASIO=boost): its API is then in terms of
// boost::asio, so the host's io_context, executors and completion tokens are gatehouse's too.
// Beast reads each request; the host answers GET /health itself and turns every other request
// into a gatehouse::request for Gateway::async_dispatch (the whole pipeline: routes, API keys,
// throttles, integrations). The gatehouse::response goes back out through Beast; the host writes
// Content-Length, Date and keep-alive itself, as every host of async_dispatch does.
//
//   beast [--listen ADDR:PORT]      (default 127.0.0.1:8080; port 0 picks a free port)
//
//   GET  /health              the host's own route
//   GET  /prod/hello/{name}   gatehouse: a function integration
//   GET  /prod/later          gatehouse: a coroutine integration that waits on a Boost.Asio timer
//   POST /prod/echo           gatehouse: echoes the body; needs the x-api-key printed at start

#include <gatehouse/gatehouse.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <exception>
#include <string>
#include <string_view>

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

gatehouse::proxy_result text(std::string body) {
  gatehouse::proxy_result r;
  r.headers.add("Content-Type", "text/plain");
  r.body = std::move(body);
  return r;
}

gatehouse::Router make_api() {
  gatehouse::Router api({.name = "beast-hosted"});
  api.route("GET", "/hello/{name}", gatehouse::function([](const gatehouse::proxy_event& ev) {
              return text("hello, " + std::string(ev.path_parameter("name").value_or("?")) + "\n");
            }));
  // Handlers may be coroutines on the host's own Boost.Asio executor.
  api.route("GET", "/later",
            gatehouse::function(
                [](const gatehouse::proxy_event&) -> net::awaitable<gatehouse::proxy_result> {
                  net::steady_timer timer(co_await net::this_coro::executor,
                                          std::chrono::milliseconds(10));
                  co_await timer.async_wait(net::use_awaitable);
                  co_return text("later\n");
                }));
  api.route("POST", "/echo", gatehouse::function([](const gatehouse::proxy_event& ev) {
              return text(std::string(ev.body()));
            }),
            {.api_key_required = true});
  return api;
}

// The Date field (RFC 9110's IMF-fixdate): the host's to write.
std::string http_date() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char out[40];
  const std::size_t n = std::strftime(out, sizeof out, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  return {out, n};
}

gatehouse::request to_gatehouse(http::request<http::string_body>&& in,
                                const std::string& source_ip) {
  gatehouse::request out;
  out.method = std::string(in.method_string());
  out.target = std::string(in.target());
  for (const auto& field : in)
    out.headers.add(std::string(field.name_string()), std::string(field.value()));
  out.body = std::move(in.body());
  out.source_ip = source_ip;
  return out;
}

http::response<http::string_body> from_gatehouse(gatehouse::response&& in) {
  http::response<http::string_body> out;
  out.result(static_cast<unsigned>(in.status));
  for (const auto& field : in.headers) {
    // Framing and the connection are the host's (prepare_payload and keep_alive below).
    if (gatehouse::iequals(field.name, "content-length") ||
        gatehouse::iequals(field.name, "transfer-encoding") ||
        gatehouse::iequals(field.name, "connection"))
      continue;
    out.insert(field.name, field.value);
  }
  out.body() = std::move(in.body);
  return out;
}

// One connection: requests read by Beast, one after another (keep-alive).
net::awaitable<void> session(tcp::socket socket, gatehouse::Gateway& gw) {
  const std::string source_ip = socket.remote_endpoint().address().to_string();
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(10 * 1024 * 1024);  // as gatehouse's own server (AWS's payload limit)
    boost::system::error_code ec;
    co_await http::async_read(socket, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    if (ec) break;  // end of stream, or a request Beast refused: close
    http::request<http::string_body> req = parser.release();
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();

    http::response<http::string_body> res;
    if (req.method() == http::verb::get && req.target() == "/health") {
      res.result(http::status::ok);
      res.set(http::field::content_type, "text/plain");
      res.body() = "ok\n";
    } else {
      // The one call into gatehouse, with Boost.Asio's own completion token.
      gatehouse::response out =
          co_await gw.async_dispatch(to_gatehouse(std::move(req), source_ip), net::use_awaitable);
      res = from_gatehouse(std::move(out));
    }
    res.version(version);
    res.set(http::field::server, "beast-host");
    res.set(http::field::date, http_date());
    res.keep_alive(keep_alive);
    res.prepare_payload();
    co_await http::async_write(socket, res, net::use_awaitable);
    if (!keep_alive) break;
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
}

net::awaitable<void> accept_loop(tcp::acceptor& acceptor, gatehouse::Gateway& gw) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(net::use_awaitable);
    net::co_spawn(acceptor.get_executor(), session(std::move(socket), gw),
                  [](std::exception_ptr e) {
                    try {
                      if (e) std::rethrow_exception(e);
                    } catch (const std::exception& ex) {
                      std::fprintf(stderr, "beast: connection: %s\n", ex.what());
                    }
                  });
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:8080";
  if (argc == 3 && std::string_view(argv[1]) == "--listen") listen = argv[2];
  const auto colon = listen.rfind(':');

  net::io_context io{1};  // one thread runs it (gatehouse then leaves its strands out)

  gatehouse::Router api = make_api();
  gatehouse::Stage prod{"prod", api.deploy()};
  gatehouse::UsagePlan plan{{.name = "beast"}};
  plan.attach(prod);
  gatehouse::Gateway gw{io};  // Boost's io_context
  gw.mount(prod);
  const gatehouse::api_key key =
      gw.api_keys().create({.name = "beast-demo", .usage_plan_ids = {plan.id()}});

  tcp::acceptor acceptor(io, {net::ip::make_address(listen.substr(0, colon)),
                              static_cast<unsigned short>(std::stoi(listen.substr(colon + 1)))});
  const auto at = acceptor.local_endpoint();
  std::printf("beast: serving http://%s:%u (/health by Beast, /prod/... by gatehouse)\n",
              at.address().to_string().c_str(), at.port());
  std::printf("beast: API key for POST /prod/echo: %s\n", key.value->c_str());
  std::fflush(stdout);
  net::co_spawn(io, accept_loop(acceptor, gw), net::detached);

  net::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) { io.stop(); });
  io.run();
}
