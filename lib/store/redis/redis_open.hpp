#pragma once

// Connecting to a Redis server, shared by the client's connections (redis_connection) and the
// pub/sub subscriber (redis_subscriber): resolve, TCP connect, the TLS handshake for rediss://,
// then AUTH and SELECT, all within the connect timeout; and the backoff between attempts.

#include "store/redis/redis_protocol.hpp"
#include "store/redis/redis_url.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <system_error>
#include <vector>

namespace gatehouse::redis {

using clock = std::chrono::steady_clock;

/// What every connection of a client (and a subscriber's) is made with.
struct connection_settings {
  endpoint where{};
  std::shared_ptr<asio::ssl::context> tls{};  ///< for rediss:// only
  bool verify = true;                         ///< check the server's certificate and name
  std::chrono::milliseconds connect_timeout{1000};
  /// A connection whose oldest unanswered call timed out this long ago is taken for dead (a
  /// server that hangs, a network that drops packets without a reset) and closed.
  std::chrono::milliseconds stall_timeout{2000};
  std::chrono::milliseconds backoff{10};  ///< the first wait before connecting again; doubles
  std::chrono::milliseconds backoff_max{1000};
  std::size_t max_reply_bytes = 64 * 1024 * 1024;
};

/// One attempt at a connection: its socket, TLS stream, reply reader and read buffer. Each
/// attempt has its own, so that the operations of one just closed can still complete against
/// their objects while the next attempt starts. Used on one strand (its executor).
struct transport {
  transport(const asio::any_io_executor& strand, std::size_t max_reply_bytes);
  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;

  /// Closes the socket and cancels whatever waits on it: open_transport() then returns
  /// errc::closed, and reads and writes end with an error.
  void close() noexcept;

  /// Calls `f` with the stream to read and write: the TLS stream, or the socket.
  template <class F>
  decltype(auto) with_stream(F&& f) {
    if (tls) return f(*tls);
    return f(socket);
  }

  asio::ip::tcp::socket socket;
  asio::ip::tcp::resolver resolver;
  asio::steady_timer connect_timer;
  std::optional<asio::ssl::stream<asio::ip::tcp::socket&>> tls;
  reply_reader reader;
  std::vector<char> in;
  bool closed = false;      // close() was called
  bool timed_out = false;   // by the connect timeout
  bool connecting = false;  // open_transport() under way: the connect timeout applies
};

/// Connects `t` to `s.where` and logs in (AUTH when the URL has a password, SELECT when its
/// database is not 0), within `s.connect_timeout`. Returns no error when the connection is
/// ready for commands; otherwise connect_failed, connect_timeout, tls_failed, auth_failed,
/// select_failed, connection_lost, protocol_error, or closed when `t` was closed meanwhile.
/// Runs on t's strand.
asio::awaitable<std::error_code> open_transport(std::shared_ptr<transport> t,
                                                const connection_settings& s);

/// How long to wait before the next attempt to connect after `failures` failures in a row
/// (the first failure after a connection that worked counts 0, and waits nothing): `backoff`,
/// doubled per failure up to `backoff_max`, times a random factor from 0.75 to 1.25 so that
/// many clients that lost one server do not come back in step.
std::chrono::milliseconds backoff_wait(const connection_settings& s, unsigned failures);

}  // namespace gatehouse::redis
