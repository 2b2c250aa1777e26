#include "store/redis/redis_url.hpp"

#include "net/url.hpp"
#include "util/text.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <charconv>
#include <optional>

namespace gatehouse::redis {

namespace {
// The URL after its scheme, split at the end of its authority and at its user info's '@'
// (the last one: an unencoded '@' in a password stays in the password).
struct split_url {
  std::string_view scheme;  // with "://"
  std::string_view user_info;
  bool has_user_info = false;
  std::string_view host_port;
  std::string_view rest;  // path, query, fragment
};

std::optional<split_url> split(std::string_view url) {
  split_url s;
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  s.scheme = url.substr(0, sep + 3);
  url.remove_prefix(sep + 3);
  const auto end = url.find_first_of("/?#");
  std::string_view authority = url.substr(0, end);
  s.rest = end == std::string_view::npos ? std::string_view{} : url.substr(end);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    s.has_user_info = true;
    s.user_info = authority.substr(0, at);
    authority.remove_prefix(at + 1);
  }
  s.host_port = authority;
  return s;
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_digit(in[i + 1]), lo = hex_digit(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}
}  // namespace

std::string endpoint::address() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::string redact_url(std::string_view url) {
  auto s = split(url);
  if (!s || !s->has_user_info) return std::string(url);
  // user:password shows the user; a lone word may be a password, so none of it shows.
  const auto colon = s->user_info.find(':');
  const std::string user_info = colon == std::string_view::npos
                                    ? std::string("***")
                                    : fmt::format("{}:***", s->user_info.substr(0, colon));
  return fmt::format("{}{}@{}{}", s->scheme, user_info, s->host_port, s->rest);
}

endpoint parse_url(std::string_view url) {
  const auto bad = [&](std::string_view why) {
    return config_error(fmt::format("redis URL '{}': {}", redact_url(url), why));
  };
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      throw bad("contains whitespace or a control character");
  endpoint e;
  if (util::istarts_with(url, "rediss://"))
    e.tls = true;
  else if (!util::istarts_with(url, "redis://"))
    throw bad("must start with redis:// or rediss://");
  const auto s = split(url);
  if (!s) throw bad("must start with redis:// or rediss://");

  if (s->has_user_info) {
    const auto colon = s->user_info.find(':');
    if (colon == std::string_view::npos)
      throw bad("user info must be user:password, or :password for the default user");
    if (!percent_decode(s->user_info.substr(0, colon), e.user))
      throw bad("the user has a bad percent-escape");
    if (!percent_decode(s->user_info.substr(colon + 1), e.password))
      throw bad("the password has a bad percent-escape");
    if (e.password.empty()) throw bad("the password is empty");
  }

  std::string_view hp = s->host_port, port;
  if (hp.empty()) throw bad("has no host");
  if (hp.front() == '[') {
    const auto close = hp.find(']');
    if (close == std::string_view::npos) throw bad("an IPv6 host lacks its ']'");
    e.host = std::string(hp.substr(1, close - 1));
    if (e.host.find(':') == std::string::npos || !net::is_ip_literal(e.host))
      throw bad("the host in brackets is not an IPv6 address");
    hp.remove_prefix(close + 1);
    if (!hp.empty()) {
      if (hp.front() != ':') throw bad("unexpected text after the IPv6 host");
      port = hp.substr(1);
      if (port.empty()) throw bad("the port is empty");
    }
  } else {
    const auto colon = hp.find(':');
    e.host = std::string(hp.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = hp.substr(colon + 1);
      if (port.empty()) throw bad("the port is empty");
    }
    if (e.host.empty()) throw bad("has no host");
    for (char c : e.host)
      if (!net::host_name_char(c)) throw bad("the host is not a valid name or address");
  }
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
      throw bad("the port is not a number from 1 to 65535");
    e.port = static_cast<std::uint16_t>(value);
  }

  std::string_view rest = s->rest;
  if (!rest.empty() && (rest.front() == '?' || rest.find('?') != std::string_view::npos))
    throw bad("query parameters are not supported");
  if (rest.find('#') != std::string_view::npos) throw bad("a fragment is not supported");
  if (!rest.empty()) {
    rest.remove_prefix(1);  // the '/'
    if (!rest.empty()) {
      std::uint32_t db = 0;
      auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), db);
      if (ec != std::errc{} || end != rest.data() + rest.size() || db > 0x7fffffff)
        throw bad("the database after '/' is not a number");
      e.db = db;
    }
  }
  return e;
}

}  // namespace gatehouse::redis
