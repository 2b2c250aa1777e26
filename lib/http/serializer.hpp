#pragma once

// Writes responses as HTTP/1.1 bytes. The serializer owns framing: it sets Content-Length,
// Connection and Date itself and drops any framing fields a response carries.

#include <gatehouse/http.hpp>

#include <string>
#include <string_view>

namespace gatehouse::wire {

/// "OK", "Not Found", …; "Unknown" for a status without a registered phrase.
std::string_view reason_phrase(int status) noexcept;

/// Today's IMF-fixdate ("Tue, 24 Nov 2026 01:02:03 GMT"), recomputed at most once a second.
std::string_view http_date_now() noexcept;

/// How a response's body is framed on the wire.
struct body_framing {
  enum kind_t {
    whole,        ///< Content-Length: the size of res.body
    sized,        ///< Content-Length: `length` (a body sent in pieces)
    chunked,      ///< Transfer-Encoding: chunked (a body of unknown length)
    until_close,  ///< no length: the body ends with the connection (HTTP/1.0 peers)
  } kind = whole;
  std::size_t length = 0;
};

/// Appends the status line and header fields of `res`, ending with the blank line.
/// `http10_keep_alive` announces a kept connection to an HTTP/1.0 client; a `request_id` is
/// sent as x-amzn-RequestId (after the response's own fields).
void write_head(const response& res, bool keep_alive, std::string& out,
                bool http10_keep_alive = false, body_framing framing = {},
                std::string_view request_id = {});

/// True when a response to `method` with `status` carries no body on the wire.
bool body_forbidden(std::string_view method, int status) noexcept;

}  // namespace gatehouse::wire
