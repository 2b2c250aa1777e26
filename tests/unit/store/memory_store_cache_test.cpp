#include "store/memory_store.hpp"

#include <gatehouse/store.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <latch>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using gatehouse::cache_lookup;
using gatehouse::make_memory_store;
using gatehouse::time_point;

using namespace std::chrono_literals;

namespace {
// A fixed "now": 2026-11-24 12:00:00 UTC.
const time_point t0 = time_point{std::chrono::seconds{1'795'996'800}} + 12h;
const time_point far = t0 + 24h;

// As the memory store keeps its cache: 16 shards per namespace, each holding capacity/16 bytes
// of entries that cost key size + data size + 96.
constexpr std::size_t shards = gatehouse::detail::memory_cache_shards, overhead = 96;
std::size_t shard_of(std::string_view key) { return gatehouse::detail::memory_cache_shard_of(key); }

std::shared_ptr<const std::string> data(std::string s) {
  return std::make_shared<const std::string>(std::move(s));
}

// The entry's data on a hit; "<miss>" otherwise.
std::string get(gatehouse::store& s, std::string_view ns, std::string_view key,
                time_point now = t0) {
  auto r = s.try_cache_get(ns, key, now);
  REQUIRE(r.state != cache_lookup::outcome::pending);  // the memory store never needs I/O
  if (r.state == cache_lookup::outcome::miss) return "<miss>";
  REQUIRE(r.data);
  return *r.data;
}

// `n` keys (prefix + number) that all land in one shard; the first is prefix + "0".
std::vector<std::string> same_shard_keys(const std::string& prefix, std::size_t n) {
  std::vector<std::string> out{prefix + "0"};
  const std::size_t target = shard_of(out.front());
  for (int i = 1; out.size() < n; ++i) {
    std::string k = prefix + std::to_string(i);
    if (shard_of(k) == target) out.push_back(std::move(k));
  }
  return out;
}

// A key (prefix + number) in another shard than `other`.
std::string other_shard_key(const std::string& prefix, std::string_view other) {
  for (int i = 0;; ++i) {
    std::string k = prefix + std::to_string(i);
    if (shard_of(k) != shard_of(other)) return k;
  }
}

// Data of `size` bytes that starts with `tag`.
std::string sized(const std::string& tag, std::size_t size) {
  std::string s = tag;
  s.resize(size, '.');
  return s;
}
}  // namespace

TEST_CASE("stage cache: an entry is served until it expires, never at or after", "[store][cache]") {
  auto s = make_memory_store();
  const time_point expires = t0 + 300s;
  s->cache_put("api/prod", "GET /pets", data("pets"), expires, 1 << 20);

  CHECK(get(*s, "api/prod", "GET /pets", t0) == "pets");
  CHECK(get(*s, "api/prod", "GET /pets", expires - 1s) == "pets");
  CHECK(get(*s, "api/prod", "GET /pets", expires - 1ns) == "pets");

  SECTION("at expiry: not served, and dropped") {
    CHECK(get(*s, "api/prod", "GET /pets", expires) == "<miss>");
    // Dropped: even an earlier clock no longer finds it.
    CHECK(get(*s, "api/prod", "GET /pets", t0) == "<miss>");
  }
  SECTION("after expiry: not served, and dropped") {
    CHECK(get(*s, "api/prod", "GET /pets", expires + 1h) == "<miss>");
    CHECK(get(*s, "api/prod", "GET /pets", expires - 1s) == "<miss>");
  }
  SECTION("an entry that expired when stored is never served") {
    s->cache_put("api/prod", "old", data("old"), t0, 1 << 20);
    CHECK(get(*s, "api/prod", "old", t0) == "<miss>");
  }
}

TEST_CASE("stage cache: a miss for unknown keys and namespaces", "[store][cache]") {
  auto s = make_memory_store();
  auto r = s->try_cache_get("never/used", "GET /pets", t0);
  CHECK(r.state == cache_lookup::outcome::miss);
  CHECK_FALSE(r.data);
  s->cache_put("api/prod", "GET /pets", data("pets"), far, 1 << 20);
  CHECK(get(*s, "api/prod", "GET /pet") == "<miss>");
  CHECK(get(*s, "api/prod", "GET /petss") == "<miss>");
  // A hit shares the stored data, not a copy.
  auto stored = data("shared");
  s->cache_put("api/prod", "shared", stored, far, 1 << 20);
  auto hit = s->try_cache_get("api/prod", "shared", t0);
  REQUIRE(hit.state == cache_lookup::outcome::hit);
  CHECK(hit.data.get() == stored.get());
}

TEST_CASE("stage cache: namespaces never share entries", "[store][cache]") {
  auto s = make_memory_store();
  s->cache_put("api/prod", "GET /pets", data("prod pets"), far, 1 << 20);
  CHECK(get(*s, "api/beta", "GET /pets") == "<miss>");
  s->cache_put("api/beta", "GET /pets", data("beta pets"), far, 1 << 20);
  CHECK(get(*s, "api/prod", "GET /pets") == "prod pets");
  CHECK(get(*s, "api/beta", "GET /pets") == "beta pets");
  // Namespace and key are not simply joined: "api/prod" + "x" is not "api/pro" + "dx".
  s->cache_put("api/pro", "dGET /pets", data("other"), far, 1 << 20);
  s->cache_put("api/prod/", "GET /pets", data("slash"), far, 1 << 20);
  CHECK(get(*s, "api/prod", "GET /pets") == "prod pets");
  CHECK(get(*s, "api/pro", "dGET /pets") == "other");
  CHECK(get(*s, "api/prod/", "GET /pets") == "slash");
}

TEST_CASE("stage cache: a put replaces the entry and its expiry", "[store][cache]") {
  auto s = make_memory_store();
  s->cache_put("api/prod", "k", data("first"), t0 + 10s, 1 << 20);
  s->cache_put("api/prod", "k", data("second"), t0 + 100s, 1 << 20);
  CHECK(get(*s, "api/prod", "k", t0) == "second");
  CHECK(get(*s, "api/prod", "k", t0 + 50s) == "second");  // past the first expiry
  s->cache_put("api/prod", "k", data("third"), t0 + 5s, 1 << 20);
  CHECK(get(*s, "api/prod", "k", t0 + 50s) == "<miss>");  // the shorter expiry replaced it too
}

TEST_CASE("stage cache: a full shard evicts its least recently used entry", "[store][cache]") {
  auto s = make_memory_store();
  // Each shard holds 1000 bytes; each entry below costs 400: two fit, a third does not.
  const std::size_t capacity = shards * 1000;
  const auto keys = same_shard_keys("lru-", 4);
  auto put = [&](const std::string& key) {
    const std::size_t size = 400 - overhead - key.size();
    s->cache_put("api/prod", key, data(sized(key, size)), far, capacity);
  };
  auto has = [&](const std::string& key) { return get(*s, "api/prod", key) != "<miss>"; };
  const std::string& a = keys[0];
  const std::string& b = keys[1];
  const std::string& c = keys[2];

  SECTION("the least recently read goes first") {
    put(a), put(b);
    REQUIRE(has(a));  // reads a: a is now the most recent
    REQUIRE(has(b));  // reads b: b is now the most recent, a the least
    put(c);
    CHECK_FALSE(has(a));
    CHECK(has(b));
    CHECK(has(c));
  }
  SECTION("in order of writes") {
    put(a), put(b), put(c);
    CHECK_FALSE(has(a));
    CHECK(has(c));
    CHECK(has(b));
  }
  SECTION("reading an entry makes it the most recently used") {
    put(a), put(b);
    CHECK(get(*s, "api/prod", a).starts_with(a));  // a is now more recent than b
    put(c);
    CHECK(has(a));
    CHECK_FALSE(has(b));
    CHECK(has(c));
  }
  SECTION("replacing an entry makes it the most recently used, and frees its old size") {
    put(a), put(b);
    for (int i = 0; i < 20; ++i) put(a);  // a is now more recent than b; still 800 bytes
    CHECK(has(b));                        // b is now more recent than a
    put(a);                               // a again
    put(c);
    CHECK(has(a));
    CHECK_FALSE(has(b));
    CHECK(has(c));
  }
  SECTION("an expired entry that is dropped frees its room") {
    s->cache_put("api/prod", a, data(sized(a, 400 - overhead - a.size())), t0 + 1s, capacity);
    put(b);
    CHECK(get(*s, "api/prod", a, t0 + 1s) == "<miss>");  // drops a
    put(c);
    CHECK(has(b));
    CHECK(has(c));
  }
  SECTION("one big entry evicts as many as it needs") {
    put(a), put(b);
    s->cache_put("api/prod", c, data(sized(c, 900 - overhead - c.size())), far, capacity);
    CHECK_FALSE(has(a));
    CHECK_FALSE(has(b));
    CHECK(has(c));
  }
  SECTION("other shards are not touched") {
    const std::string other = other_shard_key("lru-other-", a);
    put(other);
    put(a), put(b), put(c), put(keys[3]);
    CHECK(has(other));
    CHECK_FALSE(has(a));
    CHECK_FALSE(has(b));
  }
  SECTION("other namespaces are not touched") {
    s->cache_put("api/beta", a, data("beta"), far, capacity);
    put(a), put(b), put(c);
    CHECK_FALSE(has(a));
    CHECK(get(*s, "api/beta", a) == "beta");
  }
}

TEST_CASE("stage cache: an entry larger than its shard's share is not kept", "[store][cache]") {
  auto s = make_memory_store();
  const std::size_t capacity = shards * 1000;  // 1000 bytes per shard
  const std::string key = "big";
  const std::size_t fits = 1000 - overhead - key.size();

  SECTION("exactly the share is kept") {
    s->cache_put("api/prod", key, data(sized("x", fits)), far, capacity);
    CHECK(get(*s, "api/prod", key) == sized("x", fits));
  }
  SECTION("one byte more is not") {
    s->cache_put("api/prod", key, data(sized("x", fits + 1)), far, capacity);
    CHECK(get(*s, "api/prod", key) == "<miss>");
  }
  SECTION("far more is not, nor does it evict anything") {
    const auto keys = same_shard_keys("share-", 2);
    s->cache_put("api/prod", keys[1], data("small"), far, capacity);
    s->cache_put("api/prod", keys[0], data(std::string(std::size_t{1} << 20, 'x')), far, capacity);
    CHECK(get(*s, "api/prod", keys[0]) == "<miss>");
    CHECK(get(*s, "api/prod", keys[1]) == "small");
  }
  SECTION("a replacement too large for the share leaves no stale entry") {
    s->cache_put("api/prod", key, data("old"), far, capacity);
    REQUIRE(get(*s, "api/prod", key) == "old");
    s->cache_put("api/prod", key, data(sized("new", fits + 1)), far, capacity);
    CHECK(get(*s, "api/prod", key) == "<miss>");
  }
  SECTION("a capacity smaller than 16 bytes keeps nothing") {
    s->cache_put("api/prod", "k", data(""), far, 15);
    CHECK(get(*s, "api/prod", "k") == "<miss>");
  }
}

TEST_CASE("stage cache: cache_flush empties one namespace only", "[store][cache]") {
  auto s = make_memory_store();
  for (int i = 0; i < 100; ++i) {
    const std::string k = "GET /pets/" + std::to_string(i);
    s->cache_put("api/prod", k, data("prod " + k), far, 1 << 20);
    s->cache_put("api/beta", k, data("beta " + k), far, 1 << 20);
  }
  s->cache_flush("api/prod");
  s->cache_flush("never/used");  // a namespace never used: nothing happens
  for (int i = 0; i < 100; ++i) {
    const std::string k = "GET /pets/" + std::to_string(i);
    CAPTURE(k);
    CHECK(get(*s, "api/prod", k) == "<miss>");
    CHECK(get(*s, "api/beta", k) == "beta " + k);
  }
  // The flushed namespace works as before, with all its room.
  const auto keys = same_shard_keys("after-", 2);
  const std::size_t capacity = shards * 1000;
  s->cache_put("api/prod", keys[0], data(sized("a", 450)), far, capacity);
  s->cache_flush("api/prod");
  s->cache_put("api/prod", keys[0], data(sized("a", 350)), far, capacity);
  s->cache_put("api/prod", keys[1], data(sized("b", 350)), far, capacity);
  CHECK(get(*s, "api/prod", keys[0]) == sized("a", 350));
  CHECK(get(*s, "api/prod", keys[1]) == sized("b", 350));
}

TEST_CASE("stage cache: concurrent puts, gets and flushes from 4 threads",
          "[store][cache][threads]") {
  auto s = make_memory_store();
  constexpr int threads = 4, rounds = 20000, key_count = 64;
  const std::size_t capacity = shards * 2000;  // small enough to evict all the time
  std::latch start(threads);
  std::atomic<long> hits{0}, wrong{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      start.arrive_and_wait();
      unsigned x = 2463534242u + static_cast<unsigned>(t) * 7919u;
      for (int i = 0; i < rounds; ++i) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;  // xorshift
        const std::string ns = (x & 1) ? "api/prod" : "api/beta";
        const std::string key = "GET /pets/" + std::to_string((x >> 1) % key_count);
        const unsigned op = (x >> 8) % 100;
        if (op < 45) {
          s->cache_put(ns, key, data(ns + "|" + key + "|" + std::string((x >> 16) % 300, 'v')), far,
                       capacity);
        } else if (op < 99) {
          auto r = s->try_cache_get(ns, key, (x & 2) ? t0 : far + 1s);  // some expired
          if (r.state == cache_lookup::outcome::hit) {
            ++hits;
            if (!r.data || !r.data->starts_with(ns + "|" + key + "|")) ++wrong;
          }
        } else {
          s->cache_flush(ns);
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  CHECK(wrong.load() == 0);
  CHECK(hits.load() > 0);
}
