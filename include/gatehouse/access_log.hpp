#pragma once

// Access logs: one line per request a stage answers (per connect, message and disconnect of a
// WebSocket stage), in a format of AWS's $context variables, written by a thread of the log's
// own so that no thread that answers requests ever waits for a file or a callback.
//
//   auto log = gatehouse::AccessLog::file("/var/log/petstore/access.log");
//   prod.access_log(gatehouse::access_log_settings{.format = "json", .destination = log});
//   …                       // on SIGHUP, after logrotate renamed the file: log.reopen();

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace gatehouse {

namespace observe {
class log_writer;
}
namespace detail {
struct access;  // the library's own way to what the public types keep private
}

/// How an AccessLog buffers its lines.
struct access_log_options {
  /// Bytes of lines that may wait for the writer, per thread that answers requests (each has a
  /// buffer of its own, taken on its first line). A line that does not fit is dropped and
  /// counted in AccessLog::lines_dropped(); the request is never held up.
  std::size_t buffer_bytes = 1024 * 1024;
  /// How long flush() waits for the writer, and with it Gateway::stop(), the end of
  /// Gateway::async_stop() and the destruction of the last copy of the AccessLog. Past it, at
  /// that destruction, the lines a stalled callback has not taken are left behind: the callback
  /// is not called again once its stalled call returns.
  std::chrono::milliseconds flush_timeout{5000};
};

/// Where access-log lines go: a file, or a callback of the host. Runs one thread of its own (made
/// with the AccessLog, ended with its last copy) that writes the lines in batches. Copies share
/// one destination; several stages may log to one. Thread-safe.
class AccessLog {
 public:
  /// No destination: Stage::access_log refuses it.
  AccessLog() = default;

  /// Appends lines to the file at `path` (made when absent, mode 0644). Throws config_error
  /// naming the path when it cannot be opened.
  static AccessLog file(std::string path, access_log_options options = {});
  /// Calls `sink` with each line (without its line break) on the log's thread, the lines of one
  /// answering thread in order. A sink that is slow or stalls delays only the log: lines past
  /// the buffers are dropped and counted.
  static AccessLog callback(std::function<void(std::string_view line)> sink,
                            access_log_options options = {});

  /// For log rotation (the host owns the signals; call it on SIGHUP): opens the file's path
  /// again, so that lines from now on go to the file there (a new one, after a rename); lines
  /// of requests answered before the call still go to the old file. Does not wait. False, and
  /// the old file kept, when it cannot be opened; false for a callback.
  bool reopen();
  /// Waits until the lines queued before the call have been written, for up to
  /// access_log_options::flush_timeout; false when the time ran out.
  bool flush();
  /// Lines written (handed to the callback) so far.
  std::uint64_t lines_written() const noexcept;
  /// Lines dropped so far because an answering thread's buffer was full (or the file could
  /// not be written).
  std::uint64_t lines_dropped() const noexcept;

  explicit operator bool() const noexcept { return writer_ != nullptr; }

  /// Lines dropped by every AccessLog of the process since it started (for a gauge such as
  /// access_log_lines_dropped).
  static std::uint64_t total_lines_dropped() noexcept;

 private:
  friend struct detail::access;
  const std::shared_ptr<observe::log_writer>& writer() const noexcept { return writer_; }
  explicit AccessLog(std::shared_ptr<observe::log_writer> writer) : writer_(std::move(writer)) {}
  std::shared_ptr<observe::log_writer> writer_{};
};

/// A stage's access logging (AWS's accessLogSettings: a format and a destination).
struct access_log_settings {
  /// A line of text with $context variables (those of the stage's API type, AWS-SEMANTICS.md
  /// §14: REST, HTTP or WebSocket), at most 3 KB for HTTP and WebSocket APIs, with
  /// $context.requestId or $context.extendedRequestId; it may end in a line break. Or the name
  /// of one of AWS's console formats for the API type: "clf", "json", "xml" or "csv".
  /// Values are escaped so that a line keeps its shape: see README "Access logs".
  std::string format = "json";
  AccessLog destination{};
};

}  // namespace gatehouse
