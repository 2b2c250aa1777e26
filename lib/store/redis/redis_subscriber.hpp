#pragma once

// A Redis pub/sub subscriber: one dedicated connection (a connection in subscribed mode can
// carry nothing else), on a strand of the host's io_context. It connects when the first channel
// is subscribed, and whenever the connection is lost (or stalls: a PING unanswered in time)
// connects again with the client's backoff and subscribes every channel again by itself.
//
//   redis::subscriber sub(io.get_executor(), {.url = "redis://127.0.0.1:6379"});
//   sub.set_handler([](std::string_view channel, std::string_view message) { … });
//   sub.on_connected([] { /* resynchronise what may have been missed */ });
//   sub.subscribe("gatehouse:keys");
//
// Used by the Redis store (instances tell each other of changed API key records) and by
// WebSocket APIs (each instance listens on its own channel for @connections calls).

#include "store/redis/redis_client.hpp"
#include "store/redis/redis_open.hpp"
#include "store/redis/redis_protocol.hpp"

#include <asio/any_io_executor.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace gatehouse::redis {

/// How a subscriber notices a connection that died silently (a server that hangs, a network
/// that drops packets without a reset): it sends a PING every `interval`, and closes and
/// reconnects when a PING, SUBSCRIBE or UNSUBSCRIBE has no answer after `timeout`.
struct keepalive {
  std::chrono::milliseconds interval{3000};
  std::chrono::milliseconds timeout{2000};
};

/// Counts since the subscriber was made (any thread).
struct subscriber_statistics {
  std::uint64_t messages = 0;          ///< messages given to the handler
  std::uint64_t connects = 0;          ///< attempts to connect
  std::uint64_t connect_failures = 0;  ///< of those, failed
  std::uint64_t losses = 0;            ///< connections lost, stalled or reset on an error
  std::uint64_t reconnects = 0;        ///< connected and resubscribed again after a loss
};

using message_handler = std::function<void(std::string_view channel, std::string_view message)>;

class subscriber_core;

class subscriber {
 public:
  /// Of `options`: url (redis:// or rediss://, password, db; channels are not per database in
  /// Redis), connect_timeout, reconnect_backoff(_max), max_reply_bytes (the largest message)
  /// and the TLS items; not the pool, the calls' timeout or the breaker. Throws config_error as
  /// redis::client does. Connects at the first subscribe().
  subscriber(asio::any_io_executor executor, client_options options, keepalive ka = {});
  /// close().
  ~subscriber();
  subscriber(const subscriber&) = delete;
  subscriber& operator=(const subscriber&) = delete;

  /// Called with each message of a subscribed channel, in the order Redis sent them, on the
  /// subscriber's strand (one at a time; never on the caller's thread within subscribe()). The
  /// views are valid during the call. Set it before the first subscribe(); it must not throw.
  /// A message of a channel unsubscribed meanwhile is dropped.
  void set_handler(message_handler handler);
  /// Called on the strand after each connection (the first and every reconnect) once Redis has
  /// confirmed the subscription of every channel subscribed when it connected: messages sent
  /// while the subscriber was disconnected are lost, so owners resynchronise here. Set it before
  /// the first subscribe(); it must not throw.
  void on_connected(std::function<void()> handler);

  /// Subscribes to `channel` (connecting first when needed). Any thread, any time; subscribing
  /// to a channel twice is once.
  void subscribe(std::string channel);
  /// Unsubscribes: from when this runs on the strand (at once when called there), no message
  /// of `channel` reaches the handler. Any thread, any time.
  void unsubscribe(std::string channel);

  /// Closes the connection and connects no more. Any thread: when it returns, no callback runs
  /// any longer (called from another thread, it waits for a callback under way to return; from
  /// within a callback, the callback in progress is the last).
  void close();

  subscriber_statistics stats() const noexcept;

 private:
  std::shared_ptr<subscriber_core> core_;
};

/// What a reply on a subscribed connection is (parse_push): a message, or the answer to a
/// SUBSCRIBE, UNSUBSCRIBE or PING, or something else (what the subscriber never asked for).
struct push {
  enum class kind { message, subscribed, unsubscribed, pong, error, other };
  kind what = kind::other;
  std::string_view channel{};  ///< message, subscribed, unsubscribed
  std::string_view payload{};  ///< message; for error, the error's text
};

/// Classifies `v` (RESP2): ["message", channel, payload]; ["subscribe" | "unsubscribe",
/// channel, count]; ["pong", ""] or +PONG; an error reply. The views point into `v`.
push parse_push(const value& v) noexcept;

}  // namespace gatehouse::redis
