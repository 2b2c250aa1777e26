#pragma once

// llhttp glue: turns bytes from a connection into gatehouse::request values, one message at a
// time, with the server's limits and the strict framing rules a gateway needs (no smuggling).

#include <gatehouse/http.hpp>

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gatehouse::wire {

struct parser_limits {
  std::size_t max_header_bytes = 10240;
  std::size_t max_uri_bytes = 10240;
  std::size_t max_body_bytes = 10 * 1024 * 1024;
};

class request_parser {
 public:
  enum class status {
    need_more,      ///< all input consumed, message not finished
    head_complete,  ///< the request line and headers are in; the body follows
    complete,       ///< a whole message is in `request()`
    error,          ///< bad input: answer error_status() and close
  };

  explicit request_parser(parser_limits limits);
  request_parser(const request_parser&) = delete;
  request_parser& operator=(const request_parser&) = delete;

  /// Starts the next message into `into` (cleared first).
  void start(request& into) noexcept;

  /// Consumes bytes from `data`; stops after the head of a message with a body, and after a
  /// complete message (a message without a body reports only `complete`).
  /// `consumed` says how many bytes were used.
  status feed(std::string_view data, std::size_t& consumed) noexcept;

  /// Tells the parser the peer closed the connection (a message without length ends here).
  status finish() noexcept;

  /// HTTP status to answer when feed() said error: 400, 413, 414, 417, 431, 501 or 505.
  int error_status() const noexcept { return error_status_; }
  std::string_view error_reason() const noexcept { return error_reason_; }

  /// Valid after head_complete (or complete).
  bool keep_alive() const noexcept;
  bool expects_continue() const noexcept { return expect_continue_; }
  bool has_body() const noexcept;
  /// An HTTP/1.0 request: keep-alive must then be announced in the response.
  bool http10() const noexcept { return parser_.http_major == 1 && parser_.http_minor == 0; }
  bool in_message() const noexcept { return started_; }
  std::size_t bytes_seen() const noexcept { return bytes_seen_; }

 private:
  static int on_message_begin(llhttp_t*);
  static int on_url(llhttp_t*, const char*, std::size_t);
  static int on_header_field(llhttp_t*, const char*, std::size_t);
  static int on_header_value(llhttp_t*, const char*, std::size_t);
  static int on_header_value_complete(llhttp_t*);
  static int on_headers_complete(llhttp_t*);
  static int on_body(llhttp_t*, const char*, std::size_t);
  static int on_message_complete(llhttp_t*);

  int fail(int status, const char* reason) noexcept;
  int check_head() noexcept;

  llhttp_t parser_{};
  llhttp_settings_t settings_{};
  parser_limits limits_;
  request* req_ = nullptr;
  std::size_t header_bytes_ = 0;
  std::size_t head_wire_bytes_ = 0;  // the request line and header section as sent
  std::size_t bytes_seen_ = 0;
  char last_head_byte_ = 0;  // the byte before the current input, while in the head
  bool in_value_ = false;
  bool started_ = false;
  bool expect_continue_ = false;
  bool head_done_ = false;
  bool message_done_ = false;
  int error_status_ = 0;
  const char* error_reason_ = "";
};

}  // namespace gatehouse::wire
