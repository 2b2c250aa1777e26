#include "usage/quota_period.hpp"

#include <gatehouse/usage_plan.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using gatehouse::quota_period;
using gatehouse::quota_settings;
using gatehouse::time_point;
using gatehouse::usage::day_of;
using gatehouse::usage::day_text;
using gatehouse::usage::limit_in;
using gatehouse::usage::period_at;
using gatehouse::usage::period_window;

using namespace std::chrono_literals;
using std::chrono::sys_days;
using std::chrono::year;
using std::chrono::year_month_day;

namespace {
// Midnight UTC of y-m-d.
time_point midnight(int y, unsigned m, unsigned d) {
  return sys_days{year{y} / std::chrono::month{m} / std::chrono::day{d}};
}
time_point at(int y, unsigned m, unsigned d, int hh, int mm, int ss, int millis = 0) {
  return midnight(y, m, d) + std::chrono::hours{hh} + std::chrono::minutes{mm} +
         std::chrono::seconds{ss} + std::chrono::milliseconds{millis};
}
std::string text(time_point t) { return day_text(day_of(t)); }
// "start..end" of the window, as days, for readable failures.
std::string window(quota_period p, time_point t) {
  const period_window w = period_at(p, t);
  return text(w.start) + ".." + text(w.end);
}
}  // namespace

TEST_CASE("day_text formats dates as YYYY-MM-DD", "[usage]") {
  CHECK(day_text(year{2026} / 1 / 5) == "2026-01-05");
  CHECK(day_text(year{2026} / 11 / 24) == "2026-11-24");
  CHECK(day_text(year{2026} / 12 / 31) == "2026-12-31");
  CHECK(day_text(year{999} / 3 / 7) == "0999-03-07");
  CHECK(text(at(2026, 1, 5, 23, 59, 59, 999)) == "2026-01-05");
  CHECK(text(midnight(2026, 1, 6)) == "2026-01-06");
  CHECK(text(midnight(2026, 1, 6) - 1ns) == "2026-01-05");
}

TEST_CASE("DAY periods run from midnight UTC to midnight UTC", "[usage]") {
  const auto p = quota_period::day;
  SECTION("a time in the day") {
    const auto w = period_at(p, at(2026, 11, 24, 13, 45, 10));
    CHECK(w.start == midnight(2026, 11, 24));
    CHECK(w.end == midnight(2026, 11, 25));
    CHECK(w.end - w.start == 24h);
  }
  SECTION("exactly 00:00:00 belongs to the new day") {
    const auto w = period_at(p, midnight(2026, 11, 25));
    CHECK(w.start == midnight(2026, 11, 25));
    CHECK(w.end == midnight(2026, 11, 26));
  }
  SECTION("23:59:59.999 (and the last ns) still belongs to the old day") {
    CHECK(period_at(p, at(2026, 11, 24, 23, 59, 59, 999)).start == midnight(2026, 11, 24));
    CHECK(period_at(p, midnight(2026, 11, 25) - 1ns).start == midnight(2026, 11, 24));
    CHECK(period_at(p, midnight(2026, 11, 25) - 1ns).end == midnight(2026, 11, 25));
  }
  SECTION("across month and year ends") {
    CHECK(window(p, at(2026, 12, 31, 12, 0, 0)) == "2026-12-31..2027-01-01");
    CHECK(window(p, at(2028, 2, 28, 23, 0, 0)) == "2028-02-28..2028-02-29");
    CHECK(window(p, at(2028, 2, 29, 1, 0, 0)) == "2028-02-29..2028-03-01");
  }
  SECTION("before 1970 too") {
    CHECK(window(p, at(1969, 12, 31, 23, 0, 0)) == "1969-12-31..1970-01-01");
  }
}

TEST_CASE("WEEK periods start on Monday 00:00 UTC (ISO weeks)", "[usage]") {
  const auto p = quota_period::week;
  SECTION("2026-11-24 is a Tuesday: the week starts Monday 2026-11-23") {
    const auto w = period_at(p, at(2026, 11, 24, 7, 46, 0));
    CHECK(w.start == midnight(2026, 11, 23));
    CHECK(w.end == midnight(2026, 11, 30));
    CHECK(w.end - w.start == 7 * 24h);
  }
  SECTION("every day Monday to Sunday lands in the same week") {
    for (unsigned d = 23; d <= 29; ++d) {
      INFO("2026-11-" << d);
      CHECK(window(p, at(2026, 11, d, 0, 0, 0)) == "2026-11-23..2026-11-30");
      CHECK(window(p, at(2026, 11, d, 23, 59, 59, 999)) == "2026-11-23..2026-11-30");
    }
  }
  SECTION("a Sunday belongs to the week that began the previous Monday") {
    CHECK(window(p, at(2026, 11, 29, 23, 59, 59)) == "2026-11-23..2026-11-30");
    CHECK(window(p, midnight(2026, 11, 30) - 1ns) == "2026-11-23..2026-11-30");
  }
  SECTION("Monday 00:00:00 starts a new week") {
    CHECK(window(p, midnight(2026, 11, 30)) == "2026-11-30..2026-12-07");
  }
  SECTION("weeks across a year end") {
    // 2026-12-31 is a Thursday; 2027-01-03 a Sunday: both in the week of Monday 2026-12-28
    // (ISO week 2026-W53).
    CHECK(window(p, at(2026, 12, 31, 10, 0, 0)) == "2026-12-28..2027-01-04");
    CHECK(window(p, at(2027, 1, 1, 0, 0, 0)) == "2026-12-28..2027-01-04");
    CHECK(window(p, at(2027, 1, 3, 23, 59, 59)) == "2026-12-28..2027-01-04");
    CHECK(window(p, midnight(2027, 1, 4)) == "2027-01-04..2027-01-11");
    // 2025-01-01 is a Wednesday: its week (2025-W01) began Monday 2024-12-30.
    CHECK(window(p, at(2025, 1, 1, 12, 0, 0)) == "2024-12-30..2025-01-06");
    // 1970-01-01 was a Thursday: the week began Monday 1969-12-29.
    CHECK(window(p, midnight(1970, 1, 1)) == "1969-12-29..1970-01-05");
  }
}

TEST_CASE("MONTH periods run from the first at midnight UTC to the next first", "[usage]") {
  const auto p = quota_period::month;
  SECTION("month lengths") {
    struct month_case {
      int y;
      unsigned m;
      const char* expected;
      int days;
    };
    for (const auto& c : {month_case{2027, 2, "2027-02-01..2027-03-01", 28},
                          month_case{2028, 2, "2028-02-01..2028-03-01", 29},
                          month_case{2100, 2, "2100-02-01..2100-03-01", 28},
                          month_case{2000, 2, "2000-02-01..2000-03-01", 29},
                          month_case{2026, 4, "2026-04-01..2026-05-01", 30},
                          month_case{2026, 11, "2026-11-01..2026-12-01", 30},
                          month_case{2026, 1, "2026-01-01..2026-02-01", 31},
                          month_case{2026, 7, "2026-07-01..2026-08-01", 31},
                          month_case{2026, 8, "2026-08-01..2026-09-01", 31}}) {
      INFO(c.y << "-" << c.m);
      const auto w = period_at(p, at(c.y, c.m, 15, 12, 0, 0));
      CHECK(text(w.start) + ".." + text(w.end) == c.expected);
      CHECK(w.end - w.start == std::chrono::days{c.days});
    }
  }
  SECTION("December runs to January of the next year") {
    CHECK(window(p, at(2026, 12, 31, 23, 59, 59, 999)) == "2026-12-01..2027-01-01");
    CHECK(window(p, midnight(2026, 12, 1)) == "2026-12-01..2027-01-01");
  }
  SECTION("first and last instants") {
    CHECK(window(p, midnight(2027, 3, 1)) == "2027-03-01..2027-04-01");
    CHECK(window(p, midnight(2027, 3, 1) - 1ns) == "2027-02-01..2027-03-01");
    CHECK(window(p, midnight(2028, 2, 29)) == "2028-02-01..2028-03-01");
    CHECK(window(p, at(2028, 2, 29, 23, 59, 59, 999)) == "2028-02-01..2028-03-01");
  }
}

TEST_CASE("limit_in: the offset applies only in the period that contains the plan's creation",
          "[usage]") {
  const quota_settings q{.limit = 1000, .period = quota_period::day, .offset = 300};
  const time_point created = at(2026, 11, 24, 15, 0, 0);

  CHECK(limit_in(q, created, period_at(quota_period::day, created)) == 700);
  // The same day, earlier or later in it.
  CHECK(limit_in(q, created, period_at(quota_period::day, midnight(2026, 11, 24))) == 700);
  // The following and the previous day: the full limit.
  CHECK(limit_in(q, created, period_at(quota_period::day, midnight(2026, 11, 25))) == 1000);
  CHECK(limit_in(q, created, period_at(quota_period::day, midnight(2026, 11, 24) - 1ns)) == 1000);

  SECTION("made at the very start of a period: the offset applies in that period") {
    const time_point start = midnight(2026, 11, 23);  // a Monday
    CHECK(limit_in(q, start, period_at(quota_period::week, start)) == 700);
    CHECK(limit_in(q, start, period_at(quota_period::week, start - 1ns)) == 1000);
    CHECK(limit_in(q, start, period_at(quota_period::week, midnight(2026, 11, 30))) == 1000);
  }
  SECTION("made at the last ns of a period: the next period is full") {
    const time_point last = midnight(2026, 12, 1) - 1ns;
    CHECK(limit_in(q, last, period_at(quota_period::month, last)) == 700);
    CHECK(limit_in(q, last, period_at(quota_period::month, midnight(2026, 12, 1))) == 1000);
  }
  SECTION("never below 0") {
    const quota_settings big{.limit = 10, .period = quota_period::day, .offset = 25};
    CHECK(limit_in(big, created, period_at(quota_period::day, created)) == 0);
    CHECK(limit_in(big, created, period_at(quota_period::day, midnight(2026, 11, 25))) == 10);
  }
  SECTION("no offset: the limit everywhere") {
    const quota_settings plain{.limit = 5, .period = quota_period::month, .offset = 0};
    CHECK(limit_in(plain, created, period_at(quota_period::month, created)) == 5);
    CHECK(limit_in(plain, created, period_at(quota_period::month, midnight(2027, 1, 1))) == 5);
  }
  SECTION("the offset equal to the limit: nothing in the first period") {
    const quota_settings all{.limit = 50, .period = quota_period::week, .offset = 50};
    CHECK(limit_in(all, created, period_at(quota_period::week, created)) == 0);
    CHECK(limit_in(all, created, period_at(quota_period::week, midnight(2026, 11, 30))) == 50);
  }
}
