#include "store/redis/redis_connection.hpp"

#include "net/serial_executor.hpp"
#include "net/tls_context.hpp"
#include "store/redis/redis_error.hpp"
#include "util/as_tuple.hpp"

#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/dispatch.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <charconv>
#include <optional>
#include <random>
#include <vector>

namespace gatehouse::redis {

namespace {
using asio::ip::tcp;
constexpr auto use_tuple = util::as_tuple(asio::use_awaitable);
constexpr std::size_t read_buffer_size = 16 * 1024;

// Error replies that say the server cannot serve now (it loads its data, runs a script past
// its time limit, is a replica, lost its master, or wants a password we did not give): for the
// circuit breaker these are failures, whereas WRONGTYPE, NOSCRIPT and the like are answers.
bool server_unwell(std::string_view code) noexcept {
  return code == "LOADING" || code == "BUSY" || code == "MASTERDOWN" || code == "READONLY" ||
         code == "NOAUTH";
}

// A random factor from 0.75 to 1.25, so that many clients that lost one server do not come
// back in step.
double jitter() {
  thread_local std::minstd_rand rng(std::random_device{}());
  return std::uniform_real_distribution<double>(0.75, 1.25)(rng);
}
}  // namespace

// One attempt at a connection: its socket, TLS stream, reader and write buffer. Each attempt
// has its own, so that the operations of a connection just closed can still complete against
// their objects while the next attempt starts.
struct connection::link {
  link(const asio::any_io_executor& ex, std::size_t max_reply)
      : socket(ex), resolver(ex), reader(max_reply), in(read_buffer_size) {}

  void close() noexcept {
    asio::error_code ec;
    resolver.cancel();
    socket.close(ec);
  }

  template <class F>
  decltype(auto) with_stream(F&& f) {
    if (tls) return f(*tls);
    return f(socket);
  }

  tcp::socket socket;
  tcp::resolver resolver;
  std::optional<asio::ssl::stream<tcp::socket&>> tls;
  reply_reader reader;
  std::vector<char> in;
  std::string writing;  // the bytes of the write in flight
  bool write_in_flight = false;
  bool timed_out = false;  // the connect timeout closed it
  bool ready = false;      // connected, logged in, selected
};

connection::connection(const asio::any_io_executor& executor,
                       std::shared_ptr<const connection_settings> settings,
                       std::shared_ptr<health_listener> health)
    : strand_(net::serial_executor(executor)),
      settings_(std::move(settings)),
      health_(std::move(health)),
      connect_timer_(strand_),
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
  const std::error_code ec = co_await open(l);
  if (link_ != l) co_return;  // closed meanwhile
  connect_timer_.cancel();
  if (ec) {
    counters_.connect_failures.fetch_add(1, std::memory_order_relaxed);
    fail(ec);
    co_return;
  }
  l->ready = true;
  state_ = state::ready;
  if (!out_.empty()) start_write(l);
  co_await read_loop(std::move(l));
}

asio::awaitable<std::error_code> connection::open(std::shared_ptr<link> l) {
  const connection_settings& s = *settings_;
  counters_.connects.fetch_add(1, std::memory_order_relaxed);
  connect_timer_.expires_after(s.connect_timeout);
  connect_timer_.async_wait([l](asio::error_code ec) {
    if (ec || l->ready) return;
    l->timed_out = true;
    l->close();
  });
  // Every wait ends early when the link is closed: by the connect timeout, or by close().
  const auto gone = [&]() -> std::optional<std::error_code> {
    if (l->timed_out) return make_error_code(errc::connect_timeout);
    if (link_ != l) return make_error_code(errc::closed);
    return std::nullopt;
  };

  std::vector<tcp::endpoint> endpoints;
  asio::error_code aec;
  const auto address = asio::ip::make_address(s.where.host, aec);
  if (!aec) {
    endpoints.emplace_back(address, s.where.port);
  } else {
    char port[8];
    auto [end, pec] = std::to_chars(port, port + sizeof port, s.where.port);
    auto [rec, results] =
        co_await l->resolver.async_resolve(s.where.host, std::string(port, end), use_tuple);
    if (auto g = gone()) co_return *g;
    if (rec) co_return make_error_code(errc::connect_failed);
    for (const auto& r : results) endpoints.push_back(r.endpoint());
  }
  asio::error_code last = asio::error::host_not_found;
  for (const auto& ep : endpoints) {
    asio::error_code ignored;
    if (l->socket.is_open()) l->socket.close(ignored);
    auto [cec] = co_await l->socket.async_connect(ep, use_tuple);
    if (auto g = gone()) co_return *g;
    last = cec;
    if (!cec) break;
  }
  if (last) co_return make_error_code(errc::connect_failed);
  asio::error_code ignored;
  l->socket.set_option(tcp::no_delay(true), ignored);

  if (s.tls) {
    l->tls.emplace(l->socket, *s.tls);
    net::prepare_client_tls(l->tls->native_handle(), s.where.host, s.verify);
    auto [hec] = co_await l->tls->async_handshake(asio::ssl::stream_base::client, use_tuple);
    if (auto g = gone()) co_return *g;
    if (hec) co_return make_error_code(errc::tls_failed);
  }

  // AUTH and SELECT go first and alone: a call sent behind a SELECT that fails would run on
  // database 0.
  std::string hello;
  std::vector<errc> expect;
  if (!s.where.password.empty()) {
    const command auth = s.where.user.empty() ? command{"AUTH", s.where.password}
                                              : command{"AUTH", s.where.user, s.where.password};
    hello.append(auth.bytes());
    expect.push_back(errc::auth_failed);
  }
  if (s.where.db != 0) {
    char db[16];
    auto [end, dec] = std::to_chars(db, db + sizeof db, s.where.db);
    hello.append(command{"SELECT", std::string_view(db, end)}.bytes());
    expect.push_back(errc::select_failed);
  }
  if (expect.empty()) co_return std::error_code{};
  auto [wec, written] = co_await l->with_stream(
      [&](auto& stream) { return asio::async_write(stream, asio::buffer(hello), use_tuple); });
  if (auto g = gone()) co_return *g;
  if (wec) co_return make_error_code(errc::connection_lost);
  value v;
  for (std::size_t i = 0; i < expect.size();) {
    const auto st = l->reader.next(v);
    if (st == reply_reader::status::reply) {
      if (v.is_error()) co_return make_error_code(expect[i]);
      ++i;
      continue;
    }
    if (st != reply_reader::status::need_more) co_return make_error_code(errc::protocol_error);
    auto [rec, n] = co_await l->with_stream(
        [&](auto& stream) { return stream.async_read_some(asio::buffer(l->in), use_tuple); });
    if (auto g = gone()) co_return *g;
    if (rec) co_return make_error_code(errc::connection_lost);
    l->reader.feed(l->in.data(), n);
  }
  co_return std::error_code{};
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
  connect_timer_.cancel();
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
  const auto& s = *settings_;
  const double factor = static_cast<double>(std::uint64_t(1) << std::min(n - 1, 20u));
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::min(std::chrono::duration<double, std::milli>(s.backoff) * factor,
               std::chrono::duration<double, std::milli>(s.backoff_max)) *
      jitter());
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
