#include <gatehouse/store.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <string>
#include <thread>
#include <vector>

using gatehouse::admission;
using gatehouse::admission_result;
using gatehouse::admission_verdict;
using gatehouse::bucket_check;
using gatehouse::make_memory_store;
using gatehouse::quota_check;
using gatehouse::time_point;

using namespace std::chrono_literals;

namespace {
// A fixed "now": 2026-11-24 12:00:00 UTC.
const time_point t0 = time_point{std::chrono::seconds{1'795'996'800}} + 12h;

admission only_buckets(const std::vector<bucket_check>& buckets) {
  admission a;
  a.buckets = buckets;
  return a;
}

admission_result admit(gatehouse::store& s, const admission& a, time_point now) {
  auto r = s.try_admit(a, now);
  REQUIRE(r.has_value());  // the memory store never needs I/O
  return *r;
}

// Admits requests through `a` at `now` until one is refused; returns the count (at most cap).
int admitted_until_refused(gatehouse::store& s, const admission& a, time_point now,
                           int cap = 100000) {
  int n = 0;
  while (n < cap && admit(s, a, now).verdict == admission_verdict::admitted) ++n;
  return n;
}
}  // namespace

TEST_CASE("try_admit takes a token from every bucket", "[store]") {
  auto s = make_memory_store();
  const std::vector<bucket_check> both{{"b/one", {0, 3}}, {"b/two", {0, 5}}};
  CHECK(admitted_until_refused(*s, only_buckets(both), t0) == 3);
  // b/two lost exactly 3 tokens: 2 remain.
  const std::vector<bucket_check> two{{"b/two", {0, 5}}};
  CHECK(admitted_until_refused(*s, only_buckets(two), t0) == 2);
}

TEST_CASE("try_admit is all or nothing: a refused bucket gives the others' tokens back",
          "[store]") {
  auto s = make_memory_store();
  const std::vector<bucket_check> first{{"first", {0, 2}}};
  const std::vector<bucket_check> second{{"second", {0, 1}}};
  const std::vector<bucket_check> both{{"first", {0, 2}}, {"second", {0, 1}}};

  // Empty the second bucket.
  REQUIRE(admit(*s, only_buckets(second), t0).verdict == admission_verdict::admitted);
  // Now every request through both is refused at the second bucket …
  for (int i = 0; i < 10; ++i) {
    auto r = admit(*s, only_buckets(both), t0);
    CHECK(r.verdict == admission_verdict::throttled);
    CHECK(r.refused_bucket == 1);
  }
  // … and the first bucket was not drained by them: its 2 tokens are still there.
  CHECK(admitted_until_refused(*s, only_buckets(first), t0) == 2);

  SECTION("the index of the refused bucket and its retry-after") {
    const std::vector<bucket_check> order{{"c", {10, 1}}, {"d", {4, 1}}, {"e", {1, 1}}};
    REQUIRE(admit(*s, only_buckets(order), t0).verdict == admission_verdict::admitted);
    auto r = admit(*s, only_buckets(order), t0 + 50ms);
    CHECK(r.verdict == admission_verdict::throttled);
    CHECK(r.refused_bucket == 0);
    CHECK(r.retry_after == 50ms);  // c: rate 10, half a token back
    // At 100 ms c has a token (and gives it back), d has 0.4: refused at d.
    r = admit(*s, only_buckets(order), t0 + 100ms);
    CHECK(r.verdict == admission_verdict::throttled);
    CHECK(r.refused_bucket == 1);
    CHECK(r.retry_after == 150ms);
    // At 250 ms c and d have one, e has 0.25: refused at e; c and d keep theirs.
    r = admit(*s, only_buckets(order), t0 + 250ms);
    CHECK(r.refused_bucket == 2);
    CHECK(r.retry_after == 750ms);
    CHECK(admit(*s, only_buckets(order), t0 + 1s).verdict == admission_verdict::admitted);
  }
}

TEST_CASE("a quota admits exactly its limit, then quota_exceeded until it expires", "[store]") {
  auto s = make_memory_store();
  const time_point expires = t0 + 3h + 25min;
  admission a;
  a.quota = quota_check{"quota/p/k/2026-11-24", 7, expires};
  for (int i = 0; i < 7; ++i) {
    INFO("request " << i);
    CHECK(admit(*s, a, t0 + std::chrono::seconds{i}).verdict == admission_verdict::admitted);
  }
  const auto now = t0 + 10s;
  auto r = admit(*s, a, now);
  CHECK(r.verdict == admission_verdict::quota_exceeded);
  CHECK(r.retry_after == expires - now);
  CHECK(r.retry_after == 3h + 25min - 10s);
  CHECK(s->counter("quota/p/k/2026-11-24", now) == 7);
  // Still refused just before it expires, and the counter does not grow past the limit.
  r = admit(*s, a, expires - 1ns);
  CHECK(r.verdict == admission_verdict::quota_exceeded);
  CHECK(r.retry_after == 1ns);
  CHECK(s->counter("quota/p/k/2026-11-24", now) == 7);

  SECTION("limit 0 admits nothing") {
    admission zero;
    zero.quota = quota_check{"quota/zero", 0, expires};
    CHECK(admit(*s, zero, t0).verdict == admission_verdict::quota_exceeded);
  }
  SECTION("an expired counter starts again from 0") {
    const time_point later = expires + 1s;
    const time_point next_expiry = later + 24h;
    admission next;
    next.quota = quota_check{"quota/p/k/2026-11-24", 7, next_expiry};
    CHECK(s->counter("quota/p/k/2026-11-24", expires) == 0);  // gone at `expires`
    CHECK(admitted_until_refused(*s, next, later) == 7);
    r = admit(*s, next, later);
    CHECK(r.verdict == admission_verdict::quota_exceeded);
    CHECK(r.retry_after == 24h);
  }
}

TEST_CASE("a quota refusal gives the bucket tokens back", "[store]") {
  auto s = make_memory_store();
  const std::vector<bucket_check> buckets{{"plan", {0, 10}}, {"method", {0, 10}}};
  admission a;
  a.buckets = buckets;
  a.quota = quota_check{"quota/q", 2, t0 + 24h};
  CHECK(admit(*s, a, t0).verdict == admission_verdict::admitted);
  CHECK(admit(*s, a, t0).verdict == admission_verdict::admitted);
  for (int i = 0; i < 20; ++i) {
    auto r = admit(*s, a, t0);
    CHECK(r.verdict == admission_verdict::quota_exceeded);
    CHECK(r.retry_after == 24h);
  }
  // Each bucket gave only 2 tokens, to the admitted requests: 8 are left in each.
  const std::vector<bucket_check> plan{{"plan", {0, 10}}};
  const std::vector<bucket_check> method{{"method", {0, 10}}};
  CHECK(admitted_until_refused(*s, only_buckets(plan), t0) == 8);
  CHECK(admitted_until_refused(*s, only_buckets(method), t0) == 8);
}

TEST_CASE("a throttled request does not count against the quota", "[store]") {
  auto s = make_memory_store();
  const std::vector<bucket_check> bucket{{"tb", {0, 3}}};
  admission a;
  a.buckets = bucket;
  a.quota = quota_check{"quota/t", 100, t0 + 24h};
  a.usage_key = "usage/t";
  a.usage_expires = t0 + 90 * 24h;
  for (int i = 0; i < 10; ++i) admit(*s, a, t0);
  CHECK(s->counter("quota/t", t0) == 3);
  CHECK(s->counter("usage/t", t0) == 3);
}

TEST_CASE("the usage counter counts admitted requests only", "[store]") {
  auto s = make_memory_store();
  admission a;
  a.quota = quota_check{"quota/u", 4, t0 + 24h};
  a.usage_key = "usage/p/k/2026-11-24";
  a.usage_expires = t0 + 90 * 24h;
  for (int i = 0; i < 9; ++i) admit(*s, a, t0);
  CHECK(s->counter("usage/p/k/2026-11-24", t0) == 4);
  CHECK(s->counter("quota/u", t0) == 4);
  // Expired usage reads as 0.
  CHECK(s->counter("usage/p/k/2026-11-24", t0 + 90 * 24h) == 0);
  CHECK(s->counter("usage/absent", t0) == 0);

  SECTION("an admission with only a usage key is always admitted and counted") {
    admission u;
    u.usage_key = "usage/only";
    u.usage_expires = t0 + 1h;
    for (int i = 0; i < 5; ++i) CHECK(admit(*s, u, t0).verdict == admission_verdict::admitted);
    CHECK(s->counter("usage/only", t0) == 5);
  }
}

TEST_CASE("exact under concurrency: 8 threads on one quota admit exactly its limit",
          "[store][threads]") {
  auto s = make_memory_store();
  admission a;
  a.quota = quota_check{"quota/concurrent", 1000, t0 + 24h};
  a.usage_key = "usage/concurrent";
  a.usage_expires = t0 + 24h;
  std::atomic<int> admitted{0}, refused{0};
  std::latch start(8);  // all threads begin together, to contend
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < 1250; ++i) {  // 8 × 1250 = 10,000 attempts
        auto r = s->try_admit(a, t0);
        if (r && r->verdict == admission_verdict::admitted)
          ++admitted;
        else
          ++refused;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(admitted == 1000);
  CHECK(refused == 9000);
  CHECK(s->counter("quota/concurrent", t0) == 1000);
  CHECK(s->counter("usage/concurrent", t0) == 1000);
}

TEST_CASE("exact under concurrency: 8 threads on one bucket admit exactly its burst",
          "[store][threads]") {
  auto s = make_memory_store();
  constexpr int burst = 777;
  const std::vector<bucket_check> shared{{"throttle/shared", {0, burst}}};
  // Each thread also has a bucket of its own, first, that must get back what it gave.
  std::atomic<int> admitted{0};
  std::vector<int> own_left(8, 0);
  std::latch start(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      const std::string own_key = "throttle/own/" + std::to_string(t);
      const std::vector<bucket_check> both{{own_key, {0, 2000}}, {"throttle/shared", {0, burst}}};
      admission a;
      a.buckets = both;
      int mine = 0;
      for (int i = 0; i < 1250; ++i) {
        auto r = s->try_admit(a, t0);
        if (r && r->verdict == admission_verdict::admitted) ++mine;
      }
      admitted += mine;
      // The own bucket lost exactly one token per admitted request.
      const std::vector<bucket_check> own{{own_key, {0, 2000}}};
      admission o;
      o.buckets = own;
      int left = 0;
      while (left < 5000 && s->try_admit(o, t0)->verdict == admission_verdict::admitted) ++left;
      own_left[t] = left + mine;
    });
  for (auto& t : threads) t.join();
  CHECK(admitted == burst);
  for (int t = 0; t < 8; ++t) {
    INFO("thread " << t);
    CHECK(own_left[t] == 2000);
  }
  CHECK(admit(*s, only_buckets(shared), t0).verdict == admission_verdict::throttled);
}

TEST_CASE("records: put, get, erase, scan by prefix in key order", "[store]") {
  auto s = make_memory_store();
  CHECK_FALSE(s->get("apikey/a").has_value());
  s->put("apikey/b", "B");
  s->put("apikey/a", "A");
  s->put("apikey/c", "C");
  s->put("apikeyz", "not under the prefix");
  s->put("apij", "before");
  s->put("other/x", "X");
  REQUIRE(s->get("apikey/a").has_value());
  CHECK(*s->get("apikey/a") == "A");

  using kv = std::pair<std::string, std::string>;
  CHECK(s->scan("apikey/") ==
        std::vector<kv>{{"apikey/a", "A"}, {"apikey/b", "B"}, {"apikey/c", "C"}});
  CHECK(s->scan("apikey") == std::vector<kv>{{"apikey/a", "A"},
                                             {"apikey/b", "B"},
                                             {"apikey/c", "C"},
                                             {"apikeyz", "not under the prefix"}});
  CHECK(s->scan("nothing/").empty());
  CHECK(s->scan("").size() == 6);
  CHECK(s->scan("").front().first == "apij");
  CHECK(s->scan("").back().first == "other/x");

  // put replaces.
  s->put("apikey/b", "B2");
  CHECK(*s->get("apikey/b") == "B2");
  CHECK(s->scan("apikey/").size() == 3);

  // erase.
  CHECK(s->erase("apikey/b"));
  CHECK_FALSE(s->erase("apikey/b"));
  CHECK_FALSE(s->get("apikey/b").has_value());
  CHECK(s->scan("apikey/") == std::vector<kv>{{"apikey/a", "A"}, {"apikey/c", "C"}});
  CHECK_FALSE(s->erase("never/was"));

  // Records and counters do not mix.
  CHECK(s->counter("apikey/a", t0) == 0);
}

TEST_CASE("separate stores share nothing", "[store]") {
  auto s1 = make_memory_store();
  auto s2 = make_memory_store();
  const std::vector<bucket_check> b{{"k", {0, 1}}};
  CHECK(admit(*s1, only_buckets(b), t0).verdict == admission_verdict::admitted);
  CHECK(admit(*s1, only_buckets(b), t0).verdict == admission_verdict::throttled);
  CHECK(admit(*s2, only_buckets(b), t0).verdict == admission_verdict::admitted);
  s1->put("r", "1");
  CHECK_FALSE(s2->get("r").has_value());
}
