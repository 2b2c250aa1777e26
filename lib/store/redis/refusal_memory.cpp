#include "store/redis/refusal_memory.hpp"

#include "util/hash.hpp"

#include <algorithm>

namespace gatehouse::redis {

refusal_memory::shard& refusal_memory::shard_of(std::string_view key) noexcept {
  return shards_[util::seeded_hash(key) % shard_count];
}

std::optional<refusal_memory::clock::time_point> refusal_memory::until(std::string_view key,
                                                                       clock::time_point now) {
  auto& sh = shard_of(key);
  std::lock_guard lock(sh.mutex);
  auto it = sh.until.find(std::string(key));
  if (it == sh.until.end()) return std::nullopt;
  if (it->second <= now) {  // served its time
    sh.until.erase(it);
    held_.fetch_sub(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  return it->second;
}

std::optional<admission_result> refusal_memory::find(const admission& a, clock::time_point now) {
  if (held_.load(std::memory_order_relaxed) == 0) return std::nullopt;
  for (std::size_t i = 0; i < a.buckets.size(); ++i)
    if (auto t = until(a.buckets[i].key, now))
      return admission_result{admission_verdict::throttled, i, *t - now};
  if (a.quota)
    if (auto t = until(a.quota->plan_key, now))
      return admission_result{admission_verdict::quota_exceeded, 0, *t - now};
  return std::nullopt;
}

void refusal_memory::remember(const admission& a, const admission_result& r,
                              clock::time_point now) {
  std::string_view key;
  if (r.verdict == admission_verdict::throttled && r.refused_bucket < a.buckets.size())
    key = a.buckets[r.refused_bucket].key;
  else if (r.verdict == admission_verdict::quota_exceeded && a.quota)
    key = a.quota->plan_key;
  if (key.empty() || r.retry_after <= clock::duration::zero()) return;
  const auto at = now + std::min<clock::duration>(
                            std::chrono::duration_cast<clock::duration>(r.retry_after), longest);
  auto& sh = shard_of(key);
  std::lock_guard lock(sh.mutex);
  if (sh.until.size() >= max_per_shard) {  // full: what has served its time goes first
    const std::size_t before = sh.until.size();
    std::erase_if(sh.until, [&](const auto& e) { return e.second <= now; });
    if (sh.until.size() >= max_per_shard) sh.until.clear();
    held_.fetch_sub(before - sh.until.size(), std::memory_order_relaxed);
  }
  auto [it, added] = sh.until.try_emplace(std::string(key), at);
  if (added)
    held_.fetch_add(1, std::memory_order_relaxed);
  else
    it->second = std::max(it->second, at);
}

}  // namespace gatehouse::redis
