#include "throttle/token_bucket.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/throttle.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

using gatehouse::config_error;
using gatehouse::throttle_settings;
using gatehouse::throttle::bucket_state;
using gatehouse::throttle::check_settings;
using gatehouse::throttle::full_at;
using gatehouse::throttle::give_back;
using gatehouse::throttle::never;
using gatehouse::throttle::one_token;
using gatehouse::throttle::take;

namespace {
constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t sec = 1'000'000'000;
// An arbitrary, realistic "now": 2026-11-24 in ns since the epoch.
constexpr std::int64_t t0 = 1'795'996'800LL * sec;

// Takes as many tokens as the bucket gives at `now` (up to `cap` tries); returns the count.
int drain(bucket_state& b, const throttle_settings& limit, std::int64_t now, int cap = 100000) {
  int n = 0;
  while (n < cap && take(b, limit, now) == 0) ++n;
  return n;
}
}  // namespace

TEST_CASE("a new bucket starts full: burst tokens at once, then refused", "[throttle]") {
  const throttle_settings limit{10, 5};
  bucket_state b;
  for (int i = 0; i < 5; ++i) {
    INFO("token " << i);
    CHECK(take(b, limit, t0) == 0);
  }
  CHECK(take(b, limit, t0) != 0);
  CHECK(take(b, limit, t0) != 0);

  bucket_state big;
  CHECK(drain(big, {1, 1000}, t0) == 1000);
}

TEST_CASE("tokens come back at `rate` a second", "[throttle]") {
  const throttle_settings limit{10, 1};  // one token every 100 ms
  bucket_state b;
  REQUIRE(take(b, limit, t0) == 0);
  REQUIRE(take(b, limit, t0) != 0);

  SECTION("not after 99 ms, but after 100 ms") {
    bucket_state copy = b;
    CHECK(take(copy, limit, t0 + 99 * ms) != 0);
    CHECK(take(copy, limit, t0 + 100 * ms) == 0);
    CHECK(take(copy, limit, t0 + 100 * ms) != 0);
  }
  SECTION("exactly at 100 ms, not one nanosecond before") {
    bucket_state early = b;
    CHECK(take(early, limit, t0 + 100 * ms - 1) != 0);
    bucket_state exact = b;
    CHECK(take(exact, limit, t0 + 100 * ms) == 0);
  }
  SECTION("steady requests every 100 ms are all admitted") {
    for (int i = 1; i <= 50; ++i) {
      INFO("request " << i);
      CHECK(take(b, limit, t0 + i * 100 * ms) == 0);
    }
  }
  SECTION("partial refills add up across calls") {
    CHECK(take(b, limit, t0 + 40 * ms) != 0);
    CHECK(take(b, limit, t0 + 80 * ms) != 0);
    CHECK(take(b, limit, t0 + 99 * ms) != 0);
    CHECK(take(b, limit, t0 + 100 * ms) == 0);
  }
}

TEST_CASE("a bucket never holds more than burst, however long it is idle", "[throttle]") {
  const throttle_settings limit{100, 3};
  bucket_state b;
  CHECK(drain(b, limit, t0) == 3);
  CHECK(drain(b, limit, t0 + 3600 * sec) == 3);  // an hour: 360,000 tokens' worth, capped at 3
  CHECK(drain(b, limit, t0 + 3600LL * 24 * 365 * 100 * sec) == 3);  // a century
  // With a partial refill in between, still capped.
  bucket_state c;
  REQUIRE(take(c, limit, t0) == 0);  // 2 left
  CHECK(drain(c, limit, t0 + 1 * sec) == 3);
}

TEST_CASE("the retry-after answer is the ns until a token is back", "[throttle]") {
  SECTION("rate 10, empty: 100 ms") {
    const throttle_settings limit{10, 1};
    bucket_state b;
    REQUIRE(take(b, limit, t0) == 0);
    CHECK(take(b, limit, t0) == 100 * ms);
    CHECK(take(b, limit, t0 + 50 * ms) == 50 * ms);
    CHECK(take(b, limit, t0 + 99 * ms) == 1 * ms);
    CHECK(take(b, limit, t0 + 100 * ms - 1) == 1);
    CHECK(take(b, limit, t0 + 100 * ms) == 0);
  }
  SECTION("rate 1: 1 s; rate 1000: 1 ms; rate 4: 250 ms") {
    for (auto [rate, wait] :
         {std::pair{1.0, 1 * sec}, std::pair{1000.0, 1 * ms}, std::pair{4.0, 250 * ms}}) {
      INFO("rate " << rate);
      const throttle_settings limit{rate, 2};
      bucket_state b;
      REQUIRE(drain(b, limit, t0) == 2);
      CHECK(take(b, limit, t0) == wait);
    }
  }
  SECTION("rounded up when a token takes a fraction of a ns: rate 3") {
    const throttle_settings limit{3, 1};
    bucket_state b;
    REQUIRE(take(b, limit, t0) == 0);
    const std::int64_t wait = take(b, limit, t0);
    CHECK(wait == 333'333'334);  // ceil(1e9 / 3)
    bucket_state early = b;
    CHECK(take(early, limit, t0 + wait - 1) != 0);
    CHECK(take(b, limit, t0 + wait) == 0);
  }
  SECTION("for many rates: a token is there after the wait, and not 1 ns before") {
    std::mt19937_64 rng(12345);
    std::uniform_real_distribution<double> rates(0.01, 50000.0);
    std::uniform_int_distribution<std::int64_t> gaps(0, 2 * sec);
    for (int i = 0; i < 2000; ++i) {
      const throttle_settings limit{rates(rng), 1};
      bucket_state b;
      REQUIRE(take(b, limit, t0) == 0);
      const std::int64_t at = t0 + gaps(rng) % static_cast<std::int64_t>(sec / limit.rate + 1);
      bucket_state probe = b;
      const std::int64_t wait = take(probe, limit, at);
      if (wait == 0) continue;  // already back
      INFO("rate " << limit.rate << " asked at +" << at - t0 << " ns, wait " << wait);
      REQUIRE(wait > 0);
      REQUIRE(wait != never);
      bucket_state before = probe, after = probe;
      CHECK(take(before, limit, at + wait - 1) != 0);
      CHECK(take(after, limit, at + wait) == 0);
    }
  }
}

TEST_CASE("rate 0: once empty, a token never comes back", "[throttle]") {
  const throttle_settings limit{0, 2};
  bucket_state b;
  CHECK(drain(b, limit, t0) == 2);
  CHECK(take(b, limit, t0) == never);
  CHECK(take(b, limit, t0 + 3600 * sec) == never);
  CHECK(take(b, limit, t0 + 3600LL * 24 * 365 * 100 * sec) == never);
}

TEST_CASE("burst 0 refuses every request, with `never`", "[throttle]") {
  for (double rate : {0.0, 1.0, 10000.0}) {
    INFO("rate " << rate);
    const throttle_settings limit{rate, 0};
    bucket_state b;
    CHECK(take(b, limit, t0) == never);
    CHECK(take(b, limit, t0 + 10 * sec) == never);
    CHECK(take(b, limit, t0 + 3600 * sec) == never);
  }
}

TEST_CASE("give_back restores one token, never above burst", "[throttle]") {
  const throttle_settings limit{0, 3};  // rate 0: only give_back can add tokens
  bucket_state b;
  REQUIRE(drain(b, limit, t0) == 3);
  give_back(b, limit);
  CHECK(take(b, limit, t0) == 0);
  CHECK(take(b, limit, t0) == never);

  // Full bucket: give_back must not raise it above burst.
  bucket_state full;
  REQUIRE(take(full, limit, t0) == 0);
  give_back(full, limit);  // back to 3
  give_back(full, limit);  // would be 4: capped
  give_back(full, limit);
  CHECK(drain(full, limit, t0) == 3);

  // Partially filled by time, then given back: capped too.
  const throttle_settings slow{10, 2};
  bucket_state p;
  REQUIRE(drain(p, slow, t0) == 2);
  REQUIRE(take(p, slow, t0 + 150 * ms) == 0);  // had 1.5, now 0.5
  give_back(p, slow);                          // 1.5
  give_back(p, slow);                          // 2.5 → capped at 2
  CHECK(drain(p, slow, t0 + 150 * ms) == 2);
}

TEST_CASE("a clock stepping backwards gives nothing", "[throttle]") {
  const throttle_settings limit{10, 1};
  bucket_state b;
  REQUIRE(take(b, limit, t0) == 0);
  // Back by 10 s: no tokens, and the bucket keeps its time.
  CHECK(take(b, limit, t0 - 10 * sec) != 0);
  CHECK(take(b, limit, t0 + 99 * ms) != 0);
  CHECK(take(b, limit, t0 + 100 * ms) == 0);

  // After the step back, refilling resumes from the latest time seen, not the earlier one.
  bucket_state c;
  REQUIRE(take(c, limit, t0 + 1 * sec) == 0);
  CHECK(take(c, limit, t0) != 0);  // earlier than the last update
  CHECK(take(c, limit, t0 + 1 * sec + 99 * ms) != 0);
  CHECK(take(c, limit, t0 + 1 * sec + 100 * ms) == 0);
}

TEST_CASE("fractional rates: 0.5 a second is one token every 2 s", "[throttle]") {
  const throttle_settings limit{0.5, 1};
  bucket_state b;
  REQUIRE(take(b, limit, t0) == 0);
  CHECK(take(b, limit, t0) == 2 * sec);
  CHECK(take(b, limit, t0 + 1 * sec) == 1 * sec);
  bucket_state early = b;
  CHECK(take(early, limit, t0 + 2 * sec - 1) != 0);
  CHECK(take(b, limit, t0 + 2 * sec) == 0);
  CHECK(take(b, limit, t0 + 2 * sec) == 2 * sec);
  // 0.25/s: 4 s a token; over 20 s at most 5 (+ burst).
  const throttle_settings quarter{0.25, 1};
  bucket_state q;
  int admitted = 0;
  for (std::int64_t t = 0; t <= 20 * sec; t += 100 * ms) admitted += take(q, quarter, t0 + t) == 0;
  CHECK(admitted == 6);  // 1 at start + one at 4, 8, 12, 16, 20 s
}

TEST_CASE("property: admitted ≤ burst + rate × elapsed at every point of a random schedule",
          "[throttle]") {
  std::mt19937_64 rng(20261124);
  struct setting {
    double rate;
    std::int64_t burst;
  };
  for (auto [rate, burst] : {setting{10, 5}, setting{0.5, 1}, setting{1000, 100}, setting{3, 0},
                             setting{0, 7}, setting{123.456, 20}, setting{1e6, 1}}) {
    const throttle_settings limit{rate, burst};
    INFO("rate " << rate << " burst " << burst);
    bucket_state b;
    std::int64_t now = t0;
    std::int64_t admitted = 0, refused = 0;
    // Mostly short gaps (bursts of requests), sometimes long idle times, now and then equal times.
    std::uniform_int_distribution<int> kind(0, 9);
    std::uniform_int_distribution<std::int64_t> short_gap(0, 5 * ms);
    std::uniform_int_distribution<std::int64_t> long_gap(0, 3 * sec);
    for (int i = 0; i < 20000; ++i) {
      const int k = kind(rng);
      now += k == 0 ? long_gap(rng) : k == 1 ? 0 : short_gap(rng);
      if (take(b, limit, now) == 0)
        ++admitted;
      else
        ++refused;
      const double elapsed_s = static_cast<double>(now - t0) / 1e9;
      const double bound = static_cast<double>(burst) + rate * elapsed_s;
      if (static_cast<double>(admitted) > bound + 1e-9) {
        FAIL("admitted " << admitted << " > bound " << bound << " after " << elapsed_s << " s");
      }
    }
    CHECK(admitted + refused == 20000);
    // Not a bucket that refuses everything either (unless burst is 0): it admits its burst.
    if (burst > 0) CHECK(admitted >= burst);
    if (burst == 0) CHECK(admitted == 0);
  }
}

TEST_CASE("property: a steady client at exactly the rate is never refused after the burst",
          "[throttle]") {
  // The rounding must not lose tokens: requests every 1/rate seconds keep getting admitted.
  for (double rate : {1.0, 2.0, 4.0, 5.0, 8.0, 10.0, 100.0, 1000.0}) {
    INFO("rate " << rate);
    const throttle_settings limit{rate, 1};
    const auto period = static_cast<std::int64_t>(std::llround(1e9 / rate));
    bucket_state b;
    int refused = 0;
    for (int i = 0; i < 5000; ++i) refused += take(b, limit, t0 + i * period) != 0;
    CHECK(refused == 0);
  }
}

TEST_CASE("full_at tells when an idle bucket is full again", "[throttle]") {
  const throttle_settings limit{10, 2};
  bucket_state b;
  CHECK(full_at(b, limit, t0));  // never used
  REQUIRE(take(b, limit, t0) == 0);
  CHECK_FALSE(full_at(b, limit, t0));
  CHECK_FALSE(full_at(b, limit, t0 + 99 * ms));
  CHECK(full_at(b, limit, t0 + 100 * ms));
  CHECK_FALSE(full_at(b, {0, 2}, t0 + 3600 * sec));  // rate 0: never refills
}

TEST_CASE("check_settings refuses bad rates and bursts, naming the item", "[throttle]") {
  auto refused = [](throttle_settings s, std::string_view needle) {
    try {
      check_settings(s, "stage 'prod': method 'GET /pets'");
      FAIL("accepted rate " << s.rate << " burst " << s.burst);
    } catch (const config_error& e) {
      const std::string what = e.what();
      INFO(what);
      CHECK(what.rfind("stage 'prod': method 'GET /pets'", 0) == 0);
      CHECK(what.find(std::string(needle)) != std::string::npos);
    }
  };
  refused({-1, 10}, "rate");
  refused({-0.001, 10}, "rate");
  refused({std::numeric_limits<double>::quiet_NaN(), 10}, "rate");
  refused({std::numeric_limits<double>::infinity(), 10}, "rate");
  refused({-std::numeric_limits<double>::infinity(), 10}, "rate");
  refused({10, -1}, "burst");
  refused({10, std::numeric_limits<std::int64_t>::min()}, "burst");
  refused({10, std::numeric_limits<std::int64_t>::max()}, "burst");  // would overflow

  CHECK_NOTHROW(check_settings({0, 0}, "x"));
  CHECK_NOTHROW(check_settings({0.5, 1}, "x"));
  CHECK_NOTHROW(check_settings({10000, 5000}, "x"));
  CHECK_NOTHROW(check_settings({1e9, 1'000'000'000}, "x"));
}
