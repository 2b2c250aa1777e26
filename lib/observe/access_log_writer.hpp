#pragma once

// Where access-log lines go without ever making a thread that answers requests wait: each such
// thread copies its lines into a bounded buffer of its own (a single-producer ring; no lock, no
// shared write but the drop counter), and one writer thread per destination drains the buffers
// into a file (appending; reopened by path for rotation) or a host callback. A line that does
// not fit is dropped and counted.

#include <gatehouse/access_log.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace gatehouse::observe {

class log_writer {
 public:
  /// Appends to the file at `path`; throws config_error when it cannot be opened.
  log_writer(std::string path, const access_log_options& options);
  /// Hands each line to `sink` on the writer's thread.
  log_writer(std::function<void(std::string_view)> sink, const access_log_options& options);
  /// Writes what is queued (for up to options.flush_timeout) and ends the writer's thread.
  ~log_writer();
  log_writer(const log_writer&) = delete;
  log_writer& operator=(const log_writer&) = delete;

  /// Queues a line (without its line break) from the calling thread. Never waits; false when
  /// the thread's buffer has no room for it (then it counts as dropped).
  bool push(std::string_view line) noexcept;
  /// Room for a line of up to `n` bytes in one piece in the calling thread's buffer, to render
  /// it there rather than copy it (null when there is not that much in one piece: then push()).
  /// commit() queues it; a reservation not committed is forgotten.
  char* reserve(std::size_t n) noexcept;
  /// Queues the `length` bytes written at the calling thread's last reserve() as a line.
  void commit(std::size_t length) noexcept;
  /// Counts a line that could not be made.
  void drop() noexcept;
  /// Opens the path again: lines queued before the call still go to the old file, later ones to
  /// the new. False (the old file kept) when it cannot be opened, or for a callback.
  bool reopen();
  /// Waits until the lines queued before the call are written, up to options.flush_timeout.
  bool flush();
  std::uint64_t lines_written() const noexcept;
  std::uint64_t lines_dropped() const noexcept;

  /// Lines dropped by every writer of the process since it started.
  static std::uint64_t total_lines_dropped() noexcept;

  struct core;  // shared with the writer's thread and the threads' buffers

 private:
  void start();
  std::shared_ptr<core> core_;
  std::thread thread_;
};

}  // namespace gatehouse::observe
