#include "http/response_parser.hpp"

#include "util/access.hpp"
#include "util/text.hpp"

#include <iterator>

namespace gatehouse::wire {

namespace {
response_parser& self(llhttp_t* p) { return *static_cast<response_parser*>(p->data); }
}  // namespace

response_parser::response_parser(response_limits limits) : limits_(limits) {
  llhttp_settings_init(&settings_);
  settings_.on_message_begin = &response_parser::on_message_begin;
  settings_.on_header_field = &response_parser::on_header_field;
  settings_.on_header_value = &response_parser::on_header_value;
  settings_.on_header_value_complete = &response_parser::on_header_value_complete;
  settings_.on_headers_complete = &response_parser::on_headers_complete;
  settings_.on_body = &response_parser::on_body;
  settings_.on_message_complete = &response_parser::on_message_complete;
  llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
  parser_.data = this;
}

void response_parser::start(response& into, bool head_request) noexcept {
  // A fresh llhttp state per response: one that ended at EOF or in error cannot go on anyway.
  llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
  parser_.data = this;
  res_ = &into;
  body_ = &into.body;
  stop_after_head_ = false;
  head_reported_ = false;
  no_body_ = false;
  into.status = 0;
  into.headers.clear();
  into.headers.reserve(12);  // one allocation instead of the vector doubling field by field
  into.body.clear();
  head_bytes_ = 0;
  body_bytes_ = 0;
  bytes_seen_ = 0;
  head_request_ = head_request;
  in_value_ = false;
  interim_ = false;
  head_done_ = false;
  done_ = false;
  keep_alive_ = false;
  too_large_ = false;
  failed_ = false;
  reason_ = "";
}

response_parser::status response_parser::feed(std::string_view data,
                                              std::size_t& consumed) noexcept {
  consumed = 0;
  if (failed_) return status::error;
  if (done_) return status::complete;
  llhttp_errno_t err = llhttp_execute(&parser_, data.data(), data.size());
  if (err == HPE_OK) {
    consumed = data.size();
  } else if (err == HPE_PAUSED) {
    consumed = static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - data.data());
    llhttp_resume(&parser_);
  } else {
    if (!failed_) {
      failed_ = true;
      reason_ = llhttp_get_error_reason(&parser_);
      if (reason_ == nullptr) reason_ = llhttp_errno_name(err);
    }
    return status::error;
  }
  bytes_seen_ += consumed;
  if (done_) return status::complete;
  if (head_done_ && stop_after_head_ && !head_reported_) {
    head_reported_ = true;
    return status::head_complete;
  }
  return status::need_more;
}

response_parser::status response_parser::finish() noexcept {
  if (failed_) return status::error;
  if (done_) return status::complete;
  // on_message_complete pauses the parser, so a response that ends here finishes with HPE_PAUSED.
  const auto err = bytes_seen_ == 0 ? HPE_INVALID_EOF_STATE : llhttp_finish(&parser_);
  if ((err != HPE_OK && err != HPE_PAUSED) || !done_) {
    failed_ = true;
    reason_ = bytes_seen_ == 0 ? "connection closed before a response"
                               : "connection closed in the middle of a response";
    return status::error;
  }
  keep_alive_ = false;  // delimited by the close
  return status::complete;
}

std::optional<std::size_t> response_parser::content_length() const noexcept { return length_; }

int response_parser::fail(bool too_large, const char* reason) noexcept {
  failed_ = true;
  too_large_ = too_large;
  reason_ = reason;
  return HPE_USER;
}

int response_parser::on_message_begin(llhttp_t* p) {
  auto& s = self(p);
  // After an interim 1xx response the real one starts: forget the interim fields.
  s.res_->headers.clear();
  s.in_value_ = false;
  return HPE_OK;
}

int response_parser::on_header_field(llhttp_t* p, const char* at, std::size_t len) {
  auto& s = self(p);
  if ((s.head_bytes_ += len) > s.limits_.max_head_bytes)
    return s.fail(true, "response head too large");
  if (s.head_done_) return HPE_OK;  // a trailer field: dropped
  auto& headers = s.res_->headers;
  if (headers.empty() || s.in_value_) {
    detail::access::add_empty(headers).name.assign(at, len);
    s.in_value_ = false;
  } else {
    std::prev(headers.end())->name.append(at, len);
  }
  return HPE_OK;
}

int response_parser::on_header_value(llhttp_t* p, const char* at, std::size_t len) {
  auto& s = self(p);
  if ((s.head_bytes_ += len) > s.limits_.max_head_bytes)
    return s.fail(true, "response head too large");
  if (s.head_done_) return HPE_OK;
  if (s.res_->headers.empty()) return s.fail(false, "header value without a name");
  std::prev(s.res_->headers.end())->value.append(at, len);
  return HPE_OK;
}

int response_parser::on_header_value_complete(llhttp_t* p) {
  auto& s = self(p);
  if (s.head_done_) return HPE_OK;
  s.in_value_ = true;
  util::trim_blanks_in_place(std::prev(s.res_->headers.end())->value);
  return HPE_OK;
}

int response_parser::on_headers_complete(llhttp_t* p) {
  auto& s = self(p);
  const int code = p->status_code;
  if (code < 100 || code > 999) return s.fail(false, "bad status code");
  if (p->http_major != 1) return s.fail(false, "not an HTTP/1.x response");
  s.res_->status = code;
  s.interim_ = code >= 100 && code < 200 && code != 101;
  if (s.interim_) return HPE_OK;  // llhttp reads no body for a 1xx; the real response follows
  // Trailer fields of a chunked body are read by llhttp after this; we keep only the head's.
  s.head_done_ = true;
  s.head_bytes_ = 0;
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > s.limits_.max_body_bytes &&
      !s.head_request_)
    return s.fail(true, "response body too large");
  if ((p->flags & F_CONTENT_LENGTH) && !s.head_request_ && !s.stop_after_head_)
    s.res_->body.reserve(static_cast<std::size_t>(p->content_length));
  // llhttp counts content_length down while it reads the body: keep the announced value.
  s.length_.reset();
  if (p->flags & F_CONTENT_LENGTH) s.length_ = static_cast<std::size_t>(p->content_length);
  s.no_body_ = s.head_request_ || code == 204 || code == 304 ||
               ((p->flags & F_CONTENT_LENGTH) && p->content_length == 0);
  // 1: the message has no body (a response to HEAD), whatever its Content-Length says.
  if (s.head_request_) return 1;
  return s.stop_after_head_ ? HPE_PAUSED : 0;
}

int response_parser::on_body(llhttp_t* p, const char* at, std::size_t len) {
  auto& s = self(p);
  if ((s.body_bytes_ += len) > s.limits_.max_body_bytes)
    return s.fail(true, "response body too large");
  s.body_->append(at, len);
  return HPE_OK;
}

int response_parser::on_message_complete(llhttp_t* p) {
  auto& s = self(p);
  if (s.interim_) {
    s.interim_ = false;
    s.res_->status = 0;
    return HPE_OK;  // go on to the final response
  }
  s.done_ = true;
  s.keep_alive_ = llhttp_should_keep_alive(p) != 0;
  return HPE_PAUSED;
}

}  // namespace gatehouse::wire
