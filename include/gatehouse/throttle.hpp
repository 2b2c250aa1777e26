#pragma once

#include <cstdint>

namespace gatehouse {

/// A token bucket, as AWS's ThrottleSettings: a request takes one token; tokens come back at
/// `rate` a second, and the bucket holds at most `burst`. Over the limit → 429 THROTTLED.
struct throttle_settings {
  double rate = 0;         ///< steady requests per second (AWS rateLimit), ≥ 0
  std::int64_t burst = 0;  ///< bucket size (AWS burstLimit), ≥ 0; 0 refuses every request
};

/// How often a usage plan's quota starts afresh, on UTC boundaries: midnight, Monday midnight
/// (ISO weeks), the first of the month.
enum class quota_period { day, week, month };

/// AWS's account-level default per Region: 10,000 requests a second, burst 5,000.
inline constexpr throttle_settings account_default_throttle{10'000, 5'000};

}  // namespace gatehouse
