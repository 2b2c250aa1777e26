#pragma once

// One WebSocket connection (after the opening handshake) over a plain or TLS stream: reads and
// reassembles messages, answers pings, runs the close handshake, enforces the idle timeout, the
// maximum duration and a cap on queued outgoing bytes, and sends messages from any thread.

#include "net/tls_stream.hpp"
#include "websocket/frame.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace gatehouse::websocket {

/// Limits of a session; the defaults are AWS API Gateway's.
struct session_options {
  std::size_t max_frame_bytes = 32 * 1024;     ///< payload of a received frame, else 1009
  std::size_t max_message_bytes = 128 * 1024;  ///< payload of a received message, else 1009
  /// No frame received for this long → close 1001 (AWS: 10 minutes).
  std::chrono::steady_clock::duration idle_timeout = std::chrono::minutes(10);
  /// The connection lasted this long → close 1001 (AWS: 2 hours).
  std::chrono::steady_clock::duration max_duration = std::chrono::hours(2);
  /// Outgoing bytes queued and not yet written (frame headers included); a send past it closes
  /// the session with 1008 instead of buffering without bound.
  std::size_t max_queued_bytes = 1024 * 1024;
  /// How long a closing session waits for the peer (its close frame, or our close frame to be
  /// written, or the peer closing TCP) before closing the TCP connection anyway.
  std::chrono::steady_clock::duration close_timeout = std::chrono::seconds(5);
};

/// The kind of a data message.
enum class message_kind : std::uint8_t { text, binary };

/// What a session calls, always on its own strand, never concurrently.
struct session_handlers {
  /// A complete message from the peer; `payload` is valid during the call only.
  std::function<void(message_kind kind, std::string_view payload)> on_message;
  /// The session ended, called exactly once: the peer's close code (1005 when its close frame
  /// had none), ours when we closed first or failed the connection (1001, 1002, 1007, 1008,
  /// 1009 …), or 1006 when the connection was lost without a close frame. Both handlers are
  /// released right after this call.
  std::function<void(std::uint16_t code, std::string_view reason)> on_close;
};

/// A WebSocket connection, owned by shared_ptr: it keeps itself alive while I/O is pending and
/// is freed when the connection is closed and the host has let go of it.
class session {
 public:
  virtual ~session() = default;

  /// Starts reading; `already_read` holds bytes that arrived after the HTTP head of the upgrade
  /// request (the first frames). Call once.
  virtual void start(std::string already_read = {}) = 0;

  /// Queues a message (from any thread). False when the session is closing or closed, or when
  /// the message would take the queued bytes past max_queued_bytes: then the session closes
  /// with 1008 "outgoing queue full".
  virtual bool send(message_kind kind, std::string payload) = 0;
  /// Queues a text message (valid UTF-8 is the caller's responsibility); see send().
  bool send_text(std::string payload) { return send(message_kind::text, std::move(payload)); }
  /// Queues a binary message; see send().
  bool send_binary(std::string payload) { return send(message_kind::binary, std::move(payload)); }

  /// Starts the close handshake (from any thread): messages already queued go first, then a
  /// close frame with `code` and `reason` (cut to 123 bytes); the TCP connection closes when the
  /// peer answers or after close_timeout. Nothing once the session is closing.
  virtual void close(std::uint16_t code = close_code::normal, std::string reason = {}) = 0;

  /// Bytes queued for writing and not yet written (never more than max_queued_bytes, plus a
  /// close frame).
  virtual std::size_t queued_bytes() const noexcept = 0;
  /// True until the session starts closing.
  virtual bool is_open() const noexcept = 0;
  /// The strand the session's work and handlers run on.
  virtual asio::any_io_executor get_executor() const = 0;

  /// The API key its connection was accepted with ("" for none): what metering counts its
  /// messages under. Set before the session starts.
  std::string api_key_id;
};

/// A session over a plain TCP socket (ws://), on a strand of the socket's executor.
std::shared_ptr<session> make_session(asio::ip::tcp::socket socket, session_handlers handlers,
                                      const session_options& options = {});

/// A session over gatehouse's own TLS stream, its handshake done (wss:// on the gateway's own
/// listeners): no buffers of its own while idle.
std::shared_ptr<session> make_session(net::tls_stream stream, session_handlers handlers,
                                      const session_options& options = {});

/// A session over a host's Asio TLS stream, its handshake done (wss:// through
/// Gateway::async_upgrade).
std::shared_ptr<session> make_session(asio::ssl::stream<asio::ip::tcp::socket> stream,
                                      session_handlers handlers,
                                      const session_options& options = {});

}  // namespace gatehouse::websocket
