#include "auth/cidr.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <string_view>

using gatehouse::auth::cidr;
using gatehouse::auth::parse_ip;

namespace {

/// A block the test expects to parse.
cidr block(std::string_view text) {
  auto parsed = cidr::parse(text);
  INFO("cidr: " << text);
  REQUIRE(parsed);
  return *parsed;
}

}  // namespace

TEST_CASE("cidr: IPv4 blocks", "[cidr]") {
  auto net = block("192.0.2.0/24");
  CHECK(net.is_v4());
  CHECK(net.prefix_length() == 24);
  CHECK(net.to_string() == "192.0.2.0/24");
  CHECK(net.contains("192.0.2.0"));
  CHECK(net.contains("192.0.2.1"));
  CHECK(net.contains("192.0.2.255"));
  CHECK_FALSE(net.contains("192.0.3.0"));
  CHECK_FALSE(net.contains("192.0.1.255"));
  CHECK_FALSE(net.contains("198.51.100.1"));

  auto odd = block("10.1.2.3/13");  // a prefix that does not end on a byte
  CHECK(odd.to_string() == "10.0.0.0/13");
  CHECK(odd.contains("10.7.255.255"));
  CHECK_FALSE(odd.contains("10.8.0.0"));
}

TEST_CASE("cidr: host bits below the prefix are ignored", "[cidr]") {
  auto net = block("192.0.2.77/24");
  CHECK(net.to_string() == "192.0.2.0/24");
  CHECK(net.contains("192.0.2.1"));
}

TEST_CASE("cidr: /0, /32, bare addresses", "[cidr]") {
  auto everything = block("0.0.0.0/0");
  CHECK(everything.contains("1.2.3.4"));
  CHECK(everything.contains("255.255.255.255"));
  CHECK(everything.contains("::ffff:8.8.8.8"));
  CHECK_FALSE(everything.contains("::1"));  // families stay apart

  auto one = block("203.0.113.9/32");
  CHECK(one.contains("203.0.113.9"));
  CHECK_FALSE(one.contains("203.0.113.8"));

  auto bare = block("203.0.113.9");
  CHECK(bare.prefix_length() == 32);
  CHECK(bare.contains("203.0.113.9"));
  CHECK_FALSE(bare.contains("203.0.113.10"));
}

TEST_CASE("cidr: IPv6 blocks", "[cidr]") {
  auto doc = block("2001:db8::/32");
  CHECK_FALSE(doc.is_v4());
  CHECK(doc.prefix_length() == 32);
  CHECK(doc.to_string() == "2001:db8::/32");
  CHECK(doc.contains("2001:db8::1"));
  CHECK(doc.contains("2001:DB8:ffff:ffff:ffff:ffff:ffff:ffff"));
  CHECK_FALSE(doc.contains("2001:db9::1"));
  CHECK_FALSE(doc.contains("192.0.2.1"));

  auto all = block("::/0");
  CHECK(all.contains("::1"));
  CHECK(all.contains("fe80::1"));
  CHECK_FALSE(all.contains("10.0.0.1"));         // IPv4 clients need 0.0.0.0/0
  CHECK_FALSE(all.contains("::ffff:10.0.0.1"));  // a mapped address is its IPv4 client

  auto loopback = block("::1/128");
  CHECK(loopback.contains("::1"));
  CHECK_FALSE(loopback.contains("::2"));
  CHECK(block("::1").prefix_length() == 128);

  auto odd = block("2001:db8:abcd::/47");
  CHECK(odd.contains("2001:db8:abcc::1"));
  CHECK_FALSE(odd.contains("2001:db8:abce::1"));
}

TEST_CASE("cidr: IPv4-mapped IPv6 addresses match IPv4 blocks", "[cidr]") {
  auto net = block("10.0.0.0/8");
  CHECK(net.contains("::ffff:10.1.2.3"));
  CHECK(net.contains("::FFFF:10.1.2.3"));
  CHECK(net.contains("::ffff:a01:203"));  // the same address in hex
  CHECK_FALSE(net.contains("::ffff:11.1.2.3"));
  CHECK_FALSE(net.contains("::10.1.2.3"));  // IPv4-compatible, not mapped: an IPv6 address

  auto mapped_block = block("::ffff:10.0.0.0/104");  // written in mapped form: 10.0.0.0/8
  CHECK(mapped_block.is_v4());
  CHECK(mapped_block.to_string() == "10.0.0.0/8");
  CHECK(mapped_block.contains("10.200.0.1"));
  CHECK(mapped_block.contains("::ffff:10.200.0.1"));
  CHECK(block("::ffff:127.0.0.1").contains("127.0.0.1"));
}

TEST_CASE("cidr: zones on client addresses are dropped", "[cidr]") {
  CHECK(block("fe80::/10").contains("fe80::1%eth0"));
  CHECK_FALSE(block("fe80::/10").contains("fe80::1%"));
  CHECK_FALSE(block("10.0.0.0/8").contains("10.0.0.1%eth0"));
  CHECK_FALSE(cidr::parse("fe80::1%eth0"));
  CHECK_FALSE(cidr::parse("fe80::%eth0/10"));
}

TEST_CASE("cidr: malformed blocks are rejected", "[cidr]") {
  const std::string_view malformed[] = {"1.2.3.4/33",
                                        "1.2.3",
                                        "::1/129",
                                        "",
                                        "1.2.3.4/",
                                        "x",
                                        "/24",
                                        "1.2.3.4/-1",
                                        "1.2.3.4/+8",
                                        "1.2.3.4/8/8",
                                        "1.2.3.4/ 8",
                                        " 1.2.3.4",
                                        "1.2.3.4 ",
                                        "1.2.3.4/8 ",
                                        "1.2.3.4/1000",
                                        "1.2.3.4/8a",
                                        "256.1.1.1",
                                        "1.2.3.4.5",
                                        "2001:db8:::1/32",
                                        "2001:db8::g/32",
                                        "::ffff:10.0.0.0/129",
                                        "localhost",
                                        "*",
                                        std::string_view("1.2.3.4\0/8", 10)};
  for (auto bad : malformed) {
    INFO("cidr: '" << std::string(bad) << "'");
    CHECK_FALSE(cidr::parse(bad));
  }
}

TEST_CASE("cidr: unparseable client addresses never match", "[cidr]") {
  auto everything = block("0.0.0.0/0");
  auto everything6 = block("::/0");
  const std::string_view unparseable[] = {
      "",         "x",          "1.2.3",   " 1.2.3.4",
      "1.2.3.4 ", "1.2.3.4/32", "unknown", std::string_view("1.2.3.4\0", 8)};
  for (auto bad : unparseable) {
    INFO("ip: '" << std::string(bad) << "'");
    CHECK_FALSE(everything.contains(bad));
    CHECK_FALSE(everything6.contains(bad));
    CHECK_FALSE(parse_ip(bad));
  }
}

TEST_CASE("cidr: parse_ip normalises mapped addresses to IPv4", "[cidr]") {
  auto mapped = parse_ip("::ffff:127.0.0.1");
  REQUIRE(mapped);
  CHECK(mapped->is_v4());
  CHECK(mapped->to_string() == "127.0.0.1");
  auto v6 = parse_ip("::1");
  REQUIRE(v6);
  CHECK(v6->is_v6());
}
