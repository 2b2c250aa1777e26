#include "cache/cached_response.hpp"

#include <gatehouse/http.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using gatehouse::response;
using gatehouse::cache::cache_key_bytes;
using gatehouse::cache::decode;
using gatehouse::cache::encode;

namespace {
const std::string cache_key = "GET /pets|type=dog";

cache_key_bytes key_of(std::uint8_t seed) {
  cache_key_bytes k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(seed + i * 7);
  return k;
}

// Every byte value, repeated to `size` bytes.
std::string binary_body(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 31 + i / 256) & 0xff);
  return s;
}

response sample() {
  response r;
  r.status = 203;
  r.headers.add("Content-Type", "application/json");
  r.headers.add("Set-Thing", "one");
  r.headers.add("X-Other", "between");
  r.headers.add("Set-Thing", "two");
  r.headers.add("X-Empty", "");
  r.body = R"({"pets":["rex","tom"]})";
  return r;
}

std::vector<std::pair<std::string, std::string>> fields(const response& r) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : r.headers) out.emplace_back(f.name, f.value);
  return out;
}

// Status, every header field in order, and the body are the same.
void check_same(const std::optional<response>& got, const response& want) {
  REQUIRE(got.has_value());
  CHECK(got->status == want.status);
  CHECK(fields(*got) == fields(want));
  CHECK(got->body.size() == want.body.size());
  CHECK(got->body == want.body);
}

void put_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}
}  // namespace

TEST_CASE("cached_response: a plain entry round trips status, headers and body", "[cache]") {
  const response r = sample();
  const std::string bytes = encode(r, nullptr, cache_key);
  REQUIRE_FALSE(bytes.empty());
  auto back = decode(bytes, nullptr, cache_key);
  check_same(back, r);
  // Repeated fields keep their order among the others.
  REQUIRE(back);
  CHECK(back->headers.get_all("Set-Thing") == std::vector<std::string_view>{"one", "two"});
  CHECK(back->headers.get("X-Empty") == std::optional<std::string_view>{""});
}

TEST_CASE("cached_response: decode_into one response in turn gives each entry exactly", "[cache]") {
  // The response is reused as a connection reuses it: fields that match the last entry's are
  // kept, others overwritten, and none of a longer entry is left over after a shorter one.
  response shorter;
  shorter.status = 200;
  shorter.headers.add("Content-Type", "application/json");
  shorter.body = "[]";
  response same_names = sample();
  same_names.headers.set("X-Other", "changed");
  const response entries[] = {sample(), shorter, sample(), same_names, shorter, same_names};
  response into;
  into.headers.add("Stale", "field");
  into.body = "stale body";
  for (const auto& want : entries) {
    const std::string bytes = encode(want, nullptr, cache_key);
    REQUIRE(gatehouse::cache::decode_into(bytes, nullptr, cache_key, into));
    check_same(into, want);
  }
}

TEST_CASE("cached_response: statuses, empty and binary bodies round trip", "[cache]") {
  const cache_key_bytes k = key_of(1);
  const bool encrypted = GENERATE(false, true);
  const cache_key_bytes* key = encrypted ? &k : nullptr;
  CAPTURE(encrypted);

  SECTION("no headers and an empty body") {
    response r;
    r.status = 204;
    check_same(decode(encode(r, key, cache_key), key, cache_key), r);
  }
  SECTION("other statuses") {
    for (int status : {200, 201, 299, 404, 599}) {
      response r;
      r.status = status;
      r.body = "x";
      CAPTURE(status);
      check_same(decode(encode(r, key, cache_key), key, cache_key), r);
    }
  }
  SECTION("a body and header values with NUL bytes") {
    response r;
    r.headers.add(std::string("X-Bin\0ary", 9), std::string("a\0b\0", 4));
    r.headers.add("", "empty name");
    r.body = std::string("\0\0head\0\xff\x80tail\0", 14);
    REQUIRE(r.body.size() == 14);
    check_same(decode(encode(r, key, cache_key), key, cache_key), r);
  }
  SECTION("a 1 MB body of every byte value") {
    response r = sample();
    r.body = binary_body(std::size_t{1} << 20);
    const std::string bytes = encode(r, key, cache_key);
    CHECK(bytes.size() > r.body.size());
    check_same(decode(bytes, key, cache_key), r);
  }
  SECTION("an empty cache key") {
    const response r = sample();
    check_same(decode(encode(r, key, ""), key, ""), r);
  }
}

TEST_CASE("cached_response: an encrypted entry round trips and hides its content", "[cache]") {
  const cache_key_bytes k = key_of(9);
  response r = sample();
  r.body = "the secret body text: hunter2 hunter2 hunter2";
  r.headers.add("X-Secret-Header", "classified-header-value");

  const std::string plain = encode(r, nullptr, cache_key);
  const std::string sealed = encode(r, &k, cache_key);
  REQUIRE_FALSE(sealed.empty());
  check_same(decode(sealed, &k, cache_key), r);

  // The plain encoding holds the text as is; the encrypted one does not.
  CHECK(plain.find(r.body) != std::string::npos);
  CHECK(sealed.find(r.body) == std::string::npos);
  CHECK(sealed.find("hunter2") == std::string::npos);
  CHECK(sealed.find("classified-header-value") == std::string::npos);
  CHECK(sealed.find("application/json") == std::string::npos);

  // A fresh nonce each time: the same response never encrypts to the same bytes.
  const std::string again = encode(r, &k, cache_key);
  CHECK(again != sealed);
  check_same(decode(again, &k, cache_key), r);
}

TEST_CASE("cached_response: an encrypted entry opens only with its key and cache key", "[cache]") {
  const cache_key_bytes k = key_of(3);
  const response r = sample();
  const std::string sealed = encode(r, &k, cache_key);
  REQUIRE(decode(sealed, &k, cache_key).has_value());

  SECTION("the wrong key") {
    cache_key_bytes other = k;
    other[31] ^= 1;
    CHECK_FALSE(decode(sealed, &other, cache_key).has_value());
    const cache_key_bytes different = key_of(4);
    CHECK_FALSE(decode(sealed, &different, cache_key).has_value());
  }
  SECTION("another cache key: an entry cannot pass for another's") {
    CHECK_FALSE(decode(sealed, &k, "GET /pets|type=cat").has_value());
    CHECK_FALSE(decode(sealed, &k, cache_key + " ").has_value());
    CHECK_FALSE(decode(sealed, &k, "").has_value());
  }
  SECTION("any flipped byte") {
    for (std::size_t i = 0; i < sealed.size(); ++i) {
      for (unsigned char bit : {0x01, 0x80}) {
        std::string damaged = sealed;
        damaged[i] = static_cast<char>(damaged[i] ^ bit);
        CAPTURE(i, static_cast<int>(bit));
        CHECK_FALSE(decode(damaged, &k, cache_key).has_value());
      }
    }
  }
  SECTION("truncated, or with bytes added") {
    for (std::size_t n = 0; n < sealed.size(); ++n) {
      CAPTURE(n);
      CHECK_FALSE(decode(std::string_view(sealed).substr(0, n), &k, cache_key).has_value());
    }
    CHECK_FALSE(decode(sealed + '\0', &k, cache_key).has_value());
  }
}

TEST_CASE("cached_response: plain and encrypted entries are not served in each other's place",
          "[cache]") {
  const cache_key_bytes k = key_of(5);
  const response r = sample();
  const std::string plain = encode(r, nullptr, cache_key);
  const std::string sealed = encode(r, &k, cache_key);
  REQUIRE(decode(plain, nullptr, cache_key).has_value());
  REQUIRE(decode(sealed, &k, cache_key).has_value());

  // A plain entry where encryption is on (a key is given): refused.
  CHECK_FALSE(decode(plain, &k, cache_key).has_value());
  // An encrypted entry where encryption is off: refused, not returned as ciphertext.
  CHECK_FALSE(decode(sealed, nullptr, cache_key).has_value());
  // The two encodings are told apart by their first byte.
  CHECK(plain.front() != sealed.front());
}

TEST_CASE("cached_response: damaged plain input gives nullopt", "[cache]") {
  const response r = sample();
  const std::string plain = encode(r, nullptr, cache_key);
  REQUIRE(decode(plain, nullptr, cache_key).has_value());

  SECTION("empty, or an unknown first byte") {
    CHECK_FALSE(decode("", nullptr, cache_key).has_value());
    std::string other = plain;
    other[0] = 'X';
    CHECK_FALSE(decode(other, nullptr, cache_key).has_value());
  }
  SECTION("every truncation") {
    for (std::size_t n = 0; n < plain.size(); ++n) {
      CAPTURE(n);
      CHECK_FALSE(decode(std::string_view(plain).substr(0, n), nullptr, cache_key).has_value());
    }
  }
  SECTION("bytes after the body") {
    CHECK_FALSE(decode(plain + 'x', nullptr, cache_key).has_value());
    CHECK_FALSE(decode(plain + std::string(8, '\0'), nullptr, cache_key).has_value());
  }
  SECTION("a huge header count") {
    for (std::uint32_t count : {0xffffffffu, 0x80000000u, 0x10000000u, 1000u}) {
      std::string bytes = "P";
      put_u32(bytes, 200);
      put_u32(bytes, count);
      put_u32(bytes, 1), bytes += "a", put_u32(bytes, 1), bytes += "b";
      put_u32(bytes, 0);  // empty body
      CAPTURE(count);
      CHECK_FALSE(decode(bytes, nullptr, cache_key).has_value());
    }
  }
  SECTION("lengths larger than what follows") {
    for (std::uint32_t len : {0xffffffffu, 0x7fffffffu, 100u, 2u}) {
      CAPTURE(len);
      std::string name_len = "P";  // a header name claims `len` bytes
      put_u32(name_len, 200), put_u32(name_len, 1), put_u32(name_len, len);
      name_len += "a";
      put_u32(name_len, 0), put_u32(name_len, 0);
      CHECK_FALSE(decode(name_len, nullptr, cache_key).has_value());

      std::string body_len = "P";  // the body claims `len` bytes
      put_u32(body_len, 200), put_u32(body_len, 0), put_u32(body_len, len);
      body_len += "b";
      CHECK_FALSE(decode(body_len, nullptr, cache_key).has_value());
    }
  }
  SECTION("a hand-made entry decodes (the format the damaged cases start from)") {
    std::string bytes = "P";
    put_u32(bytes, 201);
    put_u32(bytes, 1);
    put_u32(bytes, 1), bytes += "a", put_u32(bytes, 1), bytes += "b";
    put_u32(bytes, 2), bytes += "hi";
    auto back = decode(bytes, nullptr, cache_key);
    REQUIRE(back.has_value());
    CHECK(back->status == 201);
    CHECK(back->headers.get("a") == std::optional<std::string_view>{"b"});
    CHECK(back->body == "hi");
  }
}
