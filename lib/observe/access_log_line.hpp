#pragma once

// One access-log line: a compiled format's pieces with the values of a request that has been
// answered. The values the request alone determines come from transform::context_text; the
// response's own (status, latencies, errors, lengths) are resolved here.

#include "observe/access_log_format.hpp"
#include "observe/request_facts.hpp"

#include <span>
#include <string_view>

namespace gatehouse::observe {

/// The line for `facts`, without its line break, in a buffer of the calling thread: valid until
/// the thread's next call. No allocation once the buffer has grown to a line's size.
std::string_view render_access_log_line(const access_log_format& format,
                                        const request_facts& facts);
/// The same, begun in `room` (a reservation in a log writer's buffer): the line is there when
/// the view points there, else (a longer line) in the thread's buffer.
std::string_view render_access_log_line(const access_log_format& format, const request_facts& facts,
                                        std::span<char> room);

}  // namespace gatehouse::observe
