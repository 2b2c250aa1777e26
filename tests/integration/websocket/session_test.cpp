// WebSocket sessions over real loopback sockets: a tiny acceptor doing the upgrade with the
// handshake module, an echo handler, and a raw client sending masked frames. Each case runs over
// plain TCP, over gatehouse's own TLS stream (the gateway's listeners) and over an Asio TLS
// stream (a host's, through Gateway::async_upgrade).

#include "websocket/session.hpp"
#include "net/tls_context.hpp"
#include "net/tls_stream.hpp"
#include "util/as_tuple.hpp"
#include "websocket/handshake.hpp"
#include "ws_client.hpp"

#include <gatehouse/tls.hpp>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>

#include <malloc.h>

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
using test::masked_frame;
using test::ws_client;

namespace {

/// What a session runs on.
enum class transport {
  plain,     ///< tcp::socket (ws://)
  tls,       ///< gatehouse::net::tls_stream (wss:// on the gateway's own listeners)
  asio_tls,  ///< asio::ssl::stream (wss:// handed over by a host)
};
const char* name(transport t) {
  return t == transport::plain ? "plain TCP" : t == transport::tls ? "TLS" : "Asio's TLS stream";
}
/// Each transport in turn, as a Catch2 generator.
#define EACH_TRANSPORT() GENERATE(transport::plain, transport::tls, transport::asio_tls)

/// The upgrade request of the clients here (the server does not look at the path).
constexpr test::ws_upgrade chat{.path = "/chat"};
/// `upgrade` over `t`: with a TLS handshake first for the TLS transports.
test::ws_upgrade over(transport t, test::ws_upgrade upgrade = chat) {
  upgrade.tls = t != transport::plain;
  return upgrade;
}

auto as_tuple() { return gatehouse::util::as_tuple(asio::use_awaitable); }

tcp::socket& lowest(tcp::socket& s) { return s; }
template <class Stream>
tcp::socket& lowest(Stream& s) {
  return s.next_layer();
}

/// A server that upgrades every connection and echoes every message, recording each close.
class echo_server {
 public:
  /// Runs on `threads` threads of its own; 0: the caller drives io().
  explicit echo_server(session_options options, int threads = 2, transport kind = transport::plain)
      : options_(options), kind_(kind) {
    if (kind != transport::plain)
      tls_ = gatehouse::net::make_server_context(gatehouse::tls::self_signed());
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
      if (kind_ == transport::plain)
        upgrade(std::make_shared<pending_upgrade>(std::move(socket)));
      else if (kind_ == transport::tls)
        asio::co_spawn(io_, upgrade_tls(std::move(socket)), asio::detached);
      else
        asio::co_spawn(io_, upgrade_asio_tls(std::move(socket)), asio::detached);
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

  /// The answer to an upgrade request's head; true when it is a 101.
  static bool answer(std::string_view head, std::string& out) {
    const handshake_result result = check_upgrade(parse_head(head));
    const gatehouse::response res = result.ok() ? switching_protocols(result) : refusal(result);
    out = "HTTP/1.1 " + std::to_string(res.status) + " X\r\n";
    for (const auto& field : res.headers) out += field.name + ": " + field.value + "\r\n";
    if (!result.ok()) out += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
    out += "\r\n" + res.body;
    return result.ok();
  }

  void upgrade(std::shared_ptr<pending_upgrade> conn) {
    asio::async_read_until(conn->socket, asio::dynamic_buffer(conn->head), "\r\n\r\n",
                           [this, conn](asio::error_code ec, std::size_t head_size) {
                             if (ec) return;
                             std::string out;
                             const bool ok = answer(conn->head.substr(0, head_size), out);
                             asio::write(conn->socket, asio::buffer(out), ec);
                             if (ec || !ok) return;
                             start(std::move(conn->socket), conn->head.substr(head_size));
                           });
  }

  /// gatehouse's TLS stream: its handshake, the request head, the 101, the session.
  asio::awaitable<void> upgrade_tls(tcp::socket socket) {
    gatehouse::net::tls_stream stream(std::move(socket), *tls_);
    if (co_await stream.handshake()) co_return;
    std::string in;
    char buffer[4096];
    while (in.find("\r\n\r\n") == std::string::npos) {
      auto [ec, n] = co_await stream.read_some(asio::buffer(buffer));
      if (ec) co_return;
      in.append(buffer, n);
    }
    const std::size_t head_size = in.find("\r\n\r\n") + 4;
    std::string out;
    const bool ok = answer(std::string_view(in).substr(0, head_size), out);
    auto [ec, n] = co_await stream.write({asio::buffer(out), asio::const_buffer()});
    if (ec || !ok) co_return;
    start(std::move(stream), in.substr(head_size));
  }

  /// Asio's TLS stream, as a host has it.
  asio::awaitable<void> upgrade_asio_tls(tcp::socket socket) {
    asio::ssl::stream<tcp::socket> stream(std::move(socket), *tls_);
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, as_tuple());
    if (hec) co_return;
    std::string in;
    auto [rec, head_size] =
        co_await asio::async_read_until(stream, asio::dynamic_buffer(in), "\r\n\r\n", as_tuple());
    if (rec) co_return;
    std::string out;
    const bool ok = answer(std::string_view(in).substr(0, head_size), out);
    auto [wec, n] = co_await asio::async_write(stream, asio::buffer(out), as_tuple());
    if (wec || !ok) co_return;
    start(std::move(stream), in.substr(head_size));
  }

  /// Starts an echoing session on an upgraded stream.
  template <class Stream>
  void start(Stream stream, std::string already_read) {
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
    asio::error_code ec;
    const std::uint16_t client_port = lowest(stream).remote_endpoint(ec).port();
    auto s = make_session(std::move(stream), std::move(handlers), options_);
    *self = s;
    {
      std::lock_guard lock(mutex_);
      sessions_.push_back(s);
      client_ports_.push_back(client_port);
      changed_.notify_all();
    }
    s->start(std::move(already_read));
  }

  asio::io_context io_;
  tcp::acceptor acceptor_{io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  session_options options_;
  transport kind_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::weak_ptr<session>> sessions_;
  std::vector<std::uint16_t> client_ports_;
  std::vector<std::pair<std::uint16_t, std::string>> closes_;
};

}  // namespace

TEST_CASE("websocket session: echo of text and binary messages", "[websocket][threads]") {
  const transport kind = EACH_TRANSPORT();
  INFO(name(kind));
  echo_server server({}, 2, kind);
  ws_client client(server.port(), over(kind));
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
  client.send(opcode::text, big, 32 * 1024);
  r = client.next();
  CHECK(r.kind == decode_event::text);
  CHECK(r.payload == big);

  // Many messages in one write.
  std::string burst;
  // fmt rather than "m" + std::to_string(i): GCC 12 warns falsely (-Wrestrict) on that.
  for (int i = 0; i < 100; ++i) burst += masked_frame(opcode::text, fmt::format("m{}", i));
  client.send_raw(burst);
  for (int i = 0; i < 100; ++i) {
    r = client.next();
    REQUIRE(r.payload == fmt::format("m{}", i));
  }
}

TEST_CASE("websocket session: frames sent with the upgrade request", "[websocket]") {
  const transport kind = EACH_TRANSPORT();
  INFO(name(kind));
  echo_server server({}, 2, kind);
  const std::string early = masked_frame(opcode::text, "early") + masked_frame(opcode::ping, "p");
  ws_client client(server.port(), over(kind, {.path = "/chat", .first_bytes = early}));
  REQUIRE(client.upgraded());
  auto r = client.next();
  CHECK(r.payload == "early");
  r = client.next();
  CHECK(r.kind == decode_event::pong);
  CHECK(r.payload == "p");

  // Frames sent one write (over TLS: one record) each before the 101 has come: they wait in
  // the socket, more of them than a session reads at a time, and nothing announces them again
  // (pongs get no answer, whose acknowledgement would wake the socket).
  ws_client eager(server.port(), over(kind, {.path = "/chat", .read_response = false}));
  for (int i = 0; i < 40; ++i) eager.send(opcode::pong, fmt::format("e{}", i));
  eager.send(opcode::text, "last");
  REQUIRE(eager.read_head());
  CHECK(eager.next().payload == "last");
}

TEST_CASE("websocket session: close handshake started by the client", "[websocket]") {
  const transport kind = EACH_TRANSPORT();
  INFO(name(kind));
  echo_server server({}, 2, kind);
  SECTION("with a code and reason: echoed, then the server closes TCP") {
    ws_client client(server.port(), over(kind));
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
    ws_client client(server.port(), over(kind));
    client.send(opcode::close, close_payload(4321, "app"));
    auto r = client.next();
    CHECK(r.kind == decode_event::close);
    CHECK(r.code == 4321);
    CHECK(client.wait_eof());
    CHECK(server.wait_closes(1).at(0).first == 4321);
  }
  SECTION("without a code: an empty close comes back; reported as 1005") {
    ws_client client(server.port(), over(kind));
    client.send(opcode::close, "");
    auto r = client.next();
    CHECK(r.kind == decode_event::close);
    CHECK(r.code == close_code::no_status);
    CHECK(client.wait_eof());
    CHECK(server.wait_closes(1).at(0).first == 1005);
  }
  SECTION("the TCP connection just goes away: 1006") {
    ws_client client(server.port(), over(kind));
    client.send(opcode::text, "x");
    CHECK(client.next().payload == "x");
    client.close_socket();
    const auto closes = server.wait_closes(1);
    REQUIRE(closes.size() == 1);
    CHECK(closes[0].first == close_code::abnormal);
  }
}

TEST_CASE("websocket session: close handshake started by the server", "[websocket]") {
  const transport kind = EACH_TRANSPORT();
  INFO(name(kind));
  echo_server server({.close_timeout = 300ms}, 2, kind);
  SECTION("the client answers") {
    ws_client client(server.port(), over(kind));
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
    ws_client client(server.port(), over(kind));
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
    ws_client client(server.port(), over(kind));
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
  const transport kind = EACH_TRANSPORT();
  INFO(name(kind));
  echo_server server({.max_frame_bytes = 1000, .max_message_bytes = 4000}, 2, kind);
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
                 i == 4, &test::ws_client_mask);
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
    ws_client client(server.port(), over(kind));
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
  const transport kind = EACH_TRANSPORT();
  INFO(name(kind));
  SECTION("idle") {
    echo_server server({.idle_timeout = 200ms}, 2, kind);
    ws_client client(server.port(), over(kind));
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
    echo_server server({.max_duration = 300ms}, 2, kind);
    // The duration counts from the connection (its TLS handshake included, ~30 ms on OpenSSL):
    // the client's clock starts before it connects.
    const auto start = std::chrono::steady_clock::now();
    ws_client client(server.port(), over(kind));
    test::ws_received r;
    for (int i = 0; i < 100; ++i) {
      client.send(opcode::text, "busy");
      r = client.next(2s);
      if (r.kind != decode_event::text) break;
      std::this_thread::sleep_for(20ms);
    }
    CHECK(r.kind == decode_event::close);
    CHECK(r.code == close_code::going_away);
    CHECK(std::chrono::steady_clock::now() - start >= 300ms);
    // Answer the close, or the session waits its close_timeout (5 s) for us.
    client.send(opcode::close, close_payload(1001, ""));
    const auto closes = server.wait_closes(1);
    REQUIRE(closes.size() == 1);
    CHECK(closes[0].first == close_code::going_away);
  }
}

TEST_CASE("websocket session: a peer that does not read cannot grow the queue",
          "[websocket][threads]") {
  const transport kind = EACH_TRANSPORT();
  INFO(name(kind));
  constexpr std::size_t cap = 256 * 1024;
  echo_server server({.max_queued_bytes = cap, .close_timeout = 200ms}, 2, kind);
  ws_client client(server.port(), over(kind));
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
  ws_client client(server.port());
  client.send_raw(
      "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
  CHECK_FALSE(client.read_head());
  CHECK(client.status() == 426);
  CHECK(client.head().find("Sec-WebSocket-Version: 13\r\n") != std::string::npos);
}

TEST_CASE("websocket session: many sessions opened and closed leave nothing behind",
          "[websocket]") {
  const transport kind = EACH_TRANSPORT();
  INFO(name(kind));
  echo_server server({}, 2, kind);
  constexpr int count = 200;
  {
    std::vector<std::unique_ptr<ws_client>> clients;
    for (int i = 0; i < count; ++i) {
      clients.push_back(std::make_unique<ws_client>(server.port(), over(kind)));
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
  // Over plain TCP and over gatehouse's TLS stream (Asio's holds some 50 KiB per connection,
  // its record buffers, and is left out). The io_context runs on this thread; TLS clients shake
  // hands from a thread of their own. The heap is measured once the clients are gone and
  // before the server has seen them go.
  const transport kind = GENERATE(transport::plain, transport::tls);
  INFO(name(kind));
  echo_server server({}, 0, kind);
  constexpr int count = 1000;
  std::vector<std::unique_ptr<ws_client>> clients;
  clients.reserve(count);
  server.io().poll();
  const std::size_t before = mallinfo2().uordblks;
  const auto upgrade = over(kind, {.path = "/chat", .read_response = false});
  std::thread connect([&] {
    for (int i = 0; i < count; ++i)
      clients.push_back(std::make_unique<ws_client>(server.port(), upgrade));
  });
  if (kind == transport::plain) connect.join();  // (no handshake to answer)
  for (int i = 0; i < 6000 && server.started() < std::size_t(count); ++i) server.io().run_for(10ms);
  if (connect.joinable()) connect.join();
  REQUIRE(server.started() == std::size_t(count));
  server.io().poll();
  for (auto& c : clients) REQUIRE(c->read_head());  // every 101 is written by now
  clients.clear();
  const std::size_t after = mallinfo2().uordblks;
  const double per_session = double(after - before) / count;
  std::printf("idle WebSocket session over %s: %.0f bytes of heap each (%d sessions)\n", name(kind),
              per_session, count);
#if !defined(__SANITIZE_ADDRESS__)
  // Plain: issue 9's goal. TLS: the TLS library keeps a connection's state (its record buffers
  // are released while idle); issue 20 asks for under 40 KiB a connection in all.
  CHECK(per_session < (kind == transport::plain ? 10 : 16) * 1024);
#endif
  for (int i = 0; i < 500 && server.wait_closes(count, 0ms).size() < std::size_t(count); ++i)
    server.io().run_for(10ms);
  CHECK(server.wait_closes(count, 0ms).size() == std::size_t(count));
  server.io().poll();
  CHECK(server.all_freed());
}
