// The in-memory store: buckets and counters in 64 shards, each under its own lock, so that
// requests for different keys seldom meet; records (API keys) in one map for management calls.

#include "store/memory_store.hpp"
#include "throttle/token_bucket.hpp"
#include "util/hash.hpp"

#include <gatehouse/store.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

namespace gatehouse {

asio::awaitable<admission_result> store::admit(const admission& a, time_point now) {
  // A store that never needs I/O answers here; one that does overrides this.
  if (auto r = try_admit(a, now)) co_return *r;
  co_return admission_result{};
}

asio::awaitable<cache_lookup> store::cache_get(std::string_view ns, std::string_view key,
                                               time_point now) {
  auto r = try_cache_get(ns, key, now);
  if (r.state == cache_lookup::outcome::pending) r.state = cache_lookup::outcome::miss;
  co_return r;
}

asio::awaitable<std::optional<std::string>> store::fetch(std::string_view key) {
  co_return get(key);
}

namespace {
std::mutex default_counts_mutex;  // the default add_counts' lock: stores are few

void parse_counts(std::string_view text, std::vector<std::pair<std::string, std::int64_t>>& out) {
  while (!text.empty()) {
    const auto end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    const auto eq = line.rfind('=');
    if (eq == std::string_view::npos) continue;
    std::int64_t v = 0;
    std::from_chars(line.data() + eq + 1, line.data() + line.size(), v);
    out.emplace_back(std::string(line.substr(0, eq)), v);
  }
}
}  // namespace

void store::add_counts(std::string_view key, std::span<const count_delta> deltas) {
  std::lock_guard lock(default_counts_mutex);
  std::vector<std::pair<std::string, std::int64_t>> counts;
  if (auto text = get(key)) parse_counts(*text, counts);
  for (const auto& d : deltas) {
    auto it = std::find_if(counts.begin(), counts.end(),
                           [&](const auto& c) { return c.first == d.first; });
    if (it == counts.end())
      counts.emplace_back(std::string(d.first), d.second);
    else
      it->second += d.second;
  }
  std::sort(counts.begin(), counts.end());
  std::string text;
  for (const auto& [name, value] : counts)
    text.append(name).append("=").append(std::to_string(value)).append("\n");
  put(key, std::move(text));
}

std::vector<counts_record> store::scan_counts(std::string_view prefix) {
  std::vector<counts_record> out;
  for (auto& [key, text] : scan(prefix)) {
    auto& r = out.emplace_back();
    r.key = std::move(key);
    parse_counts(text, r.counts);
  }
  return out;
}

namespace {

std::int64_t to_ns(time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
template <class T>
using string_map = std::unordered_map<std::string, T, string_hash, std::equal_to<>>;

// A cache key with its hash, computed once per lookup: it picks the shard and is the index's
// hash.
struct hashed_key {
  std::string_view text;
  std::size_t hash;
  bool operator==(const hashed_key& o) const noexcept { return text == o.text; }
};
struct hashed_key_hash {
  std::size_t operator()(const hashed_key& k) const noexcept { return k.hash; }
};
hashed_key hash_key(std::string_view s) noexcept { return {s, util::seeded_hash(s)}; }

std::size_t shard_index(std::size_t hash) noexcept {
  return (hash >> 56) % detail::memory_cache_shards;  // the index uses the low bits
}

class memory_store final : public store {
 public:
  std::optional<admission_result> try_admit(const admission& a, time_point now) override {
    const std::int64_t now_ns = to_ns(now);
    admission_result result;
    std::size_t taken = 0;
    for (; taken < a.buckets.size(); ++taken) {
      const auto& b = a.buckets[taken];
      auto& sh = shard_of(b.key);
      std::lock_guard lock(sh.mutex);
      auto& state = bucket(sh, b.key, now_ns);
      state.limit = b.limit;
      if (auto wait = throttle::take(state.state, b.limit, now_ns); wait != 0) {
        result = {admission_verdict::throttled, taken, std::chrono::nanoseconds(wait)};
        break;
      }
    }
    if (result.verdict == admission_verdict::admitted && a.quota) {
      auto& sh = shard_of(a.quota->key);
      std::lock_guard lock(sh.mutex);
      auto& c = counter_at(sh, a.quota->key, a.quota->expires, now, now_ns);
      if (c.value < a.quota->limit)
        ++c.value;
      else
        result = {admission_verdict::quota_exceeded, 0,
                  std::max(std::chrono::nanoseconds(0), a.quota->expires - now)};
    }
    if (result.verdict != admission_verdict::admitted) {
      for (std::size_t i = 0; i < taken; ++i) {  // all or nothing
        const auto& b = a.buckets[i];
        auto& sh = shard_of(b.key);
        std::lock_guard lock(sh.mutex);
        if (auto it = sh.buckets.find(b.key); it != sh.buckets.end())
          throttle::give_back(it->second.state, b.limit);
      }
      return result;
    }
    if (!a.usage_key.empty()) {
      auto& sh = shard_of(a.usage_key);
      std::lock_guard lock(sh.mutex);
      ++counter_at(sh, a.usage_key, a.usage_expires, now, now_ns).value;
    }
    return result;
  }

  cache_lookup try_cache_get(std::string_view ns, std::string_view text, time_point now) override {
    auto* space = find_space(ns);
    if (!space) return {};
    const hashed_key key = hash_key(text);
    auto& sh = space->shard_of(key);
    std::lock_guard lock(sh.mutex);
    auto it = sh.index.find(key);
    if (it == sh.index.end()) return {};
    if (it->second->expires <= now) {  // never served past its TTL
      sh.bytes -= it->second->bytes;
      sh.lru.erase(it->second);
      sh.index.erase(it);
      return {};
    }
    sh.lru.splice(sh.lru.begin(), sh.lru, it->second);  // most recently used first
    return {cache_lookup::outcome::hit, it->second->data};
  }

  void cache_put(std::string_view ns, std::string_view text,
                 std::shared_ptr<const std::string> data, time_point expires,
                 std::size_t capacity) override {
    auto& space = get_space(ns);
    const hashed_key key = hash_key(text);
    auto& sh = space.shard_of(key);
    const std::size_t limit = std::max<std::size_t>(1, capacity / cache_space::shard_count);
    const std::size_t bytes = text.size() + data->size() + entry_overhead;
    std::lock_guard lock(sh.mutex);
    if (auto it = sh.index.find(key); it != sh.index.end()) {
      sh.bytes -= it->second->bytes;
      sh.lru.erase(it->second);
      sh.index.erase(it);
    }
    if (bytes > limit) return;  // larger than its share of the cache: not kept
    while (sh.bytes + bytes > limit && !sh.lru.empty()) {  // evict the least recently used
      sh.bytes -= sh.lru.back().bytes;
      sh.index.erase(hashed_key{sh.lru.back().key, sh.lru.back().hash});
      sh.lru.pop_back();
    }
    sh.lru.push_front({std::string(text), key.hash, std::move(data), expires, bytes});
    sh.index.emplace(hashed_key{sh.lru.front().key, key.hash}, sh.lru.begin());
    sh.bytes += bytes;
  }

  void cache_flush(std::string_view ns) override {
    auto* space = find_space(ns);
    if (!space) return;
    for (auto& sh : space->shards) {
      std::lock_guard lock(sh.mutex);
      sh.index.clear();
      sh.lru.clear();
      sh.bytes = 0;
    }
  }

  std::int64_t counter(std::string_view key, time_point now) override {
    auto& sh = shard_of(key);
    std::lock_guard lock(sh.mutex);
    auto it = sh.counters.find(key);
    if (it == sh.counters.end() || it->second.expires <= now) return 0;
    return it->second.value;
  }

  void put(std::string_view key, std::string value) override {
    std::lock_guard lock(records_mutex_);
    records_.insert_or_assign(std::string(key), std::move(value));
  }
  std::optional<std::string> get(std::string_view key) override {
    std::lock_guard lock(records_mutex_);
    if (auto it = records_.find(key); it != records_.end()) return it->second;
    return std::nullopt;
  }
  bool erase(std::string_view key) override {
    std::lock_guard lock(records_mutex_);
    auto it = records_.find(key);
    if (it == records_.end()) return false;
    records_.erase(it);
    return true;
  }
  void add_counts(std::string_view key, std::span<const count_delta> deltas) override {
    std::lock_guard lock(counts_mutex_);
    auto it = counts_.find(key);
    if (it == counts_.end()) it = counts_.emplace(std::string(key), count_map{}).first;
    for (const auto& [name, delta] : deltas) {
      auto c = it->second.find(name);
      if (c == it->second.end()) c = it->second.emplace(std::string(name), 0).first;
      c->second += delta;
    }
  }
  std::vector<counts_record> scan_counts(std::string_view prefix) override {
    std::lock_guard lock(counts_mutex_);
    std::vector<counts_record> out;
    for (auto it = counts_.lower_bound(prefix);
         it != counts_.end() && std::string_view(it->first).starts_with(prefix); ++it)
      out.push_back({it->first, {it->second.begin(), it->second.end()}});
    return out;
  }

  std::vector<std::pair<std::string, std::string>> scan(std::string_view prefix) override {
    std::lock_guard lock(records_mutex_);
    std::vector<std::pair<std::string, std::string>> out;
    for (auto it = records_.lower_bound(prefix);
         it != records_.end() && std::string_view(it->first).starts_with(prefix); ++it)
      out.emplace_back(it->first, it->second);
    return out;
  }

 private:
  struct bucket_entry {
    throttle::bucket_state state;
    throttle_settings limit;  // as last used: tells when an idle bucket is full again
  };
  struct counter_entry {
    std::int64_t value = 0;
    time_point expires;
  };
  struct alignas(64) shard {
    std::mutex mutex;
    string_map<bucket_entry> buckets;
    string_map<counter_entry> counters;
    std::int64_t next_sweep_ns = 0;
  };
  static constexpr std::size_t shard_count = 64;
  static constexpr std::int64_t sweep_interval_ns = 60'000'000'000;

  shard& shard_of(std::string_view key) noexcept {
    return shards_[std::hash<std::string_view>{}(key) % shard_count];
  }

  // Forgets buckets that have refilled (a new bucket starts full anyway) and expired counters,
  // at most once a minute per shard, when something new is about to be added.
  static void sweep(shard& sh, time_point now, std::int64_t now_ns) {
    if (now_ns < sh.next_sweep_ns) return;
    sh.next_sweep_ns = now_ns + sweep_interval_ns;
    std::erase_if(sh.buckets, [&](const auto& kv) {
      return throttle::full_at(kv.second.state, kv.second.limit, now_ns);
    });
    std::erase_if(sh.counters, [&](const auto& kv) { return kv.second.expires <= now; });
  }

  static bucket_entry& bucket(shard& sh, std::string_view key, std::int64_t now_ns) {
    if (auto it = sh.buckets.find(key); it != sh.buckets.end()) return it->second;
    sweep(sh,
          time_point(
              std::chrono::duration_cast<time_point::duration>(std::chrono::nanoseconds(now_ns))),
          now_ns);
    return sh.buckets.emplace(std::string(key), bucket_entry{}).first->second;
  }

  static counter_entry& counter_at(shard& sh, std::string_view key, time_point expires,
                                   time_point now, std::int64_t now_ns) {
    if (auto it = sh.counters.find(key); it != sh.counters.end()) {
      if (it->second.expires <= now) it->second = {0, expires};
      return it->second;
    }
    sweep(sh, now, now_ns);
    return sh.counters.emplace(std::string(key), counter_entry{0, expires}).first->second;
  }

  // The stage cache: per namespace, 16 shards, each its own LRU list with 1/16 of the capacity.
  static constexpr std::size_t entry_overhead = 96;  // list node, index node, bookkeeping
  struct cache_entry {
    std::string key;
    std::size_t hash;  // of key, as hash_key() gives it
    std::shared_ptr<const std::string> data;
    time_point expires;
    std::size_t bytes;
  };
  struct cache_space {
    static constexpr std::size_t shard_count = detail::memory_cache_shards;
    struct alignas(64) shard {
      std::mutex mutex;
      std::list<cache_entry> lru;
      std::unordered_map<hashed_key, std::list<cache_entry>::iterator, hashed_key_hash>
          index;  // views of keys in lru
      std::size_t bytes = 0;
    };
    std::array<shard, shard_count> shards;
    shard& shard_of(const hashed_key& key) noexcept { return shards[shard_index(key.hash)]; }
  };
  // Spaces are never removed, so each thread remembers the last one it found, by store and
  // namespace: most lookups skip the lock all threads share.
  cache_space* find_space(std::string_view ns) {
    struct last_found {
      std::uint64_t store = 0;
      std::string ns;
      cache_space* space = nullptr;
    };
    thread_local last_found last;
    if (last.store == id_ && last.ns == ns) return last.space;
    std::shared_lock lock(spaces_mutex_);
    auto it = spaces_.find(ns);
    if (it == spaces_.end()) return nullptr;
    last = {id_, std::string(ns), it->second.get()};
    return last.space;
  }
  cache_space& get_space(std::string_view ns) {
    if (auto* s = find_space(ns)) return *s;
    std::unique_lock lock(spaces_mutex_);
    auto& s = spaces_[std::string(ns)];
    if (!s) s = std::make_unique<cache_space>();
    return *s;
  }

  std::array<shard, shard_count> shards_;
  static inline std::atomic<std::uint64_t> next_id_{1};
  const std::uint64_t id_ = next_id_.fetch_add(1);  // never reused, unlike an address
  std::shared_mutex spaces_mutex_;
  std::map<std::string, std::unique_ptr<cache_space>, std::less<>> spaces_;  // never removed
  std::mutex records_mutex_;
  std::map<std::string, std::string, std::less<>> records_;
  // Metering's counts: added to every few seconds per gateway, read by reports.
  using count_map = std::map<std::string, std::int64_t, std::less<>>;
  std::mutex counts_mutex_;
  std::map<std::string, count_map, std::less<>> counts_;
};

}  // namespace

std::shared_ptr<store> make_memory_store() { return std::make_shared<memory_store>(); }

namespace detail {
std::size_t memory_cache_shard_of(std::string_view key) noexcept {
  return shard_index(hash_key(key).hash);
}
}  // namespace detail

}  // namespace gatehouse
