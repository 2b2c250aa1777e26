// What a reply on a subscribed connection is (redis::parse_push), from RESP2 bytes as
// redis-server sends them: messages, the answers to SUBSCRIBE, UNSUBSCRIBE and PING, errors,
// and what the subscriber never asks for.

#include "store/redis/redis_subscriber.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

using namespace std::string_literals;
using gatehouse::redis::push;
using gatehouse::redis::reply_reader;
using gatehouse::redis::value;
using kind = push::kind;

namespace {
value read_one(std::string_view bytes) {
  reply_reader r(1 << 20);
  r.feed(bytes.data(), bytes.size());
  value v;
  REQUIRE(r.next(v) == reply_reader::status::reply);
  REQUIRE(r.next(v) == reply_reader::status::need_more);
  return v;
}
}  // namespace

TEST_CASE("redis subscriber: what a reply on a subscribed connection is", "[redis]") {
  auto v = read_one("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\na\0b\r\n\r\n"s);
  auto p = parse_push(v);
  CHECK(p.what == kind::message);
  CHECK(p.channel == "ch");
  CHECK(p.payload == "a\0b\r\n"s);

  v = read_one("*3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n");
  p = parse_push(v);
  CHECK(p.what == kind::subscribed);
  CHECK(p.channel == "x");
  v = read_one("*3\r\n$11\r\nunsubscribe\r\n$1\r\nx\r\n:0\r\n");
  p = parse_push(v);
  CHECK(p.what == kind::unsubscribed);
  CHECK(p.channel == "x");

  CHECK(parse_push(read_one("*2\r\n$4\r\npong\r\n$0\r\n\r\n")).what == kind::pong);
  CHECK(parse_push(read_one("+PONG\r\n")).what == kind::pong);  // no channel subscribed

  v = read_one("-NOPERM no permissions to access the 'x' channel\r\n");
  p = parse_push(v);
  CHECK(p.what == kind::error);
  CHECK(p.payload.starts_with("NOPERM"));

  // Never asked for, or malformed: other (the subscriber then reconnects).
  for (const auto* bytes :
       {"*4\r\n$8\r\npmessage\r\n$1\r\np\r\n$1\r\nc\r\n$1\r\nm\r\n",  // PSUBSCRIBE's
        "*2\r\n$7\r\nmessage\r\n$2\r\nch\r\n",                        // too short
        "*3\r\n$7\r\nmessage\r\n:1\r\n$1\r\nm\r\n",                   // channel not a string
        "*3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n$1\r\n1\r\n",            // count not an integer
        "*3\r\n$9\r\nsubscribe\r\n$-1\r\n:0\r\n",                     // no channel
        "*3\r\n$7\r\nMESSAGE\r\n$1\r\nc\r\n$1\r\nm\r\n",              // Redis writes lower case
        "*0\r\n", "*1\r\n:1\r\n", "+OK\r\n", ":1\r\n", "$4\r\nPONG\r\n", "$-1\r\n"}) {
    CAPTURE(bytes);
    CHECK(parse_push(read_one(bytes)).what == kind::other);
  }
}
