#pragma once

// A request's trace: the id behind both X-Amzn-Trace-Id (AWS X-Ray) and W3C traceparent, taken
// from the client's headers or started here, the spans gatehouse adds, and whether it is sampled.

#include <gatehouse/http.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::observe {

enum class sampling : std::uint8_t { undecided, sampled, not_sampled };

struct trace_context {
  std::uint64_t trace_high = 0;  ///< the 128-bit trace id; its top 32 bits are epoch seconds
  std::uint64_t trace_low = 0;   ///<   when gatehouse started it (X-Ray's Root=1-<time>-<96 bits>)
  std::uint64_t parent = 0;      ///< the caller's span (0: none), parent of the request's span
  std::uint64_t span = 0;        ///< the request's own span
  std::uint64_t integration_span = 0;  ///< the integration call's span: backends' parent
  sampling sampled = sampling::undecided;
  bool started_here = false;        ///< no valid incoming trace header: gatehouse made the id
  bool client_traceparent = false;  ///< the client sent a traceparent (valid or not)
  std::string_view tracestate;      ///< the client's W3C tracestate (passed on, if valid)
  mutable char amzn_text[96] = {};  ///< X-Amzn-Trace-Id as sent to integrations, once made
  mutable std::uint8_t amzn_size = 0;
  mutable char traceparent_text[55] = {};  ///< traceparent as sent to integrations, once made

  bool is_sampled() const noexcept { return sampled == sampling::sampled; }
};

/// Takes the trace from a request's X-Amzn-Trace-Id (preferred: AWS's own) or traceparent, or
/// starts one; gives the request its own span id. One pass over the header fields.
void begin_trace(trace_context& t, const header_map& headers, std::int64_t epoch_seconds) noexcept;

/// X-Amzn-Trace-Id for an integration: Root, Parent (the integration's span), Sampled. Made once
/// per request, kept in the context.
std::string_view amzn_trace_header(const trace_context& t) noexcept;
/// W3C traceparent for an integration: 00-<trace>-<integration span>-<flags> (55 characters).
void write_traceparent(const trace_context& t, char (&out)[55]) noexcept;
/// Appends the trace's header fields for an HTTP backend (X-Amzn-Trace-Id, traceparent and the
/// client's tracestate), each ending in CRLF.
void append_trace_fields(const trace_context& t, std::string& out);
/// True for the header fields a trace replaces (x-amzn-trace-id, traceparent, tracestate).
bool is_trace_field(std::string_view name) noexcept;
/// The value a function's event shows for one of those fields: X-Amzn-Trace-Id always (as AWS
/// adds it), traceparent and tracestate when the client sent a traceparent (nullopt otherwise).
std::optional<std::string_view> trace_field(const trace_context& t, std::string_view name) noexcept;

/// The 32 hex digits of the trace id, 16 of a span id (OTLP JSON, $context.xrayTraceId).
void write_trace_id(const trace_context& t, char (&out)[32]) noexcept;
/// X-Ray's form of the trace id: 1-<8 hex>-<24 hex> (35 characters).
void write_xray_trace_id(const trace_context& t, char (&out)[35]) noexcept;

}  // namespace gatehouse::observe
