#pragma once

// Test support for per-operation cancellation: a cancellation signal emitted by a timer, as a
// host without asio::cancel_after (Asio before 1.30) cancels an operation after a delay, and a
// record of when the signal fired and when the operation completed.

#include "eventually.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

namespace test {

/// A signal that fires `delay` after start(); the handler bound to its slot records completion.
class cancel_timer {
 public:
  using clock = std::chrono::steady_clock;

  explicit cancel_timer(const asio::any_io_executor& ex) : timer_(ex) {}

  asio::cancellation_slot slot() { return signal_.slot(); }

  /// Arms the timer; the signal is emitted on the timer's executor (terminal unless told).
  void start(std::chrono::milliseconds delay,
             asio::cancellation_type type = asio::cancellation_type::terminal) {
    started_ = clock::now();
    timer_.expires_after(delay);
    timer_.async_wait([this, type](std::error_code ec) {
      if (ec) return;
      fired_at_ = clock::now();
      fired_ = true;
      signal_.emit(type);
    });
  }
  /// For the completion handler.
  void completed() {
    completed_at_ = clock::now();
    completed_flag_ = true;
  }
  bool is_completed() const { return completed_flag_.load(); }
  bool fired() const { return fired_.load(); }

  /// Waits (up to `limit`) for the completion; true when it came.
  bool wait_completed(std::chrono::milliseconds limit) const {
    auto deadline = clock::now() + limit;
    while (!completed_flag_.load()) {
      if (clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }
  /// From start() to the completion, and from the signal to the completion.
  std::chrono::milliseconds total() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(completed_at_ - started_);
  }
  std::chrono::microseconds latency() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(completed_at_ - fired_at_);
  }

 private:
  asio::steady_timer timer_;
  asio::cancellation_signal signal_;
  clock::time_point started_, fired_at_, completed_at_;
  std::atomic<bool> fired_{false}, completed_flag_{false};
};

}  // namespace test
