#pragma once

// Cancelling a backend call when the client of the request it serves goes away: the connection
// owns an asio::cancellation_signal and hands its slot down (reply_target → exchange →
// call_options); the call's operations are bound to it one after another, each replacing the
// last one's handler in the slot's memory, so that no allocation is made per operation.

#include <asio/cancellation_signal.hpp>
#include <asio/cancellation_type.hpp>

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
