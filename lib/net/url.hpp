#pragma once

// Absolute http:// and https:// URLs, split into what a client needs to connect and to send.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::net {

struct url_parts {
  bool tls = false;
  std::string_view host;       ///< a name or an IP address (IPv6 without its brackets)
  std::uint16_t port = 0;      ///< 80 or 443 when the URL names none
  std::string_view authority;  ///< host[:port] as written: the Host header's value
  std::string_view target;     ///< path and query, without the fragment; may be empty ("/")
};

/// Splits `url`; nullopt (with the reason in `why`) unless it is http(s)://host[:port][/…]
/// without user info, with a valid host and port, and no whitespace or control characters.
std::optional<url_parts> parse_url(std::string_view url, std::string* why = nullptr);

/// True when `host` is an IPv4 or IPv6 address rather than a name.
bool is_ip_literal(std::string_view host) noexcept;

/// Whether `c` may stand in a host name (letters, digits, '-', '.', '_').
constexpr bool host_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

}  // namespace gatehouse::net
