#include "http/parser.hpp"

#include "util/access.hpp"
#include "util/text.hpp"

#include <array>
#include <cstdint>
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

// Byte classes of a request target and a Host value (RFC 3986, RFC 9112 3.2-3.2.3), so that each
// is checked in one pass of table look-ups.
enum : std::uint8_t {
  in_target = 1,    // pchar, "/" and "?": unreserved, sub-delims, ":", "@" (RFC 3986 3.3, 3.4)
  target_mark = 2,  // '%' and '#': allowed, but they say what may follow
  in_host = 4,      // reg-name, IP-literal and port: unreserved, sub-delims, ":", "[", "]", '%'
  path_only = 8,    // '{', '|', '}': AWS refuses them unencoded in a query string
};
constexpr std::array<std::uint8_t, 256> uri_classes = [] {
  std::array<std::uint8_t, 256> t{};
  auto set = [&](std::string_view chars, std::uint8_t cls) {
    for (char c : chars) t[static_cast<unsigned char>(c)] |= cls;
  };
  for (int c = 'a'; c <= 'z'; ++c) t[c] = in_target | in_host;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = in_target | in_host;
  for (int c = '0'; c <= '9'; ++c) t[c] = in_target | in_host;
  set("-._~!$&'()*+,;=:", in_target | in_host);
  set("@/?", in_target);
  // Printable bytes RFC 3986 leaves out that browsers send as they are (nginx takes them too):
  // refusing them would refuse real clients, and they carry no framing.
  set("\"<>\\^`[]", in_target);
  set("{|}", path_only);
  set("%#", target_mark);
  set("[]%", in_host);
  return t;
}();

// Whether every byte of `s` has class `cls`: one AND over the bytes' classes, without a branch
// per byte.
bool all_in(std::string_view s, std::uint8_t cls) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::uint8_t all = cls;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4)  // four at a time: two instructions a byte instead of five
    all &=
        uri_classes[p[i]] & uri_classes[p[i + 1]] & uri_classes[p[i + 2]] & uri_classes[p[i + 3]];
  for (; i < n; ++i) all &= uri_classes[p[i]];
  return all == cls;
}

bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

// Checks an origin-form (or asterisk-form) target: no raw bytes over 0x7F, controls or SP, no
// '{', '|', '}' in the query (AWS refuses them there), and in the path '%' only as "%" HEXDIG
// HEXDIG, as nginx checks it. Sets `fragment` to where a '#' begins the
// fragment (or npos). False when the target is not one a server may take.
bool check_target(std::string_view t, std::size_t& fragment) noexcept {
  fragment = std::string_view::npos;
  if (all_in(t, in_target)) return true;  // no '%', no '#', nothing refused: most targets
  bool in_path = true;
  const std::size_t n = t.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(t[i]);
    if (c == '?') in_path = false;
    const auto cls = uri_classes[c];
    if (cls & in_target) continue;
    if (cls & path_only) {
      if (!in_path) return false;
      continue;
    }
    if (!(cls & target_mark)) return false;
    if (c == '%') {
      if (in_path && (i + 2 >= n || !is_hex(t[i + 1]) || !is_hex(t[i + 2]))) return false;
    } else if (fragment == std::string_view::npos) {  // '#': a fragment holds no second one
      fragment = i;
      in_path = false;
    } else {
      return false;
    }
  }
  return true;
}

// Whether `n` bytes at `p` hold a SP, eight at a time (a field name is short: a call to memchr
// would cost more than the bytes).
bool has_space(const char* p, std::size_t n) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  auto word_has = [p](std::size_t at) {
    std::uint64_t w;
    std::memcpy(&w, p + at, 8);
    w ^= 0x2020202020202020u;               // SP bytes become zero
    return ((w - ones) & ~w & highs) != 0;  // some byte is zero
  };
  if (n < 8) {
    if (n < 4) return n > 0 && (p[0] == ' ' || p[n / 2] == ' ' || p[n - 1] == ' ');
    std::uint32_t a, b;  // the first four and the last four, overlapping
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    a ^= 0x20202020u;
    b ^= 0x20202020u;
    return (((a - 0x01010101u) & ~a) | ((b - 0x01010101u) & ~b)) & 0x80808080u;
  }
  for (std::size_t i = 0; i + 8 < n; i += 8)
    if (word_has(i)) return true;
  return word_has(n - 8);  // the last eight, overlapping
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
  // llhttp 8.1 (non-strict build) takes SP as a name character, so "X-Api-Key : v" would be a
  // field named "X-Api-Key " that no check looks at, yet a lenient backend trims: RFC 9112 5.1
  // says 400. (Names of fields llhttp knows, such as Content-Length, it refuses itself.)
  if (has_space(at, len))
    return s.fail(400, "whitespace between a header field name and the colon");
  // Trailer fields of a chunked body count against the limit but are dropped: merging them
  // into the headers checked at the head would let them bypass those checks (RFC 9110 6.5.1).
  if (s.head_done_) return HPE_OK;
  auto& headers = s.req_->headers;
  if (headers.empty() || s.in_value_) {
    detail::access::add_empty(headers).name.assign(at, len);
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
  // llhttp 8.1 (non-strict) takes HTAB, FF and bytes over 0x7F in a target: strict servers
  // refuse them, and AWS refuses '|', '{', '}' in a query.
  std::size_t fragment = 0;
  if (!check_target(req.target, fragment)) return fail(400, "request target outside RFC 3986");
  // A fragment is the client's own (RFC 9110 7.1): never routed, signed or sent on.
  if (fragment != std::string::npos) req.target.resize(fragment);
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
    // RFC 9112 3.2: more than one Host field, or one whose value is no uri-host[:port], is 400.
    if (iequals(f.name, "host")) {
      if (++hosts > 1) return fail(400, "more than one Host field");
      if (!all_in(f.value, in_host)) return fail(400, "Host value is not a host[:port]");
    }
    if (iequals(f.name, "expect")) {
      if (iequals(trim_blanks(f.value), "100-continue"))
        expect_continue_ = parser_.http_minor >= 1;  // ignored from HTTP/1.0 (RFC 9110 10.1.1)
      else
        return fail(417, "expectation not supported");
    }
  }
  // RFC 9112 3.2: an HTTP/1.1 request without Host is 400 (HTTP/1.0 ones may lack it).
  if (hosts == 0 && parser_.http_minor >= 1) return fail(400, "HTTP/1.1 request without Host");
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
