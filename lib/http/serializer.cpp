#include "http/serializer.hpp"

#include "util/coarse_clock.hpp"
#include "util/sized_writer.hpp"

#include <charconv>
#include <chrono>
#include <ctime>

namespace gatehouse::wire {

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 205:
      return "Reset Content";
    case 206:
      return "Partial Content";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Entity";
    case 425:
      return "Too Early";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string_view http_date_now() noexcept {
  struct cache {
    std::time_t second = -1;
    char text[40] = {};
    std::size_t size = 0;
  };
  thread_local cache c;
  const std::time_t now = util::coarse_time_now();
  if (now != c.second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    c.size = std::strftime(c.text, sizeof c.text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    c.second = now;
  }
  return {c.text, c.size};
}

bool body_forbidden(std::string_view method, int status) noexcept {
  return method == "HEAD" || (status >= 100 && status < 200) || status == 204 || status == 304;
}

namespace {
// The framing fields the serializer writes itself (and Date, which it adds when missing):
// checked by first letter before comparing, since most names start otherwise.
enum class own_field { none, framing, date };
own_field own_field_of(std::string_view name) noexcept {
  if (name.empty()) return own_field::none;
  switch (name.front() | 0x20) {
    case 'c':
      return iequals(name, "content-length") || iequals(name, "connection") ? own_field::framing
                                                                            : own_field::none;
    case 't':
      return iequals(name, "transfer-encoding") ? own_field::framing : own_field::none;
    case 'd':
      return iequals(name, "date") ? own_field::date : own_field::none;
    default:
      return own_field::none;
  }
}

}  // namespace

void write_head(const response& res, bool keep_alive, std::string& out, bool http10_keep_alive,
                body_framing framing, std::string_view request_id) {
  constexpr std::string_view request_id_name = "x-amzn-RequestId: ";
  const bool has_length = !(res.status >= 100 && res.status < 200) && res.status != 204;
  char length[24];
  std::string_view length_text;
  std::string_view framing_field;
  if (has_length) {
    switch (framing.kind) {
      case body_framing::whole:
      case body_framing::sized:
        length_text = {length,
                       static_cast<std::size_t>(std::to_chars(length, length + sizeof length,
                                                              framing.kind == body_framing::whole
                                                                  ? res.body.size()
                                                                  : framing.length)
                                                    .ptr -
                                                length)};
        framing_field = "Content-Length: ";
        break;
      case body_framing::chunked:
        framing_field = "Transfer-Encoding: chunked";
        break;
      case body_framing::until_close:
        break;
    }
  }
  const std::string_view connection = !keep_alive         ? "Connection: close\r\n"
                                      : http10_keep_alive ? "Connection: keep-alive\r\n"
                                                          : "";

  // First the size, then the bytes. Most answers are 200s, whose status line is a constant.
  constexpr std::string_view ok_line = "HTTP/1.1 200 OK\r\n";
  char status[12];
  std::string_view status_text, phrase;
  std::size_t size = ok_line.size();
  if (res.status != 200) {
    status_text = {status,
                   static_cast<std::size_t>(
                       std::to_chars(status, status + sizeof status, res.status).ptr - status)};
    phrase = reason_phrase(res.status);
    size = 9 + status_text.size() + 1 + phrase.size() + 2;
  }
  bool has_date = false, drops = false;  // drops: a framing field of the response's own is left out
  for (const auto& f : res.headers) {
    auto own = own_field_of(f.name);
    if (own == own_field::framing) {
      drops = true;
      continue;
    }
    if (own == own_field::date) has_date = true;
    size += f.name.size() + 2 + f.value.size() + 2;
  }
  const std::string_view date = has_date ? std::string_view{} : http_date_now();
  if (!request_id.empty()) size += request_id_name.size() + request_id.size() + 2;
  if (!has_date) size += 6 + date.size() + 2;
  if (!framing_field.empty()) size += framing_field.size() + length_text.size() + 2;
  size += connection.size() + 2;

  const std::size_t start = out.size();
  out.resize(start + size);
  util::sized_writer c{out.data() + start};
  if (res.status == 200) {
    c.put(ok_line);
  } else {
    c.put("HTTP/1.1 ");
    c.put(status_text);
    c.put(' ');
    c.put(phrase);
    c.put("\r\n");
  }
  for (const auto& f : res.headers) {
    if (drops && own_field_of(f.name) == own_field::framing) continue;
    c.put(f.name);
    c.put(": ");
    c.put(f.value);
    c.put("\r\n");
  }
  if (!request_id.empty()) {
    c.put(request_id_name);
    c.put(request_id);
    c.put("\r\n");
  }
  if (!has_date) {
    c.put("Date: ");
    c.put(date);
    c.put("\r\n");
  }
  if (!framing_field.empty()) {
    c.put(framing_field);
    c.put(length_text);
    c.put("\r\n");
  }
  c.put(connection);
  c.put("\r\n");
}

}  // namespace gatehouse::wire
