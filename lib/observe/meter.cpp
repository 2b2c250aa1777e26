#include "observe/meter.hpp"

#include "pipeline/exchange.hpp"
#include "routing/deployment.hpp"
#include "usage/key_registry.hpp"

#include <fmt/format.h>
#include <asio/post.hpp>

#include <algorithm>
#include <new>
#include <thread>

namespace gatehouse::observe {

namespace {
// A shard holds its entries in chunks, made when the thread first needs one: a chunk never
// moves, so the flusher may look into it while its thread writes.
constexpr std::size_t chunk_entries = 64;
constexpr std::size_t max_chunks = 1024;  // 65,536 entries a thread; the next ones are not kept

constexpr std::uint64_t http_unit = 512 * 1024;      // HTTP APIs: 512 KB a unit
constexpr std::uint64_t websocket_unit = 32 * 1024;  // WebSocket: 32 KB a message unit

std::int64_t hour_of(std::chrono::system_clock::time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count() / 3600;
}

std::size_t mix(meter_series series, std::string_view key_id) noexcept {
  return std::hash<std::string_view>{}(key_id) ^ (std::size_t{series} * 0x9E3779B97F4A7C15ULL);
}

std::uint64_t units_of(std::uint64_t bytes, std::uint64_t unit) noexcept {
  return std::max<std::uint64_t>(1, (bytes + unit - 1) / unit);
}

// A key's part with '/' and '%' escaped, so that names with slashes keep the parts apart.
void append_part(std::string& out, std::string_view part) {
  out += '/';
  for (char c : part) {
    if (c == '/')
      out += "%2F";
    else if (c == '%')
      out += "%25";
    else
      out += c;
  }
}
}  // namespace

struct meter::entry {
  // Set before the entry is published; never changed.
  meter_series series = 0;
  bool http = false;  // an HTTP API's: units of 512 KB
  std::string key_id;
  std::size_t hash = 0;
  // The owner writes, the flusher reads: the hour counted now, the one before and where the
  // counters stood when it began (a seqlock: odd while the owner changes them).
  std::atomic<std::uint32_t> seq{0};
  std::atomic<std::int64_t> hour{0}, prev_hour{-1};
  std::array<counter, meter_field_count> base, values;
  // The flusher's (under flush_mutex_): the hour and values it added up to.
  std::int64_t flushed_hour = -1;
  std::array<std::uint64_t, meter_field_count> flushed{};

  // For the owner: counts from now on go to `h`.
  void begin_hour(std::int64_t h) noexcept {
    const auto s = seq.load(std::memory_order_relaxed);
    seq.store(s + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    prev_hour.store(hour.load(std::memory_order_relaxed), std::memory_order_relaxed);
    hour.store(h, std::memory_order_relaxed);
    for (std::size_t i = 0; i < meter_field_count; ++i) base[i].set(values[i].get());
    seq.store(s + 2, std::memory_order_release);
  }
};

struct meter::shard {
  struct chunk {
    std::array<entry, chunk_entries> entries;
  };
  std::array<std::atomic<chunk*>, max_chunks> chunks{};
  std::atomic<std::uint32_t> published{0};  // entries the flusher may read
  // The owner's: open addressing over its entries (index + 1; 0 is empty), a power of two.
  std::vector<std::uint32_t> table;
  snapshot_memo<meter_series> memos;
  // The owner's: the entries of the (stage snapshot, API key record) pairs it counted last, so
  // that most requests find theirs without hashing a key id (serial 0: none).
  struct recent_entry {
    std::uint64_t serial = 0;
    const void* key = nullptr;
    entry* e = nullptr;
  };
  std::array<recent_entry, 16> recent{};

  shard() = default;
  shard(const shard&) = delete;
  shard& operator=(const shard&) = delete;
  ~shard() {
    for (auto& c : chunks) delete c.load(std::memory_order_relaxed);
  }
  entry& at(std::uint32_t i) const noexcept {
    return chunks[i / chunk_entries].load(std::memory_order_acquire)->entries[i % chunk_entries];
  }
};

meter_field classify(const request_facts& f) noexcept {
  const auto& ex = f.ex;
  if (!ex.stage || !ex.match.target) return mf_unmatched;
  return f.error ? classify(f.error->type) : mf_billed;
}

meter_field classify(response_type type) noexcept {
  switch (type) {
    // "Requests are not charged for authorization and authentication failures": an authorizer
    // that failed to decide (AUTHORIZER_FAILURE, _CONFIGURATION_ERROR) authorized nobody.
    case response_type::unauthorized:
    case response_type::access_denied:
    case response_type::expired_token:
    case response_type::invalid_signature:
    case response_type::missing_authentication_token:
    case response_type::authorizer_failure:
    case response_type::authorizer_configuration_error:
    case response_type::waf_filtered:
      return mf_auth;
    case response_type::invalid_api_key:
      return mf_api_key;
    case response_type::throttled:
      return mf_throttled;
    case response_type::quota_exceeded:
      return mf_quota;
    default:
      return mf_billed;
  }
}

meter::meter(std::shared_ptr<store> store, asio::any_io_executor executor,
             std::chrono::seconds flush_interval)
    : store_(std::move(store)),
      executor_(std::move(executor)),
      interval_(std::max(flush_interval, std::chrono::seconds{1})) {
  std::lock_guard lock(shards_.mutex());
  add_series({metrics_api_type::rest, {}, {}, {}});  // 0: requests for no stage
  next_flush_s_.store(std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                              .count() +
                          interval_.count(),
                      std::memory_order_relaxed);
}

meter::~meter() {
  stop_timer();
  flush();
}

meter_series meter::add_series(series_info info) {
  std::string name = fmt::format("{}\x1f{}\x1f{}\x1f{}", static_cast<int>(info.type), info.api_id,
                                 info.api_name, info.stage);
  if (auto it = by_name_.find(name); it != by_name_.end()) return it->second;
  const auto id = static_cast<meter_series>(series_.size());
  series_.push_back(std::move(info));
  by_name_.emplace(std::move(name), id);
  return id;
}

meter_series meter::websocket_series(std::string_view api_name, std::string_view api_id,
                                     std::string_view stage) {
  std::lock_guard lock(shards_.mutex());
  return add_series({metrics_api_type::websocket, std::string(api_id), std::string(api_name),
                     std::string(stage)});
}

// The calling thread's entry of (series, key), made when it first comes (null: out of memory
// or past the shard's limit), counting `hour` or later.
meter::entry* meter::find_entry(shard& sh, meter_series series, std::string_view key_id,
                                std::int64_t hour) noexcept {
  const std::size_t h = mix(series, key_id);
  const std::uint32_t count = sh.published.load(std::memory_order_relaxed);
  if (!sh.table.empty()) {
    const std::size_t mask = sh.table.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const std::uint32_t slot = sh.table[i];
      if (slot == 0) break;
      entry& e = sh.at(slot - 1);
      if (e.hash == h && e.series == series && e.key_id == key_id) {
        if (hour > e.hour.load(std::memory_order_relaxed)) e.begin_hour(hour);
        return &e;
      }
    }
  }
  // A new entry (a key's or a stage's first request on this thread): allocates.
  try {
    if (count >= chunk_entries * max_chunks) return nullptr;
    if ((count + 1) * 2 > sh.table.size()) {  // keep the table at most half full
      std::vector<std::uint32_t> bigger(std::max<std::size_t>(64, sh.table.size() * 2), 0);
      const std::size_t mask = bigger.size() - 1;
      for (std::uint32_t n = 0; n < count; ++n) {
        std::size_t i = sh.at(n).hash & mask;
        while (bigger[i] != 0) i = (i + 1) & mask;
        bigger[i] = n + 1;
      }
      sh.table = std::move(bigger);
    }
    auto& slot = sh.chunks[count / chunk_entries];
    if (!slot.load(std::memory_order_relaxed))
      slot.store(new shard::chunk(), std::memory_order_release);
    entry& e = sh.at(count);
    e.series = series;
    {
      std::lock_guard lock(shards_.mutex());
      e.http = series_[series].type == metrics_api_type::http;
    }
    e.key_id.assign(key_id);
    e.hash = h;
    e.hour.store(hour, std::memory_order_relaxed);
    const std::size_t mask = sh.table.size() - 1;
    std::size_t i = h & mask;
    while (sh.table[i] != 0) i = (i + 1) & mask;
    sh.table[i] = count + 1;
    sh.published.store(count + 1, std::memory_order_release);
    return &e;
  } catch (...) {
    return nullptr;
  }
}

// A request's entry found by its stage's series and its key's id.
meter::entry* meter::slow_entry(shard& sh, const detail::exchange& ex, std::int64_t hour) noexcept {
  meter_series series = 0;
  if (ex.stage) {
    if (const meter_series* found = sh.memos.find(ex.stage->serial.value)) {
      series = *found;
    } else {
      const auto& api = ex.stage->deployment->api;
      try {
        std::lock_guard lock(shards_.mutex());
        series = add_series(
            {api.type == api_type::http ? metrics_api_type::http : metrics_api_type::rest, api.id,
             api.name, ex.stage->name});
      } catch (...) {
        return nullptr;
      }
      sh.memos.remember(ex.stage->serial.value, series);
    }
  }
  return find_entry(sh, series, ex.api_key ? std::string_view(ex.api_key->id) : "", hour);
}

void meter::record(const request_facts& f) noexcept {
  shard* sh = shards_.local();
  if (!sh) return;
  const auto& ex = f.ex;
  if (ex.stage && ex.stage->no_metrics) return;  // WebSocket @connections: metered as messages
  const std::int64_t seconds =
      std::chrono::duration_cast<std::chrono::seconds>(ex.start.time_since_epoch()).count();
  const std::int64_t hour = seconds / 3600;
  // A key record's address may be reused by another key once it is gone: the id tells.
  const detail::key_record* key = ex.api_key.get();
  const std::uint64_t serial = ex.stage ? ex.stage->serial.value : 0;
  auto& recent = sh->recent[(serial ^ (reinterpret_cast<std::uintptr_t>(key) >> 4)) & 15];
  entry* e = recent.e;
  if (e && recent.serial == serial && recent.key == key && (!key || e->key_id == key->id)) {
    if (hour > e->hour.load(std::memory_order_relaxed)) e->begin_hour(hour);
  } else {
    e = slow_entry(*sh, ex, hour);
    if (!e) return;
    recent = {serial, key, e};
  }
  const meter_field what = classify(f);
  const std::uint64_t body = ex.req.body.size();
  e->values[what].add();
  e->values[mf_bytes_in].add(body);
  e->values[mf_bytes_out].add(f.bytes_out);
  if (what == mf_billed) e->values[mf_units].add(e->http ? units_of(body, http_unit) : 1);
  if (seconds >= next_flush_s_.load(std::memory_order_relaxed)) due(seconds);
}

void meter::websocket(meter_series series, std::string_view key_id, meter_field field,
                      std::uint64_t n, std::uint64_t bytes,
                      std::chrono::system_clock::time_point at) noexcept {
  shard* sh = shards_.local();
  if (!sh) return;
  const std::int64_t seconds =
      std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
  entry* e = find_entry(*sh, series, key_id, seconds / 3600);
  if (!e) return;
  e->values[field].add(n);
  if (field == mf_messages_in || field == mf_messages_out) {
    e->values[field == mf_messages_in ? mf_bytes_in : mf_bytes_out].add(bytes);
    e->values[mf_units].add(units_of(bytes, websocket_unit));
  }
  if (seconds >= next_flush_s_.load(std::memory_order_relaxed)) due(seconds);
}

// A request found the next flush due: one of the threads that see it posts it.
void meter::due(std::int64_t now_s) noexcept {
  std::int64_t expected = next_flush_s_.load(std::memory_order_relaxed);
  if (now_s < expected || !next_flush_s_.compare_exchange_strong(
                              expected, now_s + interval_.count(), std::memory_order_relaxed))
    return;
  try {
    asio::post(executor_, [w = weak_from_this()] {
      if (auto m = w.lock()) m->flush();
    });
  } catch (...) {  // the next request tries again after the interval
  }
}

void meter::start_timer() {
  std::lock_guard lock(timer_mutex_);
  if (timer_) return;
  timer_ = std::make_unique<asio::steady_timer>(executor_);
  arm_timer();
}

void meter::stop_timer() {
  std::lock_guard lock(timer_mutex_);
  if (timer_) timer_->cancel();
  timer_.reset();  // its handler runs with operation_aborted and finds no timer
}

// Under timer_mutex_.
void meter::arm_timer() {
  timer_->expires_after(interval_);
  timer_->async_wait([w = weak_from_this(), t = timer_.get()](const asio::error_code& ec) {
    auto m = w.lock();
    if (ec || !m) return;
    m->flush();
    std::lock_guard lock(m->timer_mutex_);
    if (m->timer_.get() == t) m->arm_timer();  // not stopped (or restarted) meanwhile
  });
}

void meter::flush() noexcept {
  try {
    std::lock_guard lock(flush_mutex_);
    flush_locked();
  } catch (...) {  // out of memory: the counts stay in the entries for the next flush
    flush_failures_.fetch_add(1, std::memory_order_relaxed);
  }
}

namespace {
using counts_array = std::array<std::uint64_t, meter_field_count>;
struct entry_view {
  std::int64_t hour = 0, prev_hour = -1;
  counts_array base{}, values{};
};

// A consistent view of an entry that its thread may be writing.
void read(const meter::entry& e, entry_view& v) noexcept {
  for (;;) {
    const auto s1 = e.seq.load(std::memory_order_acquire);
    if (s1 & 1) {
      std::this_thread::yield();
      continue;
    }
    v.hour = e.hour.load(std::memory_order_relaxed);
    v.prev_hour = e.prev_hour.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < meter_field_count; ++i) {
      v.base[i] = e.base[i].get();
      v.values[i] = e.values[i].get();
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (e.seq.load(std::memory_order_relaxed) == s1) return;
  }
}
}  // namespace

// Under flush_mutex_.
void meter::flush_locked() {
  {
    std::lock_guard lock(shards_.mutex());
    entry_view v;
    auto add = [&](const entry& e, std::int64_t hour, const counts_array& to,
                   const counts_array& from) {
      bool any = false;
      for (std::size_t i = 0; i < meter_field_count; ++i) any |= to[i] != from[i];
      if (!any || hour < 0) return;
      const auto& s = series_[e.series];
      std::string key(meter_counts_prefix.substr(0, meter_counts_prefix.size() - 1));
      append_part(key, fmt::format("{:08}", hour));
      append_part(key, type_name(s.type));
      append_part(key, s.api_id);
      append_part(key, s.api_name);
      append_part(key, s.stage);
      append_part(key, e.key_id);
      auto& d = pending_.try_emplace(std::move(key), deltas{}).first->second;
      for (std::size_t i = 0; i < meter_field_count; ++i)
        d[i] += static_cast<std::int64_t>(to[i] - from[i]);
    };
    shards_.for_each_locked([&](shard& sh) {
      const std::uint32_t count = sh.published.load(std::memory_order_acquire);
      for (std::uint32_t n = 0; n < count; ++n) {
        entry& e = sh.at(n);
        read(e, v);
        if (v.hour == e.flushed_hour) {
          add(e, v.hour, v.values, e.flushed);
        } else {
          // The thread began another hour since (more than one: the hours between it and the
          // last one flushed are not told apart, and count in the one before the current).
          if (v.prev_hour >= 0) add(e, v.prev_hour, v.base, e.flushed);
          add(e, v.hour, v.values, v.prev_hour >= 0 ? v.base : e.flushed);
        }
        e.flushed_hour = v.hour;
        e.flushed = v.values;
      }
    });
  }
  if (caches_) {
    const auto hour = hour_of(std::chrono::system_clock::now());
    for (const auto& c : caches_()) {
      std::string key(meter_cache_prefix.substr(0, meter_cache_prefix.size() - 1));
      append_part(key, fmt::format("{:08}", hour));
      append_part(key, c.api_id);
      append_part(key, c.api_name);
      append_part(key, c.stage);
      try {
        store_->put(key, std::to_string(c.capacity_bytes));
      } catch (...) {  // a shared store that cannot answer now: put again at the next flush
        flush_failures_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
    }
  }
  std::vector<count_delta> list;
  for (auto it = pending_.begin(); it != pending_.end();) {
    list.clear();
    for (std::size_t i = 0; i < meter_field_count; ++i)
      if (it->second[i] != 0) list.emplace_back(meter_field_names[i], it->second[i]);
    try {
      store_->add_counts(it->first, list);
    } catch (...) {  // kept for the next flush
      flush_failures_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    it = pending_.erase(it);
  }
}

metering_report meter::report(std::chrono::system_clock::time_point from,
                              std::chrono::system_clock::time_point to) {
  std::vector<counts_record> counts;
  std::vector<std::pair<std::string, std::string>> caches;
  {
    // Flushed and read under one lock: a flush racing the report waits, and the report sees
    // every count either in the store or (not yet counted) nowhere, never twice.
    std::lock_guard lock(flush_mutex_);
    flush_locked();
    counts = store_->scan_counts(meter_counts_prefix);
    caches = store_->scan(meter_cache_prefix);
  }
  return make_report(counts, caches, from, to, prices());
}

void meter::prices(metering_prices p) {
  std::lock_guard lock(prices_mutex_);
  prices_ = std::move(p);
}

metering_prices meter::prices() const {
  std::lock_guard lock(prices_mutex_);
  return prices_;
}

std::string_view type_name(metrics_api_type t) noexcept {
  switch (t) {
    case metrics_api_type::http:
      return "http";
    case metrics_api_type::websocket:
      return "websocket";
    default:
      return "rest";
  }
}

}  // namespace gatehouse::observe
