#include "auth/cidr.hpp"

#include <algorithm>

namespace gatehouse::auth {

namespace {

// Longest address text accepted, zone included: IPv6 text is at most 45 characters and
// interface names are short.
constexpr std::size_t max_address_text = 63;

/// True for the characters an address literal (without zone) is made of.
bool address_char(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
         c == ':';
}

/// Parses a plain address literal, IPv4 or IPv6, leaving mapped addresses as IPv6. Checking the
/// characters first keeps spaces, NULs and zones out of inet_pton.
std::optional<asio::ip::address> parse_literal(std::string_view text) noexcept {
  if (text.empty() || text.size() > max_address_text) return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), address_char)) return std::nullopt;
  char buffer[max_address_text + 1];
  std::copy(text.begin(), text.end(), buffer);
  buffer[text.size()] = '\0';
  asio::error_code ec;
  auto address = asio::ip::make_address(buffer, ec);
  if (ec) return std::nullopt;
  return address;
}

/// The IPv4 address a mapped IPv6 address stands for; any other address unchanged.
asio::ip::address unmapped(const asio::ip::address& address) noexcept {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  return address;
}

/// Parses a decimal prefix length of one to three digits; nullopt for anything else.
std::optional<unsigned> parse_prefix(std::string_view text) noexcept {
  if (text.empty() || text.size() > 3) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value;
}

/// True when the first `bits` bits of `a` and `b` are equal.
template <std::size_t N>
bool same_prefix(const std::array<unsigned char, N>& a, const unsigned char* b,
                 unsigned bits) noexcept {
  std::size_t whole = bits / 8;
  if (!std::equal(a.begin(), a.begin() + whole, b)) return false;
  unsigned rest = bits % 8;
  if (rest == 0) return true;
  auto mask = static_cast<unsigned char>(0xFFu << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

/// Clears every bit of `bytes` after the first `bits`.
void clear_host_bits(std::array<unsigned char, 16>& bytes, unsigned bits) noexcept {
  for (unsigned i = 0; i < bytes.size() * 8; ++i)
    if (i >= bits) bytes[i / 8] &= static_cast<unsigned char>(~(0x80u >> (i % 8)));
}

}  // namespace

std::optional<asio::ip::address> parse_ip(std::string_view text) noexcept {
  if (auto zone = text.find('%'); zone != std::string_view::npos) {
    auto name = text.substr(zone + 1);
    bool plausible_zone = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return c > ' ' && c < 0x7F && c != '%';
    });
    if (!plausible_zone) return std::nullopt;
    auto address = parse_literal(text.substr(0, zone));
    if (!address || !address->is_v6()) return std::nullopt;
    return unmapped(*address);
  }
  auto address = parse_literal(text);
  if (!address) return std::nullopt;
  return unmapped(*address);
}

std::optional<cidr> cidr::parse(std::string_view text) noexcept {
  auto slash = text.find('/');
  auto address = parse_literal(text.substr(0, slash));
  if (!address) return std::nullopt;

  cidr block;
  unsigned prefix = address->is_v4() ? 32 : 128;
  if (slash != std::string_view::npos) {
    auto parsed = parse_prefix(text.substr(slash + 1));
    if (!parsed || *parsed > prefix) return std::nullopt;
    prefix = *parsed;
  }
  if (address->is_v6() && address->to_v6().is_v4_mapped() && prefix >= 96) {
    address = unmapped(*address);
    prefix -= 96;
  }
  block.v4_ = address->is_v4();
  if (block.v4_) {
    auto bytes = address->to_v4().to_bytes();
    std::copy(bytes.begin(), bytes.end(), block.network_.begin());
  } else {
    block.network_ = address->to_v6().to_bytes();
  }
  clear_host_bits(block.network_, prefix);
  block.prefix_ = static_cast<std::uint8_t>(prefix);
  return block;
}

bool cidr::contains(std::string_view ip) const noexcept {
  auto address = parse_ip(ip);
  return address && contains(*address);
}

bool cidr::contains(const asio::ip::address& ip) const noexcept {
  auto address = unmapped(ip);
  if (address.is_v4() != v4_) return false;
  if (v4_) {
    auto bytes = address.to_v4().to_bytes();
    return same_prefix(bytes, network_.data(), prefix_);
  }
  auto bytes = address.to_v6().to_bytes();
  return same_prefix(bytes, network_.data(), prefix_);
}

std::string cidr::to_string() const {
  std::string text;
  if (v4_) {
    asio::ip::address_v4::bytes_type bytes;
    std::copy_n(network_.begin(), bytes.size(), bytes.begin());
    text = asio::ip::address_v4(bytes).to_string();
  } else {
    text = asio::ip::address_v6(network_).to_string();
  }
  text += '/';
  text += std::to_string(prefix_);
  return text;
}

}  // namespace gatehouse::auth
