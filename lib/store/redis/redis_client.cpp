// The client's pool and circuit breaker. Calls go round the connections; each connection
// reports each call's outcome to the breaker. After breaker_failures failures in a row the
// breaker opens: calls fail at once (circuit_open), nothing connects, and after breaker_delay a
// single PING (the probe) goes out on one connection, connecting it. When the probe is answered
// the breaker closes and the connections may connect again; when not, the wait doubles. So an
// outage costs one connection attempt per probe, whatever the load.

#include "store/redis/redis_client.hpp"

#include "net/serial_executor.hpp"
#include "net/tls_context.hpp"
#include "util/as_tuple.hpp"

#include <gatehouse/config_error.hpp>

#include <asio/dispatch.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <openssl/sha.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <functional>
#include <vector>

namespace gatehouse::redis {

namespace {
constexpr auto use_tuple = util::as_tuple(asio::use_awaitable);

class breaker final : public health_listener {
 public:
  explicit breaker(std::uint32_t threshold) : threshold_(threshold) {}

  void succeeded() noexcept override {
    if (failures_.load(std::memory_order_relaxed) != 0)
      failures_.store(0, std::memory_order_relaxed);
  }
  void failed() noexcept override {
    if (failures_.fetch_add(1, std::memory_order_relaxed) + 1 < threshold_) return;
    auto expected = breaker_state::closed;
    if (state_.compare_exchange_strong(expected, breaker_state::open, std::memory_order_acq_rel)) {
      opens_.fetch_add(1, std::memory_order_relaxed);
      on_open();
    }
  }

  bool allows() const noexcept {
    return state_.load(std::memory_order_acquire) == breaker_state::closed;
  }
  breaker_state state() const noexcept { return state_.load(std::memory_order_acquire); }
  void set(breaker_state s) noexcept {
    if (s == breaker_state::closed) failures_.store(0, std::memory_order_relaxed);
    state_.store(s, std::memory_order_release);
  }
  std::uint64_t opens() const noexcept { return opens_.load(std::memory_order_relaxed); }

  std::function<void()> on_open;  // set before any connection exists

 private:
  const std::uint32_t threshold_;
  std::atomic<std::uint32_t> failures_{0};
  std::atomic<breaker_state> state_{breaker_state::closed};
  std::atomic<std::uint64_t> opens_{0};
};

void check_positive(std::chrono::milliseconds d, std::string_view what, const char* name) {
  if (d <= std::chrono::milliseconds::zero())
    throw config_error(fmt::format("{}: {} must be positive", what, name));
}

// What only the client uses: the pool, the calls' deadline and the breaker.
void check_client_options(const client_options& o) {
  if (o.connections == 0 || o.connections > 64)
    throw config_error(
        fmt::format("redis client: connections must be from 1 to 64, not {}", o.connections));
  check_positive(o.timeout, "redis client", "timeout");
  check_positive(o.breaker_delay, "redis client", "breaker_delay");
  check_positive(o.breaker_delay_max, "redis client", "breaker_delay_max");
  if (o.breaker_failures == 0)
    throw config_error("redis client: breaker_failures must be at least 1");
}
}  // namespace

std::shared_ptr<const connection_settings> make_connection_settings(const client_options& o,
                                                                    std::string_view what) {
  check_positive(o.connect_timeout, what, "connect_timeout");
  check_positive(o.stall_timeout, what, "stall_timeout");
  check_positive(o.reconnect_backoff, what, "reconnect_backoff");
  check_positive(o.reconnect_backoff_max, what, "reconnect_backoff_max");
  if (o.max_reply_bytes < 1024)
    throw config_error(fmt::format("{}: max_reply_bytes must be at least 1024", what));
  auto s = std::make_shared<connection_settings>();
  s->where = parse_url(o.url);
  if (s->where.tls) {
    s->verify = !o.insecure_skip_verification;
    s->tls = net::make_client_context({.verify = s->verify,
                                       .ca_file = o.ca_file,
                                       .ca_pem = o.ca_pem,
                                       .certificate = &o.certificate,
                                       .what = what});
  }
  s->connect_timeout = o.connect_timeout;
  s->stall_timeout = o.stall_timeout;
  s->backoff = o.reconnect_backoff;
  s->backoff_max = std::max(o.reconnect_backoff_max, o.reconnect_backoff);
  s->max_reply_bytes = o.max_reply_bytes;
  return s;
}

class client_core : public std::enable_shared_from_this<client_core> {
 public:
  client_core(asio::any_io_executor executor, client_options options)
      : executor_(std::move(executor)),
        strand_(net::serial_executor(executor_)),
        options_((check_client_options(options), std::move(options))),
        settings_(make_connection_settings(options_, "redis client")),
        breaker_(std::make_shared<breaker>(options_.breaker_failures)),
        probe_timer_(strand_),
        probe_delay_(options_.breaker_delay) {
    for (std::size_t i = 0; i < options_.connections; ++i)
      connections_.push_back(std::make_shared<connection>(executor_, settings_, breaker_));
  }

  // After construction: the breaker's way back here may not keep the core alive.
  void start() {
    breaker_->on_open = [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->schedule_probe();
    };
  }

  void launch(command cmd, clock::time_point deadline, completion done) {
    std::error_code refused;
    if (closed_.load(std::memory_order_acquire)) {
      refused = errc::closed;
    } else if (cmd.empty()) {
      refused = errc::bad_command;
    } else if (!breaker_->allows()) {
      refused = errc::circuit_open;
      rejected_.fetch_add(1, std::memory_order_relaxed);
    } else if (connection* c = pick()) {
      c->submit(std::move(cmd), deadline, std::move(done));
      return;
    } else {
      refused = errc::not_connected;  // every connection waits out a backoff
      rejected_.fetch_add(1, std::memory_order_relaxed);
      breaker_->failed();
    }
    // Never from within the initiating call.
    asio::post(executor_, [done = std::move(done), refused]() mutable { done(refused, {}); });
  }

  void close() {
    if (closed_.exchange(true)) return;
    for (auto& c : connections_) c->close();
    asio::dispatch(strand_, [self = shared_from_this()] { self->probe_timer_.cancel(); });
  }

  statistics stats() const noexcept {
    statistics s;
    for (const auto& c : connections_) {
      const auto& k = c->counters();
      const auto get = [](const std::atomic<std::uint64_t>& a) {
        return a.load(std::memory_order_relaxed);
      };
      s.round_trips += get(k.calls);
      s.failures += get(k.failures);
      s.timeouts += get(k.timeouts);
      s.error_replies += get(k.error_replies);
      s.rejected += get(k.refused);
      s.writes += get(k.writes);
      s.connects += get(k.connects);
      s.connect_failures += get(k.connect_failures);
      s.resets += get(k.resets);
    }
    s.rejected += rejected_.load(std::memory_order_relaxed);
    s.breaker_opens = breaker_->opens();
    s.script_loads = script_loads_.load(std::memory_order_relaxed);
    return s;
  }

  breaker_state state() const noexcept { return breaker_->state(); }
  void script_loaded() noexcept { script_loads_.fetch_add(1, std::memory_order_relaxed); }
  const client_options& options() const noexcept { return options_; }
  const endpoint& where() const noexcept { return settings_->where; }

 private:
  connection* pick() noexcept {
    const std::size_t n = connections_.size();
    const std::size_t first = next_.fetch_add(1, std::memory_order_relaxed);
    for (std::size_t i = 0; i < n; ++i) {
      connection* c = connections_[(first + i) % n].get();
      if (c->usable()) return c;
    }
    return nullptr;
  }

  void schedule_probe() {
    asio::dispatch(strand_, [self = shared_from_this()] {
      if (self->closed_.load(std::memory_order_acquire)) return;
      self->probe_timer_.expires_after(self->probe_delay_);
      self->probe_timer_.async_wait([self](asio::error_code ec) {
        if (!ec) self->probe();
      });
    });
  }

  void probe() {
    if (closed_.load(std::memory_order_acquire)) return;
    breaker_->set(breaker_state::half_open);
    auto& c = connections_[probes_++ % connections_.size()];
    c->reset_backoff();
    const auto deadline = clock::now() + options_.connect_timeout + options_.timeout;
    c->submit(command{"PING"}, deadline,
              completion([self = shared_from_this()](std::error_code ec, value) {
                asio::dispatch(self->strand_, [self, ec] { self->probed(!ec); });
              }));
  }

  void probed(bool ok) {
    if (closed_.load(std::memory_order_acquire)) return;
    if (ok) {
      probe_delay_ = options_.breaker_delay;
      breaker_->set(breaker_state::closed);
      for (auto& c : connections_) c->reset_backoff();
      return;
    }
    breaker_->set(breaker_state::open);
    probe_delay_ =
        std::min(probe_delay_ * 2, std::max(options_.breaker_delay_max, options_.breaker_delay));
    schedule_probe();
  }

  asio::any_io_executor executor_;
  asio::any_io_executor strand_;  // the probe's
  const client_options options_;
  std::shared_ptr<const connection_settings> settings_;
  std::shared_ptr<breaker> breaker_;
  std::vector<std::shared_ptr<connection>> connections_;  // fixed once made
  std::atomic<std::size_t> next_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::atomic<std::uint64_t> script_loads_{0};
  std::atomic<bool> closed_{false};
  // On strand_:
  asio::steady_timer probe_timer_;
  std::chrono::milliseconds probe_delay_;
  std::size_t probes_ = 0;
};

script::script(std::string source) : source_(std::move(source)) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(source_.data()), source_.size(), digest);
  static constexpr char hex[] = "0123456789abcdef";
  sha1_.reserve(2 * SHA_DIGEST_LENGTH);
  for (unsigned char b : digest) {
    sha1_ += hex[b >> 4];
    sha1_ += hex[b & 15];
  }
}

client::client(asio::any_io_executor executor, client_options options)
    : executor_(std::move(executor)),
      core_(std::make_shared<client_core>(executor_, std::move(options))) {
  core_->start();
}

client::~client() { core_->close(); }

clock::time_point client::deadline(std::chrono::milliseconds timeout) const noexcept {
  return clock::now() +
         (timeout > std::chrono::milliseconds::zero() ? timeout : core_->options().timeout);
}

void client::launch(command cmd, clock::time_point deadline, completion done) {
  core_->launch(std::move(cmd), deadline, std::move(done));
}

asio::awaitable<result> client::exec(command cmd, std::chrono::milliseconds timeout) {
  co_return co_await exec_until(core_, executor_, std::move(cmd), deadline(timeout));
}

asio::awaitable<result> client::exec_until(std::shared_ptr<client_core> core,
                                           asio::any_io_executor fallback, command cmd,
                                           clock::time_point deadline) {
  auto [ec, v] = co_await asio::async_initiate<decltype(use_tuple), void(std::error_code, value)>(
      [&core, &fallback, deadline](auto handler, command c) {
        core->launch(std::move(c), deadline, make_completion<std::error_code>(handler, fallback));
      },
      use_tuple, std::move(cmd));
  co_return result{ec, std::move(v)};
}

asio::awaitable<result> client::eval(const script& s, std::span<const std::string_view> keys,
                                     std::span<const std::string_view> args,
                                     std::chrono::milliseconds timeout) {
  const auto core = core_;
  const auto fallback = executor_;
  const auto until = deadline(timeout);
  std::array<char, 24> count;  // a std::array: GCC 12 cannot keep a C array in a coroutine
  auto [end, ec] = std::to_chars(count.data(), count.data() + count.size(), keys.size());
  const std::array<std::string_view, 3> head{"EVALSHA", s.sha1(),
                                             std::string_view(count.data(), end)};
  result r = co_await exec_until(core, fallback, command(head, keys, args), until);
  if (r.error != errc::error_reply || r.reply.error_code() != "NOSCRIPT") co_return r;
  // The server has lost its scripts (SCRIPT FLUSH, a restart without them): load this one and
  // run it once more, within what is left of the deadline.
  if (clock::now() >= until) co_return result{errc::timed_out, {}};
  command load{"SCRIPT", "LOAD", s.source()};  // not in the co_await: GCC 12 fails on that
  result loaded = co_await exec_until(core, fallback, std::move(load), until);
  if (loaded.error) co_return loaded;
  core->script_loaded();
  if (clock::now() >= until) co_return result{errc::timed_out, {}};
  co_return co_await exec_until(core, fallback, command(head, keys, args), until);
}

statistics client::stats() const noexcept { return core_->stats(); }
breaker_state client::breaker() const noexcept { return core_->state(); }
const endpoint& client::where() const noexcept { return core_->where(); }
const client_options& client::options() const noexcept { return core_->options(); }

}  // namespace gatehouse::redis
