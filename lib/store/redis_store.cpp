// The Redis store (include/gatehouse/redis_store.hpp). Request path: admission is one
// EVALSHA on the host's io_context (store_scripts.cpp), refusals are remembered until they
// lapse (refusal_memory), and a Redis that cannot answer in time puts the request in the
// failure mode. Record calls wait on a connection of their own (blocking_client). Every key
// is "{prefix}:" + the key the gateway names.

#include "store/redis/admission_batcher.hpp"
#include "store/redis/blocking_client.hpp"
#include "store/redis/redis_client.hpp"
#include "store/redis/redis_subscriber.hpp"
#include "store/redis/refusal_memory.hpp"
#include "store/redis/store_scripts.hpp"
#include "util/as_tuple.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/redis_store.hpp>

#include <asio/associated_allocator.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/dispatch.hpp>
#include <asio/use_awaitable.hpp>

#include <openssl/rand.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <map>
#include <mutex>

namespace gatehouse {

namespace {
using steady = std::chrono::steady_clock;
constexpr auto use_tuple = util::as_tuple(asio::use_awaitable);
constexpr std::int64_t live_window_ms = 3000;  // an instance is live this long after its call
constexpr auto heartbeat_every = std::chrono::seconds(1);

redis::client_options client_options_of(const redis_options& o, const std::string& url,
                                        std::chrono::milliseconds timeout) {
  redis::client_options c;
  c.url = url;
  c.connections = o.connections;
  c.timeout = timeout;
  c.connect_timeout = o.connect_timeout;
  c.breaker_failures = o.breaker_failures;
  c.ca_file = o.ca_file;
  c.ca_pem = o.ca_pem;
  c.certificate = o.certificate;
  c.insecure_skip_verification = o.insecure_skip_verification;
  return c;
}

std::string random_id() {
  unsigned char bytes[8];
  RAND_bytes(bytes, sizeof bytes);
  std::string out;
  for (unsigned char b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

// A glob that matches `text` literally (SCAN's MATCH).
std::string glob_literal(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// A limit shared by `n` instances: each admits its share (at least one, unless it was none).
std::int64_t share(std::int64_t limit, std::size_t n) {
  if (limit <= 0 || n <= 1) return limit;
  return std::max<std::int64_t>(1, limit / static_cast<std::int64_t>(n));
}

class redis_store final : public store {
 public:
  redis_store(asio::any_io_executor executor, redis_options options)
      : options_(check(std::move(options))),
        prefix_("{" + options_.key_prefix + "}:"),
        channel_(prefix_ + "records"),
        executor_(std::move(executor)),
        limiter_(std::make_shared<redis::client>(
            executor_, client_options_of(options_, options_.url, options_.timeout))),
        records_(client_options_of(options_, options_.url, options_.record_timeout)),
        batcher_(std::make_shared<redis::admission_batcher>(executor_, limiter_, prefix_, 1, 256,
                                                            options_.timeout)),
        memory_(make_memory_store()),
        instance_(random_id()) {
    if (!options_.cache_url.empty()) {
      cache_ = std::make_unique<redis::client>(
          executor_, client_options_of(options_, options_.cache_url, options_.timeout));
      cache_records_ = std::make_unique<redis::blocking_client>(
          client_options_of(options_, options_.cache_url, options_.record_timeout));
    }
  }

  // --- admission -------------------------------------------------------------------------

  std::optional<admission_result> try_admit(const admission& a, time_point now) override {
    if (auto r = refusals_.find(a, steady::now())) {
      local_refusals_.fetch_add(1, std::memory_order_relaxed);
      return r;
    }
    if (limiter_->breaker() != redis::breaker_state::closed) return fail(a, now);
    return std::nullopt;
  }

  asio::awaitable<admission_result> admit(const admission& a, time_point now) override {
    if (auto r = try_admit(a, now)) co_return *r;
    heartbeat();
    auto [ec, out] =
        co_await asio::async_initiate<decltype(use_tuple), void(std::error_code, admission_result)>(
            [this, &a](auto handler) {
              auto ex = asio::get_associated_executor(handler, executor_);
              auto allocator = asio::get_associated_allocator(handler);
              batcher_->admit(
                  a,
                  redis::admission_batcher::done_fn(
                      [h = std::move(handler), ex](std::error_code e, admission_result r) mutable {
                        asio::dispatch(ex,
                                       [h = std::move(h), e, r]() mutable { std::move(h)(e, r); });
                      },
                      allocator));
            },
            use_tuple);
    if (ec) {
      if (ec == redis::errc::protocol_error)
        warn_once("redis store: the admission script answered what it never answers");
      co_return fail(a, now);
    }
    if (out.verdict != admission_verdict::admitted) refusals_.remember(a, out, steady::now());
    co_return out;
  }

  // --- the stage cache --------------------------------------------------------------------

  cache_lookup try_cache_get(std::string_view ns, std::string_view key, time_point now) override {
    if (!cache_) return memory_->try_cache_get(ns, key, now);
    return {cache_lookup::outcome::pending, nullptr};
  }

  asio::awaitable<cache_lookup> cache_get(std::string_view ns, std::string_view key,
                                          time_point now) override {
    if (!cache_) co_return co_await memory_->cache_get(ns, key, now);
    const std::string gen = generation_key(ns), stem = entry_stem(ns);
    const std::array<std::string_view, 1> keys{gen};
    const std::array<std::string_view, 2> args{stem, key};
    auto r = co_await cache_->eval(redis::cache_get_script(), keys, args);
    if (r.error || !r.reply.is_string()) co_return cache_lookup{};  // a miss, also when down
    co_return cache_lookup{cache_lookup::outcome::hit,
                           std::make_shared<const std::string>(std::move(r.reply.text))};
  }

  void cache_put(std::string_view ns, std::string_view key, std::shared_ptr<const std::string> data,
                 time_point expires, std::size_t capacity) override {
    if (!cache_) return memory_->cache_put(ns, key, std::move(data), expires, capacity);
    const auto ttl = std::chrono::duration_cast<std::chrono::milliseconds>(
        expires - std::chrono::system_clock::now());
    if (ttl.count() <= 0) return;
    // Sent without waiting for it: the request has its response already.
    asio::co_spawn(
        executor_,
        [c = cache_client(), gen = generation_key(ns), stem = entry_stem(ns), k = std::string(key),
         data = std::move(data), ttl = std::to_string(ttl.count())]() -> asio::awaitable<void> {
          const std::array<std::string_view, 1> keys{gen};
          const std::array<std::string_view, 4> args{stem, k, *data, ttl};
          co_await c->eval(redis::cache_put_script(), keys, args);
        },
        asio::detached);
  }

  void cache_flush(std::string_view ns) override {
    if (!cache_) return memory_->cache_flush(ns);
    // Sent twice at worst: one more generation empties the stage's cache just the same.
    auto r = cache_records_->call(redis::make_command("INCR", generation_key(ns)));
    if (r.error) throw failed_call("cache flush", ns, r);
  }

  // --- records ----------------------------------------------------------------------------

  std::int64_t counter(std::string_view key, time_point) override {
    auto r = records_.call(redis::make_command("GET", prefix_ + std::string(key)));
    if (r.error) throw failed_call("counter", key, r);
    if (!r.reply.is_string()) return 0;
    return to_int(r.reply.text).value_or(0);
  }

  void put(std::string_view key, std::string value) override {
    const std::string full = prefix_ + std::string(key);
    const std::string message = fmt::format("P{}\n{}", key, value);
    const std::array<std::string_view, 1> keys{full};
    const std::array<std::string_view, 3> args{value, channel_, message};
    auto r = records_.eval(redis::record_put_script(), keys, args);
    if (r.error) throw failed_call("put", key, r);
  }

  bool put_new(std::string_view key, std::string value) override {
    auto r = records_.call(redis::make_command("SET", prefix_ + std::string(key), value, "NX"));
    if (r.error) throw failed_call("put new", key, r);
    return !r.reply.is_nil();  // +OK when set, nil when the key was there
  }

  std::optional<std::string> get(std::string_view key) override {
    auto r = records_.call(redis::make_command("GET", prefix_ + std::string(key)));
    if (r.error) throw failed_call("get", key, r);
    if (!r.reply.is_string()) return std::nullopt;
    return std::move(r.reply.text);
  }

  asio::awaitable<std::optional<std::string>> fetch(std::string_view key) override {
    const std::string full = prefix_ + std::string(key);
    auto r = co_await limiter_->exec(redis::make_command("GET", full));
    if (r.error || !r.reply.is_string()) co_return std::nullopt;
    co_return std::move(r.reply.text);
  }

  bool shared() const noexcept override { return true; }

  void watch(std::string_view prefix, record_watcher on_change) override {
    std::lock_guard lock(watch_mutex_);
    watchers_.push_back({std::string(prefix), std::move(on_change)});
    if (subscriber_) return;
    // The first watcher: hear of every change from now on (put and erase publish them).
    subscriber_ = std::make_unique<redis::subscriber>(
        executor_, client_options_of(options_, options_.url, options_.record_timeout));
    subscriber_->set_handler([this](std::string_view, std::string_view message) {
      if (message.empty()) return;
      const char op = message.front();
      message.remove_prefix(1);
      std::optional<std::string_view> value;
      std::string_view key = message;
      if (op == 'P') {
        const auto nl = message.find('\n');
        if (nl == std::string_view::npos) return;
        key = message.substr(0, nl);
        value = message.substr(nl + 1);
      } else if (op != 'E') {
        return;
      }
      if (key.empty()) return;
      tell(key, value);
    });
    // Connected again (or for the first time): what happened meanwhile was not heard.
    subscriber_->on_connected([this] { tell({}, std::nullopt); });
    subscriber_->subscribe(channel_);
  }

  bool erase(std::string_view key) override {
    const std::string full = prefix_ + std::string(key);
    const std::string message = fmt::format("E{}", key);
    const std::array<std::string_view, 1> keys{full};
    const std::array<std::string_view, 2> args{channel_, message};
    auto r = records_.eval(redis::record_erase_script(), keys, args);
    if (r.error) throw failed_call("erase", key, r);
    return r.reply.integer > 0;
  }

  std::vector<std::pair<std::string, std::string>> scan(std::string_view prefix) override {
    const auto keys = scan_keys(prefix, "string");
    std::vector<std::pair<std::string, std::string>> out;
    constexpr std::size_t chunk = 256;
    for (std::size_t i = 0; i < keys.size(); i += chunk) {
      std::vector<std::string_view> args{"MGET"};
      for (std::size_t j = i; j < std::min(keys.size(), i + chunk); ++j) args.push_back(keys[j]);
      auto r = records_.call(redis::command(args));
      if (r.error) throw failed_call("scan", prefix, r);
      for (std::size_t j = 0; j < r.reply.elements.size() && i + j < keys.size(); ++j)
        if (r.reply.elements[j].is_string())
          out.emplace_back(keys[i + j].substr(prefix_.size()), std::move(r.reply.elements[j].text));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  void add_counts(std::string_view key, std::span<const count_delta> deltas) override {
    if (deltas.empty()) return;
    const std::string full = prefix_ + std::string(key);
    std::vector<std::string> numbers;
    numbers.reserve(deltas.size());
    std::vector<std::string_view> args;
    for (const auto& d : deltas) {
      numbers.push_back(std::to_string(d.second));
      args.push_back(d.first);
      args.push_back(numbers.back());
    }
    const std::array<std::string_view, 1> keys{full};
    // Not sent twice: an increment that did reach Redis would count twice.
    auto r = records_.eval(redis::add_counts_script(), keys, args, false);
    if (r.error) throw failed_call("add counts", key, r);
  }

  std::vector<counts_record> scan_counts(std::string_view prefix) override {
    const auto keys = scan_keys(prefix, "hash");
    std::vector<redis::command> calls;
    for (const auto& k : keys) calls.push_back(redis::make_command("HGETALL", k));
    auto replies = records_.call_all(std::move(calls));
    std::vector<counts_record> out;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (replies[i].error) throw failed_call("scan counts", prefix, replies[i]);
      auto& rec = out.emplace_back();
      rec.key = keys[i].substr(prefix_.size());
      const auto& e = replies[i].reply.elements;
      for (std::size_t j = 0; j + 1 < e.size(); j += 2)
        rec.counts.emplace_back(e[j].text, to_int(e[j + 1].text).value_or(0));
      std::sort(rec.counts.begin(), rec.counts.end());
    }
    std::sort(out.begin(), out.end(),
              [](const counts_record& a, const counts_record& b) { return a.key < b.key; });
    return out;
  }

  store_statistics statistics() const noexcept override {
    store_statistics s;
    const auto add = [&](const redis::statistics& c) {
      s.round_trips += c.round_trips;
      s.failures += c.failures + c.rejected;
    };
    add(limiter_->stats());
    add(records_.stats());
    if (cache_) add(cache_->stats()), add(cache_records_->stats());
    return s;
  }

  redis_store_statistics redis_statistics() const noexcept {
    return {batcher_->requests(), local_refusals_.load(std::memory_order_relaxed),
            fallbacks_.load(std::memory_order_relaxed), live_->load(std::memory_order_relaxed)};
  }

 private:
  static redis_options check(redis_options o) {
    if (o.key_prefix.empty() || o.key_prefix.find_first_of("{}") != std::string::npos)
      throw config_error(fmt::format(
          "redis store: key_prefix '{}' — use a non-empty name without braces", o.key_prefix));
    if (o.timeout <= std::chrono::milliseconds::zero() ||
        o.record_timeout <= std::chrono::milliseconds::zero())
      throw config_error("redis store: timeout and record_timeout must be positive");
    return o;
  }

  // What the failure mode answers for a request Redis could not admit.
  admission_result fail(const admission& a, time_point now) {
    fallbacks_.fetch_add(1, std::memory_order_relaxed);
    if (!failing_.exchange(true, std::memory_order_relaxed))
      warn_once(fmt::format(
          "redis store: {} cannot admit requests ({}); {} until it answers", limiter_->where().host,
          limiter_->breaker() == redis::breaker_state::closed ? "a call failed"
                                                              : "its circuit breaker is open",
          options_.on_failure == redis_failure_mode::fail_closed
              ? "refusing them (503)"
              : "admitting each instance's share of every limit"));
    if (options_.on_failure == redis_failure_mode::fail_closed)
      return {admission_verdict::unavailable, 0, std::chrono::seconds(1)};
    const std::size_t n = std::max<std::size_t>(1, live_->load(std::memory_order_relaxed));
    std::vector<bucket_check> buckets(a.buckets.begin(), a.buckets.end());
    for (auto& b : buckets)
      b.limit = {b.limit.rate / static_cast<double>(n), share(b.limit.burst, n)};
    admission shared = a;
    shared.buckets = buckets;
    if (shared.quota) shared.quota->limit = share(shared.quota->limit, n);
    return *memory_->try_admit(shared, now);
  }

  // Every few admissions tell Redis this instance is live, and learn how many are.
  void heartbeat() {
    const auto now = steady::now().time_since_epoch().count();
    auto last = last_heartbeat_.load(std::memory_order_relaxed);
    if (now - last < std::chrono::duration_cast<steady::duration>(heartbeat_every).count()) return;
    if (!last_heartbeat_.compare_exchange_strong(last, now, std::memory_order_relaxed)) return;
    failing_.store(false, std::memory_order_relaxed);
    // Owns what it uses: the store may go while it waits.
    asio::co_spawn(
        executor_,
        [c = limiter_, live = live_, set = prefix_ + "instances", id = instance_,
         window = std::to_string(live_window_ms)]() -> asio::awaitable<void> {
          // EVAL, not EVALSHA: once a second, and apart from admissions in INFO commandstats.
          auto cmd =
              redis::make_command("EVAL", redis::heartbeat_script().source(), "1", set, id, window);
          auto r = co_await c->exec(std::move(cmd));
          if (!r.error && r.reply.type == redis::value_type::integer)
            live->store(static_cast<std::size_t>(std::max<std::int64_t>(1, r.reply.integer)),
                        std::memory_order_relaxed);
        },
        asio::detached);
  }

  void tell(std::string_view key, std::optional<std::string_view> value) {
    std::vector<record_watcher> to_call;
    {
      std::lock_guard lock(watch_mutex_);
      for (const auto& [prefix, w] : watchers_)
        if (key.empty() || key.starts_with(prefix)) to_call.push_back(w);
    }
    for (const auto& w : to_call) w(key, value);
  }

  std::string generation_key(std::string_view ns) const {
    return fmt::format("{}cachegen:{}", prefix_, ns);
  }
  std::string entry_stem(std::string_view ns) const {
    return fmt::format("{}cache:{}:", prefix_, ns);
  }
  // The cache client, kept alive by a detached put that outlives nothing else.
  std::shared_ptr<redis::client> cache_client() const { return cache_; }

  // Every key of one type under `prefix`, with the store's prefix.
  std::vector<std::string> scan_keys(std::string_view prefix, std::string_view type) {
    const std::string match = glob_literal(prefix_ + std::string(prefix)) + "*";
    std::vector<std::string> keys;
    std::string cursor = "0";
    do {
      auto r = records_.call(
          redis::make_command("SCAN", cursor, "MATCH", match, "COUNT", "1000", "TYPE", type));
      if (r.error) throw failed_call("scan", prefix, r);
      const auto& e = r.reply.elements;
      if (e.size() != 2)
        throw store_error(
            fmt::format("redis store: scan '{}': a reply "
                        "that is not SCAN's",
                        prefix));
      cursor = e[0].text;
      for (const auto& k : e[1].elements) keys.push_back(k.text);
    } while (cursor != "0");
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());  // SCAN may repeat a key
    return keys;
  }

  store_error failed_call(std::string_view what, std::string_view key,
                          const redis::result& r) const {
    std::string why = r.error == redis::errc::error_reply ? r.reply.text : r.error.message();
    return store_error(fmt::format("redis store: {} '{}': {}", what, key, why));
  }

  void warn_once(const std::string& text) const {
    if (options_.warn)
      options_.warn(text);
    else
      std::fprintf(stderr, "gatehouse warning: %s\n", text.c_str());
  }

  const redis_options options_;
  const std::string prefix_;   // "{key_prefix}:"
  const std::string channel_;  // where record changes are published
  asio::any_io_executor executor_;
  std::shared_ptr<redis::client> limiter_;             // the request path's calls
  redis::blocking_client records_;                     // record calls
  std::shared_ptr<redis::admission_batcher> batcher_;  // admissions, batched under load
  std::shared_ptr<redis::client> cache_;               // the stage cache's Redis, if any
  std::unique_ptr<redis::blocking_client> cache_records_;
  std::shared_ptr<store> memory_;  // the failure mode's admissions; the cache without cache_url
  redis::refusal_memory refusals_;
  const std::string instance_;
  std::atomic<steady::rep> last_heartbeat_{0};
  std::shared_ptr<std::atomic<std::size_t>> live_ = std::make_shared<std::atomic<std::size_t>>(1);
  std::atomic<bool> failing_{false};
  std::atomic<std::uint64_t> local_refusals_{0}, fallbacks_{0};
  std::mutex watch_mutex_;
  std::vector<std::pair<std::string, record_watcher>> watchers_;
  // Last: closed (no callback runs any more) before what its callbacks use goes.
  std::unique_ptr<redis::subscriber> subscriber_;
};

}  // namespace

std::shared_ptr<store> make_redis_store(asio::any_io_executor executor, redis_options options) {
  return std::make_shared<redis_store>(std::move(executor), std::move(options));
}

redis_store_statistics redis_statistics(const store& s) noexcept {
  if (auto* r = dynamic_cast<const redis_store*>(&s)) return r->redis_statistics();
  return {};
}

}  // namespace gatehouse
