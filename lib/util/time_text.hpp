#pragma once

#include <chrono>
#include <string_view>

namespace gatehouse::util {

/// The time in Common Log Format, "24/Nov/2026:01:02:03 +0000", as $context.requestTime has it.
/// Cached per second and thread: the view is valid until the next call on this thread.
std::string_view clf_time(std::chrono::system_clock::time_point t) noexcept;

}  // namespace gatehouse::util
