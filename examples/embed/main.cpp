// embed: a host program with its own server hands requests to gatehouse.
//
// The host accepts connections and parses HTTP itself (here: a deliberately small parser for
// requests with Content-Length bodies); for each request it calls Gateway::async_dispatch and
// writes back the response gatehouse produced. gatehouse opens no socket of its own.
//
//   embed [--listen ADDR:PORT]      (default 127.0.0.1:8080)

#include <gatehouse/gatehouse.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/signal_set.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <cstdio>
#include <istream>
#include <string>

using asio::ip::tcp;

namespace {

gatehouse::Router make_api() {
  gatehouse::Router api({.name = "embedded"});
  api.route("GET", "/hello/{name}", gatehouse::function([](const gatehouse::proxy_event& ev) {
              gatehouse::proxy_result r;
              r.headers.add("Content-Type", "text/plain");
              r.body = "hello, " + std::string(ev.path_parameter("name").value_or("?")) + "\n";
              return r;
            }));
  return api;
}

// The host's own (minimal) HTTP/1.1 handling: one request per connection.
asio::awaitable<void> serve(tcp::socket socket, gatehouse::Gateway& gw) {
  asio::streambuf buf;
  co_await asio::async_read_until(socket, buf, "\r\n\r\n", asio::use_awaitable);
  std::istream in(&buf);
  gatehouse::request req;
  std::string version, line;
  in >> req.method >> req.target >> version;
  std::getline(in, line);
  std::size_t length = 0;
  while (std::getline(in, line) && line != "\r") {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (!value.empty() && value.back() == '\r') value.pop_back();
    if (gatehouse::iequals(name, "content-length")) length = std::stoul(value);
    req.headers.add(std::move(name), std::move(value));
  }
  req.body.assign(std::istreambuf_iterator<char>(in), {});
  if (req.body.size() < length)
    co_await asio::async_read(socket, asio::dynamic_buffer(req.body, length),
                              asio::transfer_exactly(length - req.body.size()),
                              asio::use_awaitable);
  req.source_ip = socket.remote_endpoint().address().to_string();

  // The one call into gatehouse: the whole pipeline, as for its own listener. Any response is a
  // success (4xx and 5xx included); with use_awaitable an error throws: shut_down once the
  // gateway stops, operation_aborted when this coroutine is cancelled.
  gatehouse::response res = co_await gw.async_dispatch(std::move(req), asio::use_awaitable);

  std::string out = "HTTP/1.1 " + std::to_string(res.status) + " \r\n";
  for (const auto& f : res.headers) out += f.name + ": " + f.value + "\r\n";
  out += "Content-Length: " + std::to_string(res.body.size()) + "\r\nConnection: close\r\n\r\n";
  out += res.body;
  co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, gatehouse::Gateway& gw) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    asio::co_spawn(
        acceptor.get_executor(),
        [s = std::move(socket), &gw]() mutable { return serve(std::move(s), gw); },
        [](std::exception_ptr e) {
          try {
            if (e) std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            std::fprintf(stderr, "embed: connection: %s\n", ex.what());
          }
        });
  }
}
}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:8080";
  if (argc == 3 && std::string_view(argv[1]) == "--listen") listen = argv[2];
  auto colon = listen.rfind(':');

  asio::io_context io;
  gatehouse::Router api = make_api();
  gatehouse::Stage prod{"prod", api.deploy()};
  gatehouse::Gateway gw{io};
  gw.mount(prod);

  tcp::acceptor acceptor(io, {asio::ip::make_address(listen.substr(0, colon)),
                              static_cast<unsigned short>(std::stoi(listen.substr(colon + 1)))});
  std::printf("embed: serving http://%s:%u/prod/hello/world\n",
              acceptor.local_endpoint().address().to_string().c_str(),
              acceptor.local_endpoint().port());
  std::fflush(stdout);
  asio::co_spawn(io, accept_loop(acceptor, gw), asio::detached);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code, int) { io.stop(); });
  io.run();
}
