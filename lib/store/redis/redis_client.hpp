#pragma once

// An Asio-native Redis client for the Redis store: a few pipelined connections on the host's
// io_context (no thread of its own, nothing that blocks), a deadline on every call, reconnects
// with backoff, and a circuit breaker that fails calls at once while Redis is unreachable and
// probes it, alone, until it answers again. Calls are thread-safe.
//
//   redis::client c(io.get_executor(), {.url = "redis://127.0.0.1:6379/2"});
//   auto r = co_await c.exec(redis::make_command("INCR", key));  // r.error, r.reply
//   c.async_exec({"GET", key}, [](asio::error_code ec, redis::value v) { … });
//   static const redis::script admit_lua(source);
//   auto a = co_await c.eval(admit_lua, keys, args);    // EVALSHA; loads it on NOSCRIPT

#include "store/redis/redis_connection.hpp"
#include "store/redis/redis_error.hpp"
#include "store/redis/redis_protocol.hpp"
#include "store/redis/redis_url.hpp"

#include <gatehouse/client_certificate.hpp>
#include <gatehouse/http_client.hpp>  // detail::callback, detail::asio_error

#include <asio/any_io_executor.hpp>
#include <asio/associated_allocator.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/dispatch.hpp>
#include <asio/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace gatehouse::redis {

struct client_options {
  /// redis://[user:password@]host[:port][/db] or rediss://… (TLS).
  std::string url = "redis://127.0.0.1:6379";
  std::size_t connections = 2;                      ///< the pool: calls go round them
  std::chrono::milliseconds timeout{50};            ///< a call's deadline, unless it gives one
  std::chrono::milliseconds connect_timeout{1000};  ///< TCP, TLS, AUTH and SELECT
  /// A connection whose oldest call timed out this long ago without its reply is closed.
  std::chrono::milliseconds stall_timeout{2000};
  std::chrono::milliseconds reconnect_backoff{10};        ///< after a second failure; doubles…
  std::chrono::milliseconds reconnect_backoff_max{1000};  ///< … up to this
  /// The breaker opens after this many failures in a row (timeouts, lost connections, failed
  /// connects, error replies that say the server cannot serve: LOADING, BUSY, …).
  std::uint32_t breaker_failures = 5;
  std::chrono::milliseconds breaker_delay{250};       ///< open → the first probe (a PING)
  std::chrono::milliseconds breaker_delay_max{5000};  ///< the wait doubles per failed probe
  std::size_t max_reply_bytes = 64 * 1024 * 1024;     ///< a larger reply resets the connection
  // rediss:// only:
  std::string ca_file{};  ///< trusted CAs (PEM file); empty: the system store, unless ca_pem
  std::string ca_pem{};   ///< trusted CAs given in memory
  client_certificate certificate{};         ///< for a server with tls-auth-clients
  bool insecure_skip_verification = false;  ///< accept any certificate (tests only)
};

/// What a call gives: an error (errc, or none) and the reply. An error reply comes as
/// errc::error_reply, with `reply` holding the error's message.
struct result {
  std::error_code error{};
  value reply{};
};

/// Counts since the client was made (any thread; a sum over the connections).
struct statistics {
  std::uint64_t round_trips = 0;    ///< calls sent to the server: answered, failed or timed out
  std::uint64_t failures = 0;       ///< of those, failed (timeouts and error replies included)
  std::uint64_t timeouts = 0;       ///< of those, past their deadline
  std::uint64_t error_replies = 0;  ///< of those, answered with an error
  std::uint64_t rejected = 0;       ///< calls failed at once: breaker open, or no connection
  std::uint64_t writes = 0;         ///< socket writes (pipelined calls share them)
  std::uint64_t connects = 0;       ///< connection attempts
  std::uint64_t connect_failures = 0;
  std::uint64_t resets = 0;  ///< connections lost, or closed for a protocol error
  std::uint64_t breaker_opens = 0;
  std::uint64_t script_loads = 0;  ///< SCRIPT LOADs after NOSCRIPT
};

enum class breaker_state { closed, open, half_open };

/// A Lua script run by EVALSHA (its SHA-1 computed here), loaded when the server lacks it.
class script {
 public:
  explicit script(std::string source);
  const std::string& source() const noexcept { return source_; }
  const std::string& sha1() const noexcept { return sha1_; }  ///< lower-case hex

 private:
  std::string source_, sha1_;
};

/// The settings of the connections made for `options` (a client's, a subscriber's): checks what
/// they use (the URL, the connect timeout, the backoff, the reply cap, the TLS files) and throws
/// config_error naming `what` ("redis client") and the item.
std::shared_ptr<const connection_settings> make_connection_settings(const client_options& options,
                                                                    std::string_view what);

class client_core;

class client {
 public:
  /// Throws config_error for a bad URL (its password never shown), bad options or an unusable
  /// trust store or certificate. Connects when the first call needs it.
  client(asio::any_io_executor executor, client_options options);
  /// Closes the connections: calls still waiting end with errc::closed on the executor (so
  /// destroy the client from it, or once the io_context has stopped).
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Sends a command (pipelined with whatever else is under way) and completes with
  /// void(asio::error_code, value) within `timeout` (the client's when zero); see result.
  template <class Token>
  auto async_exec(command cmd, std::chrono::milliseconds timeout, Token&& token) {
    return asio::async_initiate<Token, void(asio::error_code, value)>(
        [this](auto handler, command c, std::chrono::milliseconds t) {
          launch(std::move(c), deadline(t), make_completion<asio::error_code>(handler, executor_));
        },
        token, std::move(cmd), timeout);
  }
  template <class Token>
  auto async_exec(command cmd, Token&& token) {
    return async_exec(std::move(cmd), std::chrono::milliseconds::zero(),
                      std::forward<Token>(token));
  }

  /// The same for coroutines; never throws.
  asio::awaitable<result> exec(command cmd, std::chrono::milliseconds timeout = {});

  /// EVALSHA of `s` with `keys` and `args` (which, and `s`, must stay valid until it completes).
  /// When the server answers NOSCRIPT (SCRIPT FLUSH, a restart), it loads the script (SCRIPT LOAD)
  /// and runs it once more; the whole within `timeout` (the client's when zero).
  asio::awaitable<result> eval(const script& s, std::span<const std::string_view> keys,
                               std::span<const std::string_view> args,
                               std::chrono::milliseconds timeout = {});

  statistics stats() const noexcept;
  breaker_state breaker() const noexcept;
  const endpoint& where() const noexcept;
  const client_options& options() const noexcept;

 private:
  clock::time_point deadline(std::chrono::milliseconds timeout) const noexcept;
  void launch(command cmd, clock::time_point deadline, completion done);
  // The core by value: a coroutine under way keeps it (a call after the client is gone fails
  // with errc::closed rather than touching it).
  static asio::awaitable<result> exec_until(std::shared_ptr<client_core> core,
                                            asio::any_io_executor fallback, command cmd,
                                            clock::time_point deadline);

  // A completion that calls `handler` on its associated executor, its memory from its
  // associated allocator; with asio::error_code (Boost's on Boost.Asio) or std::error_code.
  template <class ErrorCode, class Handler>
  static completion make_completion(Handler& handler, const asio::any_io_executor& fallback) {
    auto ex = asio::get_associated_executor(handler, fallback);
    auto allocator = asio::get_associated_allocator(handler);
    return completion(
        [h = std::move(handler), ex](std::error_code ec, value v) mutable {
          asio::dispatch(ex, [h = std::move(h), ec, v = std::move(v)]() mutable {
            if constexpr (std::is_same_v<ErrorCode, std::error_code>)
              std::move(h)(ec, std::move(v));
            else
              std::move(h)(detail::asio_error(ec), std::move(v));
          });
        },
        allocator);
  }

  asio::any_io_executor executor_;
  std::shared_ptr<client_core> core_;
};

}  // namespace gatehouse::redis
