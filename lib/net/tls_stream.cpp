#include "net/tls_stream.hpp"

#include "util/as_tuple.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/ssl/error.hpp>
#include <asio/use_awaitable.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace gatehouse::net {

namespace {
using asio::ip::tcp;
// Bound to no cancellation slot, as the connection's other I/O (see connection.cpp).
auto use_tuple() {
  return asio::bind_cancellation_slot(asio::cancellation_slot(),
                                      util::as_tuple(asio::use_awaitable));
}
constexpr std::size_t max_dropped_on_shutdown = 1024 * 1024;
constexpr std::size_t max_record_bytes = 16 * 1024;  // a TLS record's plaintext at most

// A BIO over a socket descriptor, non-blocking per call. Unlike the TLS library's own socket
// BIO, it writes with MSG_NOSIGNAL: a peer gone away must not raise SIGPIPE in the host.
int descriptor(BIO* bio) {
  return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(bio)));
}

bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK || e == EINTR; }

int socket_write(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n =
      ::send(descriptor(bio), data, static_cast<std::size_t>(size), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n >= 0) return static_cast<int>(n);
  if (would_block(errno)) BIO_set_retry_write(bio);
  return -1;
}

int socket_read(BIO* bio, char* out, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::recv(descriptor(bio), out, static_cast<std::size_t>(size), MSG_DONTWAIT);
  if (n >= 0) return static_cast<int>(n);
  if (would_block(errno)) BIO_set_retry_read(bio);
  return -1;
}

long socket_ctrl(BIO*, int command, long, void*) { return command == BIO_CTRL_FLUSH ? 1 : 0; }

const BIO_METHOD* socket_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_TYPE_SOCKET, "gatehouse socket");
    if (!m || BIO_meth_set_write(m, &socket_write) != 1 ||
        BIO_meth_set_read(m, &socket_read) != 1 || BIO_meth_set_ctrl(m, &socket_ctrl) != 1)
      throw std::bad_alloc();
    return m;
  }();
  return method;
}

tcp::socket::wait_type wait_type_of(bool read) {
  return read ? tcp::socket::wait_read : tcp::socket::wait_write;
}
}  // namespace

tls_stream::tls_stream(tcp::socket socket, asio::ssl::context& context)
    : socket_(std::move(socket)), ssl_(SSL_new(context.native_handle())) {
  if (!ssl_) throw std::bad_alloc();
  BIO* bio = BIO_new(socket_method());
  if (!bio) {
    SSL_free(ssl_);
    throw std::bad_alloc();
  }
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<std::intptr_t>(socket_.native_handle())));
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_, bio, bio);  // one reference for both directions
  SSL_set_accept_state(ssl_);
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                         SSL_MODE_RELEASE_BUFFERS);
#if defined(OPENSSL_IS_BORINGSSL)
  // What only the handshake needs (the configuration copied from the context) goes after it.
  SSL_set_shed_handshake_config(ssl_, 1);
#endif
}

tls_stream::tls_stream(tls_stream&& other) noexcept
    : socket_(std::move(other.socket_)),
      ssl_(std::exchange(other.ssl_, nullptr)),
      read_waits_for_write_(other.read_waits_for_write_),
      write_waits_for_read_(other.write_waits_for_read_) {}

tls_stream::~tls_stream() {
  if (ssl_) SSL_free(ssl_);
}

tls_stream::want tls_stream::classify(int r, std::error_code& ec) noexcept {
  const int saved_errno = errno;
  const int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ) return want::read;
  if (e == SSL_ERROR_WANT_WRITE) return want::write;
  if (e == SSL_ERROR_ZERO_RETURN) {
    ec = asio::error_code(asio::error::eof);  // the peer's close_notify
  } else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    // The socket failed, or ended without close_notify.
    if (r < 0 && saved_errno != 0)
      ec = std::error_code(saved_errno, asio::error::get_system_category());
    else
      ec = asio::error_code(asio::ssl::error::stream_truncated);
  } else {
    const auto err = ERR_get_error();
#if defined(SSL_R_UNEXPECTED_EOF_WHILE_READING)
    if (ERR_GET_LIB(err) == ERR_LIB_SSL &&
        ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
      ec = asio::error_code(asio::ssl::error::stream_truncated);
    else
#endif
      ec = std::error_code(static_cast<int>(err), asio::error::get_ssl_category());
    if (!ec) ec = asio::error_code(asio::ssl::error::unspecified_system_error);
  }
  ERR_clear_error();
  return want::nothing;
}

asio::awaitable<std::error_code> tls_stream::handshake() {
  for (;;) {
    errno = 0;
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) co_return std::error_code{};
    std::error_code ec;
    const want w = classify(r, ec);
    if (w == want::nothing) co_return ec;
    auto [wec] = co_await socket_.async_wait(wait_type_of(w == want::read), use_tuple());
    if (wec) co_return wec;
  }
}

std::size_t tls_stream::read_now(asio::mutable_buffer into, std::error_code& ec) {
  ec = {};
  if (into.size() == 0) return 0;
  errno = 0;
  const int r =
      SSL_read(ssl_, into.data(), static_cast<int>(std::min<std::size_t>(into.size(), INT_MAX)));
  if (r > 0) return static_cast<std::size_t>(r);
  const want w = classify(r, ec);
  if (w != want::nothing) {
    read_waits_for_write_ = w == want::write;
    ec = asio::error_code(asio::error::would_block);
  }
  return 0;
}

asio::awaitable<tls_stream::io_result> tls_stream::read_some(asio::mutable_buffer into) {
  for (;;) {
    std::error_code ec;
    const std::size_t n = read_now(into, ec);
    if (ec != asio::error_code(asio::error::would_block)) co_return io_result{ec, n};
    auto [wec] = co_await socket_.async_wait(wait_type_after_read(), use_tuple());
    if (wec) co_return io_result{wec, 0};
  }
}

asio::awaitable<tls_stream::io_result> tls_stream::write(
    std::array<asio::const_buffer, 2> buffers) {
  std::size_t total = 0;
  for (const auto& b : buffers) {
    const char* p = static_cast<const char*>(b.data());
    std::size_t left = b.size();
    while (left > 0) {
      errno = 0;
      const int r = SSL_write(ssl_, p, static_cast<int>(std::min<std::size_t>(left, INT_MAX)));
      if (r > 0) {
        p += r;
        left -= static_cast<std::size_t>(r);
        total += static_cast<std::size_t>(r);
        continue;
      }
      std::error_code ec;
      const want w = classify(r, ec);
      if (w == want::nothing) co_return io_result{ec, total};
      auto [wec] = co_await socket_.async_wait(wait_type_of(w == want::read), use_tuple());
      if (wec) co_return io_result{wec, total};
    }
  }
  co_return io_result{std::error_code{}, total};
}

std::size_t tls_stream::write_now(std::span<const asio::const_buffer> buffers,
                                  std::error_code& ec) {
  ec = {};
  std::size_t total = 0;
  std::size_t index = 0, offset = 0;  // the first byte not written: buffers[index] + offset
  char gathered[max_record_bytes];
  for (;;) {
    while (index < buffers.size() && offset == buffers[index].size()) {
      ++index;
      offset = 0;
    }
    if (index == buffers.size()) return total;
    // A record's plaintext: straight from a buffer that fills one, else gathered (a frame's
    // header and a short payload would be two records, and two sends, otherwise). Called again
    // with the same bytes, this makes the same record, as SSL_write's retry needs.
    const char* data = static_cast<const char*>(buffers[index].data()) + offset;
    std::size_t size = buffers[index].size() - offset;
    if (size < max_record_bytes) {
      size = 0;
      for (std::size_t i = index, skip = offset; i < buffers.size() && size < max_record_bytes;
           ++i, skip = 0) {
        const std::size_t n = std::min(buffers[i].size() - skip, max_record_bytes - size);
        std::memcpy(gathered + size, static_cast<const char*>(buffers[i].data()) + skip, n);
        size += n;
      }
      data = gathered;
    }
    errno = 0;
    const int r = SSL_write(ssl_, data, static_cast<int>(std::min<std::size_t>(size, INT_MAX)));
    if (r <= 0) {
      const want w = classify(r, ec);
      if (w != want::nothing) {
        write_waits_for_read_ = w == want::read;
        ec = asio::error_code(asio::error::would_block);
      }
      return total;
    }
    total += static_cast<std::size_t>(r);
    for (auto left = static_cast<std::size_t>(r); left > 0;) {
      const std::size_t n = std::min(left, buffers[index].size() - offset);
      left -= n;
      offset += n;
      if (offset == buffers[index].size() && left > 0) {
        ++index;
        offset = 0;
      }
    }
  }
}

asio::awaitable<std::error_code> tls_stream::shutdown(asio::mutable_buffer scratch) {
  for (;;) {
    errno = 0;
    const int r = SSL_shutdown(ssl_);
    if (r >= 0) break;  // our close_notify is out (1: the peer's had come already)
    std::error_code ec;
    const want w = classify(r, ec);
    if (w == want::nothing) co_return ec;
    auto [wec] = co_await socket_.async_wait(wait_type_of(w == want::read), use_tuple());
    if (wec) co_return wec;
  }
  // Nothing more from us: the peer sees the end of the stream after our close_notify.
  asio::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  if (SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) co_return std::error_code{};
  // Read and drop until the peer's close_notify or end, so that unread data does not make the
  // kernel reset the connection before the peer has read our last response.
  for (std::size_t dropped = 0; dropped < max_dropped_on_shutdown;) {
    auto [ec, n] = co_await read_some(scratch);
    if (ec == asio::error_code(asio::error::eof)) co_return std::error_code{};
    if (ec) co_return ec;
    dropped += n;
  }
  co_return std::error_code{};
}

}  // namespace gatehouse::net
