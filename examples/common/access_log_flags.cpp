#include "access_log_flags.hpp"

#include <csignal>
#include <cstdio>

namespace examples {

bool access_log_flags::take(std::string_view flag, const std::function<std::string()>& value) {
  if (flag == "--access-log") {
    file = value();
  } else if (flag == "--access-log-format") {
    format = value();
    format_given = true;
  } else {
    return false;
  }
  return true;
}

std::string access_log_flags::check() const {
  if (format_given && file.empty()) return "--access-log-format needs --access-log FILE";
  return "";
}

std::optional<gatehouse::AccessLog> access_log_flags::apply(gatehouse::Stage& stage) const {
  if (file.empty()) return std::nullopt;
  auto log = gatehouse::AccessLog::file(file);
  stage.access_log(gatehouse::access_log_settings{.format = format, .destination = log});
  return log;
}

namespace {
void wait_for_hangup(asio::signal_set& signals, gatehouse::AccessLog log) {
  signals.async_wait([&signals, log](std::error_code ec, int) mutable {
    if (ec) return;
    if (!log.reopen()) std::fprintf(stderr, "cannot reopen the access log\n");
    wait_for_hangup(signals, log);
  });
}
}  // namespace

std::unique_ptr<asio::signal_set> reopen_on_sighup(asio::io_context& io, gatehouse::AccessLog log) {
  auto signals = std::make_unique<asio::signal_set>(io, SIGHUP);
  wait_for_hangup(*signals, std::move(log));
  return signals;
}

}  // namespace examples
