#include "usage/quota_period.hpp"

#include <fmt/format.h>

namespace gatehouse::usage {

using std::chrono::days;
using std::chrono::sys_days;

period_window period_at(quota_period period, time_point t) {
  const sys_days day = std::chrono::floor<days>(t);
  switch (period) {
    case quota_period::day:
      return {day, day + days{1}};
    case quota_period::week: {
      // Monday is ISO weekday 1; weekday{sys_days} counts from Sunday = 0.
      const unsigned since_monday = (std::chrono::weekday{day}.c_encoding() + 6) % 7;
      const sys_days monday = day - days{since_monday};
      return {monday, monday + days{7}};
    }
    case quota_period::month: {
      const std::chrono::year_month_day ymd{day};
      const auto first = ymd.year() / ymd.month() / 1;
      return {sys_days{first}, sys_days{first + std::chrono::months{1}}};
    }
  }
  return {day, day + days{1}};
}

std::int64_t limit_in(const quota_settings& quota, time_point plan_created,
                      const period_window& w) {
  const bool first = plan_created >= w.start && plan_created < w.end;
  const std::int64_t limit = first ? quota.limit - quota.offset : quota.limit;
  return limit < 0 ? 0 : limit;
}

std::string day_text(std::chrono::year_month_day d) {
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d.year()),
                     static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
}

std::chrono::year_month_day day_of(time_point t) {
  return std::chrono::year_month_day{std::chrono::floor<days>(t)};
}

}  // namespace gatehouse::usage
