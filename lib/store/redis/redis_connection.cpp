#include "store/redis/redis_connection.hpp"

#include "net/serial_executor.hpp"
#include "store/redis/redis_error.hpp"
#include "util/as_tuple.hpp"

#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/dispatch.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <vector>

namespace gatehouse::redis {

namespace {
constexpr auto use_tuple = util::as_tuple(asio::use_awaitable);

// Error replies that say the server cannot serve now (it loads its data, runs a script past
// its time limit, is a replica, lost its master, or wants a password we did not give): for the
// circuit breaker these are failures, whereas WRONGTYPE, NOSCRIPT and the like are answers.
bool server_unwell(std::string_view code) noexcept {
  return code == "LOADING" || code == "BUSY" || code == "MASTERDOWN" || code == "READONLY" ||
         code == "NOAUTH";
}
}  // namespace

// One attempt at a connection (see transport), and its write under way.
struct connection::link : transport {
  using transport::transport;
  std::string writing;  // the bytes of the write in flight
  bool write_in_flight = false;
};

connection::connection(const asio::any_io_executor& executor,
                       std::shared_ptr<const connection_settings> settings,
                       std::shared_ptr<health_listener> health)
    : strand_(net::serial_executor(executor)),
      settings_(std::move(settings)),
      health_(std::move(health)),
      deadline_timer_(strand_),
      backoff_timer_(strand_) {}

connection::~connection() {
  if (link_) link_->close();
}

void connection::submit(command cmd, clock::time_point deadline, completion done) {
  asio::dispatch(strand_, [self = shared_from_this(), cmd = std::move(cmd), deadline,
                           done = std::move(done)]() mutable {
    self->enqueue(std::move(cmd), deadline, std::move(done));
  });
}

void connection::reset_backoff() {
  asio::dispatch(strand_, [self = shared_from_this()] {
    self->attempts_ = 0;
    if (self->state_ != state::backoff) return;
    self->backoff_timer_.cancel();
    self->state_ = state::idle;
    self->usable_.store(true, std::memory_order_relaxed);
  });
}

void connection::close() {
  asio::dispatch(strand_, [self = shared_from_this()] {
    if (self->state_ == state::closed) return;
    self->state_ = state::closed;
    self->usable_.store(false, std::memory_order_relaxed);
    self->backoff_timer_.cancel();
    self->deadline_timer_.cancel();
    self->fail(errc::closed);
  });
}

void connection::enqueue(command cmd, clock::time_point deadline, completion done) {
  if (state_ == state::closed) {
    done(errc::closed, {});
    return;
  }
  if (state_ == state::backoff) {
    counters_.refused.fetch_add(1, std::memory_order_relaxed);
    health_->failed();
    done(errc::not_connected, {});
    return;
  }
  if (state_ == state::idle) start();
  counters_.calls.fetch_add(1, std::memory_order_relaxed);
  out_.append(cmd.bytes());
  pending_.push_back({std::move(done), deadline});
  arm_deadline(deadline);
  if (state_ == state::ready && !link_->write_in_flight) start_write(link_);
}

void connection::start() {
  state_ = state::connecting;
  link_ = std::make_shared<link>(strand_, settings_->max_reply_bytes);
  asio::co_spawn(
      strand_, [self = shared_from_this(), l = link_] { return self->run(l); }, asio::detached);
}

asio::awaitable<void> connection::run(std::shared_ptr<link> l) {
  counters_.connects.fetch_add(1, std::memory_order_relaxed);
  const std::error_code ec = co_await open_transport(l, *settings_);
  if (link_ != l) co_return;  // closed meanwhile
  if (ec) {
    counters_.connect_failures.fetch_add(1, std::memory_order_relaxed);
    fail(ec);
    co_return;
  }
  state_ = state::ready;
  if (!out_.empty()) start_write(l);
  co_await read_loop(std::move(l));
}

asio::awaitable<void> connection::read_loop(std::shared_ptr<link> l) {
  value v;
  for (;;) {
    auto [ec, n] = co_await l->with_stream(
        [&](auto& stream) { return stream.async_read_some(asio::buffer(l->in), use_tuple); });
    if (link_ != l) co_return;
    if (ec) {
      fail(errc::connection_lost);
      co_return;
    }
    l->reader.feed(l->in.data(), n);
    for (;;) {
      const auto st = l->reader.next(v);
      if (st == reply_reader::status::need_more) break;
      if (st != reply_reader::status::reply) {
        fail(st == reply_reader::status::too_large ? errc::reply_too_large : errc::protocol_error);
        co_return;
      }
      if (pending_.empty()) {  // a reply nobody asked for
        fail(errc::protocol_error);
        co_return;
      }
      call c = std::move(pending_.front());
      pending_.pop_front();
      attempts_ = 0;
      if (c.done) deliver(c, std::move(v));
      v = value{};
      if (link_ != l) co_return;  // a completion closed the connection
    }
  }
}

void connection::deliver(call& c, value&& v) {
  std::error_code ec;
  if (v.is_error()) {
    const auto code = v.error_code();
    ec = code == "NOAUTH" ? errc::auth_failed : errc::error_reply;
    counters_.error_replies.fetch_add(1, std::memory_order_relaxed);
    counters_.failures.fetch_add(1, std::memory_order_relaxed);
    if (server_unwell(code))
      health_->failed();
    else
      health_->succeeded();
  } else {
    health_->succeeded();
  }
  c.done(ec, std::move(v));
}

void connection::start_write(const std::shared_ptr<link>& l) {
  l->write_in_flight = true;
  l->writing.swap(out_);  // out_ keeps the old buffer's room for what comes next
  counters_.writes.fetch_add(1, std::memory_order_relaxed);
  auto handler = asio::bind_executor(
      strand_, [self = shared_from_this(), l](asio::error_code ec, std::size_t) {
        self->on_written(l, ec);
      });
  l->with_stream([&](auto& stream) {
    asio::async_write(stream, asio::buffer(l->writing), std::move(handler));
  });
}

void connection::on_written(const std::shared_ptr<link>& l, std::error_code ec) {
  if (link_ != l) return;
  l->write_in_flight = false;
  l->writing.clear();
  if (ec) {
    fail(errc::connection_lost);
    return;
  }
  if (!out_.empty()) start_write(l);
}

void connection::fail(std::error_code ec) {
  if (link_) {
    link_->close();
    link_.reset();
    if (ec != errc::closed) counters_.resets.fetch_add(1, std::memory_order_relaxed);
  }
  out_.clear();
  std::deque<call> calls;
  calls.swap(pending_);
  if (state_ != state::closed) enter_backoff();
  // One failure for the breaker, however many calls were in flight: a connection lost under
  // load is one event, not a hundred.
  if (is_outage(ec)) health_->failed();
  // Last: a completion may call again (and find the connection in its new state).
  for (auto& c : calls) {
    if (!c.done) continue;
    counters_.failures.fetch_add(1, std::memory_order_relaxed);
    c.done(ec, {});
  }
}

void connection::enter_backoff() {
  const unsigned n = attempts_++;
  if (n == 0) {
    // The first failure after a connection that worked: connect again at the next call.
    state_ = state::idle;
    usable_.store(true, std::memory_order_relaxed);
    return;
  }
  const auto wait = backoff_wait(*settings_, n);
  state_ = state::backoff;
  usable_.store(false, std::memory_order_relaxed);
  backoff_timer_.expires_after(wait);
  backoff_timer_.async_wait([self = shared_from_this()](asio::error_code ec) {
    if (ec || self->state_ != state::backoff) return;
    self->state_ = state::idle;
    self->usable_.store(true, std::memory_order_relaxed);
  });
}

void connection::arm_deadline(clock::time_point at) {
  if (at >= armed_at_) return;
  armed_at_ = at;
  deadline_timer_.expires_at(at);
  deadline_timer_.async_wait([self = shared_from_this()](asio::error_code ec) {
    if (ec != asio::error::operation_aborted) self->on_deadline();
  });
}

void connection::on_deadline() {
  armed_at_ = clock::time_point::max();
  if (state_ == state::closed) return;
  const auto now = clock::now();
  std::vector<completion> expired;
  auto next = clock::time_point::max();
  for (auto& c : pending_) {
    if (!c.done) continue;
    if (c.deadline <= now)
      expired.push_back(std::move(c.done));
    else
      next = std::min(next, c.deadline);
  }
  // The oldest call timed out and its reply has still not come: is the server gone?
  bool stalled = false;
  if (!pending_.empty() && !pending_.front().done && state_ == state::ready) {
    const auto dead_at = pending_.front().deadline + settings_->stall_timeout;
    if (dead_at <= now)
      stalled = true;
    else
      next = std::min(next, dead_at);
  }
  if (stalled) {
    fail(errc::connection_lost);
  } else if (next != clock::time_point::max()) {
    arm_deadline(next);
  }
  for (auto& done : expired) {
    counters_.timeouts.fetch_add(1, std::memory_order_relaxed);
    counters_.failures.fetch_add(1, std::memory_order_relaxed);
    health_->failed();
    done(errc::timed_out, {});
  }
}

}  // namespace gatehouse::redis
