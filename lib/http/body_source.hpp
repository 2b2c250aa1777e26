#pragma once

// A response body that is still arriving (from a backend) and is passed on as it comes,
// instead of being buffered whole: what the HTTP proxy hands the server for large bodies.

#include <asio/awaitable.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <system_error>

namespace gatehouse::wire {

class body_source {
 public:
  virtual ~body_source() = default;
  /// The body's length when the backend announced it; nullopt when it ends with its framing.
  virtual std::optional<std::size_t> length() const noexcept = 0;
  /// Replaces `out` with the next bytes of the body (at least one unless at the end). `done` is
  /// set after the last bytes. An error means the body cannot be completed.
  virtual asio::awaitable<std::error_code> read(std::string& out, bool& done) = 0;
};

/// Reads what is left of `source` onto the end of `body`.
asio::awaitable<std::error_code> drain(body_source& source, std::string& body);

}  // namespace gatehouse::wire
