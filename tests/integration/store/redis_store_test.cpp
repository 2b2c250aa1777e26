// The Redis store against a real redis-server: admission all or nothing on Redis's clock, the
// quota's period found from Redis's time, refusals remembered so that a refused burst costs
// no round trip, the failure modes, records, metering counts and the stage cache shared by two
// stores (two instances) on one Redis.

#include "redis_server.hpp"
#include "redis_test_util.hpp"
#include "store/redis/store_scripts.hpp"

#include <gatehouse/redis_store.hpp>

#include <asio/co_spawn.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using gatehouse::admission;
using gatehouse::admission_result;
using gatehouse::admission_verdict;
using gatehouse::bucket_check;
using gatehouse::quota_check;

namespace {

gatehouse::redis_options options_for(const test::redis_server& server) {
  gatehouse::redis_options o;
  o.url = server.url();
  o.warn = [](std::string_view) {};  // the outages here are on purpose
  return o;
}

admission_result admit(test::io_threads& io, gatehouse::store& s, const admission& a) {
  const auto now = std::chrono::system_clock::now();
  if (auto r = s.try_admit(a, now)) return *r;
  std::promise<admission_result> p;
  auto f = p.get_future();
  asio::co_spawn(io.executor(), s.admit(a, now),
                 [&p](std::exception_ptr, admission_result r) { p.set_value(r); });
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  return f.get();
}

template <class T>
T wait_for(test::io_threads& io, asio::awaitable<T> op) {
  std::promise<T> p;
  auto f = p.get_future();
  asio::co_spawn(io.executor(), std::move(op),
                 [&p](std::exception_ptr, T v) { p.set_value(std::move(v)); });
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  return f.get();
}

admission only(std::span<const bucket_check> buckets) {
  admission a;
  a.buckets = buckets;
  return a;
}

std::int64_t redis_int(const test::redis_server& server,
                       std::initializer_list<std::string_view> args) {
  auto v = server.command(args);
  if (v.type == gatehouse::redis::value_type::integer) return v.integer;
  return v.is_string() ? std::stoll(v.text) : -1;
}

std::int64_t admission_calls(const test::redis_server& server) {
  // cmdstat_evalsha:calls=N,… (the heartbeat runs by EVAL: not counted here)
  const auto info = server.command({"INFO", "commandstats"}).text;
  const auto at = info.find("cmdstat_evalsha:calls=");
  if (at == std::string::npos) return 0;
  return std::stoll(info.substr(at + 22));
}
}  // namespace

TEST_CASE("redis store: a request refused at one level takes nothing at the others", "[redis]") {
  test::redis_server server;
  test::io_threads io(1);
  {
    auto s = gatehouse::make_redis_store(io.executor(), options_for(server));
    // Nothing comes back during the test: rate 0.
    const std::array<bucket_check, 2> both{bucket_check{"t/wide", {0, 3}},
                                           bucket_check{"t/narrow", {0, 1}}};
    CHECK(admit(io, *s, only(both)).verdict == admission_verdict::admitted);
    const auto refused = admit(io, *s, only(both));
    CHECK(refused.verdict == admission_verdict::throttled);
    CHECK(refused.refused_bucket == 1);
    // The wide bucket gave one token (to the first request) and keeps two.
    const std::array<bucket_check, 1> wide{bucket_check{"t/wide", {0, 3}}};
    CHECK(admit(io, *s, only(wide)).verdict == admission_verdict::admitted);
    CHECK(admit(io, *s, only(wide)).verdict == admission_verdict::admitted);
    CHECK(admit(io, *s, only(wide)).verdict == admission_verdict::throttled);

    // An exhausted quota takes no token either, and counts no usage.
    const std::array<bucket_check, 1> roomy{bucket_check{"t/roomy", {0, 10}}};
    admission q = only(roomy);
    const auto created = std::chrono::system_clock::now() - std::chrono::days{400};
    q.quota = quota_check{.key = "quota/p/k/2026-12-07",
                          .limit = 2,
                          .expires = {},
                          .plan_key = "quota/p/k",
                          .period = gatehouse::quota_period::day,
                          .period_limit = 2,
                          .first_period_limit = 2,
                          .plan_created = created};
    q.usage_key = "usage/p/k/today";
    q.usage_expires = std::chrono::system_clock::now() + std::chrono::days{2};
    CHECK(admit(io, *s, q).verdict == admission_verdict::admitted);
    CHECK(admit(io, *s, q).verdict == admission_verdict::admitted);
    const auto over = admit(io, *s, q);
    CHECK(over.verdict == admission_verdict::quota_exceeded);
    CHECK(over.retry_after > 0s);
    CHECK(over.retry_after <= std::chrono::hours(24));
    CHECK(redis_int(server, {"HGET", "{gatehouse}:t/roomy", "t"}) == 8'000'000);
    CHECK(redis_int(server, {"GET", "{gatehouse}:usage/p/k/today"}) == 2);
    // The quota's period is today (UTC) on Redis's clock, and the key lapses when it ends.
    const auto redis_now = server.command({"TIME"});
    const std::int64_t now_ms = std::stoll(redis_now.elements[0].text) * 1000;
    const std::int64_t day_ms = 86'400'000;
    CHECK(redis_int(server, {"HGET", "{gatehouse}:quota/p/k", "p"}) == now_ms / day_ms * day_ms);
    const auto expire_at = redis_int(server, {"PEXPIRETIME", "{gatehouse}:quota/p/k"});
    CHECK(expire_at == (now_ms / day_ms + 1) * day_ms);
  }
}

TEST_CASE("redis store: the quota's first period and week and month periods on Redis's clock",
          "[redis]") {
  test::redis_server server;
  test::io_threads io(1);
  auto s = gatehouse::make_redis_store(io.executor(), options_for(server));
  const auto now = std::chrono::system_clock::now();
  const auto today = std::chrono::floor<std::chrono::days>(now);
  const std::int64_t day_ms = 86'400'000;
  const auto ms = [](std::chrono::sys_days d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d.time_since_epoch()).count();
  };
  const std::chrono::year_month_day ymd{today};
  const std::chrono::sys_days month_start{ymd.year() / ymd.month() / 1};
  const std::chrono::sys_days next_month{ymd.year() / ymd.month() / 1 + std::chrono::months{1}};
  const unsigned since_monday = (std::chrono::weekday{today}.c_encoding() + 6) % 7;
  const std::chrono::sys_days monday = today - std::chrono::days{since_monday};
  struct probe {
    gatehouse::quota_period period;
    std::chrono::sys_days start, end;
  };
  for (const auto& p : {probe{gatehouse::quota_period::week, monday, monday + std::chrono::days{7}},
                        probe{gatehouse::quota_period::month, month_start, next_month}}) {
    const std::string key = p.period == gatehouse::quota_period::week ? "q/week" : "q/month";
    admission a;
    // The plan was made in this period: its first period's limit (1) holds, not the full 5.
    a.quota = quota_check{.key = "x",
                          .limit = 1,
                          .expires = {},
                          .plan_key = key,
                          .period = p.period,
                          .period_limit = 5,
                          .first_period_limit = 1,
                          .plan_created = now};
    CHECK(admit(io, *s, a).verdict == admission_verdict::admitted);
    CHECK(admit(io, *s, a).verdict == admission_verdict::quota_exceeded);
    CHECK(redis_int(server, {"HGET", "{gatehouse}:" + key, "p"}) == ms(p.start));
    CHECK(redis_int(server, {"PEXPIRETIME", "{gatehouse}:" + key}) == ms(p.end));
    (void)day_ms;
  }
}

TEST_CASE("redis store: a refused burst is answered from memory, without a round trip", "[redis]") {
  test::redis_server server;
  test::io_threads io(1);
  auto s = gatehouse::make_redis_store(io.executor(), options_for(server));
  // One token a second: after the burst of 2, the next is due in about a second.
  const std::array<bucket_check, 1> b{bucket_check{"t/slow", {1, 2}}};
  CHECK(admit(io, *s, only(b)).verdict == admission_verdict::admitted);
  CHECK(admit(io, *s, only(b)).verdict == admission_verdict::admitted);
  const auto first = admit(io, *s, only(b));
  REQUIRE(first.verdict == admission_verdict::throttled);
  const auto calls = admission_calls(server);
  for (int i = 0; i < 200; ++i) {
    const auto r = admit(io, *s, only(b));
    CHECK(r.verdict == admission_verdict::throttled);
    CHECK(r.retry_after <= first.retry_after);
  }
  CHECK(admission_calls(server) == calls);
  CHECK(gatehouse::redis_statistics(*s).local_refusals >= 200);
  // When the token is due, Redis is asked again and admits.
  std::this_thread::sleep_for(first.retry_after + 20ms);
  CHECK(admit(io, *s, only(b)).verdict == admission_verdict::admitted);
  CHECK(admission_calls(server) == calls + 1);
}

TEST_CASE(
    "redis store: with Redis gone, fail_closed refuses at once and fail_open admits "
    "each instance's share",
    "[redis]") {
  test::redis_server server;
  test::io_threads io(1);
  auto closed_options = options_for(server);
  closed_options.on_failure = gatehouse::redis_failure_mode::fail_closed;
  auto closed = gatehouse::make_redis_store(io.executor(), closed_options);
  auto open = gatehouse::make_redis_store(io.executor(), options_for(server));
  // Three instances use Redis.
  const std::array<bucket_check, 1> b{bucket_check{"t/shared", {0, 10}}};
  auto other = gatehouse::make_redis_store(io.executor(), options_for(server));
  CHECK(admit(io, *other, only(b)).verdict == admission_verdict::admitted);
  CHECK(admit(io, *open, only(b)).verdict == admission_verdict::admitted);
  CHECK(admit(io, *closed, only(b)).verdict == admission_verdict::admitted);
  // Each says it is live at most once a second (and learns how many are): open again, later.
  std::this_thread::sleep_for(1100ms);
  const std::array<bucket_check, 1> later{bucket_check{"t/later", {0, 10}}};
  CHECK(admit(io, *open, only(later)).verdict == admission_verdict::admitted);
  std::this_thread::sleep_for(100ms);  // the heartbeat's reply
  CHECK(gatehouse::redis_statistics(*open).live_instances == 3);

  server.kill();
  const auto start = std::chrono::steady_clock::now();
  const auto refused = admit(io, *closed, only(b));
  CHECK(refused.verdict == admission_verdict::unavailable);
  CHECK(std::chrono::steady_clock::now() - start < 1s);  // the 50 ms deadline, not seconds
  // fail_open: a share of each limit (10 / 3 instances = 3 tokens) from this instance's memory.
  int admitted = 0;
  for (int i = 0; i < 10; ++i)
    if (admit(io, *open, only(b)).verdict == admission_verdict::admitted) ++admitted;
  CHECK(admitted == 3);
  CHECK(gatehouse::redis_statistics(*open).fallbacks >= 10);

  // Redis back: its state is what it was (the test's server keeps none: all new), and the
  // stores use it again once their breakers have probed it.
  server.start();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  const std::array<bucket_check, 1> fresh{bucket_check{"t/fresh", {0, 10}}};
  const auto before = admission_calls(server);
  while (admission_calls(server) == before && std::chrono::steady_clock::now() < deadline) {
    admit(io, *open, only(fresh));
    std::this_thread::sleep_for(20ms);
  }
  CHECK(admission_calls(server) > before);
}

TEST_CASE("redis store: records, counters and metering counts are shared by two instances",
          "[redis]") {
  test::redis_server server;
  test::io_threads io(1);
  auto a = gatehouse::make_redis_store(io.executor(), options_for(server));
  auto b = gatehouse::make_redis_store(io.executor(), options_for(server));
  REQUIRE(a->shared());
  a->put("apikey/one", "1");
  a->put("apikey/two", "2");
  b->put("apikey/*odd[name]", "3");  // glob characters are literal
  a->put("other/x", "no");
  CHECK(b->get("apikey/one") == std::optional<std::string>("1"));
  CHECK_FALSE(b->get("apikey/none"));
  const auto all = b->scan("apikey/");
  REQUIRE(all.size() == 3);
  CHECK(all[0].first == "apikey/*odd[name]");
  CHECK(all[1] == std::pair<std::string, std::string>{"apikey/one", "1"});
  CHECK(a->scan("apikey/*").size() == 1);
  CHECK(wait_for(io, b->fetch("apikey/two")) == std::optional<std::string>("2"));
  CHECK_FALSE(wait_for(io, b->fetch("apikey/three")));
  CHECK(b->erase("apikey/one"));
  CHECK_FALSE(a->erase("apikey/one"));
  CHECK_FALSE(a->get("apikey/one"));

  const std::array<gatehouse::count_delta, 2> d1{gatehouse::count_delta{"calls", 3},
                                                 gatehouse::count_delta{"bytes", 100}};
  const std::array<gatehouse::count_delta, 1> d2{gatehouse::count_delta{"calls", 4}};
  a->add_counts("meter/h1", d1);
  b->add_counts("meter/h1", d2);
  b->add_counts("meter/h2", d2);
  const auto counts = a->scan_counts("meter/");
  REQUIRE(counts.size() == 2);
  CHECK(counts[0].key == "meter/h1");
  CHECK(counts[0].counts ==
        std::vector<std::pair<std::string, std::int64_t>>{{"bytes", 100}, {"calls", 7}});
  CHECK(counts[1].counts == std::vector<std::pair<std::string, std::int64_t>>{{"calls", 4}});

  server.command({"SET", "{gatehouse}:usage/x", "41"});
  CHECK(b->counter("usage/x", {}) == 41);
  CHECK(b->counter("usage/none", {}) == 0);

  // Redis gone: a record call says so within its deadline (500 ms), never hangs.
  server.kill();
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(a->get("apikey/two"), gatehouse::store_error);
  CHECK_THROWS_AS(a->put("apikey/two", "x"), gatehouse::store_error);
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  CHECK_FALSE(wait_for(io, a->fetch("apikey/two")));
}

TEST_CASE(
    "redis store: a stage cache entry stored by one instance is a hit on another, and "
    "a flush empties both views",
    "[redis]") {
  test::redis_server limits;
  test::redis_server cache(
      {.extra_args = {"--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"}});
  test::io_threads io(1);
  auto o = options_for(limits);
  o.cache_url = cache.url();
  auto a = gatehouse::make_redis_store(io.executor(), o);
  auto b = gatehouse::make_redis_store(io.executor(), o);
  const auto now = std::chrono::system_clock::now();
  CHECK(b->try_cache_get("stage1", "GET /pets", now).state ==
        gatehouse::cache_lookup::outcome::pending);
  CHECK(wait_for(io, b->cache_get("stage1", "GET /pets", now)).state ==
        gatehouse::cache_lookup::outcome::miss);
  const std::string big(200'000, 'x');
  a->cache_put("stage1", "GET /pets", std::make_shared<const std::string>(big), now + 60s, 1 << 20);
  // The put is sent without waiting: the entry shows up at once or soon.
  gatehouse::cache_lookup found;
  for (int i = 0; i < 100 && found.state != gatehouse::cache_lookup::outcome::hit; ++i) {
    found = wait_for(io, b->cache_get("stage1", "GET /pets", now));
    if (found.state != gatehouse::cache_lookup::outcome::hit) std::this_thread::sleep_for(10ms);
  }
  REQUIRE(found.state == gatehouse::cache_lookup::outcome::hit);
  CHECK(*found.data == big);
  CHECK(wait_for(io, b->cache_get("stage2", "GET /pets", now)).state ==
        gatehouse::cache_lookup::outcome::miss);
  // Its TTL is the entry's.
  const auto keys = cache.command({"KEYS", "*GET /pets"});
  REQUIRE(keys.elements.size() == 1);
  const auto ttl = redis_int(cache, {"PTTL", keys.elements[0].text});
  CHECK(ttl > 55'000);
  CHECK(ttl <= 60'000);
  CHECK(redis_int(limits, {"DBSIZE"}) == 0);  // nothing of the cache in the limiter's Redis

  b->cache_flush("stage1");
  CHECK(wait_for(io, a->cache_get("stage1", "GET /pets", now)).state ==
        gatehouse::cache_lookup::outcome::miss);
}

TEST_CASE(
    "redis store: one admission call for many requests admits them in order, each all "
    "or nothing, reading and writing a shared bucket once",
    "[redis]") {
  test::redis_server server;
  test::io_threads io(1);
  auto c = std::make_shared<gatehouse::redis::client>(
      io.executor(), gatehouse::redis::client_options{.url = server.url()});
  // Five requests on one bucket of 3 (nothing comes back), the third with a second bucket that
  // is empty: it is refused and takes nothing, so the fourth finds the last token and the fifth
  // none.
  const std::array<bucket_check, 1> shared{bucket_check{"t/shared", {0, 3}}};
  const std::array<bucket_check, 2> with_empty{bucket_check{"t/shared", {0, 3}},
                                               bucket_check{"t/empty", {0, 0}}};
  std::vector<admission> requests(5, only(shared));
  requests[2] = only(with_empty);
  requests[4].usage_key = "usage/u";
  requests[4].usage_expires = std::chrono::system_clock::now() + std::chrono::days{2};
  gatehouse::redis::admission_batch batch;
  for (const auto& a : requests) batch.add("{gatehouse}:", a);
  batch.finish();
  CHECK(batch.keys().size() == 3);  // each key once
  const auto r =
      wait_for(io, c->eval(gatehouse::redis::admission_script(), batch.keys(), batch.args()));
  REQUIRE_FALSE(r.error);
  std::vector<admission_result> results(requests.size());
  REQUIRE(gatehouse::redis::read_admission_replies(r.reply, batch.group_sizes(), results));
  CHECK(results[0].verdict == admission_verdict::admitted);
  CHECK(results[1].verdict == admission_verdict::admitted);
  CHECK(results[2].verdict == admission_verdict::throttled);
  CHECK(results[2].refused_bucket == 1);
  CHECK(results[3].verdict == admission_verdict::admitted);
  CHECK(results[4].verdict == admission_verdict::throttled);  // the bucket of 3 is empty
  CHECK(redis_int(server, {"HGET", "{gatehouse}:t/shared", "t"}) == 0);
  CHECK(redis_int(server, {"EXISTS", "{gatehouse}:usage/u"}) == 0);  // the fifth was refused
  // Reads and writes: one HMGET per key, one HSET per bucket that changed.
  const auto info = server.command({"INFO", "commandstats"}).text;
  CHECK(info.find("cmdstat_hmget:calls=2,") != std::string::npos);
  CHECK(info.find("cmdstat_hset:calls=1,") != std::string::npos);
}

TEST_CASE(
    "redis store: a group of alike requests in one call is admitted as far as every "
    "bucket and the quota have room, the rest refused as the first of them would be",
    "[redis]") {
  test::redis_server server;
  test::io_threads io(1);
  auto c = std::make_shared<gatehouse::redis::client>(
      io.executor(), gatehouse::redis::client_options{.url = server.url()});
  const auto run = [&](const std::vector<admission>& requests) {
    gatehouse::redis::admission_batch batch;
    for (const auto& a : requests) batch.add("{gatehouse}:", a);
    batch.finish();
    const auto r =
        wait_for(io, c->eval(gatehouse::redis::admission_script(), batch.keys(), batch.args()));
    REQUIRE_FALSE(r.error);
    std::vector<admission_result> results(requests.size());
    REQUIRE(gatehouse::redis::read_admission_replies(r.reply, batch.group_sizes(), results));
    CHECK(batch.group_sizes() == std::vector<std::size_t>{requests.size()});
    return results;
  };
  // Buckets of 9 and 3 (rate 0): three of five, then the second bucket refuses.
  const std::array<bucket_check, 2> two{bucket_check{"g/nine", {0, 9}},
                                        bucket_check{"g/three", {0, 3}}};
  auto results = run(std::vector<admission>(5, only(two)));
  for (int i = 0; i < 3; ++i) CHECK(results[i].verdict == admission_verdict::admitted);
  for (int i = 3; i < 5; ++i) {
    CHECK(results[i].verdict == admission_verdict::throttled);
    CHECK(results[i].refused_bucket == 1);
  }
  CHECK(redis_int(server, {"HGET", "{gatehouse}:g/nine", "t"}) == 6'000'000);
  // A quota of 4 under a roomy bucket: four of six, the rest over the quota.
  const std::array<bucket_check, 1> roomy{bucket_check{"g/roomy", {0, 100}}};
  admission q = only(roomy);
  q.quota = quota_check{.key = "x",
                        .limit = 4,
                        .expires = {},
                        .plan_key = "g/quota",
                        .period = gatehouse::quota_period::month,
                        .period_limit = 4,
                        .first_period_limit = 4,
                        .plan_created = {}};
  results = run(std::vector<admission>(6, q));
  for (int i = 0; i < 4; ++i) CHECK(results[i].verdict == admission_verdict::admitted);
  for (int i = 4; i < 6; ++i) CHECK(results[i].verdict == admission_verdict::quota_exceeded);
  CHECK(redis_int(server, {"HGET", "{gatehouse}:g/roomy", "t"}) == 96'000'000);
  CHECK(redis_int(server, {"HGET", "{gatehouse}:g/quota", "n"}) == 4);
}
