#pragma once

// The token bucket arithmetic of step 6, on integers: a bucket holds up to `burst` tokens and
// gains `rate` a second. Time is passed in, so that tests can drive it and stores can keep the
// state wherever they like.

#include <gatehouse/throttle.hpp>

#include <cstdint>
#include <limits>
#include <string_view>

namespace gatehouse::throttle {

/// Throws config_error naming `where` unless rate and burst are finite and ≥ 0.
void check_settings(const throttle_settings& limit, std::string_view where);

inline constexpr std::int64_t one_token = 1'000'000'000;  // the state counts in 1e-9 tokens
inline constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();

/// One bucket's state. A new bucket is full.
struct bucket_state {
  std::int64_t nanotokens = -1;  // -1: not used yet (full)
  std::int64_t updated_ns = 0;   // when it was last refilled, in ns since the epoch
};

/// Refills `b` up to `now_ns`, then takes a token if there is one. Returns 0 when taken;
/// otherwise the nanoseconds until a token is back (`never` when it cannot come back).
std::int64_t take(bucket_state& b, const throttle_settings& limit, std::int64_t now_ns) noexcept;

/// Returns a token taken by take() for a request that was refused further on.
void give_back(bucket_state& b, const throttle_settings& limit) noexcept;

/// True when the bucket would be full at `now_ns` (it can then be forgotten).
bool full_at(const bucket_state& b, const throttle_settings& limit, std::int64_t now_ns) noexcept;

}  // namespace gatehouse::throttle
