#pragma once

// A stage's access log as its snapshot holds it: the compiled format and the writer its lines
// go to. Set by Stage::access_log and WebSocketStage::access_log; written by the observer.

#include "observe/access_log_format.hpp"
#include "observe/access_log_writer.hpp"
#include "observe/request_facts.hpp"

#include <gatehouse/access_log.hpp>
#include <gatehouse/router.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace gatehouse::observe {

struct stage_access_log {
  std::string format_as_given;  // a preset's name or a format, compiled again on a redeploy
  access_log_format format;
  std::shared_ptr<log_writer> writer;

  /// Formats the request's line on this thread and queues it. Never throws, never waits.
  void write(const request_facts& facts) const noexcept;
};

/// Compiles `settings` for an API of type `api`; throws config_error naming `where` (the stage).
std::shared_ptr<const stage_access_log> make_stage_access_log(const access_log_settings& settings,
                                                              log_api api, std::string_view where);

/// `log` for a deployment of type `type`: itself when it was compiled for that type (or for a
/// WebSocket API), else compiled again. Throws config_error naming the stage.
std::shared_ptr<const stage_access_log> access_log_for(
    const std::shared_ptr<const stage_access_log>& log, api_type type, std::string_view stage);

}  // namespace gatehouse::observe
