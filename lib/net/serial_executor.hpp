#pragma once

// The executor one connection's (or one call's) work runs on: a strand, so that its steps stay
// serial whatever threads run the io_context, unless the host promised a single thread.

#include <asio/any_io_executor.hpp>
#include <asio/detail/concurrency_hint.hpp>
#include <asio/detail/scheduler.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>

namespace gatehouse::net {

/// True for the concurrency hints by which a host promises that one thread runs the io_context:
/// 1, and Asio's special hints without scheduler or reactor I/O locking
/// (ASIO_CONCURRENCY_HINT_UNSAFE_IO, ASIO_CONCURRENCY_HINT_UNSAFE).
constexpr bool promises_one_thread(int hint) noexcept {
  if (hint == 1) return true;
  if (!ASIO_CONCURRENCY_HINT_IS_SPECIAL(hint)) return false;
  return !ASIO_CONCURRENCY_HINT_IS_LOCKING(SCHEDULER, hint) ||
         !ASIO_CONCURRENCY_HINT_IS_LOCKING(REACTOR_IO, hint);
}

inline asio::any_io_executor serial_executor(const asio::any_io_executor& ex) {
  if (const auto* io = ex.target<asio::io_context::executor_type>()) {
    // One thread runs the io_context: work is serial already, and a strand would only add a
    // queue and a lock to every completion.
    if (promises_one_thread(
            asio::use_service<asio::detail::scheduler>(io->context()).concurrency_hint()))
      return *io;
    // A strand over the io_context's own executor fits inside any_io_executor; a strand over an
    // any_io_executor does not, and then costs heap allocations on every operation.
    return asio::make_strand(*io);
  }
  return asio::make_strand(ex);
}

}  // namespace gatehouse::net
