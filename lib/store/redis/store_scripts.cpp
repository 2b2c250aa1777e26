#include "store/redis/store_scripts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace gatehouse::redis {

namespace {
// Admits a batch of requests in order, each all or nothing, as if one after another: a bucket,
// quota or usage counter several of them share is read once and written once. Requests come in
// groups of alike ones (the same buckets, limits, quota and usage counter), each group in one
// step: n of its `count` are admitted, where n is what every bucket and the quota have room
// for, and the rest are refused as the first of them would be.
// KEYS: every key the batch names, once each. ARGV: the number of groups, then per group: its
// count and number of buckets; per bucket (most specific first) its key's index, rate and
// burst; its quota's key index (0: none) and, if any, the period ('d', 'w', 'm'), the limit of
// a whole period, the limit of the plan's first period and when the plan was made (unix ms);
// its usage key's index (0: none) and, if any, when that key expires (unix ms).
// Returns per group {n, 0, 0, 0} when all n were admitted; otherwise {n, 1, i, wait_us} for
// the rest throttled by bucket i (0-based; wait -1: never) or {n, 2, 0, wait_ms} for the rest
// over the quota until the period ends.
constexpr std::string_view admission_lua = R"lua(
local one = 1000000
local t = redis.call('TIME')
local now = tonumber(t[1]) * one + tonumber(t[2])
local now_ms = math.floor(now / 1000)
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
-- A bucket's state, refilled to now (once: the batch shares one instant).
local buckets = {}
local function bucket(k, rate, burst)
  local b = buckets[k]
  if b then
    b.rate, b.burst = rate, burst
    return b
  end
  local cap = burst * one
  local s = redis.call('HMGET', KEYS[k], 't', 'u')
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
  b = {tokens = tokens, updated = updated, rate = rate, burst = burst}
  buckets[k] = b
  return b
end
local quotas, usage = {}, {}
local out = {}
local p = 2
for g = 1, tonumber(ARGV[1]) do
  local count, nb = tonumber(ARGV[p]), tonumber(ARGV[p + 1])
  p = p + 2
  local n = count
  local bs = {}
  for i = 1, nb do
    local k, rate, burst = tonumber(ARGV[p]), tonumber(ARGV[p + 1]), tonumber(ARGV[p + 2])
    p = p + 3
    local b = bucket(k, rate, burst)
    bs[i] = b
    local room = math.floor(b.tokens / one)
    if room < n then n = room end
  end
  local q
  local qk = tonumber(ARGV[p])
  p = p + 1
  if qk > 0 then
    local kind, full, first, created =
      ARGV[p], tonumber(ARGV[p + 1]), tonumber(ARGV[p + 2]), tonumber(ARGV[p + 3])
    p = p + 4
    q = quotas[qk]
    if not q then
      local start, stop = period(kind, now_ms)
      local s = redis.call('HMGET', KEYS[qk], 'p', 'n')
      local used = 0
      if tonumber(s[1]) == start then used = tonumber(s[2]) or 0 end
      q = {start = start, stop = stop, used = used}
      quotas[qk] = q
    end
    local limit = full
    if created >= q.start and created < q.stop then limit = first end
    local room = math.max(0, limit - q.used)
    if room < n then n = room end
  end
  local uk = tonumber(ARGV[p])
  p = p + 1
  local expiry
  if uk > 0 then
    expiry = ARGV[p]
    p = p + 1
  end
  if n > 0 then
    for _, b in ipairs(bs) do
      b.tokens = b.tokens - n * one
      b.dirty = true
    end
    if q then
      q.used = q.used + n
      q.dirty = true
    end
    if uk > 0 then
      local u = usage[uk] or {n = 0}
      u.n, u.expiry = u.n + n, expiry
      usage[uk] = u
    end
  end
  local verdict = {n, 0, 0, 0}
  if n < count then
    -- The next one meets the first bucket without a token, or else the quota.
    verdict = nil
    for i, b in ipairs(bs) do
      if b.tokens < one then
        local wait = -1
        if b.rate > 0 and b.burst >= 1 then
          wait = math.max(1, math.ceil((one - b.tokens) / b.rate))
        end
        verdict = {n, 1, i - 1, wait}
        break
      end
    end
    if not verdict then verdict = {n, 2, 0, q.stop - now_ms} end
  end
  out[g] = verdict
end
for k, b in pairs(buckets) do
  if b.dirty then
    redis.call('HSET', KEYS[k], 't', int(b.tokens), 'u', int(b.updated))
    -- Forgotten once full again (a new bucket starts full): the time to refill, and a second.
    local ttl = day_ms
    if b.rate > 0 then ttl = math.ceil((b.burst * one - b.tokens) / b.rate / 1000) + 1000 end
    redis.call('PEXPIRE', KEYS[k], int(ttl))
  end
end
for k, q in pairs(quotas) do
  if q.dirty then
    redis.call('HSET', KEYS[k], 'p', int(q.start), 'n', int(q.used))
    redis.call('PEXPIREAT', KEYS[k], int(q.stop))
  end
end
for k, u in pairs(usage) do
  redis.call('INCRBY', KEYS[k], u.n)
  redis.call('PEXPIREAT', KEYS[k], u.expiry)
end
return out
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

namespace {
// Whether two requests are admitted alike: the same buckets with the same limits, quota and
// usage counter.
bool alike(const admission& x, const admission& y) noexcept {
  if (x.buckets.size() != y.buckets.size() || x.quota.has_value() != y.quota.has_value() ||
      x.usage_key != y.usage_key || x.usage_expires != y.usage_expires)
    return false;
  for (std::size_t i = 0; i < x.buckets.size(); ++i) {
    const auto &a = x.buckets[i], &b = y.buckets[i];
    if (a.key != b.key || a.limit.rate != b.limit.rate || a.limit.burst != b.limit.burst)
      return false;
  }
  if (!x.quota) return true;
  const auto &a = *x.quota, &b = *y.quota;
  return a.plan_key == b.plan_key && a.period == b.period && a.period_limit == b.period_limit &&
         a.first_period_limit == b.first_period_limit && a.plan_created == b.plan_created;
}
}  // namespace

void admission_batch::clear() {
  keys_.clear();
  index_.clear();
  args_.clear();
  arg_ends_.clear();
  key_views_.clear();
  arg_views_.clear();
  groups_.clear();
  last_ = nullptr;
  count_ = 0;
}

std::size_t admission_batch::key(std::string_view prefix, std::string_view k) {
  std::string full;
  full.reserve(prefix.size() + k.size());
  full.append(prefix).append(k);
  if (auto it = index_.find(full); it != index_.end()) return it->second;
  keys_.push_back(std::move(full));  // a deque: the views of the index stay valid
  const std::size_t n = keys_.size();
  index_.emplace(keys_.back(), n);
  return n;
}

template <class T>
void admission_batch::arg(const T& v) {
  fmt::format_to(std::back_inserter(args_), "{}", v);
  arg_ends_.push_back(args_.size());
}

void admission_batch::add(std::string_view prefix, const admission& a) {
  ++count_;
  if (last_ && alike(*last_, a)) {  // one more of the group before
    ++groups_.back().count;
    return;
  }
  last_ = &a;
  groups_.push_back({arg_ends_.size(), 1});
  arg(0);  // the count: written by finish()
  arg(a.buckets.size());
  for (const auto& b : a.buckets) {
    arg(key(prefix, b.key));
    arg(b.limit.rate);
    arg(b.limit.burst);
  }
  if (a.quota) {
    arg(key(prefix, a.quota->plan_key));
    arg(a.quota->period == quota_period::day    ? 'd'
        : a.quota->period == quota_period::week ? 'w'
                                                : 'm');
    arg(a.quota->period_limit);
    arg(a.quota->first_period_limit);
    arg(unix_ms(a.quota->plan_created));
  } else {
    arg(0);
  }
  if (!a.usage_key.empty()) {
    arg(key(prefix, a.usage_key));
    arg(unix_ms(a.usage_expires));
  } else {
    arg(0);
  }
}

void admission_batch::finish() {
  key_views_.assign(keys_.begin(), keys_.end());
  counts_text_.clear();
  counts_text_.reserve(groups_.size() * 4 + 8);
  fmt::format_to(std::back_inserter(counts_text_), "{}", groups_.size());
  std::vector<std::size_t> count_ends{counts_text_.size()};
  for (const auto& g : groups_) {
    fmt::format_to(std::back_inserter(counts_text_), "{}", g.count);
    count_ends.push_back(counts_text_.size());
  }
  arg_views_.clear();
  arg_views_.reserve(arg_ends_.size() + 1);
  arg_views_.emplace_back(counts_text_.data(), count_ends[0]);
  std::size_t begin = 0, group = 0;
  for (std::size_t i = 0; i < arg_ends_.size(); ++i) {
    if (group < groups_.size() && groups_[group].first_arg == i) {  // the group's count
      arg_views_.emplace_back(counts_text_.data() + count_ends[group],
                              count_ends[group + 1] - count_ends[group]);
      ++group;
    } else {
      arg_views_.emplace_back(args_.data() + begin, arg_ends_[i] - begin);
    }
    begin = arg_ends_[i];
  }
}

bool read_admission_replies(const value& reply, std::span<const std::size_t> group_sizes,
                            std::span<admission_result> out) noexcept {
  if (reply.type != value_type::array || reply.elements.size() != group_sizes.size()) return false;
  std::size_t at = 0;
  for (std::size_t g = 0; g < group_sizes.size(); ++g) {
    const auto& e = reply.elements[g].elements;
    if (e.size() != 4) return false;
    for (const auto& x : e)
      if (x.type != value_type::integer) return false;
    const std::size_t count = group_sizes[g];
    if (at + count > out.size() || e[0].integer < 0 ||
        static_cast<std::size_t>(e[0].integer) > count)
      return false;
    const auto admitted = static_cast<std::size_t>(e[0].integer);
    admission_result rest;
    if (admitted < count) {
      value v;  // {code, i, wait}: as one request's reply
      v.type = value_type::array;
      v.elements.assign(e.begin() + 1, e.end());
      if (!read_admission_reply(v, rest) || rest.verdict == admission_verdict::admitted)
        return false;
    }
    for (std::size_t i = 0; i < count; ++i) out[at + i] = i < admitted ? admission_result{} : rest;
    at += count;
  }
  return at == out.size();
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
