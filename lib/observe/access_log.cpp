// The public face of access logs (AccessLog, Stage::access_log, WebSocketStage::access_log) and
// a stage's log as the observer writes it.

#include "observe/access_log_line.hpp"
#include "observe/stage_access_log.hpp"
#include "routing/deployment.hpp"
#include "util/access.hpp"
#include "websocket/api_host.hpp"

#include <gatehouse/access_log.hpp>
#include <gatehouse/config_error.hpp>
#include <gatehouse/stage.hpp>
#include <gatehouse/websocket_api.hpp>

#include <fmt/format.h>

namespace gatehouse {

namespace observe {

void stage_access_log::write(const request_facts& facts) const noexcept {
  // Most lines are rendered straight into the thread's buffer of the writer; a longer one, or
  // one where the buffer wraps, is copied into it.
  constexpr std::size_t usual = 2048;
  try {
    if (char* room = writer->reserve(usual)) {
      auto line = render_access_log_line(format, facts, {room, usual});
      if (line.data() == room)
        writer->commit(line.size());
      else
        writer->push(line);
      return;
    }
    writer->push(render_access_log_line(format, facts));
  } catch (...) {  // no memory for the line: it is dropped, as one that does not fit
    writer->drop();
  }
}

namespace {
log_api api_of(api_type type) noexcept {
  return type == api_type::http ? log_api::http : log_api::rest;
}
}  // namespace

std::shared_ptr<const stage_access_log> make_stage_access_log(const access_log_settings& settings,
                                                              log_api api, std::string_view where) {
  const auto& writer = detail::access::writer(settings.destination);
  if (!writer)
    throw config_error(
        fmt::format("{}: access log without a destination (AccessLog::file or "
                    "AccessLog::callback)",
                    where));
  auto log = std::make_shared<stage_access_log>();
  log->format_as_given = settings.format;
  log->format = compile_access_log_format(settings.format, api, where);
  log->writer = writer;
  return log;
}

std::shared_ptr<const stage_access_log> access_log_for(
    const std::shared_ptr<const stage_access_log>& log, api_type type, std::string_view stage) {
  if (!log || log->format.api == log_api::websocket || log->format.api == api_of(type)) return log;
  auto again = std::make_shared<stage_access_log>(*log);
  again->format = compile_access_log_format(log->format_as_given, api_of(type),
                                            fmt::format("stage '{}'", stage));
  return again;
}

}  // namespace observe

AccessLog AccessLog::file(std::string path, access_log_options options) {
  return AccessLog(std::make_shared<observe::log_writer>(std::move(path), options));
}

AccessLog AccessLog::callback(std::function<void(std::string_view line)> sink,
                              access_log_options options) {
  return AccessLog(std::make_shared<observe::log_writer>(std::move(sink), options));
}

bool AccessLog::reopen() { return writer_ && writer_->reopen(); }
bool AccessLog::flush() { return !writer_ || writer_->flush(); }
std::uint64_t AccessLog::lines_written() const noexcept {
  return writer_ ? writer_->lines_written() : 0;
}
std::uint64_t AccessLog::lines_dropped() const noexcept {
  return writer_ ? writer_->lines_dropped() : 0;
}
std::uint64_t AccessLog::total_lines_dropped() noexcept {
  return observe::log_writer::total_lines_dropped();
}

Stage& Stage::access_log(std::optional<access_log_settings> settings) {
  std::shared_ptr<const observe::stage_access_log> log;
  if (settings)
    log = observe::make_stage_access_log(*settings,
                                         observe::api_of(state_->load()->deployment->api.type),
                                         fmt::format("stage '{}'", state_->name));
  detail::update_stage(*state_, [&](detail::stage_snapshot& s) {
    // A redeploy in between may have changed the API's type.
    s.access_log = observe::access_log_for(log, s.deployment->api.type, s.name);
  });
  return *this;
}

WebSocketStage& WebSocketStage::access_log(std::optional<access_log_settings> settings) {
  std::shared_ptr<const observe::stage_access_log> log;
  if (settings)
    log = observe::make_stage_access_log(*settings, observe::log_api::websocket,
                                         fmt::format("WebSocket stage '{}'", state_->name));
  // Its events are recorded on its routes stage (websocket/ and pipeline::record_event).
  detail::update_stage(*detail::access::state(*state_->routes),
                       [&](detail::stage_snapshot& s) { s.access_log = log; });
  return *this;
}

}  // namespace gatehouse
