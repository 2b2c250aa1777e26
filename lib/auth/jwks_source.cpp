#include "auth/jwks_source.hpp"

#include "net/client_core.hpp"
#include "net/url.hpp"

#include <gatehouse/config_error.hpp>

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <vector>

namespace gatehouse::auth {

// A fetch in progress, and the requests waiting for it.
struct jwks_source::flight {
  std::mutex mutex;
  bool done = false;
  std::vector<std::function<void()>> waiters;
};

namespace {
using clock = jwks_source::clock;

clock::rep ticks(clock::time_point t) { return t.time_since_epoch().count(); }
clock::time_point at(clock::rep r) { return clock::time_point(clock::duration(r)); }

void accept_json(const void*, std::string& out) { out.append("Accept: application/json\r\n"); }

}  // namespace

jwks_source::jwks_source(key_set keys) : keys_(std::make_shared<const key_set>(std::move(keys))) {}

jwks_source::jwks_source(jwks_settings settings) : settings_(std::move(settings)) {
  std::string why;
  auto url = net::parse_url(settings_.url, &why);
  if (!url) throw config_error(fmt::format("JWKS URL '{}': {}", settings_.url, why));
  if (!url->tls)
    throw config_error(
        fmt::format("JWKS URL '{}': keys are fetched over https:// only", settings_.url));
  if (settings_.timeout < std::chrono::milliseconds(1))
    throw config_error(
        fmt::format("JWKS URL '{}': the fetch timeout must be positive", settings_.url));
  // Without a backoff every request would open a connection while the provider is down.
  if (settings_.backoff < std::chrono::milliseconds(1) || settings_.backoff > std::chrono::hours(1))
    throw config_error(fmt::format(
        "JWKS URL '{}': the fetch backoff must be between 1 ms and 1 hour", settings_.url));
}

jwks_source::~jwks_source() = default;

std::shared_ptr<const key_set> jwks_source::try_keys(std::string_view kid,
                                                     clock::time_point now) const {
  auto current = keys_.load(std::memory_order_acquire);
  if (settings_.url.empty() || !current) return current;
  const bool stale = now - at(fetched_at_.load(std::memory_order_relaxed)) > settings_.max_age;
  const bool known = current->find(kid) != nullptr;
  if (known && !stale) return current;
  // An unknown kid, or keys past their age: fetch again, but not more often than allowed nor
  // while a failure backs off (a failed refresh keeps the old keys meanwhile).
  const bool may_fetch =
      now - at(attempted_at_.load(std::memory_order_relaxed)) >= settings_.refetch_interval &&
      now >= at(retry_at_.load(std::memory_order_acquire));
  return may_fetch ? nullptr : current;
}

bool jwks_source::refused_for_now(clock::time_point now) {
  if (settings_.url.empty() || keys_.load(std::memory_order_acquire)) return false;
  if (now >= at(retry_at_.load(std::memory_order_acquire))) return false;
  refused_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool jwks_source::fetch_due(std::string_view kid, clock::time_point now) const {
  if (keys_.load(std::memory_order_acquire)) return try_keys(kid, now) == nullptr;
  return now >= at(retry_at_.load(std::memory_order_acquire));
}

asio::awaitable<std::shared_ptr<const key_set>> jwks_source::keys(
    std::string_view kid, gatehouse::detail::client_core& client, std::string& report) {
  const auto now = clock::now();
  if (auto ready = try_keys(kid, now)) co_return ready;
  if (refused_for_now(now)) co_return nullptr;
  std::shared_ptr<flight> f;
  bool lead = false;
  {
    std::lock_guard lock(mutex_);
    // A fetch that ended since the checks above stored its outcome before it took this lock to
    // end its flight: look again, or a request right behind a failure would fetch at once.
    if (flight_ || fetch_due(kid, clock::now())) {
      if (!flight_) {
        flight_ = std::make_shared<flight>();
        lead = true;
      }
      f = flight_;
    }
  }
  if (lead) {
    co_await fetch(client, report);
    std::vector<std::function<void()>> waiters;
    {
      std::lock_guard lock(mutex_);
      flight_.reset();
    }
    {
      std::lock_guard lock(f->mutex);
      f->done = true;
      waiters.swap(f->waiters);
    }
    for (auto& w : waiters) w();
  } else if (f) {
    flight* raw = f.get();
    co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
        [raw](auto handler) {
          auto ex = asio::get_associated_executor(handler);
          std::unique_lock lock(raw->mutex);
          if (raw->done) {
            lock.unlock();
            asio::post(ex, std::move(handler));
            return;
          }
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          raw->waiters.push_back([h, ex] { asio::post(ex, [h] { std::move (*h)(); }); });
        },
        asio::use_awaitable);
  }
  auto current = keys_.load(std::memory_order_acquire);
  // The leader's refusal is in its report; everyone else's is counted for the next one.
  if (!current && !lead) refused_.fetch_add(1, std::memory_order_relaxed);
  co_return current;
}

clock::duration jwks_source::backoff_after(int failures) const {
  const clock::duration cap =
      std::max<clock::duration>(settings_.backoff, settings_.refetch_interval);
  clock::duration wait = settings_.backoff;
  for (int i = 1; i < failures && wait < cap; ++i) wait *= 2;
  return std::min(wait, cap);
}

asio::awaitable<void> jwks_source::fetch(gatehouse::detail::client_core& client,
                                         std::string& report) {
  auto url = net::parse_url(settings_.url);  // valid: checked at construction
  gatehouse::detail::upstream_address to{url->tls, url->host, url->port, url->authority};
  gatehouse::detail::call_options options;
  options.timeout = settings_.timeout;
  response res;
  std::string_view target = url->target.empty() ? std::string_view("/") : url->target;
  auto ec = co_await client.call(to, "GET", target, {nullptr, &accept_json}, {}, options, res);
  const auto now = clock::now();
  std::string error;
  std::optional<key_set> parsed;
  if (ec)
    error = ec.message();
  else if (res.status != 200)
    error = fmt::format("the server answered {}", res.status);
  else if (res.body.size() > max_key_set_size)
    error = fmt::format("the key set is over {} bytes", max_key_set_size);
  else if (!(parsed = key_set::parse(res.body, &error)))
    ;
  else if (parsed->keys.empty())
    error = "the key set has no usable keys";
  if (error.empty()) {
    keys_.store(std::make_shared<const key_set>(std::move(*parsed)), std::memory_order_release);
    fetched_at_.store(ticks(now), std::memory_order_relaxed);
    failures_ = 0;
    retry_at_.store(0, std::memory_order_relaxed);
  } else {
    failures_ = std::min(failures_ + 1, 1'000'000);
    const auto wait = backoff_after(failures_);
    // Taken before the backoff starts: a refusal it causes belongs to the next report.
    const auto refused = refused_.exchange(0, std::memory_order_relaxed);
    retry_at_.store(ticks(now + wait), std::memory_order_release);
    // A failed refresh keeps the keys held; only a source without keys refuses requests.
    if (!keys_.load(std::memory_order_acquire))
      report = fmt::format(
          "fetching the JWKS from {}: {} (failure {} in a row; {} other requests refused since "
          "the last report; next try in {} ms)",
          settings_.url, error, failures_, refused,
          std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
  }
  attempted_at_.store(ticks(now), std::memory_order_relaxed);
}

}  // namespace gatehouse::auth
