#pragma once

// Clocks read from the kernel's last tick (CLOCK_*_COARSE: a few milliseconds of resolution, a
// fraction of the cost of a precise read), for what the request path times in seconds: phase
// timeouts of connections, the Date header.

#include <chrono>
#include <ctime>

namespace gatehouse::util {

/// A steady clock with the resolution of the kernel's tick.
struct coarse_steady_clock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<coarse_steady_clock>;
  static constexpr bool is_steady = true;
  static time_point now() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
  }
};

/// The current calendar second, from the kernel's tick.
inline std::time_t coarse_time_now() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return ts.tv_sec;
}

}  // namespace gatehouse::util
