// bench_ws: WebSocket echo throughput and memory per idle connection, gatehouse against a plain
// Asio WebSocket echo server written here (issue 9). bench/ws.sh drives it.
//
//   bench_ws serve-gatehouse --listen 127.0.0.1:0 [--scheme ws|wss]
//   bench_ws serve-plain --listen 127.0.0.1:0 [--read-buffer BYTES]
//       a server on one thread; prints "listening PORT", runs until SIGTERM or SIGINT. The
//       plain server waits for readability and reads into one shared buffer by default (as
//       gatehouse does), or with --read-buffer into a buffer per connection (async_read_some).
//       gatehouse with --scheme wss listens with TLS (a self-signed certificate)
//   bench_ws echo --port P [--host 127.0.0.1] [--path /bench] [--connections 100]
//                 [--duration 5] [--warmup 1] [--size 64] [--server-pid PID] [--open-timeout 60]
//                 [--scheme ws|wss]
//       N connections, each with one message in flight; prints
//       "msgs/s=N p50_us=N p99_us=N" (and server and client CPU figures when --server-pid is
//       given: server CPU time per message and in %, the client's own CPU use in %)
//   bench_ws idle --port P [--host 127.0.0.1] [--path /bench] [--connections 10000] [--hold 10]
//                 [--in-flight 200] [--open-timeout 60] [--scheme ws|wss]
//       opens N connections (at most --in-flight handshakes at once), prints "open N", holds
//       them for --hold seconds or until stdin (a pipe, FIFO or terminal) reaches its end.
//       The clients' --scheme wss: TLS without certificate checks (Asio's ssl::stream)
//
// Exit status: 0, 1 when a connection fails (with a message on stderr), 2 for bad arguments.

#include <gatehouse/gateway.hpp>
#include <gatehouse/integration.hpp>
#include <gatehouse/tls.hpp>
#include <gatehouse/websocket_api.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/read_until.hpp>
#include <asio/signal_set.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <openssl/sha.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using tls_client = asio::ssl::stream<tcp::socket>;

// --- arguments and shared helpers ------------------------------------------------------------

/// A bad command line: main prints the message and exits with 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// "--name value" options of a subcommand, checked against the names it knows.
class options {
 public:
  options(int argc, char** argv, std::set<std::string, std::less<>> known) {
    for (int i = 2; i < argc; ++i) {
      std::string name = argv[i];
      if (!known.contains(name)) throw usage_error("unknown option " + name);
      if (i + 1 >= argc) throw usage_error(name + " needs a value");
      values_[name] = argv[++i];
    }
  }
  std::string text(std::string_view name, std::string fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  /// A whole number from `min` up; `fallback` when the option is absent.
  long number(std::string_view name, long fallback, long min = 1) const {
    auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    char* end = nullptr;
    long v = std::strtol(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || v < min)
      throw usage_error(std::string(name) + " needs a whole number of at least " +
                        std::to_string(min));
    return v;
  }
  bool has(std::string_view name) const { return values_.contains(name); }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

/// Raises the soft limit on open files to the hard one (10,000 connections need as many fds).
void raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

/// "host:port" ("[::1]:0" for IPv6) as an endpoint.
tcp::endpoint parse_listen(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) throw usage_error("--listen needs HOST:PORT");
  std::string host = address.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  std::error_code ec;
  auto ip = asio::ip::make_address(host, ec);
  if (ec) throw usage_error("--listen: bad address " + host);
  char* end = nullptr;
  long port = std::strtol(address.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port < 0 || port > 65535) throw usage_error("--listen: bad port");
  return {ip, static_cast<unsigned short>(port)};
}

void print_listening(unsigned short port) {
  std::printf("listening %u\n", port);
  std::fflush(stdout);
}

std::string base64(const unsigned char* data, std::size_t size) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  for (std::size_t i = 0; i < size; i += 3) {
    std::uint32_t v = std::uint32_t{data[i]} << 16;
    if (i + 1 < size) v |= std::uint32_t{data[i + 1]} << 8;
    if (i + 2 < size) v |= data[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += i + 1 < size ? alphabet[(v >> 6) & 63] : '=';
    out += i + 2 < size ? alphabet[v & 63] : '=';
  }
  return out;
}

/// Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2).
std::string accept_key(std::string_view key) {
  std::string input(key);
  input += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return base64(digest, sizeof digest);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

/// The value of header `name` in an HTTP head (lines after the first), trimmed.
std::optional<std::string_view> header_value(std::string_view head, std::string_view name) {
  std::size_t at = head.find("\r\n");
  while (at != std::string_view::npos && at + 2 < head.size()) {
    std::size_t start = at + 2, end = head.find("\r\n", start);
    std::string_view line = head.substr(start, end - start);
    if (auto colon = line.find(':');
        colon != std::string_view::npos && iequals(line.substr(0, colon), name)) {
      std::string_view v = line.substr(colon + 1);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return v;
    }
    at = end;
  }
  return std::nullopt;
}

/// Runs the io_context until SIGTERM or SIGINT, calling `stop` first.
void run_until_signal(asio::io_context& io, std::function<void()> stop) {
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code ec, int) {
    if (ec) return;
    if (stop) stop();
    io.stop();
  });
  io.run();
}

bool would_block(const std::error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

/// --scheme: true for wss, false for ws (the default).
bool wants_tls(const options& o) {
  const std::string scheme = o.text("--scheme", "ws");
  if (scheme != "ws" && scheme != "wss") throw usage_error("--scheme is ws or wss");
  return scheme == "wss";
}

// --- serve-gatehouse -------------------------------------------------------------------------

/// gatehouse on one thread: stage "bench" whose $default route echoes the message (two-way).
int serve_gatehouse(const options& o) {
  asio::io_context io{1};
  gatehouse::WebSocketApi api;  // route selection: $request.body.action
  api.route("$default", gatehouse::websocket_handler([](const gatehouse::websocket_event& ev) {
              gatehouse::proxy_result r;
              r.body = std::string(ev.body);
              return r;
            }),
            gatehouse::websocket_route_options{.two_way = true});
  gatehouse::WebSocketStage stage("bench", api);

  gatehouse::gateway_options go;
  go.limits.max_connections = 30000;
  go.throttle = std::nullopt;  // no account throttle
  gatehouse::Gateway gw(io, std::move(go));
  gw.mount(stage);
  const std::string address = o.text("--listen", "127.0.0.1:0");
  auto at = wants_tls(o) ? gw.listen(address, gatehouse::tls::self_signed())
                         : gw.listen(address, gatehouse::plain_http);
  print_listening(at.port());
  run_until_signal(io, [&] { gw.stop(); });
  return 0;
}

// --- serve-plain: a hand-written Asio WebSocket echo server ----------------------------------

namespace plain {

constexpr std::size_t max_head_bytes = 8192;
constexpr std::uint64_t max_message_bytes = 16 * 1024 * 1024;

/// Shared read buffer of the default mode: the server runs on one thread and parses what it
/// reads before the next read, so idle connections hold no buffer.
char scratch[64 * 1024];

/// One client connection: the upgrade, then masked frames in and unmasked echoes out. Reads
/// one of two ways: with `read_buffer` 0, waits for readability and reads into `scratch` (no
/// memory while idle, as gatehouse's sessions do); else the textbook Asio way, async_read_some
/// into a buffer of its own of that size (measured here: the same CPU time per message; Asio
/// then spends a second recv where the default spends an epoll_ctl). Writes at once, queueing
/// only what the socket does not take.
class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(tcp::socket socket, std::size_t read_buffer)
      : socket_(std::move(socket)), read_buffer_size_(read_buffer) {}

  void start() {
    std::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    socket_.non_blocking(true, ec);
    if (read_buffer_size_ > 0) read_buffer_ = std::make_unique<char[]>(read_buffer_size_);
    read();
  }

 private:
  void read() {
    if (read_buffer_) {
      socket_.async_read_some(
          asio::buffer(read_buffer_.get(), read_buffer_size_),
          [self = shared_from_this()](std::error_code ec, std::size_t n) { self->on_read(ec, n); });
    } else {
      socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](std::error_code ec) {
        self->on_readable(ec);
      });
    }
  }

  /// Reads what is there, handles it, writes the answers, waits again.
  void on_readable(std::error_code ec) {
    if (ec || !socket_.is_open()) return close_now();
    for (;;) {
      std::size_t n = socket_.read_some(asio::buffer(scratch), ec);
      if (would_block(ec)) break;
      if (ec) return close_now();  // end of stream or reset
      consume(std::string_view(scratch, n));
      if (closing_ || n < sizeof scratch) break;
    }
    flush();
    if (!closing_ && socket_.is_open()) read();
  }

  /// async_read_some's completion: handles the bytes, writes the answers, reads again.
  void on_read(std::error_code ec, std::size_t n) {
    if (ec || !socket_.is_open()) return close_now();
    consume(std::string_view(read_buffer_.get(), n));
    flush();
    if (!closing_ && socket_.is_open()) read();
  }

  /// Handles input: the request head until upgraded, then frames. Keeps an incomplete frame.
  void consume(std::string_view data) {
    if (upgraded_ && in_.empty()) {
      std::size_t used = frames(data);
      in_.assign(data.substr(used));
      return;
    }
    in_.append(data);
    if (!upgraded_ && !handshake()) return;
    in_.erase(0, frames(in_));
    if (in_.empty()) std::string().swap(in_);  // no buffer while idle
  }

  /// Answers the upgrade request once its head is complete; true when upgraded.
  bool handshake() {
    auto end = in_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (in_.size() > max_head_bytes) refuse("431 Request Header Fields Too Large");
      return false;
    }
    std::string_view head(in_.data(), end + 2);
    auto key = header_value(head, "Sec-WebSocket-Key");
    auto upgrade = header_value(head, "Upgrade");
    if (!head.starts_with("GET ") || !key || key->empty() || !upgrade ||
        !iequals(*upgrade, "websocket")) {
      refuse("400 Bad Request");
      return false;
    }
    out_ +=
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: ";
    out_ += accept_key(*key);
    out_ += "\r\n\r\n";
    in_.erase(0, end + 4);
    upgraded_ = true;
    return true;
  }

  void refuse(std::string_view status) {
    out_ = "HTTP/1.1 ";
    out_.append(status).append("\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    closing_ = true;
  }

  /// Handles the complete frames at the front of `data`; returns the bytes they take.
  std::size_t frames(std::string_view data) {
    std::size_t used = 0;
    while (!closing_) {
      const auto* p = reinterpret_cast<const std::uint8_t*>(data.data()) + used;
      const std::size_t left = data.size() - used;
      if (left < 2) break;
      const bool fin = p[0] & 0x80;
      const std::uint8_t op = p[0] & 0x0F;
      if ((p[0] & 0x70) || !(p[1] & 0x80)) {  // reserved bits, or an unmasked client frame
        fail(1002);
        break;
      }
      std::uint64_t size = p[1] & 0x7F;
      std::size_t head = 2;
      if (size == 126) {
        if (left < 4) break;
        size = (std::uint64_t{p[2]} << 8) | p[3];
        head = 4;
      } else if (size == 127) {
        if (left < 10) break;
        size = 0;
        for (int i = 0; i < 8; ++i) size = (size << 8) | p[2 + i];
        head = 10;
      }
      if (size > max_message_bytes || ((op & 0x8) && (size > 125 || !fin))) {
        fail(size > max_message_bytes ? 1009 : 1002);
        break;
      }
      if (left < head + 4 + size) break;
      const std::uint8_t* mask = p + head;
      const auto* payload = p + head + 4;
      used += head + 4 + size;
      switch (op) {
        case 0x1:
        case 0x2:  // a data frame: echoed at once unless the message goes on
          if (fragmented_) {
            fail(1002);
          } else if (fin) {
            append_frame(op, payload, size, mask);
          } else {
            fragmented_ = true;
            message_op_ = op;
            append_unmasked(message_, payload, size, mask);
          }
          break;
        case 0x0:  // continuation
          if (!fragmented_) {
            fail(1002);
            break;
          }
          append_unmasked(message_, payload, size, mask);
          if (message_.size() > max_message_bytes) {
            fail(1009);
          } else if (fin) {
            append_frame(message_op_, reinterpret_cast<const std::uint8_t*>(message_.data()),
                         message_.size(), nullptr);
            fragmented_ = false;
            std::string().swap(message_);
          }
          break;
        case 0x8: {  // close: answered with the peer's code, then TCP closes
          std::uint8_t code[2];
          const std::size_t n = size >= 2 ? 2 : 0;
          for (std::size_t i = 0; i < n; ++i) code[i] = payload[i] ^ mask[i];
          append_frame(0x8, code, n, nullptr);
          closing_ = true;
          break;
        }
        case 0x9:  // ping → pong
          append_frame(0xA, payload, size, mask);
          break;
        case 0xA:  // pong
          break;
        default:
          fail(1002);
      }
    }
    return used;
  }

  /// Queues a close frame with `code` and closes once it is written.
  void fail(std::uint16_t code) {
    const std::uint8_t payload[2] = {static_cast<std::uint8_t>(code >> 8),
                                     static_cast<std::uint8_t>(code & 0xFF)};
    append_frame(0x8, payload, 2, nullptr);
    closing_ = true;
  }

  static void append_unmasked(std::string& out, const std::uint8_t* payload, std::size_t size,
                              const std::uint8_t* mask) {
    const std::size_t at = out.size();
    out.resize(at + size);
    auto* dst = reinterpret_cast<std::uint8_t*>(out.data()) + at;
    if (mask) {
      for (std::size_t i = 0; i < size; ++i) dst[i] = payload[i] ^ mask[i & 3];
    } else {
      std::memcpy(dst, payload, size);
    }
  }

  /// Queues an unmasked server frame (FIN set) whose payload is `payload` unmasked by `mask`.
  void append_frame(std::uint8_t op, const std::uint8_t* payload, std::size_t size,
                    const std::uint8_t* mask) {
    std::uint8_t head[10];
    std::size_t n = 2;
    head[0] = static_cast<std::uint8_t>(0x80 | op);
    if (size < 126) {
      head[1] = static_cast<std::uint8_t>(size);
    } else if (size <= 0xFFFF) {
      head[1] = 126;
      head[2] = static_cast<std::uint8_t>(size >> 8);
      head[3] = static_cast<std::uint8_t>(size);
      n = 4;
    } else {
      head[1] = 127;
      for (int i = 0; i < 8; ++i) head[2 + i] = static_cast<std::uint8_t>(size >> (56 - 8 * i));
      n = 10;
    }
    out_.append(reinterpret_cast<const char*>(head), n);
    append_unmasked(out_, payload, size, mask);
  }

  /// Writes what is queued: at once as far as the socket takes it, the rest asynchronously.
  void flush() {
    if (writing_ || !socket_.is_open()) return;
    if (out_.empty()) {
      if (closing_) close_now();
      return;
    }
    std::error_code ec;
    std::size_t n = socket_.write_some(asio::buffer(out_), ec);
    if (would_block(ec)) {
      n = 0;
    } else if (ec) {
      return close_now();
    }
    if (n == out_.size()) {
      out_.clear();
      if (closing_) close_now();
      return;
    }
    sending_.assign(out_, n);
    out_.clear();
    writing_ = true;
    asio::async_write(socket_, asio::buffer(sending_),
                      [self = shared_from_this()](std::error_code ec, std::size_t) {
                        self->writing_ = false;
                        self->sending_.clear();
                        if (ec) return self->close_now();
                        self->flush();
                      });
  }

  void close_now() {
    std::error_code ec;
    if (!socket_.is_open()) return;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  tcp::socket socket_;
  std::size_t read_buffer_size_;
  std::unique_ptr<char[]> read_buffer_;  ///< null when reading into `scratch`
  std::string in_;                       ///< the request head, or an incomplete frame
  std::string out_;                      ///< bytes to write
  std::string sending_;                  ///< bytes of the asynchronous write in flight
  std::string message_;                  ///< a fragmented message, unmasked
  std::uint8_t message_op_ = 0;
  bool upgraded_ = false;
  bool fragmented_ = false;
  bool writing_ = false;
  bool closing_ = false;  ///< a close frame or refusal is queued: close after writing it
};

/// Accepts connections until the acceptor closes.
void accept(tcp::acceptor& acceptor, std::size_t read_buffer) {
  acceptor.async_accept([&acceptor, read_buffer](std::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open()) return;
    if (!ec) {
      std::make_shared<connection>(std::move(socket), read_buffer)->start();
    } else if (ec != asio::error::operation_aborted) {
      std::fprintf(stderr, "serve-plain: accept: %s\n", ec.message().c_str());
    }
    accept(acceptor, read_buffer);
  });
}

}  // namespace plain

int serve_plain(const options& o) {
  asio::io_context io{1};
  tcp::endpoint at = parse_listen(o.text("--listen", "127.0.0.1:0"));
  tcp::acceptor acceptor(io);
  acceptor.open(at.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(at);
  acceptor.listen(asio::socket_base::max_listen_connections);
  plain::accept(acceptor, static_cast<std::size_t>(o.number("--read-buffer", 0, 0)));
  print_listening(acceptor.local_endpoint().port());
  run_until_signal(io, [&] {
    std::error_code ec;
    acceptor.close(ec);
  });
  return 0;
}

// --- clients ---------------------------------------------------------------------------------

/// The fixed key of the clients' upgrade requests (RFC 6455's example) and its accept value.
constexpr std::string_view client_key = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view client_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

struct target {
  tcp::endpoint endpoint;
  std::string path;
};

target parse_target(const options& o) {
  if (!o.has("--port")) throw usage_error("--port is required");
  std::error_code ec;
  auto ip = asio::ip::make_address(o.text("--host", "127.0.0.1"), ec);
  if (ec) throw usage_error("--host needs an IP address");
  auto port = o.number("--port", 0);
  if (port > 65535) throw usage_error("--port: bad port");
  std::string path = o.text("--path", "/bench");
  if (path.empty() || path[0] != '/') throw usage_error("--path must start with /");
  return {{ip, static_cast<unsigned short>(port)}, path};
}

tcp::socket& lowest(tcp::socket& s) { return s; }
tcp::socket& lowest(tls_client& s) { return s.next_layer(); }

/// Opens `count` WebSocket connections over Stream (tcp::socket: ws, tls_client: wss) with at
/// most `in_flight` handshakes at once. Calls `on_open` for each connection with the bytes read
/// past the 101's head, and `on_error` once for the first failure (then opens no more).
template <class Stream>
class opener {
  static constexpr bool is_tls = std::is_same_v<Stream, tls_client>;

 public:
  using open_handler = std::function<void(std::size_t index, Stream, std::string rest)>;
  using error_handler = std::function<void(const std::string&)>;

  opener(asio::io_context& io, target t, std::size_t count, open_handler on_open,
         error_handler on_error)
      : io_(io),
        target_(std::move(t)),
        count_(count),
        on_open_(std::move(on_open)),
        on_error_(std::move(on_error)),
        tls_(asio::ssl::context::tls_client) {
    tls_.set_verify_mode(asio::ssl::verify_none);  // the bench server's certificate is self-signed
    request_ = "GET " + target_.path +
               " HTTP/1.1\r\nHost: " + target_.endpoint.address().to_string() + ":" +
               std::to_string(target_.endpoint.port()) +
               "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " +
               std::string(client_key) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
  }

  void start(std::size_t in_flight) {
    for (std::size_t i = 0; i < std::min(in_flight, count_); ++i) launch();
  }

 private:
  void launch() {
    if (failed_ || next_ >= count_) return;
    asio::co_spawn(io_, open_one(next_++), asio::detached);
  }

  /// Connects, sends the upgrade request and checks the 101 with its accept value.
  asio::awaitable<void> open_one(std::size_t index) {
    Stream socket = make_stream();
    std::string rest;
    try {
      co_await lowest(socket).async_connect(target_.endpoint, asio::use_awaitable);
      lowest(socket).set_option(tcp::no_delay(true));
      if constexpr (is_tls)
        co_await socket.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
      co_await asio::async_write(socket, asio::buffer(request_), asio::use_awaitable);
      std::string head;
      std::size_t n = co_await asio::async_read_until(
          socket, asio::dynamic_buffer(head, max_head_bytes), "\r\n\r\n", asio::use_awaitable);
      std::string_view h(head.data(), n);
      if (!h.starts_with("HTTP/1.1 101"))
        throw std::runtime_error("no 101: " + std::string(h.substr(0, h.find("\r\n"))));
      if (header_value(h, "Sec-WebSocket-Accept") != client_accept)
        throw std::runtime_error("wrong Sec-WebSocket-Accept");
      rest = head.substr(n);
    } catch (const std::exception& e) {
      if (!failed_) {
        failed_ = true;
        on_error_("connection " + std::to_string(index + 1) + " of " + std::to_string(count_) +
                  ": " + e.what());
      }
      co_return;
    }
    if (failed_) co_return;
    on_open_(index, std::move(socket), std::move(rest));
    launch();
  }

  Stream make_stream() {
    if constexpr (is_tls)
      return Stream(io_, tls_);
    else
      return Stream(io_);
  }

  static constexpr std::size_t max_head_bytes = 8192;
  asio::io_context& io_;
  target target_;
  std::size_t count_;
  std::size_t next_ = 0;
  bool failed_ = false;
  std::string request_;
  open_handler on_open_;
  error_handler on_error_;
  asio::ssl::context tls_;
};

/// Fails the client: says why on stderr and stops the io_context; main then exits with 1.
struct failure {
  asio::io_context& io;
  bool failed = false;
  void operator()(const std::string& why) {
    if (failed) return;
    failed = true;
    std::fprintf(stderr, "bench_ws: %s\n", why.c_str());
    io.stop();
  }
};

/// Fails when the connections are not all open within `seconds`.
void arm_open_timeout(asio::steady_timer& timer, long seconds, const std::function<bool()>& done,
                      failure& fail) {
  timer.expires_after(std::chrono::seconds(seconds));
  timer.async_wait([&fail, done, seconds](std::error_code ec) {
    if (!ec && !done())
      fail("the connections were not all open after " + std::to_string(seconds) + " s");
  });
}

// --- echo ------------------------------------------------------------------------------------

/// CPU time (user + system) of a process from /proc/PID/stat, in seconds; -1 when unreadable.
double process_cpu_seconds(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // fields 14 and 15: utime, stime
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double own_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

/// What the echo connections share: the frame they send, the echo they expect, the counts.
struct echo_state {
  std::string frame;  ///< the masked client frame, the same bytes every time
  std::string echo;   ///< the unmasked server frame expected back
  bool measuring = false;
  std::uint64_t count = 0;
  std::vector<std::uint32_t> latency_ns;  ///< round trips within the measured window
  char scratch[16 * 1024];
  failure* fail = nullptr;
};

/// The message `{"action":"echo","message":"xxx…"}` padded to `size` bytes (or its minimum).
std::string echo_message(std::size_t size) {
  std::string m = R"({"action":"echo","message":")";
  const std::size_t fixed = m.size() + 2;
  if (size > fixed) m.append(size - fixed, 'x');
  return m + "\"}";
}

/// A frame's header for `size` payload bytes (FIN, text), masked or not.
std::string frame_header(std::size_t size, bool masked) {
  std::string h(1, static_cast<char>(0x81));
  const auto m = static_cast<unsigned char>(masked ? 0x80 : 0);
  if (size < 126) {
    h += static_cast<char>(m | size);
  } else if (size <= 0xFFFF) {
    h += static_cast<char>(m | 126);
    h += static_cast<char>(size >> 8);
    h += static_cast<char>(size & 0xFF);
  } else {
    h += static_cast<char>(m | 127);
    for (int i = 0; i < 8; ++i) h += static_cast<char>((size >> (56 - 8 * i)) & 0xFF);
  }
  return h;
}

/// One echo connection: sends the frame, waits for its echo, checks it, repeats.
class echo_connection {
 public:
  echo_connection(echo_state& s, tcp::socket socket, std::string rest)
      : s_(s), socket_(std::move(socket)), in_(std::move(rest)) {
    std::error_code ec;
    socket_.non_blocking(true, ec);
  }

  /// Sends the frame and waits for the echo.
  void send() {
    sent_at_ = steady::now();
    std::error_code ec;
    std::size_t n = socket_.write_some(asio::buffer(s_.frame), ec);
    if (would_block(ec)) {
      n = 0;
    } else if (ec) {
      return (*s_.fail)("send: " + ec.message());
    }
    if (n == s_.frame.size()) return wait_readable();
    asio::async_write(socket_, asio::buffer(s_.frame.data() + n, s_.frame.size() - n),
                      [this](std::error_code ec, std::size_t) {
                        if (ec) return (*s_.fail)("send: " + ec.message());
                        wait_readable();
                      });
  }

 private:
  void wait_readable() {
    if (in_.size() >= s_.echo.size()) return on_readable({});  // already here
    socket_.async_wait(tcp::socket::wait_read, [this](std::error_code ec) { on_readable(ec); });
  }

  void on_readable(std::error_code ec) {
    if (ec) return (*s_.fail)("wait: " + ec.message());
    for (;;) {
      std::size_t n = socket_.read_some(asio::buffer(s_.scratch), ec);
      if (would_block(ec)) break;
      if (ec)
        return (*s_.fail)("receive: " + (ec == asio::error::eof ? "the server closed the connection"
                                                                : ec.message()));
      in_.append(s_.scratch, n);
      if (n < sizeof s_.scratch) break;
    }
    if (in_.size() < s_.echo.size()) return wait_readable();
    if (in_ != s_.echo) {
      std::string shown = in_.substr(0, 200);
      for (char& c : shown)
        if (static_cast<unsigned char>(c) < 0x20) c = '.';
      return (*s_.fail)("unexpected answer (" + std::to_string(in_.size()) + " bytes): " + shown);
    }
    in_.clear();
    if (s_.measuring) {
      ++s_.count;
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - sent_at_);
      s_.latency_ns.push_back(
          static_cast<std::uint32_t>(std::min<long long>(ns.count(), UINT32_MAX)));
    }
    send();
  }

  echo_state& s_;
  tcp::socket socket_;
  std::string in_;
  steady::time_point sent_at_;
};

/// An echo connection over TLS: the same loop with Asio's asynchronous reads and writes (an
/// ssl::stream has no non-blocking ones), reading into a buffer of its own.
class tls_echo_connection {
 public:
  tls_echo_connection(echo_state& s, tls_client stream, std::string rest)
      : s_(s), stream_(std::move(stream)), in_(std::move(rest)) {}

  void send() {
    sent_at_ = steady::now();
    asio::async_write(stream_, asio::buffer(s_.frame), [this](std::error_code ec, std::size_t) {
      if (ec) return (*s_.fail)("send: " + ec.message());
      receive();
    });
  }

 private:
  void receive() {
    if (in_.size() >= s_.echo.size()) return check();
    stream_.async_read_some(asio::buffer(buffer_), [this](std::error_code ec, std::size_t n) {
      if (ec)
        return (*s_.fail)("receive: " + (ec == asio::error::eof ? "the server closed the connection"
                                                                : ec.message()));
      in_.append(buffer_, n);
      receive();
    });
  }

  void check() {
    if (in_ != s_.echo)
      return (*s_.fail)("unexpected answer (" + std::to_string(in_.size()) + " bytes)");
    in_.clear();
    if (s_.measuring) {
      ++s_.count;
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - sent_at_);
      s_.latency_ns.push_back(
          static_cast<std::uint32_t>(std::min<long long>(ns.count(), UINT32_MAX)));
    }
    send();
  }

  echo_state& s_;
  tls_client stream_;
  std::string in_;
  steady::time_point sent_at_;
  char buffer_[16 * 1024];
};

/// The value at quantile q (0–1) of sorted values, in microseconds.
double quantile_us(const std::vector<std::uint32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto i = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)] / 1000.0;
}

int echo(const options& o) {
  const target t = parse_target(o);
  const auto connections = static_cast<std::size_t>(o.number("--connections", 100));
  const long duration = o.number("--duration", 5);
  const long warmup = o.number("--warmup", 1, 0);
  const long size = o.number("--size", 64);
  const long server_pid = o.number("--server-pid", 0);
  const long open_timeout = o.number("--open-timeout", 60);

  asio::io_context io{1};
  failure fail{io};
  echo_state s;
  s.fail = &fail;
  const std::string message = echo_message(static_cast<std::size_t>(size));
  const std::uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  s.frame = frame_header(message.size(), true);
  s.frame.append(reinterpret_cast<const char*>(mask), 4);
  for (std::size_t i = 0; i < message.size(); ++i)
    s.frame += static_cast<char>(message[i] ^ mask[i & 3]);
  s.echo = frame_header(message.size(), false) + message;
  s.latency_ns.reserve(1 << 20);

  std::vector<std::unique_ptr<echo_connection>> conns;
  std::vector<std::unique_ptr<tls_echo_connection>> tls_conns;
  asio::steady_timer timer(io);
  double server_cpu0 = 0, server_cpu1 = 0, own_cpu0 = 0, own_cpu1 = 0;
  steady::time_point t0, t1;

  // The phases once every connection is open: warm-up, then the measured window.
  auto measure = [&] {
    for (auto& c : conns) c->send();
    for (auto& c : tls_conns) c->send();
    timer.expires_after(std::chrono::seconds(warmup));
    timer.async_wait([&](std::error_code ec) {
      if (ec) return;
      s.measuring = true;
      t0 = steady::now();
      if (server_pid) server_cpu0 = process_cpu_seconds(server_pid);
      own_cpu0 = own_cpu_seconds();
      timer.expires_after(std::chrono::seconds(duration));
      timer.async_wait([&](std::error_code ec) {
        if (ec) return;
        s.measuring = false;
        t1 = steady::now();
        if (server_pid) server_cpu1 = process_cpu_seconds(server_pid);
        own_cpu1 = own_cpu_seconds();
        io.stop();
      });
    });
  };

  auto opened = [&] { return conns.size() + tls_conns.size(); };
  opener<tcp::socket> open(
      io, t, wants_tls(o) ? 0 : connections,
      [&](std::size_t, tcp::socket socket, std::string rest) {
        conns.push_back(std::make_unique<echo_connection>(s, std::move(socket), std::move(rest)));
        if (opened() == connections) measure();
      },
      [&fail](const std::string& why) { fail(why); });
  opener<tls_client> open_tls(
      io, t, wants_tls(o) ? connections : 0,
      [&](std::size_t, tls_client stream, std::string rest) {
        tls_conns.push_back(
            std::make_unique<tls_echo_connection>(s, std::move(stream), std::move(rest)));
        if (opened() == connections) measure();
      },
      [&fail](const std::string& why) { fail(why); });
  open.start(200);
  open_tls.start(200);
  asio::steady_timer open_timer(io);
  arm_open_timeout(
      open_timer, open_timeout, [&] { return opened() == connections; }, fail);
  io.run();
  if (fail.failed) return 1;

  const double seconds = std::chrono::duration<double>(t1 - t0).count();
  std::sort(s.latency_ns.begin(), s.latency_ns.end());
  std::printf("msgs/s=%.0f p50_us=%.1f p99_us=%.1f", static_cast<double>(s.count) / seconds,
              quantile_us(s.latency_ns, 0.50), quantile_us(s.latency_ns, 0.99));
  if (server_pid && server_cpu0 >= 0 && server_cpu1 >= 0 && s.count > 0) {
    const double cpu = server_cpu1 - server_cpu0;
    std::printf(" server_cpu_us=%.2f server_cpu_pct=%.0f", cpu * 1e6 / static_cast<double>(s.count),
                cpu / seconds * 100);
  }
  std::printf(" client_cpu_pct=%.0f messages=%llu\n", (own_cpu1 - own_cpu0) / seconds * 100,
              static_cast<unsigned long long>(s.count));
  return s.count > 0 ? 0 : 1;
}

// --- idle ------------------------------------------------------------------------------------

/// An open connection that only reads (and drops) what comes; its end fails the run.
class idle_connection {
 public:
  idle_connection(tcp::socket socket, failure& fail) : socket_(std::move(socket)), fail_(fail) {
    std::error_code ec;
    socket_.non_blocking(true, ec);
  }
  void wait() {
    socket_.async_wait(tcp::socket::wait_read, [this](std::error_code ec) {
      if (ec == asio::error::operation_aborted) return;
      char buffer[512];
      std::size_t n = ec ? 0 : socket_.read_some(asio::buffer(buffer), ec);
      if (would_block(ec) || (!ec && n > 0)) return wait();
      fail_("an idle connection ended: " +
            (ec == asio::error::eof || !ec ? std::string("closed by the server") : ec.message()));
    });
  }

 private:
  tcp::socket socket_;
  failure& fail_;
};

/// An idle connection over TLS: the same, with Asio's asynchronous read (into a small buffer).
class tls_idle_connection {
 public:
  tls_idle_connection(tls_client stream, failure& fail) : stream_(std::move(stream)), fail_(fail) {}
  void wait() {
    stream_.async_read_some(asio::buffer(buffer_), [this](std::error_code ec, std::size_t) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) return wait();
      fail_("an idle connection ended: " +
            (ec == asio::error::eof ? std::string("closed by the server") : ec.message()));
    });
  }

 private:
  tls_client stream_;
  failure& fail_;
  char buffer_[512];
};

/// True when stdin can tell the end of a hold: a pipe, FIFO, socket or terminal (not a file,
/// and not /dev/null, which would end it at once).
bool stdin_watchable() {
  struct stat st {};
  if (fstat(STDIN_FILENO, &st) != 0) return false;
  return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(STDIN_FILENO);
}

int idle(const options& o) {
  const target t = parse_target(o);
  const auto connections = static_cast<std::size_t>(o.number("--connections", 10000));
  const long hold = o.number("--hold", 10, 0);
  const auto in_flight = static_cast<std::size_t>(o.number("--in-flight", 200));
  const long open_timeout = o.number("--open-timeout", 60);

  asio::io_context io{1};
  failure fail{io};
  std::vector<std::unique_ptr<idle_connection>> conns;
  std::vector<std::unique_ptr<tls_idle_connection>> tls_conns;
  conns.reserve(connections);
  auto opened = [&] { return conns.size() + tls_conns.size(); };
  asio::steady_timer timer(io);
  asio::posix::stream_descriptor input(io);
  char input_buffer[256];

  // Once all are open: "open N", then hold until the timer, stdin's end or a signal.
  std::function<void()> watch_stdin = [&] {
    input.async_read_some(asio::buffer(input_buffer), [&](std::error_code ec, std::size_t) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) return io.stop();  // end of input: stop holding
      watch_stdin();
    });
  };
  auto hold_all = [&] {
    std::printf("open %zu\n", opened());
    std::fflush(stdout);
    timer.expires_after(std::chrono::seconds(hold));
    timer.async_wait([&](std::error_code ec) {
      if (!ec) io.stop();
    });
    if (stdin_watchable()) {
      std::error_code ec;
      input.assign(::dup(STDIN_FILENO), ec);
      if (!ec) watch_stdin();
    }
  };

  opener<tcp::socket> open(
      io, t, wants_tls(o) ? 0 : connections,
      [&](std::size_t, tcp::socket socket, std::string) {
        conns.push_back(std::make_unique<idle_connection>(std::move(socket), fail));
        conns.back()->wait();
        if (opened() == connections) hold_all();
      },
      [&fail](const std::string& why) { fail(why); });
  opener<tls_client> open_tls(
      io, t, wants_tls(o) ? connections : 0,
      [&](std::size_t, tls_client stream, std::string) {
        tls_conns.push_back(std::make_unique<tls_idle_connection>(std::move(stream), fail));
        tls_conns.back()->wait();
        if (opened() == connections) hold_all();
      },
      [&fail](const std::string& why) { fail(why); });
  open.start(in_flight);
  open_tls.start(in_flight);
  asio::steady_timer open_timer(io);
  arm_open_timeout(
      open_timer, open_timeout, [&] { return opened() == connections; }, fail);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code ec, int) {
    if (!ec) io.stop();
  });
  io.run();
  return fail.failed ? 1 : 0;
}

void usage(std::FILE* to) {
  std::fputs(
      "usage: bench_ws serve-gatehouse --listen HOST:PORT [--scheme ws|wss]\n"
      "       bench_ws serve-plain --listen HOST:PORT [--read-buffer BYTES]\n"
      "       bench_ws echo --port P [--host H] [--path /bench] [--connections 100]\n"
      "                [--duration 5] [--warmup 1] [--size 64] [--server-pid PID]\n"
      "                [--open-timeout 60] [--scheme ws|wss]\n"
      "       bench_ws idle --port P [--host H] [--path /bench] [--connections 10000]\n"
      "                [--hold 10] [--in-flight 200] [--open-timeout 60] [--scheme ws|wss]\n",
      to);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string_view command = argv[1];
  if (command == "-h" || command == "--help") {
    usage(stdout);
    return 0;
  }
  raise_fd_limit();
  try {
    const std::set<std::string, std::less<>> client_options = {
        "--host", "--port", "--path", "--connections", "--open-timeout", "--scheme"};
    auto with = [&](std::initializer_list<std::string> more) {
      auto all = client_options;
      all.insert(more);
      return all;
    };
    if (command == "serve-gatehouse")
      return serve_gatehouse(options(argc, argv, {"--listen", "--scheme"}));
    if (command == "serve-plain")
      return serve_plain(options(argc, argv, {"--listen", "--read-buffer"}));
    if (command == "echo")
      return echo(options(argc, argv, with({"--duration", "--warmup", "--size", "--server-pid"})));
    if (command == "idle") return idle(options(argc, argv, with({"--hold", "--in-flight"})));
    throw usage_error("unknown subcommand " + std::string(command));
  } catch (const usage_error& e) {
    std::fprintf(stderr, "bench_ws: %s\n", e.what());
    usage(stderr);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_ws: %s\n", e.what());
    return 1;
  }
}
