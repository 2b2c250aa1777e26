#pragma once

// llhttp glue for the client side: turns bytes from an upstream connection into a
// gatehouse::response, with limits on the head and the body. Interim 1xx responses are skipped.

#include <gatehouse/http.hpp>

#include <llhttp.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::wire {

struct response_limits {
  std::size_t max_head_bytes = 64 * 1024;
  std::size_t max_body_bytes = 10 * 1024 * 1024;
};

class response_parser {
 public:
  enum class status {
    need_more,      ///< all input consumed, response not finished
    head_complete,  ///< (streaming) the head is in; body bytes follow with further feeds
    complete,       ///< a whole response is in the target
    error,          ///< not valid HTTP, or over a limit (see too_large())
  };

  explicit response_parser(response_limits limits);
  response_parser(const response_parser&) = delete;
  response_parser& operator=(const response_parser&) = delete;

  /// Starts reading the response to a request; a response to HEAD has no body.
  void start(response& into, bool head_request) noexcept;
  /// Makes feed() stop after the head (head_complete), so the body can be passed on in pieces.
  void stop_after_head() noexcept { stop_after_head_ = true; }
  /// Where body bytes go from now on (by default the response's body).
  void body_into(std::string& out) noexcept { body_ = &out; }
  /// Valid after the head: the body's announced length, if any.
  std::optional<std::size_t> content_length() const noexcept;
  /// Valid after the head: the response has no body at all.
  bool bodiless() const noexcept { return no_body_; }
  /// Consumes bytes; stops after a complete response (`consumed` says how many were used).
  status feed(std::string_view data, std::size_t& consumed) noexcept;
  /// The peer closed: a response delimited by the end of the connection completes here.
  status finish() noexcept;

  /// Valid after complete: the connection may carry another request.
  bool keep_alive() const noexcept { return keep_alive_; }
  /// Whether any byte of the response has arrived.
  bool started() const noexcept { return bytes_seen_ > 0; }
  bool too_large() const noexcept { return too_large_; }
  std::string_view error_reason() const noexcept { return reason_; }

 private:
  static int on_message_begin(llhttp_t*);
  static int on_header_field(llhttp_t*, const char*, std::size_t);
  static int on_header_value(llhttp_t*, const char*, std::size_t);
  static int on_header_value_complete(llhttp_t*);
  static int on_headers_complete(llhttp_t*);
  static int on_body(llhttp_t*, const char*, std::size_t);
  static int on_message_complete(llhttp_t*);
  int fail(bool too_large, const char* reason) noexcept;

  llhttp_t parser_{};
  llhttp_settings_t settings_{};
  response_limits limits_;
  response* res_ = nullptr;
  std::string* body_ = nullptr;
  bool stop_after_head_ = false;
  bool head_reported_ = false;
  bool no_body_ = false;
  std::size_t head_bytes_ = 0;
  std::size_t body_bytes_ = 0;
  std::optional<std::size_t> length_;
  std::size_t bytes_seen_ = 0;
  bool head_request_ = false;
  bool in_value_ = false;
  bool interim_ = false;  // the message being read is a 1xx
  bool head_done_ = false;
  bool done_ = false;
  bool keep_alive_ = false;
  bool too_large_ = false;
  bool failed_ = false;
  const char* reason_ = "";
};

}  // namespace gatehouse::wire
