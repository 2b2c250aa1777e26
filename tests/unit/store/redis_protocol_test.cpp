// The Redis reply glue (hiredis's reader with our object functions) and command formatting:
// every reply type, replies split anywhere, the size cap, and what breaks the protocol.

#include "store/redis/redis_protocol.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace std::string_literals;

using gatehouse::redis::command;
using gatehouse::redis::reply_reader;
using gatehouse::redis::value;
using gatehouse::redis::value_type;
using status = reply_reader::status;

namespace {
// Every reply in `bytes`, fed `chunk` bytes at a time; `last` is the final status.
std::vector<value> read_all(std::string_view bytes, std::size_t chunk, status& last,
                            std::size_t max = 1 << 20) {
  reply_reader r(max);
  std::vector<value> out;
  last = status::need_more;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    r.feed(bytes.data() + at, std::min(chunk, bytes.size() - at));
    value v;
    while ((last = r.next(v)) == status::reply) out.push_back(std::move(v));
    if (last != status::need_more) break;
  }
  return out;
}
}  // namespace

TEST_CASE("redis replies: every type, whole or split at every byte", "[redis]") {
  const std::string bytes =
      "+OK\r\n"
      "-ERR unknown command 'FOO'\r\n"
      ":-42\r\n"
      "$5\r\nhe\0lo\r\n"
      "$0\r\n\r\n"
      "$-1\r\n"
      "*-1\r\n"
      "*0\r\n"
      "*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n+x\r\n"s;
  for (std::size_t chunk = 1; chunk <= bytes.size(); ++chunk) {
    status last;
    const auto replies = read_all(bytes, chunk, last);
    CAPTURE(chunk);
    REQUIRE(last == status::need_more);
    REQUIRE(replies.size() == 9);
    CHECK(replies[0].type == value_type::simple_string);
    CHECK(replies[0].text == "OK");
    CHECK(replies[1].is_error());
    CHECK(replies[1].error_code() == "ERR");
    CHECK(replies[1].text == "ERR unknown command 'FOO'");
    CHECK(replies[2].type == value_type::integer);
    CHECK(replies[2].integer == -42);
    CHECK(replies[3].type == value_type::bulk_string);
    CHECK(replies[3].text == "he\0lo"s);
    CHECK(replies[4].type == value_type::bulk_string);
    CHECK(replies[4].text.empty());
    CHECK(replies[5].is_nil());
    CHECK(replies[6].is_nil());
    CHECK(replies[7].type == value_type::array);
    CHECK(replies[7].elements.empty());
    const auto& a = replies[8];
    REQUIRE(a.type == value_type::array);
    REQUIRE(a.elements.size() == 3);
    CHECK(a.elements[0].integer == 1);
    REQUIRE(a.elements[1].elements.size() == 2);
    CHECK(a.elements[1].elements[0].text == "a");
    CHECK(a.elements[1].elements[1].is_nil());
    CHECK(a.elements[2].text == "x");
    CHECK(describe(a) == "[:1, [$\"a\", (nil)], +x]");
  }
}

TEST_CASE("redis replies: what breaks the protocol is an error, and stays one", "[redis]") {
  for (std::string_view bad : {"!x\r\n", ":abc\r\n", "*-5\r\n", "$-5\r\n", "*2147483648\r\n",
                               ":99999999999999999999999\r\n", "*2\r\n:1\r\n?\r\n",
                               "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n"}) {
    CAPTURE(bad);
    status last;
    const auto replies = read_all(bad, bad.size(), last);
    CHECK(replies.empty());
    CHECK(last == status::protocol_error);
  }
  reply_reader r(1024);
  r.feed("?\r\n+OK\r\n", 8);
  value v;
  CHECK(r.next(v) == status::protocol_error);
  CHECK_FALSE(r.error().empty());
  CHECK(r.next(v) == status::protocol_error);  // done for good
}

TEST_CASE("redis replies: a reply over the cap is refused before it is allocated", "[redis]") {
  status last;
  // An array's length alone: 2^31 - 1 elements would take ~150 GiB.
  auto replies = read_all("*2147483647\r\n", 64, last, 1 << 20);
  CHECK(replies.empty());
  CHECK(last == status::too_large);
  // A bulk string's length: the bytes buffered for it pass the cap.
  const std::string big = "$100000000\r\n" + std::string(4096, 'x');
  replies = read_all(big, 512, last, 2048);
  CHECK(last == status::too_large);
  // Many small elements whose values together pass it.
  std::string many = "*100\r\n";
  for (int i = 0; i < 100; ++i) many += "$20\r\n01234567890123456789\r\n";
  replies = read_all(many, many.size(), last, 2048);
  CHECK(last == status::too_large);
  // Under the cap, the same reply is fine; and many replies in one read are not one reply.
  replies = read_all(many + many, many.size() * 2, last, 64 * 1024);
  CHECK(last == status::need_more);
  REQUIRE(replies.size() == 2);
  CHECK(replies[1].elements.size() == 100);
  std::string pings;
  for (int i = 0; i < 1000; ++i) pings += "+PONG\r\n";
  replies = read_all(pings, pings.size(), last, 1024);
  CHECK(last == status::need_more);
  CHECK(replies.size() == 1000);
}

TEST_CASE("redis commands: hiredis's format, binary-safe", "[redis]") {
  const command c{"SET", "k", "a\r\nb"};
  CHECK(c.bytes() == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n");
  const std::string_view head[] = {"EVALSHA", "abc", "2"};
  const std::string_view keys[] = {"k1", "k2"};
  const std::string_view args[] = {""};
  const command e(head, keys, args);
  CHECK(e.bytes() ==
        "*6\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n2\r\n$2\r\nk1\r\n$2\r\nk2\r\n$0\r\n\r\n");
  std::vector<std::string_view> many(40, "x");
  const command m(many);
  CHECK(m.bytes().starts_with("*40\r\n$1\r\nx\r\n"));
  CHECK(command{}.empty());
  CHECK(command(std::span<const std::string_view>{}).empty());
}
