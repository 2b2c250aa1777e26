// Fuzz target: bytes a Redis server sends, through the reply glue (hiredis's reader with our
// object functions), fed in chunks whose size the first byte picks, with a small cap on a
// reply's size. Nothing may crash, hang or leak; a reply's values are well formed, and what the
// pub/sub subscriber makes of each (parse_push) points into it; after an error the reader stays
// failed. Then the same bytes, split at NULs, as a command's arguments:
// formatted by hiredis and read back, they must come out as the same bulk strings.

#include "store/redis/redis_protocol.hpp"
#include "store/redis/redis_subscriber.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace {
using gatehouse::redis::command;
using gatehouse::redis::push;
using gatehouse::redis::reply_reader;
using gatehouse::redis::value;
using gatehouse::redis::value_type;

void check(bool condition) {
  if (!condition) std::abort();
}

void check_value(const value& v, int depth) {
  check(depth <= 8);
  if (v.type != value_type::array) check(v.elements.empty());
  if (v.type != value_type::integer) check(v.integer == 0);
  if (v.type == value_type::nil || v.type == value_type::integer || v.type == value_type::array)
    check(v.text.empty());
  for (const auto& e : v.elements) check_value(e, depth + 1);
  check(!describe(v).empty());
}

bool within(std::string_view part, const std::string& whole) {
  return part.data() == whole.data() && part.size() == whole.size();
}

void check_push(const value& v) {
  const push p = parse_push(v);
  switch (p.what) {
    case push::kind::message:
      check(v.elements.size() == 3 && within(p.channel, v.elements[1].text) &&
            within(p.payload, v.elements[2].text));
      break;
    case push::kind::subscribed:
    case push::kind::unsubscribed:
      check(v.elements.size() == 3 && within(p.channel, v.elements[1].text) && p.payload.empty());
      break;
    case push::kind::error:
      check(v.is_error() && within(p.payload, v.text));
      break;
    case push::kind::pong:
    case push::kind::other:
      check(p.channel.empty() && p.payload.empty());
      break;
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  reply_reader reader(16 * 1024);
  bool failed = false;
  for (std::size_t at = 0; at < bytes.size() && !failed; at += chunk) {
    const auto part = bytes.substr(at, chunk);
    reader.feed(part.data(), part.size());
    value v;
    for (;;) {
      const auto st = reader.next(v);
      if (st == reply_reader::status::need_more) {
        check(reader.buffered() <= 16 * 1024);
        break;
      }
      if (st != reply_reader::status::reply) {
        check(!reader.error().empty());
        check(reader.next(v) == st);  // failed for good
        failed = true;
        break;
      }
      check_value(v, 0);
      check_push(v);
    }
  }

  // A round trip through command formatting.
  std::vector<std::string_view> args;
  for (std::size_t start = 0;;) {
    const auto nul = bytes.find('\0', start);
    args.push_back(bytes.substr(start, nul - start));
    if (nul == std::string_view::npos) break;
    start = nul + 1;
  }
  const command cmd(args);
  check(!cmd.empty());
  reply_reader back(1 << 20);
  back.feed(cmd.bytes().data(), cmd.bytes().size());
  value v;
  check(back.next(v) == reply_reader::status::reply);
  check(v.type == value_type::array && v.elements.size() == args.size());
  for (std::size_t i = 0; i < args.size(); ++i) {
    check(v.elements[i].type == value_type::bulk_string);
    check(v.elements[i].text == args[i]);
  }
  check(back.next(v) == reply_reader::status::need_more);
  return 0;
}
