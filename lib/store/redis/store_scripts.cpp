#include "store/redis/store_scripts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace gatehouse::redis {

namespace {
// KEYS: the buckets (most specific first), then the quota's key if any, then the usage key if
// any. ARGV: the number of buckets; rate and burst per bucket; the quota's period ('-': none,
// 'd', 'w', 'm'), the limit of a whole period, the limit of the plan's first period, when the
// plan was made (unix ms); '1' to count usage, and when the usage key expires (unix ms).
// Returns {0} admitted; {1, i, wait_us} throttled by bucket i (0-based; wait -1: never);
// {2, 0, wait_ms} quota exceeded until the period ends.
constexpr std::string_view admission_lua = R"lua(
local one = 1000000
local t = redis.call('TIME')
local now = tonumber(t[1]) * one + tonumber(t[2])
local n = tonumber(ARGV[1])
local function int(x) return string.format('%.0f', x) end
local day_ms = 86400000
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
end
local function period(kind, ms)
  local day = math.floor(ms / day_ms)
  if kind == 'd' then return day * day_ms, (day + 1) * day_ms end
  if kind == 'w' then
    local monday = day - (day + 3) % 7
    return monday * day_ms, (monday + 7) * day_ms
  end
  local z = day + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) -
                          math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  local ny, nm = y, m + 1
  if nm > 12 then ny, nm = y + 1, 1 end
  return days_from_civil(y, m, 1) * day_ms, days_from_civil(ny, nm, 1) * day_ms
end
local tokens_of, updated_of = {}, {}
for i = 1, n do
  local rate, burst = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local cap = burst * one
  local s = redis.call('HMGET', KEYS[i], 't', 'u')
  local tokens, updated = tonumber(s[1]), tonumber(s[2])
  if not tokens or not updated then
    tokens, updated = cap, now
  elseif now > updated then
    if rate > 0 then
      local gained = rate * (now - updated)
      local room = cap - math.min(tokens, cap)
      if gained >= room then
        tokens, updated = cap, now
      else
        local whole = math.floor(gained)
        tokens = tokens + whole
        updated = now - math.floor((gained - whole) / rate)
      end
    else
      updated = now
    end
  end
  if tokens < one then
    local wait = -1
    if rate > 0 and cap >= one then wait = math.max(1, math.ceil((one - tokens) / rate)) end
    return {1, i - 1, wait}
  end
  tokens_of[i], updated_of[i] = tokens - one, updated
end
local at = 2 * n + 2
local k = n + 1
local kind = ARGV[at]
if kind ~= '-' then
  local now_ms = math.floor(now / 1000)
  local start, stop = period(kind, now_ms)
  local created = tonumber(ARGV[at + 3])
  local limit = tonumber(ARGV[at + 1])
  if created >= start and created < stop then limit = tonumber(ARGV[at + 2]) end
  local q = redis.call('HMGET', KEYS[k], 'p', 'n')
  local used = 0
  if tonumber(q[1]) == start then used = tonumber(q[2]) or 0 end
  if used >= limit then return {2, 0, stop - now_ms} end
  redis.call('HSET', KEYS[k], 'p', int(start), 'n', int(used + 1))
  redis.call('PEXPIREAT', KEYS[k], int(stop))
  k = k + 1
end
for i = 1, n do
  local rate, burst = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  redis.call('HSET', KEYS[i], 't', int(tokens_of[i]), 'u', int(updated_of[i]))
  -- Forgotten once full again (a new bucket starts full): the time to refill, and a second.
  local ttl = day_ms
  if rate > 0 then ttl = math.ceil((burst * one - tokens_of[i]) / rate / 1000) + 1000 end
  redis.call('PEXPIRE', KEYS[i], int(ttl))
end
if ARGV[at + 4] == '1' then
  redis.call('INCR', KEYS[k])
  redis.call('PEXPIREAT', KEYS[k], ARGV[at + 5])
end
return {0}
)lua";

// KEYS[1]: the sorted set of instances; ARGV: this instance's id, the window in ms.
constexpr std::string_view heartbeat_lua = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - window))
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', 2 * window))
return redis.call('ZCARD', KEYS[1])
)lua";

// KEYS[1]: the namespace's generation; ARGV: the entries' key stem (prefix and namespace, with
// the hash tag), the entry's key (and, to put, its data and TTL in ms).
constexpr std::string_view cache_get_lua = R"lua(
local g = redis.call('GET', KEYS[1]) or '0'
return redis.call('GET', ARGV[1] .. g .. ':' .. ARGV[2])
)lua";
constexpr std::string_view cache_put_lua = R"lua(
local g = redis.call('GET', KEYS[1]) or '0'
return redis.call('SET', ARGV[1] .. g .. ':' .. ARGV[2], ARGV[3], 'PX', ARGV[4])
)lua";

// KEYS[1]: the record; ARGV: (its value,) the channel, the message.
constexpr std::string_view record_put_lua = R"lua(
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
)lua";
constexpr std::string_view record_erase_lua = R"lua(
local n = redis.call('DEL', KEYS[1])
if n > 0 then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return n
)lua";

constexpr std::string_view add_counts_lua = R"lua(
for i = 1, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
)lua";

std::int64_t unix_ms(time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
}  // namespace

const script& admission_script() {
  static const script s{std::string(admission_lua)};
  return s;
}
const script& heartbeat_script() {
  static const script s{std::string(heartbeat_lua)};
  return s;
}
const script& cache_get_script() {
  static const script s{std::string(cache_get_lua)};
  return s;
}
const script& cache_put_script() {
  static const script s{std::string(cache_put_lua)};
  return s;
}
const script& record_put_script() {
  static const script s{std::string(record_put_lua)};
  return s;
}
const script& record_erase_script() {
  static const script s{std::string(record_erase_lua)};
  return s;
}
const script& add_counts_script() {
  static const script s{std::string(add_counts_lua)};
  return s;
}

void admission_call::build(std::string_view prefix, const admission& a) {
  text_.clear();
  marks_.clear();
  auto out = std::back_inserter(text_);
  const auto mark = [&] { marks_.push_back(text_.size()); };
  // Keys first, then arguments: each one's end is marked.
  const auto key = [&](std::string_view k) {
    text_.append(prefix).append(k);
    mark();
  };
  for (const auto& b : a.buckets) key(b.key);
  const bool usage = !a.usage_key.empty();
  if (a.quota) key(a.quota->plan_key);
  if (usage) key(a.usage_key);
  const std::size_t key_count = marks_.size();

  fmt::format_to(out, "{}", a.buckets.size());
  mark();
  for (const auto& b : a.buckets) {
    fmt::format_to(out, "{}", b.limit.rate);
    mark();
    fmt::format_to(out, "{}", b.limit.burst);
    mark();
  }
  if (a.quota) {
    const char kind = a.quota->period == quota_period::day    ? 'd'
                      : a.quota->period == quota_period::week ? 'w'
                                                              : 'm';
    text_.push_back(kind);
    mark();
    fmt::format_to(out, "{}", a.quota->period_limit);
    mark();
    fmt::format_to(out, "{}", a.quota->first_period_limit);
    mark();
    fmt::format_to(out, "{}", unix_ms(a.quota->plan_created));
    mark();
  } else {
    for (std::string_view s : {"-", "0", "0", "0"}) {
      text_.append(s);
      mark();
    }
  }
  text_.push_back(usage ? '1' : '0');
  mark();
  fmt::format_to(out, "{}", usage ? unix_ms(a.usage_expires) : 0);
  mark();

  keys_.clear();
  args_.clear();
  std::size_t begin = 0;
  for (std::size_t i = 0; i < marks_.size(); ++i) {
    const std::string_view part(text_.data() + begin, marks_[i] - begin);
    (i < key_count ? keys_ : args_).push_back(part);
    begin = marks_[i];
  }
}

bool read_admission_reply(const value& reply, admission_result& out) noexcept {
  const auto& e = reply.elements;
  if (reply.type != value_type::array || e.empty() || e[0].type != value_type::integer)
    return false;
  if (e[0].integer == 0) {
    out = {};
    return true;
  }
  if (e.size() != 3 || e[1].type != value_type::integer || e[2].type != value_type::integer)
    return false;
  // "Never" (a bucket that gets no tokens back) as a wait past any Retry-After.
  constexpr auto never = std::chrono::hours(24 * 365);
  if (e[0].integer == 1) {
    out.verdict = admission_verdict::throttled;
    out.refused_bucket = static_cast<std::size_t>(std::max<std::int64_t>(0, e[1].integer));
    out.retry_after = e[2].integer < 0
                          ? std::chrono::nanoseconds(never)
                          : std::chrono::nanoseconds(std::chrono::microseconds(e[2].integer));
    return true;
  }
  if (e[0].integer == 2) {
    out.verdict = admission_verdict::quota_exceeded;
    out.refused_bucket = 0;
    out.retry_after = std::chrono::milliseconds(std::max<std::int64_t>(0, e[2].integer));
    return true;
  }
  return false;
}

}  // namespace gatehouse::redis
