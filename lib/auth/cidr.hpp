#pragma once

// IP addresses and CIDR blocks, as the aws:SourceIp condition of an IAM policy uses them.
//
// Families stay apart: an IPv4 block matches IPv4 clients, an IPv6 block IPv6 clients. An
// IPv4-mapped IPv6 address ("::ffff:10.1.2.3", as a dual-stack socket reports an IPv4 peer) is
// the IPv4 client it stands for, and a block written in mapped form ("::ffff:10.0.0.0/104") is
// the IPv4 block 10.0.0.0/8. So "::/0" does not match IPv4 clients: list "0.0.0.0/0" as well,
// as AWS policies do.

#include <asio/ip/address.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::auth {

/// Parses an address as a socket or a header reports it: dotted IPv4, or IPv6 with an optional
/// zone ("fe80::1%eth0", the zone is dropped). IPv4-mapped IPv6 comes back as IPv4. nullopt for
/// anything else, including surrounding spaces.
std::optional<asio::ip::address> parse_ip(std::string_view text) noexcept;

/// A block of addresses: a network address and a prefix length.
class cidr {
 public:
  /// "192.0.2.0/24", "2001:db8::/32", or a bare address (a /32 or /128 block). Host bits below
  /// the prefix are cleared, not rejected ("192.0.2.7/24" is 192.0.2.0/24). nullopt for a
  /// prefix longer than the family allows, an empty or non-decimal prefix, zones, spaces or
  /// anything that is not an address.
  static std::optional<cidr> parse(std::string_view text) noexcept;

  /// True when `ip` (as parse_ip reads it) lies inside the block; false when it does not parse.
  bool contains(std::string_view ip) const noexcept;
  /// True when `ip` lies inside the block; a mapped IPv6 address counts as its IPv4 address.
  bool contains(const asio::ip::address& ip) const noexcept;

  bool is_v4() const noexcept { return v4_; }
  /// The prefix length in the block's own family: 0..32 for IPv4, 0..128 for IPv6.
  unsigned prefix_length() const noexcept { return prefix_; }
  /// The canonical form, "10.0.0.0/8" or "2001:db8::/32".
  std::string to_string() const;

 private:
  cidr() = default;

  std::array<unsigned char, 16> network_{};  // IPv4 uses the first four bytes
  std::uint8_t prefix_ = 0;
  bool v4_ = false;
};

}  // namespace gatehouse::auth
