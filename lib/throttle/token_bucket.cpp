#include "throttle/token_bucket.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace gatehouse::throttle {

namespace {
// A burst this large would overflow the nanotoken count; no real limit comes near it.
constexpr std::int64_t max_burst = std::numeric_limits<std::int64_t>::max() / one_token / 2;

std::int64_t capacity(const throttle_settings& limit) noexcept {
  return std::clamp<std::int64_t>(limit.burst, 0, max_burst) * one_token;
}

void refill(bucket_state& b, const throttle_settings& limit, std::int64_t now_ns) noexcept {
  const std::int64_t cap = capacity(limit);
  if (b.nanotokens < 0) {
    b.nanotokens = cap;
    b.updated_ns = now_ns;
    return;
  }
  if (now_ns <= b.updated_ns) return;  // no time passed (or the clock stepped back)
  if (limit.rate <= 0) {               // nothing comes back
    b.updated_ns = now_ns;
    return;
  }
  // rate tokens/s × elapsed ns = rate × elapsed nanotokens. Rounded down: never too generous.
  const double gained = limit.rate * static_cast<double>(now_ns - b.updated_ns);
  const double room = static_cast<double>(cap - std::min(b.nanotokens, cap));
  if (gained >= room) {
    b.nanotokens = cap;
    b.updated_ns = now_ns;
    return;
  }
  // Whole nanotokens only; the time the fraction stands for is kept for the next refill, so
  // frequent calls do not lose it.
  const auto whole = static_cast<std::int64_t>(gained);
  b.nanotokens += whole;
  b.updated_ns =
      now_ns - static_cast<std::int64_t>((gained - static_cast<double>(whole)) / limit.rate);
}
}  // namespace

void check_settings(const throttle_settings& limit, std::string_view where) {
  if (!std::isfinite(limit.rate) || limit.rate < 0)
    throw config_error(
        fmt::format("{}: rate {} — use a number of requests a second ≥ 0", where, limit.rate));
  if (limit.burst < 0 || limit.burst > max_burst)
    throw config_error(
        fmt::format("{}: burst {} — use 0 to {} requests", where, limit.burst, max_burst));
}

std::int64_t take(bucket_state& b, const throttle_settings& limit, std::int64_t now_ns) noexcept {
  refill(b, limit, now_ns);
  if (b.nanotokens >= one_token) {
    b.nanotokens -= one_token;
    return 0;
  }
  if (limit.rate <= 0 || capacity(limit) < one_token) return never;
  const double wait = std::ceil(static_cast<double>(one_token - b.nanotokens) / limit.rate);
  return wait >= static_cast<double>(never) ? never : std::max<std::int64_t>(1, wait);
}

void give_back(bucket_state& b, const throttle_settings& limit) noexcept {
  b.nanotokens = std::min(capacity(limit), b.nanotokens + one_token);
}

bool full_at(const bucket_state& b, const throttle_settings& limit, std::int64_t now_ns) noexcept {
  if (b.nanotokens < 0) return true;
  const std::int64_t cap = capacity(limit);
  if (b.nanotokens >= cap) return true;
  if (now_ns <= b.updated_ns) return false;
  return limit.rate * static_cast<double>(now_ns - b.updated_ns) >=
         static_cast<double>(cap - b.nanotokens);
}

}  // namespace gatehouse::throttle
