#pragma once

// Quota periods on UTC boundaries, and the day names usage is counted under.

#include <gatehouse/store.hpp>
#include <gatehouse/usage_plan.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace gatehouse::usage {

/// [start, end) of the period that contains `t`.
struct period_window {
  time_point start;
  time_point end;
};

/// The DAY (from midnight UTC), WEEK (from Monday midnight UTC, ISO weeks) or MONTH (from the
/// first, midnight UTC) that contains `t`.
period_window period_at(quota_period period, time_point t);

/// The quota's limit in `w`: `limit`, less `offset` in the period in which the plan was made.
std::int64_t limit_in(const quota_settings& quota, time_point plan_created, const period_window& w);

/// "2026-11-24"
std::string day_text(std::chrono::year_month_day day);
std::chrono::year_month_day day_of(time_point t);

}  // namespace gatehouse::usage
