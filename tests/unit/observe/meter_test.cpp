// Metering's counts: kept per thread, added into the store exactly once whatever flushes and
// reports race, split at hour boundaries; the store's counts records (the memory store's and
// the default for hosts' stores); reports, their prices, JSON and CSV; /metering's times.

#include "observe/meter.hpp"
#include "observe/metering_endpoint.hpp"

#include <gatehouse/store.hpp>

#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace gatehouse;
using namespace std::chrono_literals;
using clock_type = std::chrono::system_clock;

namespace {

clock_type::time_point at_hour(std::int64_t hour, int second = 0) {
  return clock_type::time_point(std::chrono::hours(hour) + std::chrono::seconds(second));
}

// A host's own store: everything forwarded to a memory store but the counts records, which
// take store's default implementation (put/get records).
class host_store final : public store {
 public:
  std::optional<admission_result> try_admit(const admission& a, time_point now) override {
    return inner_->try_admit(a, now);
  }
  cache_lookup try_cache_get(std::string_view ns, std::string_view key, time_point now) override {
    return inner_->try_cache_get(ns, key, now);
  }
  void cache_put(std::string_view ns, std::string_view key, std::shared_ptr<const std::string> d,
                 time_point expires, std::size_t capacity) override {
    inner_->cache_put(ns, key, std::move(d), expires, capacity);
  }
  void cache_flush(std::string_view ns) override { inner_->cache_flush(ns); }
  std::int64_t counter(std::string_view key, time_point now) override {
    return inner_->counter(key, now);
  }
  void put(std::string_view key, std::string value) override { inner_->put(key, std::move(value)); }
  std::optional<std::string> get(std::string_view key) override { return inner_->get(key); }
  bool erase(std::string_view key) override { return inner_->erase(key); }
  std::vector<std::pair<std::string, std::string>> scan(std::string_view prefix) override {
    return inner_->scan(prefix);
  }

 private:
  std::shared_ptr<store> inner_ = make_memory_store();
};

std::int64_t count_of(const counts_record& r, std::string_view name) {
  for (const auto& [n, v] : r.counts)
    if (n == name) return v;
  return 0;
}

// The sum of one field over a report's rows of a key.
std::uint64_t messages_in(const metering_report& r, std::string_view key = "k") {
  std::uint64_t n = 0;
  for (const auto& row : r.rows)
    if (row.key_id == key) n += row.messages_in;
  return n;
}

}  // namespace

TEST_CASE("counts records add up, in the memory store and in a host's store by default") {
  std::shared_ptr<store> s =
      GENERATE(as<std::shared_ptr<store>>{}, make_memory_store(), std::make_shared<host_store>());
  const count_delta first[] = {{"billed", 2}, {"bytes_out", 100}};
  const count_delta second[] = {{"billed", 3}, {"auth", 1}};
  s->add_counts("metering/a", first);
  s->add_counts("metering/a", second);
  s->add_counts("metering/b", first);
  s->add_counts("other/c", first);
  const auto all = s->scan_counts("metering/");
  REQUIRE(all.size() == 2);
  CHECK(all[0].key == "metering/a");
  CHECK(count_of(all[0], "billed") == 5);
  CHECK(count_of(all[0], "bytes_out") == 100);
  CHECK(count_of(all[0], "auth") == 1);
  CHECK(all[1].key == "metering/b");
  CHECK(count_of(all[1], "billed") == 2);
  // Sorted by name.
  CHECK(all[0].counts.front().first == "auth");
}

TEST_CASE("a flush adds each count once; a report shows every count flushed") {
  asio::io_context io;
  auto s = make_memory_store();
  auto m = std::make_shared<observe::meter>(s, io.get_executor(), 10s);
  const auto series = m->websocket_series("chat", "w1", "prod");
  const auto now = clock_type::now();
  m->websocket(series, "k", observe::mf_messages_in, 1, 40'000, now);  // 2 units of 32 KB
  m->websocket(series, "k", observe::mf_messages_out, 1, 10, now);     // 1 unit
  m->websocket(series, "", observe::mf_connects, 1, 0, now);
  m->flush();
  m->flush();  // nothing new: adds nothing
  const auto records = s->scan_counts(observe::meter_counts_prefix);
  REQUIRE(records.size() == 2);
  const auto r = m->report(now - 1h, now + 1h);
  REQUIRE(r.rows.size() == 2);
  const auto& none = r.rows[0];
  const auto& k = r.rows[1];
  CHECK(none.key_id.empty());
  CHECK(none.connects == 1);
  CHECK(k.key_id == "k");
  CHECK(k.type == metrics_api_type::websocket);
  CHECK(k.api_id == "w1");
  CHECK(k.api_name == "chat");
  CHECK(k.stage == "prod");
  CHECK(k.messages_in == 1);
  CHECK(k.messages_out == 1);
  CHECK(k.request_bytes == 40'000);
  CHECK(k.bytes_out == 10);
  CHECK(k.units == 3);
  CHECK(k.cost == Approx(3 * 1.00 / 1e6 + 10.0 / (1 << 30) * 0.09));
  // Outside the span: nothing.
  CHECK(m->report(now + 2h, now + 3h).rows.empty());
}

TEST_CASE("counts split at hour boundaries when flushed at least once an hour") {
  asio::io_context io;
  auto s = make_memory_store();
  auto m = std::make_shared<observe::meter>(s, io.get_executor(), 10s);
  const auto series = m->websocket_series("chat", "w1", "prod");
  const std::int64_t h = 480'000;  // an hour in 2024
  auto add = [&](std::int64_t hour, int n) {
    for (int i = 0; i < n; ++i)
      m->websocket(series, "k", observe::mf_messages_in, 1, 1, at_hour(hour, 59 * 60 + i));
  };
  add(h, 2);
  m->flush();
  add(h, 1);      // the same hour after a flush
  add(h + 1, 3);  // the next hour, no flush between
  m->flush();
  add(h + 2, 4);
  m->flush();
  add(h + 2, 1);
  add(h, 7);  // a late request of an earlier hour counts in the entry's current one
  m->flush();
  CHECK(messages_in(m->report(at_hour(h), at_hour(h, 1))) == 3);
  CHECK(messages_in(m->report(at_hour(h + 1), at_hour(h + 1, 3599))) == 3);
  CHECK(messages_in(m->report(at_hour(h + 2), at_hour(h + 3))) == 12);
  CHECK(messages_in(m->report(at_hour(h), at_hour(h + 3))) == 18);
  // A span that begins inside an hour takes that whole hour.
  CHECK(messages_in(m->report(at_hour(h, 1800), at_hour(h + 1))) == 3);

  // Two hour changes without a flush between (a flush runs every 10 s): the hours before the
  // current one are not told apart, but nothing is lost.
  add(h + 5, 1);
  add(h + 6, 1);
  add(h + 7, 1);
  m->flush();
  CHECK(messages_in(m->report(at_hour(h + 5), at_hour(h + 7))) == 2);
  CHECK(messages_in(m->report(at_hour(h + 7), at_hour(h + 8))) == 1);
}

TEST_CASE("flushes racing reports and counting threads count everything once [threads]",
          "[threads]") {
  asio::io_context io;
  auto s = make_memory_store();
  auto m = std::make_shared<observe::meter>(s, io.get_executor(), 10s);
  const auto series = m->websocket_series("chat", "w1", "prod");
  constexpr int threads = 4, per_thread = 20'000;
  std::atomic<bool> done{false};
  std::vector<std::thread> pool;
  const auto now = clock_type::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i)
        m->websocket(series, "k", observe::mf_messages_in, 1, 100, now);
    });
  std::thread flusher([&] {
    while (!done.load()) m->flush();
  });
  std::uint64_t last = 0;
  for (int i = 0; i < 50; ++i) {
    const auto n = messages_in(m->report(now - 1h, now + 1h));
    CHECK(n >= last);  // never back, never past the total
    CHECK(n <= threads * per_thread);
    last = n;
  }
  for (auto& t : pool) t.join();
  done = true;
  flusher.join();
  const auto r = m->report(now - 1h, now + 1h);
  REQUIRE(r.rows.size() == 1);
  CHECK(r.rows[0].messages_in == threads * per_thread);
  CHECK(r.rows[0].request_bytes == 100u * threads * per_thread);
  CHECK(r.rows[0].units == threads * per_thread);
}

TEST_CASE("a meter flushes into the store when it goes") {
  asio::io_context io;
  auto s = make_memory_store();
  const auto now = clock_type::now();
  {
    auto m = std::make_shared<observe::meter>(s, io.get_executor(), 10s);
    m->websocket(m->websocket_series("chat", "w1", "prod"), "k", observe::mf_connects, 1, 0, now);
  }
  const auto records = s->scan_counts(observe::meter_counts_prefix);
  REQUIRE(records.size() == 1);
  CHECK(count_of(records[0], "connects") == 1);
}

TEST_CASE("a report prices calls, units, bytes and cache hours; JSON and CSV agree") {
  const std::int64_t h = 480'000;
  auto key = [&](std::string_view rest) {
    return std::string(observe::meter_counts_prefix) + "00480000/" + std::string(rest);
  };
  std::vector<counts_record> counts{
      {key("rest/a1/Pets/prod/k%2F1"),
       {{"billed", 1'000'000}, {"units", 1'000'000}, {"auth", 5}, {"bytes_out", 1 << 30}}},
      {key("http/h1/Http/prod/"), {{"billed", 10}, {"units", 30}, {"throttled", 2}}},
      {std::string(observe::meter_counts_prefix) + "00479999/rest/a1/Pets/prod/k%2F1",
       {{"billed", 99}}},  // the hour before: outside
  };
  std::vector<std::pair<std::string, std::string>> caches{
      {std::string(observe::meter_cache_prefix) + "00480000/a1/Pets/prod", "536870912"},
      {std::string(observe::meter_cache_prefix) + "00480001/a1/Pets/prod", "536870912"},
      {std::string(observe::meter_cache_prefix) + "00480000/a2/Big/prod", "1073741824"},
  };
  const auto r = observe::make_report(counts, caches, at_hour(h), at_hour(h + 2), {});
  REQUIRE(r.rows.size() == 2);
  const auto& rest = r.rows[0];
  CHECK(rest.api_id == "a1");
  CHECK(rest.key_id == "k/1");
  CHECK(rest.calls_billed == 1'000'000);
  CHECK(rest.auth_failures == 5);
  CHECK(rest.cost == Approx(3.50 + 0.09));
  const auto& http = r.rows[1];
  CHECK(http.type == metrics_api_type::http);
  CHECK(http.throttled == 2);
  CHECK(http.cost == Approx(30 * 1.00 / 1e6));
  REQUIRE(r.caches.size() == 2);
  CHECK(r.caches[0].api_id == "a1");
  CHECK(r.caches[0].size_gb == 0.5);
  CHECK(r.caches[0].hours == 2);
  CHECK(r.caches[0].cost == Approx(0.040));
  CHECK(r.caches[1].size_gb == 1.6);  // 1 GB fits in AWS's 1.6 GB size
  CHECK(r.caches[1].cost == Approx(0.038));
  CHECK(r.total_cost == Approx(3.59 + 30e-6 + 0.078));

  const auto json = to_json(r);
  CHECK(json.find(R"("key_id":"k/1","calls_billed":1000000,"auth_failures":5,)") !=
        std::string::npos);
  CHECK(json.find(R"("from":"2024-10-04T00:00:00Z")") != std::string::npos);
  CHECK(json.find(R"("total_cost":3.668030)") != std::string::npos);
  const auto csv = to_csv(r);
  CHECK(csv.find("calls,rest,a1,Pets,prod,k/1,1000000,5,0,0,0,0,0,1073741824,1000000,0,0,0,0,,,"
                 "3.590000\r\n") != std::string::npos);
  CHECK(csv.find("cache,rest,a1,Pets,prod,,,,,,,,,,,,,,,0.5,2,0.040000\r\n") != std::string::npos);
  CHECK(csv.ends_with(",3.668030\r\n"));
  // Every line has the header's 22 fields (no field here is quoted).
  std::size_t lines = 0;
  for (std::size_t at = 0; at < csv.size(); ++lines) {
    const auto end = csv.find("\r\n", at);
    CHECK(std::count(csv.begin() + at, csv.begin() + end, ',') == 21);
    at = end + 2;
  }
  CHECK(lines == 6);
}

TEST_CASE("a host's price table replaces AWS's") {
  metering_prices p;
  p.rest_per_million_calls = 1.0;
  p.data_out_per_gb = 0;
  std::vector<counts_record> counts{
      {std::string(observe::meter_counts_prefix) + "00000001/rest/a/A/s/",
       {{"billed", 2'000'000}, {"units", 2'000'000}}}};
  const auto r = observe::make_report(counts, {}, at_hour(1), at_hour(2), p);
  REQUIRE(r.rows.size() == 1);
  CHECK(r.rows[0].cost == Approx(2.0));
}

TEST_CASE("/metering takes ISO 8601 and epoch seconds") {
  using observe::parse_time;
  CHECK(parse_time("0") == clock_type::time_point{});
  CHECK(parse_time("1728000000") == clock_type::time_point(1728000000s));
  CHECK(parse_time("2024-10-04") == clock_type::time_point(1728000000s));
  CHECK(parse_time("2024-10-04T00:00:00Z") == clock_type::time_point(1728000000s));
  CHECK(parse_time("2024-10-04T01:30Z") == clock_type::time_point(1728000000s + 5400s));
  CHECK(parse_time("2024-10-04T02:00:00.250+02:00") == clock_type::time_point(1728000000s));
  CHECK(parse_time("2024-10-04T00:00:00-01:00") == clock_type::time_point(1728003600s));
  CHECK_FALSE(parse_time(""));
  CHECK_FALSE(parse_time("yesterday"));
  CHECK_FALSE(parse_time("2024-13-01"));
  CHECK_FALSE(parse_time("2024-02-30"));
  CHECK_FALSE(parse_time("2024-10-04T25:00Z"));
  CHECK_FALSE(parse_time("2024-10-04T00:00:00Zjunk"));
  CHECK_FALSE(parse_time("99999999999999999999999"));
}

TEST_CASE("/metering answers bad parameters with 400 and a JSON message") {
  asio::io_context io;
  auto m = std::make_shared<observe::meter>(make_memory_store(), io.get_executor(), 10s);
  auto get = [&](std::string target) {
    request req;
    req.method = "GET";
    req.target = std::move(target);
    return observe::metering_response(m.get(), req);
  };
  CHECK(get("/metering?from=junk").status == 400);
  CHECK(get("/metering?from=junk").body.starts_with("{\"message\":\"Invalid 'from'"));
  CHECK(get("/metering?format=xml").status == 400);
  CHECK(get("/metering?color=red").status == 400);
  CHECK(get("/metering?from=2024-10-05&to=2024-10-04").status == 400);
  const auto ok = get("/metering?from=2024-10-04&to=2024-10-05T00:00:00Z&format=csv");
  CHECK(ok.status == 200);
  CHECK(ok.headers.get("Content-Type") == "text/csv; charset=utf-8");
  CHECK(ok.body.starts_with("row,type,api_id,"));
  const auto json = get("/metering");
  CHECK(json.status == 200);
  CHECK(json.body.starts_with(R"({"from":"1970-01-01T00:00:00Z",)"));
}
