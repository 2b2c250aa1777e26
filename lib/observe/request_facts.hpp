#pragma once

// What the gateway knows of a request once its response has gone out: what metrics, access
// logs, traces and metering record (the step after the response in DESIGN.md's pipeline).

#include <gatehouse/http.hpp>

#include <chrono>
#include <cstdint>

namespace gatehouse::detail {
struct exchange;
struct gateway_error;
}  // namespace gatehouse::detail

namespace gatehouse::observe {

struct request_facts {
  const detail::exchange& ex;  ///< the request's state at its end (stage, route, auth, key)
  const response& res;         ///< as answered: status, fields; a streamed body's first bytes
  const detail::gateway_error* error;  ///< the gateway response the request ended with, if any
  bool cache_hit = false;              ///< answered from the stage cache
  bool abandoned = false;              ///< its client (or the host) gave it up while it waited
  std::uint64_t body_bytes = 0;        ///< payload bytes sent ($context.responseLength)
  /// Everything written to the client for it, head and body (a host that dispatches writes the
  /// head itself: then the head counts as HTTP/1.1 would send it).
  std::uint64_t bytes_out = 0;
  std::chrono::nanoseconds latency{0};  ///< from the request's arrival to its response sent
};

}  // namespace gatehouse::observe
