#pragma once

// One access-log line: a compiled format's pieces with the values of a request that has been
// answered. The values the request alone determines come from transform::append_context_value;
// the response's own (status, latencies, errors, lengths) are resolved here.

#include "observe/access_log_format.hpp"
#include "observe/request_facts.hpp"

#include <string>

namespace gatehouse::observe {

/// Appends the line for `facts` to `line` (without its line break). No allocation once `line`
/// and the thread's scratch buffer have grown to a line's size.
void render_access_log_line(const access_log_format& format, const request_facts& facts,
                            std::string& line);

}  // namespace gatehouse::observe
