#pragma once

// Where a Redis server is and how to log in: redis://[user:password@]host[:port][/db], and
// rediss:// for TLS.

#include <cstdint>
#include <string>
#include <string_view>

namespace gatehouse::redis {

struct endpoint {
  bool tls = false;           ///< rediss://
  std::string host{};         ///< a name or an IP address (IPv6 without its brackets)
  std::uint16_t port = 6379;  ///< Redis's port when the URL names none
  std::string user{};         ///< empty: AUTH with the password alone (Redis's "default" user)
  std::string password{};     ///< empty: no AUTH
  std::uint32_t db = 0;       ///< SELECTed on connect when not 0

  /// host:port as a URL writes it ([::1]:6379), for messages.
  std::string address() const;
};

/// Parses a Redis URL. The user and the password may be percent-encoded (%40 for '@'); query
/// parameters are refused rather than ignored. Throws config_error naming the URL, with its
/// password shown as ***, and what is wrong with it.
endpoint parse_url(std::string_view url);

/// `url` with any password replaced by *** (what messages and logs may show of it).
std::string redact_url(std::string_view url);

}  // namespace gatehouse::redis
