// bench_connections: holds many idle keep-alive connections to an HTTP server, for measuring
// what an idle connection costs the server (issue 20). bench/connections.sh drives it.
//
//   bench_connections idle --port P [--host 127.0.0.1] [--tls] [--path /prod/pets?type=dog]
//                          [--connections 10000] [--in-flight 100] [--open-timeout 120]
//       opens N connections (at most --in-flight at once being set up), sends one request on
//       each and reads its whole response (Content-Length framed), keeping the connection
//       open; prints "open N" and the statuses seen ("status 200 N"), then holds them until
//       stdin (a pipe or FIFO) reaches its end; then closes them all at once, prints "closed N"
//       and exits. With --tls, HTTPS without certificate checks (the server's is self-signed).
//
// Exit status: 0; 1 when a connection fails (a message on stderr); 2 for bad arguments.

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using tcp = asio::ip::tcp;
using tls_stream = asio::ssl::stream<tcp::socket>;

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct settings {
  std::string host = "127.0.0.1";
  long port = 0;
  bool tls = false;
  std::string path = "/prod/pets?type=dog";
  std::size_t connections = 10000;
  std::size_t in_flight = 100;
  long open_timeout = 120;
};

long whole_number(const std::string& name, const std::string& text, long min) {
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < min)
    throw usage_error(name + " needs a whole number of at least " + std::to_string(min));
  return v;
}

settings parse(int argc, char** argv) {
  settings s;
  for (int i = 2; i < argc; ++i) {
    std::string name = argv[i];
    if (name == "--tls") {
      s.tls = true;
      continue;
    }
    if (i + 1 >= argc) throw usage_error(name + " needs a value");
    std::string value = argv[++i];
    if (name == "--host")
      s.host = value;
    else if (name == "--port")
      s.port = whole_number(name, value, 1);
    else if (name == "--path")
      s.path = value;
    else if (name == "--connections")
      s.connections = static_cast<std::size_t>(whole_number(name, value, 1));
    else if (name == "--in-flight")
      s.in_flight = static_cast<std::size_t>(whole_number(name, value, 1));
    else if (name == "--open-timeout")
      s.open_timeout = whole_number(name, value, 1);
    else
      throw usage_error("unknown option " + name);
  }
  if (s.port == 0 || s.port > 65535) throw usage_error("--port is required (1-65535)");
  return s;
}

/// Raises the soft limit on open files to the hard one (10,000 connections need as many fds).
void raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

/// The value of a header field in a response head, case-insensitively; empty when absent.
std::string_view field(std::string_view head, std::string_view name) {
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < head.size()) {
    std::size_t start = pos + 2, end = head.find("\r\n", start);
    std::string_view line = head.substr(start, end - start);
    auto colon = line.find(':');
    if (colon == name.size() &&
        std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      std::string_view v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return v;
    }
    pos = end;
  }
  return {};
}

class client {
 public:
  client(asio::io_context& io, settings s)
      : io_(io), s_(std::move(s)), ssl_(asio::ssl::context::tls_client), input_(io), timer_(io) {
    ssl_.set_verify_mode(asio::ssl::verify_none);
    endpoint_ = {asio::ip::make_address(s_.host), static_cast<unsigned short>(s_.port)};
    request_ = "GET " + s_.path + " HTTP/1.1\r\nHost: " + s_.host + ":" + std::to_string(s_.port) +
               "\r\nUser-Agent: bench_connections\r\n\r\n";
    plain_.reserve(s_.connections);
    secure_.reserve(s_.connections);
  }

  void start() {
    for (std::size_t i = 0; i < std::min(s_.in_flight, s_.connections); ++i) launch();
    timer_.expires_after(std::chrono::seconds(s_.open_timeout));
    timer_.async_wait([this](std::error_code ec) {
      if (!ec && opened_ < s_.connections)
        fail("only " + std::to_string(opened_) + " connections open after " +
             std::to_string(s_.open_timeout) + " s");
    });
  }

  bool failed() const noexcept { return failed_; }

 private:
  void fail(const std::string& why) {
    if (failed_) return;
    failed_ = true;
    std::fprintf(stderr, "bench_connections: %s\n", why.c_str());
    io_.stop();
  }

  void launch() {
    if (failed_ || next_ >= s_.connections) return;
    ++next_;
    if (s_.tls)
      asio::co_spawn(io_, open_one<tls_stream>(), asio::detached);
    else
      asio::co_spawn(io_, open_one<tcp::socket>(), asio::detached);
  }

  template <class Stream>
  asio::awaitable<void> open_one() {
    std::unique_ptr<Stream> stream;
    try {
      if constexpr (std::is_same_v<Stream, tls_stream>)
        stream = std::make_unique<Stream>(tcp::socket(io_), ssl_);
      else
        stream = std::make_unique<Stream>(io_);
      auto& socket = lowest(*stream);
      co_await socket.async_connect(endpoint_, asio::use_awaitable);
      socket.set_option(tcp::no_delay(true));
      if constexpr (std::is_same_v<Stream, tls_stream>)
        co_await stream->async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
      co_await asio::async_write(*stream, asio::buffer(request_), asio::use_awaitable);
      std::string in;
      std::size_t head = co_await asio::async_read_until(
          *stream, asio::dynamic_buffer(in, 64 * 1024), "\r\n\r\n", asio::use_awaitable);
      std::string_view h(in.data(), head);
      if (!h.starts_with("HTTP/1.1 ") || h.size() < 12)
        throw std::runtime_error("not an HTTP/1.1 response");
      int status = std::atoi(std::string(h.substr(9, 3)).c_str());
      auto length_text = field(h, "content-length");
      if (length_text.empty()) throw std::runtime_error("a response without Content-Length");
      std::size_t length = std::strtoul(std::string(length_text).c_str(), nullptr, 10);
      if (in.size() < head + length)
        co_await asio::async_read(*stream, asio::dynamic_buffer(in),
                                  asio::transfer_exactly(head + length - in.size()),
                                  asio::use_awaitable);
      if (!field(h, "connection").empty() && field(h, "connection") == "close")
        throw std::runtime_error("the server closes the connection after the response");
      ++statuses_[status];
    } catch (const std::exception& e) {
      fail("connection " + std::to_string(opened_ + 1) + ": " + e.what());
      co_return;
    }
    if constexpr (std::is_same_v<Stream, tls_stream>)
      secure_.push_back(std::move(stream));
    else
      plain_.push_back(std::move(stream));
    if (++opened_ == s_.connections) hold();
    launch();
  }

  static tcp::socket& lowest(tcp::socket& s) { return s; }
  static tcp::socket& lowest(tls_stream& s) { return s.next_layer(); }

  // All open: report, then hold until stdin ends.
  void hold() {
    timer_.cancel();
    std::printf("open %zu\n", opened_);
    for (auto& [status, n] : statuses_) std::printf("status %d %zu\n", status, n);
    std::fflush(stdout);
    std::error_code ec;
    input_.assign(::dup(STDIN_FILENO), ec);
    if (ec) return fail("cannot watch stdin: " + ec.message());
    watch_input();
  }

  void watch_input() {
    input_.async_read_some(asio::buffer(input_buffer_), [this](std::error_code ec, std::size_t) {
      if (!ec) return watch_input();
      close_all();
    });
  }

  // Every connection closed at once: the storm's end.
  void close_all() {
    std::size_t n = 0;
    auto close = [&n](tcp::socket& s) {
      std::error_code ec;
      s.close(ec);
      ++n;
    };
    for (auto& s : plain_) close(*s);
    for (auto& s : secure_) close(s->next_layer());
    std::printf("closed %zu\n", n);
    std::fflush(stdout);
    io_.stop();
  }

  asio::io_context& io_;
  settings s_;
  asio::ssl::context ssl_;
  tcp::endpoint endpoint_;
  std::string request_;
  std::vector<std::unique_ptr<tcp::socket>> plain_;
  std::vector<std::unique_ptr<tls_stream>> secure_;
  std::map<int, std::size_t> statuses_;
  std::size_t next_ = 0, opened_ = 0;
  bool failed_ = false;
  asio::posix::stream_descriptor input_;
  char input_buffer_[256];
  asio::steady_timer timer_;
};

void usage(std::FILE* to) {
  std::fputs(
      "usage: bench_connections idle --port P [--host H] [--tls] [--path /prod/pets?type=dog]\n"
      "                         [--connections 10000] [--in-flight 100] [--open-timeout 120]\n",
      to);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]) != "idle") {
    usage(argc >= 2 && std::string_view(argv[1]) == "--help" ? stdout : stderr);
    return argc >= 2 && std::string_view(argv[1]) == "--help" ? 0 : 2;
  }
  raise_fd_limit();
  try {
    asio::io_context io{1};
    client c(io, parse(argc, argv));
    c.start();
    io.run();
    return c.failed() ? 1 : 0;
  } catch (const usage_error& e) {
    std::fprintf(stderr, "bench_connections: %s\n", e.what());
    usage(stderr);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_connections: %s\n", e.what());
    return 1;
  }
}
