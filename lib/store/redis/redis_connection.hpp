#pragma once

// One connection to a Redis server, on a strand of the host's io_context: it connects when a
// call first needs it (TCP, TLS for rediss://, then AUTH and SELECT before any call is sent),
// pipelines (calls made while a write is in flight leave together in the next write), matches
// replies to calls in order, fails a call at its deadline (its reply, when it comes, is dropped
// in its turn), and after a failure waits out a growing backoff before it connects again.
// redis::client keeps a few of these and the circuit breaker over them.

#include "store/redis/redis_open.hpp"
#include "store/redis/redis_protocol.hpp"
#include "store/redis/redis_url.hpp"

#include <gatehouse/http_client.hpp>  // detail::callback

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <system_error>

namespace gatehouse::redis {

/// A call's completion, called once: with the reply, or with the error (errc) and no value. An
/// error reply comes as errc::error_reply with the value that holds its message.
using completion = detail::callback<std::error_code, value>;

/// Told the outcome of each call, and of each attempt to connect (the client's circuit breaker).
/// Called on the connections' strands: any thread.
class health_listener {
 public:
  virtual void succeeded() noexcept = 0;
  virtual void failed() noexcept = 0;

 protected:
  ~health_listener() = default;
};

/// A connection's counts, written on its strand, read from any thread.
struct connection_counters {
  std::atomic<std::uint64_t> calls{0};             ///< calls sent (or queued to be sent)
  std::atomic<std::uint64_t> failures{0};          ///< of those, failed (timeouts and errors too)
  std::atomic<std::uint64_t> timeouts{0};          ///< of those, past their deadline
  std::atomic<std::uint64_t> error_replies{0};     ///< of those, answered with an error
  std::atomic<std::uint64_t> refused{0};           ///< calls failed at once, in a backoff
  std::atomic<std::uint64_t> writes{0};            ///< writes to the socket (calls batch up)
  std::atomic<std::uint64_t> connects{0};          ///< attempts to connect
  std::atomic<std::uint64_t> connect_failures{0};  ///< of those, failed
  std::atomic<std::uint64_t> resets{0};            ///< connections lost or closed on an error
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(const asio::any_io_executor& executor,
             std::shared_ptr<const connection_settings> settings,
             std::shared_ptr<health_listener> health);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Sends `cmd` (connecting first when needed); `done` gets its reply, or an error at
  /// `deadline` at the latest. Any thread. In a backoff, fails at once with not_connected.
  void submit(command cmd, clock::time_point deadline, completion done);
  /// False while the connection waits out a backoff (its calls would fail at once).
  bool usable() const noexcept { return usable_.load(std::memory_order_relaxed); }
  /// Ends a backoff now (the server is back: the circuit breaker's probe got through). Any thread.
  void reset_backoff();
  /// Fails every call with errc::closed and connects no more. Any thread.
  void close();

  const connection_counters& counters() const noexcept { return counters_; }

 private:
  struct link;
  struct call {
    completion done;  // empty once the call timed out: its reply is dropped
    clock::time_point deadline;
  };
  enum class state { idle, connecting, ready, backoff, closed };

  void enqueue(command cmd, clock::time_point deadline, completion done);
  void start();
  asio::awaitable<void> run(std::shared_ptr<link> l);
  asio::awaitable<void> read_loop(std::shared_ptr<link> l);
  void start_write(const std::shared_ptr<link>& l);
  void on_written(const std::shared_ptr<link>& l, std::error_code ec);
  void deliver(call& c, value&& v);
  void fail(std::error_code ec);
  void enter_backoff();
  void arm_deadline(clock::time_point at);
  void on_deadline();

  asio::any_io_executor strand_;
  std::shared_ptr<const connection_settings> settings_;
  std::shared_ptr<health_listener> health_;
  connection_counters counters_;
  std::atomic<bool> usable_{true};

  // On the strand:
  state state_ = state::idle;
  std::shared_ptr<link> link_;  // the connection under way or up; each attempt has its own
  std::string out_;             // commands not yet written
  std::deque<call> pending_;    // calls written or to be written, in order, awaiting replies
  unsigned attempts_ = 0;       // connection failures since the last reply
  asio::steady_timer deadline_timer_;
  clock::time_point armed_at_ = clock::time_point::max();
  asio::steady_timer backoff_timer_;
};

}  // namespace gatehouse::redis
