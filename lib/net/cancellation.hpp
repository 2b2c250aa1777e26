#pragma once

// Cancellation inside the gateway, and of the public API's operations (cancellable, below).
//
// Cancelling a backend call when the client of the request it serves goes away: the connection
// owns an asio::cancellation_signal and hands its slot down (reply_target → exchange →
// call_options); the call's operations are bound to it one after another, each replacing the
// last one's handler in the slot's memory, so that no allocation is made per operation.

#include <gatehouse/http_client.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/cancellation_type.hpp>

#include <memory>
#include <utility>

namespace gatehouse::net {

/// What a step needs to be cancelled by its caller: the slot to bind its waits to, and the flag
/// that tells, between waits, that the caller has cancelled (the signal fires once, cancelling
/// the operation awaited then).
struct cancel_handle {
  asio::cancellation_slot slot;
  const bool* cancelled = nullptr;
  bool active() const noexcept { return slot.is_connected(); }
  bool requested() const noexcept { return cancelled && *cancelled; }
};

/// A cancellation handler that does nothing.
struct ignore_cancellation {
  void operator()(asio::cancellation_type) const noexcept {}
};

/// Leaves `slot` with a handler that does nothing, in place of the one the last operation
/// installed, which may refer to objects gone once that operation is over. Unlike clear(), the
/// slot keeps its memory for the next operation.
inline void disarm(asio::cancellation_slot slot) {
  if (slot.is_connected()) slot.emplace<ignore_cancellation>();
}

}  // namespace gatehouse::net

namespace gatehouse::detail {

/// An operation of the public API (Gateway::async_dispatch, async_upgrade,
/// http_client::async_request) that its completion handler's cancellation slot can stop. The
/// slot holds a cancel_forward, which may fire from any thread at any time, also long after the
/// operation completed: it reaches the operation through a weak reference and its strand only.
/// Everything else here belongs to the strand. The operation completes once: by its own end
/// (complete()) or by a cancellation that came first.
class cancellable : public std::enable_shared_from_this<cancellable> {
 public:
  explicit cancellable(asio::any_io_executor strand) : strand_(std::move(strand)) {}
  virtual ~cancellable() = default;
  cancellable(const cancellable&) = delete;
  cancellable& operator=(const cancellable&) = delete;

  /// From any thread. Terminal and partial cancellation stop the operation (on its strand);
  /// total alone does not: an operation under way cannot promise that it had no effect.
  void request(asio::cancellation_type type) noexcept;

  /// The strand the operation runs on.
  const asio::any_io_executor& strand() const noexcept { return strand_; }
  /// The operation was cancelled (and has completed with operation_aborted).
  bool cancelled() const noexcept { return cancelled_; }
  /// What the operation's steps bind their waits to: `signal`'s slot, and the flag that tells
  /// between waits that the operation was cancelled.
  net::cancel_handle handle(asio::cancellation_signal& signal) const noexcept {
    return {signal.slot(), &cancelled_};
  }

  /// Completes the operation, unless a cancellation did so first.
  void complete(asio::error_code ec, response res) {
    if (std::exchange(completed_, true)) return;
    done(ec, std::move(res));
  }
  callback<asio::error_code, response> done;

 protected:
  /// On the strand, once, when a cancellation comes before completion: stops what the
  /// operation waits on. It completes with operation_aborted right after.
  virtual void stop() = 0;

 private:
  void cancel_now();

  asio::any_io_executor strand_;
  bool cancelled_ = false;
  bool completed_ = false;
};

}  // namespace gatehouse::detail
