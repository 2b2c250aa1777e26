// WebSocket sessions over real loopback sockets: a tiny acceptor doing the upgrade with the
// handshake module, an echo handler, and a raw client sending masked frames.

#include "websocket/session.hpp"
#include "websocket/frame.hpp"
#include "websocket/handshake.hpp"

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace gatehouse::websocket;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

namespace {

constexpr std::array<std::uint8_t, 4> client_key{0x12, 0x34, 0x56, 0x78};

/// A server that upgrades every connection and echoes every message, recording each close.
class echo_server {
 public:
  /// Runs on `threads` threads of its own; 0: the caller drives io().
  explicit echo_server(session_options options, int threads = 2) : options_(options) {
    sessions_.reserve(2048);
    client_ports_.reserve(2048);
    accept();
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~echo_server() {
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  asio::io_context& io() { return io_; }

  /// Waits until `count` sessions have reported their close; their codes and reasons.
  std::vector<std::pair<std::uint16_t, std::string>> wait_closes(
      std::size_t count, std::chrono::milliseconds limit = 5s) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, limit, [&] { return closes_.size() >= count; });
    return closes_;
  }
  /// The session of the `index`-th upgrade, once it exists.
  std::shared_ptr<session> session_at(std::size_t index) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 5s, [&] { return sessions_.size() > index; });
    return sessions_.size() > index ? sessions_[index].lock() : nullptr;
  }
  /// The session of the client whose local port is `client_port`.
  std::shared_ptr<session> session_for(std::uint16_t client_port) {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < sessions_.size(); ++i)
      if (client_ports_[i] == client_port) return sessions_[i].lock();
    return nullptr;
  }
  std::size_t started() {
    std::lock_guard lock(mutex_);
    return sessions_.size();
  }
  /// True when no session object is alive any more.
  bool all_freed() {
    std::lock_guard lock(mutex_);
    for (const auto& s : sessions_)
      if (!s.expired()) return false;
    return true;
  }

 private:
  struct pending_upgrade {
    explicit pending_upgrade(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    std::string head;
  };

  void accept() {
    acceptor_.async_accept([this](std::error_code ec, tcp::socket socket) {
      if (ec) return;
      upgrade(std::make_shared<pending_upgrade>(std::move(socket)));
      accept();
    });
  }

  static gatehouse::request parse_head(std::string_view head) {
    gatehouse::request req;
    std::size_t end = head.find("\r\n");
    const std::string_view first = head.substr(0, end);
    req.method = std::string(first.substr(0, first.find(' ')));
    req.target =
        std::string(first.substr(req.method.size() + 1, first.rfind(' ') - req.method.size() - 1));
    while (end + 2 < head.size()) {
      const std::size_t start = end + 2;
      end = head.find("\r\n", start);
      const std::string_view line = head.substr(start, end - start);
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) break;
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      req.headers.add(std::string(line.substr(0, colon)), std::string(value));
    }
    return req;
  }

  void upgrade(std::shared_ptr<pending_upgrade> conn) {
    asio::async_read_until(
        conn->socket, asio::dynamic_buffer(conn->head), "\r\n\r\n",
        [this, conn](std::error_code ec, std::size_t head_size) {
          if (ec) return;
          const auto req = parse_head(std::string_view(conn->head).substr(0, head_size));
          const handshake_result result = check_upgrade(req);
          const gatehouse::response res =
              result.ok() ? switching_protocols(result) : refusal(result);
          std::string out = "HTTP/1.1 " + std::to_string(res.status) + " X\r\n";
          for (const auto& field : res.headers) out += field.name + ": " + field.value + "\r\n";
          if (!result.ok()) out += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
          out += "\r\n" + res.body;
          asio::write(conn->socket, asio::buffer(out), ec);
          if (ec || !result.ok()) return;

          auto self = std::make_shared<std::weak_ptr<session>>();
          session_handlers handlers;
          handlers.on_message = [self](message_kind kind, std::string_view payload) {
            if (auto s = self->lock()) s->send(kind, std::string(payload));
          };
          handlers.on_close = [this](std::uint16_t code, std::string_view reason) {
            std::lock_guard lock(mutex_);
            closes_.emplace_back(code, std::string(reason));
            changed_.notify_all();
          };
          const std::uint16_t client_port = conn->socket.remote_endpoint(ec).port();
          auto s = make_session(std::move(conn->socket), std::move(handlers), options_);
          *self = s;
          {
            std::lock_guard lock(mutex_);
            sessions_.push_back(s);
            client_ports_.push_back(client_port);
            changed_.notify_all();
          }
          s->start(conn->head.substr(head_size));
        });
  }

  asio::io_context io_;
  tcp::acceptor acceptor_{io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  session_options options_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::weak_ptr<session>> sessions_;
  std::vector<std::uint16_t> client_ports_;
  std::vector<std::pair<std::uint16_t, std::string>> closes_;
};

/// What the raw client received.
struct received {
  decode_event kind = decode_event::need_more;
  std::string payload;  // message, control payload or close reason
  std::uint16_t code = 0;
  bool eof = false;  // the server closed the TCP connection
  bool timeout = false;
};

/// A WebSocket client on a blocking POSIX socket: masked frames out, a client-mode decoder in.
class raw_client {
 public:
  /// Connects and sends the upgrade request, followed by `first_bytes` in the same write.
  explicit raw_client(std::uint16_t port, std::string_view first_bytes = {},
                      bool read_response = true) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    std::string request =
        "GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    request += first_bytes;
    send_raw(request);
    if (read_response) read_head();
  }
  raw_client(const raw_client&) = delete;
  ~raw_client() {
    if (fd_ >= 0) ::close(fd_);
  }

  /// Reads the HTTP response head; true for a 101 with the RFC's accept key.
  bool read_head() {
    while (in_.find("\r\n\r\n") == std::string::npos)
      if (!fill(5s)) return false;
    const std::size_t end = in_.find("\r\n\r\n") + 4;
    const std::string head = in_.substr(0, end);
    in_.erase(0, end);
    in_.shrink_to_fit();
    upgraded_ =
        head.rfind("HTTP/1.1 101", 0) == 0 &&
        head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != std::string::npos;
    return upgraded_;
  }
  bool upgraded() const { return upgraded_; }
  /// The client's own port, which the server sees as the remote one.
  std::uint16_t local_port() const {
    sockaddr_in addr{};
    socklen_t size = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &size);
    return ntohs(addr.sin_port);
  }

  void send_raw(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;  // the server may have closed already
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  void send(opcode op, std::string_view payload, bool fin = true) {
    std::string frame;
    append_frame(frame, op, payload, fin, &client_key);
    send_raw(frame);
  }
  void close_socket() {
    ::close(fd_);
    fd_ = -1;
  }
  void shrink_receive_buffer() {
    int size = 4096;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }

  /// The next frame-level event from the server, EOF, or a timeout.
  received next(std::chrono::milliseconds limit = 5s) {
    for (;;) {
      if (!in_.empty()) {
        const decode_step step = decoder_.decode(std::span<char>(in_.data(), in_.size()));
        received r;
        r.kind = step.event;
        if (step.event == decode_event::close) {
          r.payload = decoder_.close_reason();
          r.code = decoder_.close_status();
        } else if (step.event == decode_event::error) {
          r.payload = decoder_.error_reason();
          r.code = decoder_.error_code();
        } else {
          r.payload = decoder_.payload();
        }
        in_.erase(0, step.consumed);
        if (step.event != decode_event::need_more) return r;
      }
      if (!fill(limit)) {
        received r;
        (eof_ ? r.eof : r.timeout) = true;
        return r;
      }
    }
  }

  /// True when the server closes the TCP connection within `limit` (frames before are skipped).
  bool wait_eof(std::chrono::milliseconds limit = 5s) {
    for (;;) {
      const received r = next(limit);
      if (r.eof) return true;
      if (r.timeout) return false;
    }
  }

 private:
  bool fill(std::chrono::milliseconds limit) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) return false;
    char buffer[65536];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    in_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string in_;
  frame_decoder decoder_{{.side = role::client,
                          .max_frame_bytes = std::size_t(1) << 30,
                          .max_message_bytes = std::size_t(1) << 30}};
  bool upgraded_ = false;
  bool eof_ = false;
};

std::string masked_frame(opcode op, std::string_view payload, bool fin = true) {
  std::string frame;
  append_frame(frame, op, payload, fin, &client_key);
  return frame;
}

}  // namespace

TEST_CASE("websocket session: echo of text and binary messages", "[websocket]") {
  echo_server server({});
  raw_client client(server.port());
  REQUIRE(client.upgraded());

  client.send(opcode::text, "Hello");
  auto r = client.next();
  CHECK(r.kind == decode_event::text);
  CHECK(r.payload == "Hello");

  const std::string binary("\x00\xff\x01\xfe", 4);
  client.send(opcode::binary, binary);
  r = client.next();
  CHECK(r.kind == decode_event::binary);
  CHECK(r.payload == binary);

  // Fragmented, with a ping in between, sent one byte at a time.
  const std::string stream = masked_frame(opcode::text, "frag", false) +
                             masked_frame(opcode::ping, "in between") +
                             masked_frame(opcode::continuation, "mented");
  for (char c : stream) client.send_raw(std::string_view(&c, 1));
  r = client.next();
  CHECK(r.kind == decode_event::pong);
  CHECK(r.payload == "in between");
  r = client.next();
  CHECK(r.kind == decode_event::text);
  CHECK(r.payload == "fragmented");

  // A 128 KiB message (AWS's limit) in 32 KiB frames.
  std::string big(128 * 1024, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  std::string frames;
  append_message(frames, opcode::text, big, 32 * 1024, &client_key);
  client.send_raw(frames);
  r = client.next();
  CHECK(r.kind == decode_event::text);
  CHECK(r.payload == big);

  // Many messages in one write.
  std::string burst;
  for (int i = 0; i < 100; ++i) burst += masked_frame(opcode::text, "m" + std::to_string(i));
  client.send_raw(burst);
  for (int i = 0; i < 100; ++i) {
    r = client.next();
    REQUIRE(r.payload == "m" + std::to_string(i));
  }
}

TEST_CASE("websocket session: frames sent with the upgrade request", "[websocket]") {
  echo_server server({});
  raw_client client(server.port(),
                    masked_frame(opcode::text, "early") + masked_frame(opcode::ping, "p"));
  REQUIRE(client.upgraded());
  auto r = client.next();
  CHECK(r.payload == "early");
  r = client.next();
  CHECK(r.kind == decode_event::pong);
  CHECK(r.payload == "p");
}

TEST_CASE("websocket session: close handshake started by the client", "[websocket]") {
  echo_server server({});
  SECTION("with a code and reason: echoed, then the server closes TCP") {
    raw_client client(server.port());
    client.send(opcode::close, close_payload(1000, "bye"));
    auto r = client.next();
    CHECK(r.kind == decode_event::close);
    CHECK(r.code == 1000);
    CHECK(client.wait_eof());
    const auto closes = server.wait_closes(1);
    REQUIRE(closes.size() == 1);
    CHECK(closes[0] == std::pair<std::uint16_t, std::string>{1000, "bye"});
  }
  SECTION("an application code is echoed") {
    raw_client client(server.port());
    client.send(opcode::close, close_payload(4321, "app"));
    auto r = client.next();
    CHECK(r.kind == decode_event::close);
    CHECK(r.code == 4321);
    CHECK(client.wait_eof());
    CHECK(server.wait_closes(1).at(0).first == 4321);
  }
  SECTION("without a code: an empty close comes back; reported as 1005") {
    raw_client client(server.port());
    client.send(opcode::close, "");
    auto r = client.next();
    CHECK(r.kind == decode_event::close);
    CHECK(r.code == close_code::no_status);
    CHECK(client.wait_eof());
    CHECK(server.wait_closes(1).at(0).first == 1005);
  }
  SECTION("the TCP connection just goes away: 1006") {
    raw_client client(server.port());
    client.send(opcode::text, "x");
    CHECK(client.next().payload == "x");
    client.close_socket();
    const auto closes = server.wait_closes(1);
    REQUIRE(closes.size() == 1);
    CHECK(closes[0].first == close_code::abnormal);
  }
}

TEST_CASE("websocket session: close handshake started by the server", "[websocket]") {
  echo_server server({.close_timeout = 300ms});
  SECTION("the client answers") {
    raw_client client(server.port());
    auto s = server.session_at(0);
    REQUIRE(s);
    s->close(4000, "done");
    CHECK_FALSE(s->is_open());
    CHECK_FALSE(s->send_text("too late"));
    auto r = client.next();
    CHECK(r.kind == decode_event::close);
    CHECK(r.code == 4000);
    CHECK(r.payload == "done");
    client.send(opcode::close, close_payload(4000, ""));
    CHECK(client.wait_eof(2s));
    CHECK(server.wait_closes(1).at(0) == std::pair<std::uint16_t, std::string>{4000, "done"});
  }
  SECTION("the client never answers: TCP closes after close_timeout") {
    raw_client client(server.port());
    auto s = server.session_at(0);
    REQUIRE(s);
    const auto start = std::chrono::steady_clock::now();
    s->close(1000, "");
    CHECK(client.next().kind == decode_event::close);
    CHECK(client.wait_eof(3s));
    CHECK(std::chrono::steady_clock::now() - start >= 250ms);
    CHECK(server.wait_closes(1).at(0).first == 1000);
  }
  SECTION("queued messages go out before the close frame") {
    raw_client client(server.port());
    auto s = server.session_at(0);
    REQUIRE(s);
    CHECK(s->send_text("one"));
    CHECK(s->send_binary("two"));
    s->close(1001, "");
    CHECK(client.next().payload == "one");
    CHECK(client.next().payload == "two");
    CHECK(client.next().code == 1001);
  }
}

TEST_CASE("websocket session: protocol errors close the connection with their code",
          "[websocket]") {
  echo_server server({.max_frame_bytes = 1000, .max_message_bytes = 4000});
  struct error_case {
    const char* what;
    std::string bytes;
    std::uint16_t code;
  };
  std::string unmasked;
  append_frame(unmasked, opcode::text, "no mask");
  std::string too_big;
  for (int i = 0; i < 5; ++i)
    append_frame(too_big, i == 0 ? opcode::binary : opcode::continuation, std::string(1000, 'b'),
                 i == 4, &client_key);
  const error_case cases[] = {
      {"unmasked frame", unmasked, close_code::protocol_error},
      {"reserved bit", std::string("\xc1\x80\0\0\0\0", 6), close_code::protocol_error},
      {"unknown opcode", std::string("\x83\x80\0\0\0\0", 6), close_code::protocol_error},
      {"continuation alone", masked_frame(opcode::continuation, "x"), close_code::protocol_error},
      {"invalid close code", masked_frame(opcode::close, close_payload(1005, "")),
       close_code::protocol_error},
      {"invalid UTF-8", masked_frame(opcode::text, "\xed\xa0\x80"), close_code::invalid_payload},
      {"frame over the limit", masked_frame(opcode::binary, std::string(1001, 'b')),
       close_code::message_too_big},
      {"message over the limit", too_big, close_code::message_too_big},
  };
  std::size_t index = 0;
  for (const auto& c : cases) {
    INFO(c.what);
    raw_client client(server.port());
    REQUIRE(client.upgraded());
    client.send(opcode::text, "before");
    CHECK(client.next().payload == "before");
    client.send_raw(c.bytes);
    const auto r = client.next();
    CHECK(r.kind == decode_event::close);
    CHECK(r.code == c.code);
    CHECK_FALSE(r.payload.empty());
    CHECK(client.wait_eof());
    const auto closes = server.wait_closes(++index);
    REQUIRE(closes.size() == index);
    CHECK(closes.back().first == c.code);
  }
}

TEST_CASE("websocket session: idle timeout and maximum duration close with 1001", "[websocket]") {
  SECTION("idle") {
    echo_server server({.idle_timeout = 200ms});
    raw_client client(server.port());
    const auto start = std::chrono::steady_clock::now();
    // Activity keeps it open.
    for (int i = 0; i < 5; ++i) {
      std::this_thread::sleep_for(80ms);
      client.send(opcode::ping, "");
      CHECK(client.next().kind == decode_event::pong);
    }
    const auto r = client.next(3s);
    CHECK(r.kind == decode_event::close);
    CHECK(r.code == close_code::going_away);
    CHECK(std::chrono::steady_clock::now() - start >= 550ms);
    client.send(opcode::close, close_payload(1001, ""));
    CHECK(client.wait_eof());
    CHECK(server.wait_closes(1).at(0).first == close_code::going_away);
  }
  SECTION("maximum duration, however busy") {
    echo_server server({.max_duration = 300ms});
    raw_client client(server.port());
    const auto start = std::chrono::steady_clock::now();
    received r;
    for (int i = 0; i < 100; ++i) {
      client.send(opcode::text, "busy");
      r = client.next(2s);
      if (r.kind != decode_event::text) break;
      std::this_thread::sleep_for(20ms);
    }
    CHECK(r.kind == decode_event::close);
    CHECK(r.code == close_code::going_away);
    CHECK(std::chrono::steady_clock::now() - start >= 300ms);
    CHECK(server.wait_closes(1).at(0).first == close_code::going_away);
  }
}

TEST_CASE("websocket session: a peer that does not read cannot grow the queue", "[websocket]") {
  constexpr std::size_t cap = 256 * 1024;
  echo_server server({.max_queued_bytes = cap, .close_timeout = 200ms});
  raw_client client(server.port());
  client.shrink_receive_buffer();
  auto s = server.session_at(0);
  REQUIRE(s);
  const std::string message(64 * 1024, 'm');
  std::size_t most_queued = 0;
  int sent = 0;
  while (sent < 100000 && s->send_binary(message)) {
    ++sent;
    most_queued = std::max(most_queued, s->queued_bytes());
  }
  INFO("sent " << sent << " messages before the cap");
  CHECK(sent < 100000);
  CHECK(most_queued <= cap);
  const auto closes = server.wait_closes(1, 3s);
  REQUIRE(closes.size() == 1);
  CHECK(closes[0].first == close_code::policy_violation);
  CHECK_FALSE(s->send_text("after"));
  s.reset();
  for (int i = 0; i < 100 && !server.all_freed(); ++i) std::this_thread::sleep_for(10ms);
  CHECK(server.all_freed());
}

TEST_CASE("websocket session: refused upgrades", "[websocket]") {
  echo_server server({});
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  const std::string request =
      "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n";
  REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == ssize_t(request.size()));
  char buffer[1024];
  const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
  ::close(fd);
  REQUIRE(n > 0);
  const std::string response(buffer, static_cast<std::size_t>(n));
  CHECK(response.rfind("HTTP/1.1 426", 0) == 0);
  CHECK(response.find("Sec-WebSocket-Version: 13\r\n") != std::string::npos);
}

TEST_CASE("websocket session: many sessions opened and closed leave nothing behind",
          "[websocket]") {
  echo_server server({});
  constexpr int count = 200;
  {
    std::vector<std::unique_ptr<raw_client>> clients;
    for (int i = 0; i < count; ++i) {
      clients.push_back(std::make_unique<raw_client>(server.port()));
      REQUIRE(clients.back()->upgraded());
    }
    for (int i = 0; i < count; ++i) clients[i]->send(opcode::text, std::to_string(i));
    for (int i = 0; i < count; ++i) REQUIRE(clients[i]->next().payload == std::to_string(i));
    // A third close cleanly, a third vanish, a third are closed by the server.
    for (int i = 0; i < count; i += 3) clients[i]->send(opcode::close, close_payload(1000, ""));
    for (int i = 1; i < count; i += 3) clients[i]->close_socket();
    for (int i = 2; i < count; i += 3) {
      auto s = server.session_for(clients[i]->local_port());
      REQUIRE(s);
      s->close(1001, "going");
    }
    for (int i = 0; i < count; i += 3) CHECK(clients[i]->wait_eof());
    for (int i = 2; i < count; i += 3) {
      CHECK(clients[i]->next().code == 1001);
      clients[i]->send(opcode::close, close_payload(1001, ""));
      CHECK(clients[i]->wait_eof());
    }
  }
  const auto closes = server.wait_closes(count);
  CHECK(closes.size() == std::size_t(count));
  for (int i = 0; i < 100 && !server.all_freed(); ++i) std::this_thread::sleep_for(10ms);
  CHECK(server.all_freed());
}

TEST_CASE("websocket session: memory held by an idle session", "[websocket]") {
  // The io_context runs on this thread, so that every allocation is in the main malloc arena
  // (mallinfo2 reports only that one).
  echo_server server({}, 0);
  constexpr int count = 1000;
  std::vector<std::unique_ptr<raw_client>> clients;
  clients.reserve(count);
  server.io().poll();
  const std::size_t before = mallinfo2().uordblks;
  for (int i = 0; i < count; ++i)
    clients.push_back(std::make_unique<raw_client>(server.port(), "", false));
  const std::size_t clients_heap = mallinfo2().uordblks - before;
  for (int i = 0; i < 2000 && server.started() < std::size_t(count); ++i) server.io().run_for(10ms);
  REQUIRE(server.started() == std::size_t(count));
  server.io().poll();
  const std::size_t after = mallinfo2().uordblks;
  const double per_session = double(after - before - clients_heap) / count;
  std::printf("idle WebSocket session over plain TCP: %.0f bytes of heap each (%d sessions)\n",
              per_session, count);
#if !defined(__SANITIZE_ADDRESS__)
  CHECK(per_session < 10 * 1024);
#endif
  for (auto& c : clients) REQUIRE(c->read_head());
  clients.clear();
  for (int i = 0; i < 500 && server.wait_closes(count, 0ms).size() < std::size_t(count); ++i)
    server.io().run_for(10ms);
  CHECK(server.wait_closes(count, 0ms).size() == std::size_t(count));
  server.io().poll();
  CHECK(server.all_freed());
}
