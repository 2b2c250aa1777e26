#include "http/parser.hpp"

#include "util/text.hpp"

#include <cstring>
#include <iterator>

namespace gatehouse::wire {

namespace {
request_parser& self(llhttp_t* p) { return *static_cast<request_parser*>(p->data); }

using util::trim_blanks;

// Calls f(coding) for each non-empty coding of a comma-separated Transfer-Encoding value.
template <class F>
void for_each_coding(std::string_view value, F f) {
  while (!value.empty()) {
    auto comma = value.find(',');
    auto coding = trim_blanks(value.substr(0, comma));
    if (!coding.empty()) f(coding);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

// True when `head` (bytes of a request head, `before` the byte preceding them) holds a line
// that starts with SP or HTAB: obs-fold (RFC 9112 5.2), which llhttp 8.1 accepts and joins.
bool has_obs_fold(char before, std::string_view head) noexcept {
  auto folds = [](char c) { return c == ' ' || c == '\t'; };
  if (before == '\n' && !head.empty() && folds(head.front())) return true;
  // memchr finds the line ends: far faster than looking at every byte in turn.
  const char* p = head.data();
  const char* end = p + head.size();
  while ((p = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p))))) {
    if (++p == end) break;
    if (folds(*p)) return true;
  }
  return false;
}
}  // namespace

request_parser::request_parser(parser_limits limits) : limits_(limits) {
  llhttp_settings_init(&settings_);
  settings_.on_message_begin = &request_parser::on_message_begin;
  settings_.on_url = &request_parser::on_url;
  settings_.on_header_field = &request_parser::on_header_field;
  settings_.on_header_value = &request_parser::on_header_value;
  settings_.on_header_value_complete = &request_parser::on_header_value_complete;
  settings_.on_headers_complete = &request_parser::on_headers_complete;
  settings_.on_body = &request_parser::on_body;
  settings_.on_message_complete = &request_parser::on_message_complete;
  llhttp_init(&parser_, HTTP_REQUEST, &settings_);
  parser_.data = this;
}

void request_parser::start(request& into) noexcept {
  req_ = &into;
  into.method.clear();
  into.target.clear();
  into.headers.clear();
  into.body.clear();
  header_bytes_ = 0;
  head_wire_bytes_ = 0;
  bytes_seen_ = 0;
  last_head_byte_ = 0;
  in_value_ = false;
  started_ = false;
  expect_continue_ = false;
  head_done_ = false;
  message_done_ = false;
}

request_parser::status request_parser::feed(std::string_view data, std::size_t& consumed) noexcept {
  consumed = 0;
  if (error_status_ != 0) return status::error;
  // Empty input still runs the parser: after the head it may complete a body-less message.
  const bool was_head_done = head_done_;
  llhttp_errno_t err = llhttp_execute(&parser_, data.data(), data.size());
  if (err == HPE_OK) {
    consumed = data.size();
  } else if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
    consumed = static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - data.data());
    if (err == HPE_PAUSED)
      llhttp_resume(&parser_);
    else
      llhttp_resume_after_upgrade(&parser_);
  } else {
    if (error_status_ == 0) {
      error_status_ = 400;
      error_reason_ = llhttp_get_error_reason(&parser_);
      if (error_reason_ == nullptr) error_reason_ = llhttp_errno_name(err);
    }
    return status::error;
  }
  if (started_) bytes_seen_ += consumed;
  if (!was_head_done && consumed > 0) {
    // The parser stops at on_headers_complete, or a body-less message's end: these bytes are all
    // request line and headers.
    std::string_view head = data.substr(0, consumed);
    if (has_obs_fold(last_head_byte_, head)) {
      fail(400, "obsolete line folding in a header field");
      return status::error;
    }
    last_head_byte_ = head.back();
    // Names and values are counted against max_header_bytes; the head as sent must fit too,
    // or whitespace padding and empty fields would make the server read an unbounded head.
    // Besides the target and the fields, allow each line its ": " and CRLF, and a request line.
    head_wire_bytes_ += consumed;
    if (head_wire_bytes_ >
        limits_.max_uri_bytes + limits_.max_header_bytes + 4 * req_->headers.size() + 64) {
      fail(431, "request head too large");
      return status::error;
    }
  }
  // Chunk framing (sizes, extensions, trailers) is not body, but it is bytes a client makes us
  // read: cap the whole message on the wire at the body limit twice over.
  if (was_head_done && !message_done_ &&
      bytes_seen_ > head_wire_bytes_ + 2 * limits_.max_body_bytes + 64 * 1024) {
    fail(413, "request body framing too large");
    return status::error;
  }
  if (message_done_) return status::complete;
  if (head_done_ && !was_head_done) return status::head_complete;
  return status::need_more;
}

request_parser::status request_parser::finish() noexcept {
  if (error_status_ != 0) return status::error;
  if (!started_) return status::need_more;
  if (llhttp_finish(&parser_) != HPE_OK) {
    error_status_ = 400;
    error_reason_ = "connection closed in the middle of a request";
    return status::error;
  }
  return message_done_ ? status::complete : status::need_more;
}

bool request_parser::keep_alive() const noexcept {
  return llhttp_should_keep_alive(&parser_) != 0 && parser_.upgrade == 0;
}

bool request_parser::has_body() const noexcept {
  return (parser_.flags & F_CHUNKED) != 0 || parser_.content_length > 0;
}

int request_parser::fail(int status, const char* reason) noexcept {
  error_status_ = status;
  error_reason_ = reason;
  return HPE_USER;
}

int request_parser::on_message_begin(llhttp_t* p) {
  self(p).started_ = true;
  return HPE_OK;
}

int request_parser::on_url(llhttp_t* p, const char* at, std::size_t len) {
  auto& s = self(p);
  if (s.req_->target.size() + len > s.limits_.max_uri_bytes)
    return s.fail(414, "request target too long");
  s.req_->target.append(at, len);
  return HPE_OK;
}

int request_parser::on_header_field(llhttp_t* p, const char* at, std::size_t len) {
  auto& s = self(p);
  s.header_bytes_ += len;
  if (s.header_bytes_ > s.limits_.max_header_bytes)
    return s.fail(431, "request header fields too large");
  // Trailer fields of a chunked body count against the limit but are dropped: merging them
  // into the headers checked at the head would let them bypass those checks (RFC 9110 6.5.1).
  if (s.head_done_) return HPE_OK;
  auto& headers = s.req_->headers;
  if (headers.empty() || s.in_value_) {
    headers.add_empty().name.assign(at, len);
    s.in_value_ = false;
  } else {
    std::prev(headers.end())->name.append(at, len);
  }
  return HPE_OK;
}

int request_parser::on_header_value(llhttp_t* p, const char* at, std::size_t len) {
  auto& s = self(p);
  s.header_bytes_ += len;
  if (s.header_bytes_ > s.limits_.max_header_bytes)
    return s.fail(431, "request header fields too large");
  if (s.head_done_) return HPE_OK;  // a trailer field
  if (s.req_->headers.empty()) return s.fail(400, "header value without a name");
  std::prev(s.req_->headers.end())->value.append(at, len);
  return HPE_OK;
}

int request_parser::on_header_value_complete(llhttp_t* p) {
  auto& s = self(p);
  if (s.head_done_) return HPE_OK;  // a trailer field
  s.in_value_ = true;               // the next field name starts a new header
  util::trim_blanks_in_place(std::prev(s.req_->headers.end())->value);
  return HPE_OK;
}

int request_parser::check_head() noexcept {
  auto& req = *req_;
  req.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  if (req.target.empty() || req.target.front() != '/') {
    // Absolute-form and authority-form targets are proxy requests, which a gateway does not serve.
    if (req.target != "*" || req.method != "OPTIONS") return fail(400, "bad request target");
  }
  // llhttp 8.1 takes any one-digit version, and "GET /path" without one as HTTP/0.9.
  if (parser_.http_major != 1) return fail(505, "HTTP version not supported");
  // Transfer-Encoding: chunked must be the final coding, once (RFC 9112 6.1, 6.3), else the
  // body length is unknown: 400. A valid list with codings we do not decode: 501. llhttp 8.1
  // would itself refuse some of these, but only after this check has run.
  bool te = false, chunked_last = false, chunked_before = false, other = false;
  int hosts = 0;
  for (const auto& f : req.headers) {
    // llhttp 8.1 (non-strict build) takes ": value" as a field with an empty name.
    if (f.name.empty()) return fail(400, "empty header field name");
    if (iequals(f.name, "transfer-encoding")) {
      te = true;
      for_each_coding(f.value, [&](std::string_view coding) {
        if (chunked_last) chunked_before = true;
        chunked_last = iequals(coding, "chunked");
        if (!chunked_last) other = true;
      });
    }
    // RFC 9112 3.2: a request with more than one Host field gets 400.
    if (iequals(f.name, "host") && ++hosts > 1) return fail(400, "more than one Host field");
    if (iequals(f.name, "expect")) {
      if (iequals(trim_blanks(f.value), "100-continue"))
        expect_continue_ = parser_.http_minor >= 1;  // ignored from HTTP/1.0 (RFC 9110 10.1.1)
      else
        return fail(417, "expectation not supported");
    }
  }
  if (te) {
    if (!chunked_last || chunked_before)
      return fail(400, "chunked is not the final transfer coding");
    if (parser_.http_minor == 0)  // RFC 9112 6.1: faulty framing in an HTTP/1.0 message
      return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (other) return fail(501, "transfer coding other than chunked: unsupported");
  }
  if ((parser_.flags & F_CONTENT_LENGTH) && parser_.content_length > limits_.max_body_bytes)
    return fail(413, "request body too large");
  head_done_ = true;
  // A message with a body stops here (the connection may answer 100 Continue, and the body
  // has its own timeout); one without runs on to its end in the same call.
  return has_body() ? HPE_PAUSED : HPE_OK;
}

int request_parser::on_headers_complete(llhttp_t* p) { return self(p).check_head(); }

int request_parser::on_body(llhttp_t* p, const char* at, std::size_t len) {
  auto& s = self(p);
  if (s.req_->body.size() + len > s.limits_.max_body_bytes)
    return s.fail(413, "request body too large");
  s.req_->body.append(at, len);
  return HPE_OK;
}

int request_parser::on_message_complete(llhttp_t* p) {
  self(p).message_done_ = true;
  return HPE_PAUSED;
}

}  // namespace gatehouse::wire
