#include "http/serializer.hpp"

#include "util/coarse_clock.hpp"

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
void append_number(std::string& out, std::size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
}
}  // namespace

void write_head(const response& res, bool keep_alive, std::string& out, bool http10_keep_alive,
                body_framing framing) {
  // Plain appends: this runs once per response, and formatting machinery costs more here.
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::size_t>(res.status));
  out.push_back(' ');
  out.append(reason_phrase(res.status)).append("\r\n");
  bool has_date = false;
  for (const auto& f : res.headers) {
    if (iequals(f.name, "content-length") || iequals(f.name, "transfer-encoding") ||
        iequals(f.name, "connection"))
      continue;
    if (iequals(f.name, "date")) has_date = true;
    out.append(f.name).append(": ").append(f.value).append("\r\n");
  }
  if (!has_date) out.append("Date: ").append(http_date_now()).append("\r\n");
  if (!(res.status >= 100 && res.status < 200) && res.status != 204) {
    switch (framing.kind) {
      case body_framing::whole:
      case body_framing::sized:
        out.append("Content-Length: ");
        append_number(out, framing.kind == body_framing::whole ? res.body.size() : framing.length);
        out.append("\r\n");
        break;
      case body_framing::chunked:
        out.append("Transfer-Encoding: chunked\r\n");
        break;
      case body_framing::until_close:
        break;
    }
  }
  if (!keep_alive)
    out.append("Connection: close\r\n");
  else if (http10_keep_alive)
    out.append("Connection: keep-alive\r\n");
  out.append("\r\n");
}

}  // namespace gatehouse::wire
