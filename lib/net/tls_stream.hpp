#pragma once

// The server side of a TLS connection, reading and writing its socket itself. asio::ssl::stream
// puts a memory BIO pair and two record buffers of its own between the TLS library and the
// socket: 68 KiB per connection, idle or not. Here the TLS library reads and writes the socket
// through a small BIO, so what it holds is its own state and the buffers it releases while idle
// (BoringSSL always; OpenSSL with SSL_MODE_RELEASE_BUFFERS). The waiting is the socket's
// async_wait. A WebSocket upgrade moves the stream on to its session, which uses the calls that
// do not wait (read_now, write_now) with async_wait of its own.

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>

#include <openssl/ssl.h>

#include <array>
#include <cstddef>
#include <span>
#include <system_error>
#include <tuple>

namespace gatehouse::net {

class tls_stream {
 public:
  using io_result = std::tuple<std::error_code, std::size_t>;

  /// Takes the accepted socket; the handshake is handshake()'s.
  tls_stream(asio::ip::tcp::socket socket, asio::ssl::context& context);
  tls_stream(const tls_stream&) = delete;
  tls_stream& operator=(const tls_stream&) = delete;
  /// Moves the connection (the TLS library's BIO holds the descriptor, not the socket object);
  /// `other` is left without one.
  tls_stream(tls_stream&& other) noexcept;
  tls_stream& operator=(tls_stream&&) = delete;
  ~tls_stream();

  asio::ip::tcp::socket& next_layer() noexcept { return socket_; }
  auto get_executor() { return socket_.get_executor(); }
  SSL* native_handle() const noexcept { return ssl_; }

  /// The server's handshake. Errors: the TLS library's (ssl category) or the socket's.
  asio::awaitable<std::error_code> handshake();
  /// Reads decrypted bytes, waiting for some. The peer's end: asio::error::eof (after its
  /// close_notify) or asio::ssl::error::stream_truncated (without it).
  asio::awaitable<io_result> read_some(asio::mutable_buffer into);
  /// Reads decrypted bytes without waiting: asio::error::would_block when a whole record has
  /// not arrived yet (wait for wait_type_after_read() then). Errors as read_some's.
  std::size_t read_now(asio::mutable_buffer into, std::error_code& ec);
  /// True when the TLS library holds decrypted bytes not read yet (nothing to wait for then).
  bool has_pending() const noexcept { return SSL_has_pending(ssl_) == 1; }
  /// Writes every byte of `buffers` (held by the coroutine: a temporary may be passed).
  asio::awaitable<io_result> write(std::array<asio::const_buffer, 2> buffers);
  /// Writes what the socket takes without waiting, a record of up to 16 KiB at a time (small
  /// buffers gathered into one record): returns the bytes of `buffers` written. When it could
  /// not write them all: asio::error::would_block (wait for wait_type_after_write(), then call
  /// again with the bytes not written, unchanged: a record may be half sent), or an error.
  std::size_t write_now(std::span<const asio::const_buffer> buffers, std::error_code& ec);
  /// What the socket has to become before read_now's or write_now's would_block can end (the
  /// TLS library may have to write to read, or to read to write).
  asio::ip::tcp::socket::wait_type wait_type_after_read() const noexcept {
    return read_waits_for_write_ ? asio::ip::tcp::socket::wait_write
                                 : asio::ip::tcp::socket::wait_read;
  }
  asio::ip::tcp::socket::wait_type wait_type_after_write() const noexcept {
    return write_waits_for_read_ ? asio::ip::tcp::socket::wait_read
                                 : asio::ip::tcp::socket::wait_write;
  }
  /// Sends close_notify, then reads and drops what the peer still sends (into `scratch`) until
  /// its own close_notify or end, up to 1 MiB.
  asio::awaitable<std::error_code> shutdown(asio::mutable_buffer scratch);

 private:
  enum class want { nothing, read, write };
  /// The outcome of an SSL call that returned `r` <= 0: what to wait for, or the error.
  want classify(int r, std::error_code& ec) noexcept;

  asio::ip::tcp::socket socket_;
  SSL* ssl_ = nullptr;
  bool read_waits_for_write_ = false;  // read_now's would_block: the TLS library has to write
  bool write_waits_for_read_ = false;  // write_now's would_block: the TLS library has to read
};

}  // namespace gatehouse::net
