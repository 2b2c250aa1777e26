#pragma once

// The access-log flags of the example servers: --access-log FILE [--access-log-format FORMAT],
// and the log's reopening on SIGHUP (for logrotate: the host owns the signals).

#include <gatehouse/gatehouse.hpp>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace examples {

struct access_log_flags {
  std::string file;
  std::string format = "json";  ///< a preset's name (clf, json, xml, csv) or a $context format
  bool format_given = false;

  /// Takes --access-log and --access-log-format (`value` reads the flag's value); false for
  /// any other flag.
  bool take(std::string_view flag, const std::function<std::string()>& value);
  /// What is wrong with the flags together, or "".
  std::string check() const;
  /// Opens the file and logs `stage` to it (config_error for a bad format or file); nullopt
  /// without --access-log.
  std::optional<gatehouse::AccessLog> apply(gatehouse::Stage& stage) const;

  static constexpr const char* usage =
      "[--access-log FILE [--access-log-format clf|json|xml|csv|FORMAT]]";
};

/// Reopens `log` on each SIGHUP (after logrotate renamed its file) while `io` runs.
std::unique_ptr<asio::signal_set> reopen_on_sighup(asio::io_context& io, gatehouse::AccessLog log);

}  // namespace examples
