#pragma once

// A WebSocket client on a blocking POSIX socket, for exact bytes: masked frames out, the
// gateway's own frame decoder (client mode) in, a timeout on every read. Over TLS (wss) too.

#include "websocket/frame.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

struct ssl_st;
struct ssl_ctx_st;

namespace test {

/// The masking key of every frame a ws_client sends.
inline constexpr std::array<std::uint8_t, 4> ws_client_mask{0x12, 0x34, 0x56, 0x78};

/// One frame masked with ws_client_mask, as a client sends it.
std::string masked_frame(gatehouse::websocket::opcode op, std::string_view payload,
                         bool fin = true);

/// A blocking TCP socket connected to 127.0.0.1:`port`; the caller closes it.
int connect_loopback(std::uint16_t port);

/// What a ws_client received: a frame-level event, end of file or a timeout.
struct ws_received {
  gatehouse::websocket::decode_event kind = gatehouse::websocket::decode_event::need_more;
  std::string payload;     // message, control payload, close reason or error reason
  std::uint16_t code = 0;  // of a close (or of an error)
  bool eof = false;        // the server closed the TCP connection
  bool timeout = false;
};

/// The upgrade request a ws_client sends: GET `path` with the RFC 6455 sample key, version 13.
struct ws_upgrade {
  std::string_view path = "/";
  std::string_view headers;      // extra header lines, each ending in "\r\n"
  std::string_view first_bytes;  // sent after the request, in the same write
  bool read_response = true;     // false: call read_head() later
  bool tls = false;              // wss: a TLS handshake first (no certificate checks)
};

/// A WebSocket client on a blocking socket to 127.0.0.1.
class ws_client {
 public:
  /// Connects to `port` and sends nothing (send_raw() what you like, then read_head()).
  explicit ws_client(std::uint16_t port);
  /// Connects to `port` and sends `upgrade`; reads the response head unless told not to.
  ws_client(std::uint16_t port, const ws_upgrade& upgrade);
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  /// Reads the HTTP response head (up to 5 s) and records it and its status; true for a 101
  /// with the RFC's accept key.
  bool read_head();
  /// The status of the response head, 0 before one was read.
  int status() const { return status_; }
  /// The response head, with its final blank line.
  const std::string& head() const { return head_; }
  /// True after a 101 with the accept key the RFC's sample key asks for.
  bool upgraded() const { return upgraded_; }
  /// The client's own port, which the server sees as the remote one.
  std::uint16_t local_port() const;

  /// Sends `bytes` as they are (stops quietly when the server has closed).
  void send_raw(std::string_view bytes);
  /// Sends a message as masked frames of at most `max_frame_payload` bytes (0: one frame).
  void send(gatehouse::websocket::opcode op, std::string_view payload,
            std::size_t max_frame_payload = 32 * 1024);
  /// Sends a text message.
  void text(std::string_view payload) { send(gatehouse::websocket::opcode::text, payload); }
  /// Closes the socket without a close frame (nor a TLS close_notify).
  void close_socket();
  /// Makes the socket's receive buffer small, so that the server's sends back up.
  void shrink_receive_buffer();

  /// The next frame-level event from the server (a message, a control frame, an error), EOF,
  /// or a timeout after `limit` without input.
  ws_received next(std::chrono::milliseconds limit = std::chrono::seconds(5));
  /// The next close frame (other frames are skipped), EOF, or a timeout.
  ws_received next_close(std::chrono::milliseconds limit = std::chrono::seconds(5));
  /// True when the server closes the TCP connection within `limit` (frames before are skipped).
  bool wait_eof(std::chrono::milliseconds limit = std::chrono::seconds(5));

 private:
  bool fill(std::chrono::milliseconds limit);  // reads more into in_; false on EOF or timeout

  int fd_ = -1;
  ssl_ctx_st* tls_context_ = nullptr;
  ssl_st* tls_ = nullptr;  // after a TLS handshake: reads and writes go through it
  std::string in_, head_;
  int status_ = 0;
  bool upgraded_ = false;
  bool eof_ = false;
  gatehouse::websocket::frame_decoder decoder_{{.side = gatehouse::websocket::role::client,
                                                .max_frame_bytes = std::size_t(1) << 30,
                                                .max_message_bytes = std::size_t(1) << 30}};
};

}  // namespace test
