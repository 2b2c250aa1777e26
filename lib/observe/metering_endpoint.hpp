#pragma once

// GET /metering on the operator listener (Gateway::listen_metrics): the metering report of
// ?from=…&to=… (ISO 8601 or epoch seconds; by default everything) as ?format=json (the
// default) or csv. Bad parameters get a 400 with a JSON message.

#include <gatehouse/http.hpp>

#include <chrono>
#include <optional>
#include <string_view>

namespace gatehouse::observe {

class meter;

/// The answer to a GET of /metering (`m` null: metering is off). Throws only for lack of memory.
response metering_response(meter* m, const request& req);

/// A time as /metering takes it: epoch seconds, or ISO 8601 (a date, or a date and time with
/// an optional zone; UTC without one). nullopt when it is neither.
std::optional<std::chrono::system_clock::time_point> parse_time(std::string_view text);

}  // namespace gatehouse::observe
