#include "net/url.hpp"

#include "util/text.hpp"

#include <asio/ip/address.hpp>

#include <charconv>

namespace gatehouse::net {

bool is_ip_literal(std::string_view host) noexcept {
  asio::error_code ec;
  (void)asio::ip::make_address(std::string(host), ec);
  return !ec;
}

std::optional<url_parts> parse_url(std::string_view url, std::string* why) {
  auto bad = [&](const char* reason) -> std::optional<url_parts> {
    if (why) *why = reason;
    return std::nullopt;
  };
  url_parts u;
  if (util::istarts_with(url, "https://")) {
    u.tls = true;
    url.remove_prefix(8);
  } else if (util::istarts_with(url, "http://")) {
    url.remove_prefix(7);
  } else {
    return bad("the URL must start with http:// or https://");
  }
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return bad("the URL contains whitespace or a control character");
  auto end = url.find_first_of("/?#");
  std::string_view authority = url.substr(0, end);
  std::string_view rest = end == std::string_view::npos ? std::string_view{} : url.substr(end);
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  if (authority.empty()) return bad("the URL has no host");
  if (authority.find('@') != std::string_view::npos)
    return bad("user info in URLs is not supported");
  u.authority = authority;
  std::string_view port;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("an IPv6 host lacks its ']'");
    u.host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("unexpected text after the IPv6 host");
      port = after.substr(1);
      if (port.empty()) return bad("empty port");
    }
    asio::error_code ec;
    auto addr = asio::ip::make_address(std::string(u.host), ec);
    if (ec || !addr.is_v6()) return bad("the bracketed host is not an IPv6 address");
  } else {
    auto colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return bad("empty port");
    }
    if (u.host.empty()) return bad("the URL has no host");
    for (char c : u.host)
      if (!host_name_char(c)) return bad("the host has a character not allowed in host names");
  }
  u.port = u.tls ? 443 : 80;
  if (!port.empty()) {
    unsigned p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || ptr != port.data() + port.size() || p == 0 || p > 65535)
      return bad("the port is not a number from 1 to 65535");
    u.port = static_cast<std::uint16_t>(p);
  }
  u.target = rest;
  return u;
}

}  // namespace gatehouse::net
