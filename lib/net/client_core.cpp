#include "net/client_core.hpp"
#include "net/tls_context.hpp"

#include "http/response_parser.hpp"
#include "util/access.hpp"
#include "util/as_tuple.hpp"

#include <gatehouse/config_error.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/connect.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/ssl/error.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fmt/format.h>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <deque>
#include <filesystem>
#include <functional>

namespace gatehouse::detail {

namespace {
using asio::ip::tcp;
using clock = std::chrono::steady_clock;
constexpr auto use_tuple = util::as_tuple(asio::use_awaitable);

// A call's operations are bound to its cancellation slot (call_options::cancel), or to none:
// never to the cancellation of the coroutine awaiting the call, whose slot would get a handler
// (an allocation, now and then) per operation.
auto bound(const net::cancel_handle& cancel = {}) {
  return asio::bind_cancellation_slot(cancel.slot, use_tuple);
}
constexpr std::size_t shard_count = 16;
constexpr std::size_t read_buffer_size = 16 * 1024;
constexpr std::size_t inline_body = 16 * 1024;  // smaller bodies go out in the head's buffer

std::atomic<std::uint64_t> next_core_id{1};

std::int64_t ticks(clock::time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

bool idempotent(std::string_view method) noexcept {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE" || method == "TRACE";
}

bool ip_literal(std::string_view host, asio::ip::address& out) {
  asio::error_code ec;
  out = asio::ip::make_address(std::string(host), ec);
  return !ec;
}

// Each thread keeps to one shard of the pools (its idle connections, the calls it watches),
// so threads seldom meet on a lock.
std::size_t thread_shard() noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed) % shard_count;
  return mine;
}

std::shared_ptr<asio::ssl::context> make_client_context(const http_client_options& o, bool verify,
                                                        const client_certificate* cert) {
  static constexpr std::string_view alpn = "\x08http/1.1";
  return net::make_client_context({.verify = verify,
                                   .ca_file = o.ca_file,
                                   .ca_pem = o.ca_pem,
                                   .certificate = cert,
                                   .alpn = alpn,
                                   .what = "http client"});
}
}  // namespace

struct upstream_connection : std::enable_shared_from_this<upstream_connection> {
  upstream_connection(const asio::any_io_executor& ex, std::shared_ptr<upstream> u,
                      const http_client_options& o)
      : up(std::move(u)),
        socket(ex),
        parser({o.max_response_head_bytes, o.max_response_body_bytes}) {
    in.resize(read_buffer_size);
  }

  void close() noexcept {
    asio::error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
    connected = false;
  }

  // On the owner's strand, from the sweeper: the call ran out of time, or the client closes.
  void abort(bool by_client) noexcept {
    (by_client ? aborted : timed_out) = true;
    close();
  }

  template <class F>
  auto on_stream(F&& f) {
    if (tls) return f(*tls);
    return f(socket);
  }

  std::shared_ptr<upstream> up;
  tcp::socket socket;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;  // over `socket` for HTTPS
  bool connected = false;
  std::vector<char> in;
  std::string out;
  wire::response_parser parser;
  clock::time_point idle_since;
  std::uint64_t epoch = 0;  // abort_all's epoch when the connection was leased

  // While a call uses it: read by the sweeper under the watching shard's mutex.
  std::atomic<std::int64_t> deadline{0};
  std::uint64_t generation = 0;  // bumped when the call ends (under that mutex)
  asio::any_io_executor owner;   // the strand of the call
  std::size_t watch_shard = 0, watch_index = 0;
  bool abort_posted = false;
  // Set on the owner's strand.
  bool timed_out = false;
  bool aborted = false;
};

namespace {
// A call waiting for a connection of an upstream at its connection cap.
struct waiter {
  asio::any_io_executor strand;
  asio::steady_timer* timer;
  std::shared_ptr<upstream_connection> conn;  // a connection handed over
  bool slot = false;                          // or a free slot: open a new connection
  bool aborted = false;                       // or the client closed
  bool done = false;
};
}  // namespace

struct upstream : std::enable_shared_from_this<upstream> {
  bool tls = false;
  std::string host;
  std::uint16_t port = 0;
  client_certificate certificate;  // keeps the data alive, so its address identifies it
  bool skip_verification = false;
  std::size_t hash = 0;
  std::shared_ptr<asio::ssl::context> ssl;

  std::atomic<std::size_t> open{0};
  std::atomic<std::size_t> idle_count{0};
  struct idle_list {
    std::mutex m;
    std::vector<std::shared_ptr<upstream_connection>> conns;
  };
  std::array<idle_list, shard_count> idle;
  std::mutex wait_mutex;
  std::deque<waiter*> waiters;
  std::atomic<std::size_t> waiting{0};

  static std::size_t hash_of(const upstream_address& a, const call_options& o) noexcept {
    std::size_t h = std::hash<std::string_view>{}(a.host);
    h ^= (std::size_t(a.port) << 1) ^ std::size_t(a.tls) ^ (std::size_t(o.skip_verification) << 17);
    if (o.certificate && *o.certificate)
      h ^= std::hash<const void*>{}(&detail::access::data(*o.certificate));
    return h;
  }
  bool matches(const upstream_address& a, const call_options& o, std::size_t h) const noexcept {
    const void* mine = certificate ? &detail::access::data(certificate) : nullptr;
    const void* theirs =
        o.certificate && *o.certificate ? &detail::access::data(*o.certificate) : nullptr;
    return hash == h && port == a.port && tls == a.tls && host == a.host && mine == theirs &&
           skip_verification == (a.tls && o.skip_verification);
  }
};

struct client_core::shard {
  std::mutex m;
  std::vector<std::shared_ptr<upstream>> known;  // upstreams this thread has used
  std::vector<upstream_connection*> watched;     // calls in flight, for the sweeper
};

struct client_core::lease {
  std::shared_ptr<upstream_connection> conn;
  bool reused = false;
  std::error_code ec;
};

client_core::client_core(asio::any_io_executor executor, http_client_options options)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      id_(next_core_id.fetch_add(1, std::memory_order_relaxed)),
      sweeper_(executor_) {
  if (options_.max_connections_per_upstream == 0)
    throw config_error("http client: max_connections_per_upstream must be at least 1");
  if (options_.connect_timeout <= std::chrono::milliseconds::zero() ||
      options_.timeout <= std::chrono::milliseconds::zero() ||
      options_.idle_timeout <= std::chrono::milliseconds::zero())
    throw config_error("http client: connect_timeout, timeout and idle_timeout must be positive");
  if (options_.max_response_head_bytes == 0)
    throw config_error("http client: max_response_head_bytes must be positive");
  if (!options_.ca_file.empty() && !std::filesystem::exists(options_.ca_file))
    throw config_error(fmt::format("http client ca_file '{}': no such file", options_.ca_file));
  // Made now, so that a bad trust store is a config_error at start-up, not a failed call.
  verify_context_ = make_client_context(options_, true, nullptr);
  insecure_context_ = make_client_context(options_, false, nullptr);
  for (std::size_t i = 0; i < shard_count; ++i) shards_.push_back(std::make_unique<shard>());
}

client_core::~client_core() {
  sweeper_.cancel();
  for (auto& up : upstreams_)
    for (auto& list : up->idle)
      for (auto& c : list.conns) c->close();
}

client_core::shard& client_core::my_shard() noexcept { return *shards_[thread_shard()]; }

// Upstreams live as long as their core, so plain pointers to them stay valid while it does.
upstream* client_core::find_upstream(const upstream_address& to, const call_options& o) {
  const std::size_t h = upstream::hash_of(to, o);
  // Most calls go where this thread's previous call went: no lock then.
  struct last_used {
    std::uint64_t core = 0;
    upstream* up = nullptr;
  };
  thread_local last_used last;
  if (last.core == id_ && last.up->matches(to, o, h)) return last.up;
  auto& sh = my_shard();
  {
    std::lock_guard lock(sh.m);
    for (const auto& u : sh.known)
      if (u->matches(to, o, h)) {
        last = {id_, u.get()};
        return u.get();
      }
  }
  std::shared_ptr<upstream> found;
  {
    std::lock_guard lock(mutex_);
    for (const auto& u : upstreams_)
      if (u->matches(to, o, h)) {
        found = u;
        break;
      }
    if (!found) {
      auto u = std::make_shared<upstream>();
      u->tls = to.tls;
      u->host = std::string(to.host);
      u->port = to.port;
      u->skip_verification = to.tls && o.skip_verification;
      if (o.certificate) u->certificate = *o.certificate;
      u->hash = h;
      if (to.tls) {
        if (u->certificate) {
          try {
            u->ssl = make_client_context(options_, !u->skip_verification, &u->certificate);
          } catch (const config_error&) {
            return nullptr;
          }
        } else {
          u->ssl = u->skip_verification ? insecure_context_ : verify_context_;
        }
      }
      upstreams_.push_back(u);
      found = std::move(u);
    }
  }
  std::lock_guard lock(sh.m);
  sh.known.push_back(found);
  last = {id_, found.get()};
  return found.get();
}

namespace {
// Whether an idle connection can carry another request: the peer has not closed it meanwhile.
// Asking the socket costs a system call, a fifth of what a proxied request makes. A request
// that may be repeated skips it when the connection was in use a moment ago: should the peer
// have closed it just then, the call is retried once on a new connection. Others always ask.
constexpr std::chrono::seconds recently_used{2};

bool still_usable(upstream_connection& c, clock::time_point now,
                  std::chrono::milliseconds idle_timeout, bool repeatable) noexcept {
  if (!c.connected || now - c.idle_since >= idle_timeout) return false;
  if (repeatable && now - c.idle_since < recently_used) return true;
  char byte;
  ssize_t n = ::recv(c.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return false;  // the peer closed
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
  // Bytes while idle: a TLS peer may send session tickets; plain HTTP has no business to.
  return c.tls != nullptr;
}

// Hands a released connection (or, when `c` is null, its slot) to the oldest waiting call.
bool hand_over(upstream& up, std::shared_ptr<upstream_connection>& c) {
  if (up.waiting.load(std::memory_order_acquire) == 0) return false;
  waiter* w = nullptr;
  {
    std::lock_guard lock(up.wait_mutex);
    if (up.waiters.empty()) return false;
    w = up.waiters.front();
    up.waiters.pop_front();
    up.waiting.fetch_sub(1, std::memory_order_release);
  }
  asio::post(w->strand, [w, conn = std::move(c)]() mutable {
    w->slot = conn == nullptr;
    w->conn = std::move(conn);
    w->done = true;
    w->timer->cancel();
  });
  return true;
}
}  // namespace

client_core::lease client_core::try_acquire(upstream& up, bool repeatable) {
  const std::size_t me = thread_shard();
  // 1. An idle connection: this thread's shard first, then the others'.
  if (up.idle_count.load(std::memory_order_acquire) > 0) {
    for (std::size_t i = 0; i < shard_count;) {
      auto& list = up.idle[(me + i) % shard_count];
      std::shared_ptr<upstream_connection> c;
      {
        std::lock_guard lock(list.m);
        if (!list.conns.empty()) {
          c = std::move(list.conns.back());
          list.conns.pop_back();
          up.idle_count.fetch_sub(1, std::memory_order_relaxed);
        }
      }
      if (!c) {
        ++i;
        continue;
      }
      if (still_usable(*c, clock::now(), options_.idle_timeout, repeatable))
        return lease{std::move(c), true, {}};
      c->close();
      up.open.fetch_sub(1, std::memory_order_relaxed);
      open_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  // 2. A new connection, under the cap.
  std::size_t n = up.open.load(std::memory_order_relaxed);
  while (n < options_.max_connections_per_upstream) {
    if (up.open.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel)) {
      open_.fetch_add(1, std::memory_order_relaxed);
      return lease{std::make_shared<upstream_connection>(executor_, nullptr, options_), false, {}};
    }
  }
  return {};
}

asio::awaitable<client_core::lease> client_core::acquire(upstream& up, clock::time_point deadline,
                                                         bool repeatable,
                                                         const net::cancel_handle& cancel) {
  for (;;) {
    if (lease l = try_acquire(up, repeatable); l.conn) co_return l;
    // 3. Wait for a connection or a slot to come free, until the deadline.
    auto strand = co_await asio::this_coro::executor;
    asio::steady_timer timer(strand);
    waiter w{strand, &timer};
    {
      std::lock_guard lock(up.wait_mutex);
      // A release may have happened since the checks above, without seeing us: look again.
      if (up.idle_count.load() > 0 || up.open.load() < options_.max_connections_per_upstream)
        continue;
      up.waiters.push_back(&w);
      up.waiting.fetch_add(1, std::memory_order_release);
    }
    timer.expires_at(deadline);
    auto [wait_ec] = co_await timer.async_wait(bound(cancel));
    net::disarm(cancel.slot);  // its handler refers to the timer, gone at the end of this round
    // Cancelled by the caller, rather than by a hand-over.
    const bool cancelled = !w.done && wait_ec == asio::error::operation_aborted;
    if (!w.done) {
      bool withdrawn = false;
      {
        std::lock_guard lock(up.wait_mutex);
        auto it = std::find(up.waiters.begin(), up.waiters.end(), &w);
        if (it != up.waiters.end()) {
          up.waiters.erase(it);
          up.waiting.fetch_sub(1, std::memory_order_release);
          withdrawn = true;
        }
      }
      if (!withdrawn) {  // a hand-over is on its way to this strand: wait for it
        timer.expires_at(clock::time_point::max());
        co_await timer.async_wait(bound());
      }
    }
    if (w.aborted) co_return lease{nullptr, false, make_error_code(client_errc::client_closed)};
    if (w.conn) co_return lease{std::move(w.conn), true, {}};
    if (cancelled && !w.slot)
      co_return lease{nullptr, false, make_error_code(client_errc::client_closed)};
    if (w.slot)
      co_return lease{
          std::make_shared<upstream_connection>(executor_, nullptr, options_), false, {}};
    co_return lease{nullptr, false, make_error_code(client_errc::timed_out)};
  }
}

void client_core::watch(upstream_connection& c, clock::time_point deadline) {
  c.deadline.store(ticks(deadline), std::memory_order_relaxed);
  c.timed_out = false;
  c.aborted = false;
  auto& sh = my_shard();
  {
    std::lock_guard lock(sh.m);
    c.abort_posted = false;
    c.watch_shard = thread_shard();
    c.watch_index = sh.watched.size();
    sh.watched.push_back(&c);
  }
  start_sweeper();
}

void client_core::unwatch(upstream_connection& c) {
  auto& sh = *shards_[c.watch_shard];
  std::lock_guard lock(sh.m);
  auto& v = sh.watched;
  if (c.watch_index < v.size() && v[c.watch_index] == &c) {
    v[c.watch_index] = v.back();
    v[c.watch_index]->watch_index = c.watch_index;
    v.pop_back();
  }
  ++c.generation;
  c.deadline.store(0, std::memory_order_relaxed);
}

void client_core::release(std::shared_ptr<upstream_connection> c, bool reusable) {
  unwatch(*c);
  upstream& up = *c->up;
  if (reusable && c->connected && c->epoch == abort_epoch_.load(std::memory_order_acquire)) {
    if (hand_over(up, c)) return;
    c->idle_since = clock::now();
    c->owner = {};
    auto& list = up.idle[thread_shard()];
    std::lock_guard lock(list.m);
    list.conns.push_back(std::move(c));
    up.idle_count.fetch_add(1, std::memory_order_release);
    return;
  }
  c->close();
  c.reset();
  if (hand_over(up, c)) return;  // the slot goes to a waiting call
  up.open.fetch_sub(1, std::memory_order_relaxed);
  open_.fetch_sub(1, std::memory_order_relaxed);
}

void client_core::start_sweeper() {
  if (sweeping_.load(std::memory_order_acquire)) return;  // the common case takes no lock
  std::lock_guard lock(mutex_);
  if (sweeping_) return;
  sweeping_ = true;
  auto tick = std::chrono::milliseconds(
      std::clamp<std::int64_t>(shortest_timeout_ms_.load(std::memory_order_relaxed) / 5, 5, 100));
  sweeper_.expires_after(tick);
  sweeper_.async_wait([w = weak_from_this()](std::error_code ec) {
    if (ec) return;
    if (auto self = w.lock()) self->sweep();
  });
}

// Ends the call using `c` on its own strand, unless it has ended meanwhile. Called with the
// mutex of `sh`, the shard watching `c`, held.
void client_core::post_abort(upstream_connection& c, shard& sh, bool by_client) {
  asio::post(c.owner, [conn = c.shared_from_this(), gen = c.generation, s = &sh, by_client] {
    bool current;
    {
      std::lock_guard lock(s->m);
      current = conn->generation == gen;
    }
    if (current) conn->abort(by_client);
  });
}

// Ends calls past their deadline (on their own strands) and closes connections idle too long.
void client_core::sweep() {
  const auto now = clock::now();
  const auto now_ticks = ticks(now);
  for (auto& sh : shards_) {
    std::lock_guard lock(sh->m);
    for (auto* c : sh->watched) {
      auto d = c->deadline.load(std::memory_order_relaxed);
      if (d == 0 || d > now_ticks || c->abort_posted) continue;
      c->abort_posted = true;
      post_abort(*c, *sh, false);
    }
  }
  std::vector<std::shared_ptr<upstream>> ups;
  {
    std::lock_guard lock(mutex_);
    ups = upstreams_;
  }
  for (auto& up : ups) {
    if (up->idle_count.load(std::memory_order_acquire) == 0) continue;
    for (auto& list : up->idle) {
      std::vector<std::shared_ptr<upstream_connection>> expired;
      {
        std::lock_guard lock(list.m);
        auto keep = std::partition(list.conns.begin(), list.conns.end(), [&](const auto& c) {
          return now - c->idle_since < options_.idle_timeout;
        });
        expired.assign(std::make_move_iterator(keep), std::make_move_iterator(list.conns.end()));
        list.conns.erase(keep, list.conns.end());
        up->idle_count.fetch_sub(expired.size(), std::memory_order_relaxed);
      }
      for (auto& c : expired) {
        c->close();
        up->open.fetch_sub(1, std::memory_order_relaxed);
        open_.fetch_sub(1, std::memory_order_relaxed);
      }
    }
  }
  std::lock_guard lock(mutex_);
  sweeping_ = false;
  if (open_.load(std::memory_order_relaxed) == 0) {
    bool watching = false;
    for (auto& sh : shards_) {
      std::lock_guard l(sh->m);
      watching = watching || !sh->watched.empty();
    }
    if (!watching) return;
  }
  sweeping_ = true;
  auto tick = std::chrono::milliseconds(
      std::clamp<std::int64_t>(shortest_timeout_ms_.load(std::memory_order_relaxed) / 5, 5, 100));
  sweeper_.expires_after(tick);
  sweeper_.async_wait([w = weak_from_this()](std::error_code ec) {
    if (ec) return;
    if (auto self = w.lock()) self->sweep();
  });
}

std::size_t client_core::idle_count() {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& up : upstreams_) n += up->idle_count.load(std::memory_order_relaxed);
  return n;
}

void client_core::close_idle() {
  std::vector<std::shared_ptr<upstream>> ups;
  {
    std::lock_guard lock(mutex_);
    ups = upstreams_;
  }
  for (auto& up : ups)
    for (auto& list : up->idle) {
      std::vector<std::shared_ptr<upstream_connection>> conns;
      {
        std::lock_guard lock(list.m);
        conns.swap(list.conns);
        up->idle_count.fetch_sub(conns.size(), std::memory_order_relaxed);
      }
      for (auto& c : conns) {
        c->close();
        up->open.fetch_sub(1, std::memory_order_relaxed);
        open_.fetch_sub(1, std::memory_order_relaxed);
      }
    }
}

void client_core::abort_all() {
  abort_epoch_.fetch_add(1, std::memory_order_acq_rel);
  for (auto& sh : shards_) {
    std::lock_guard lock(sh->m);
    for (auto* c : sh->watched) post_abort(*c, *sh, true);
  }
  std::vector<std::shared_ptr<upstream>> ups;
  {
    std::lock_guard lock(mutex_);
    ups = upstreams_;
  }
  for (auto& up : ups) {
    std::lock_guard lock(up->wait_mutex);
    for (waiter* w : up->waiters)
      asio::post(w->strand, [w] {
        w->aborted = true;
        w->done = true;
        w->timer->cancel();
      });
    up->waiting.fetch_sub(up->waiters.size());
    up->waiters.clear();
  }
  close_idle();
}

namespace {
// The rest of a response body, read from the upstream connection as the consumer asks for it.
class upstream_body final : public wire::body_source {
 public:
  upstream_body(std::shared_ptr<client_core> core, std::shared_ptr<upstream_connection> c,
                std::size_t begin, std::size_t end)
      : core_(std::move(core)), conn_(std::move(c)), begin_(begin), end_(end) {}
  ~upstream_body() override {
    if (conn_) core_->finish(std::move(conn_), false);  // not read to its end: not reusable
  }

  std::optional<std::size_t> length() const noexcept override { return length_; }

  asio::awaitable<std::error_code> read(std::string& out, bool& done) override {
    out.clear();
    done = false;
    if (!conn_) {
      done = true;
      co_return std::error_code{};
    }
    auto& c = *conn_;
    c.parser.body_into(out);
    for (;;) {
      if (begin_ < end_ || first_) {
        first_ = false;
        std::size_t used = 0;
        auto st = c.parser.feed({c.in.data() + begin_, end_ - begin_}, used);
        begin_ += used;
        if (st == wire::response_parser::status::complete) {
          const bool reusable = c.parser.keep_alive() && begin_ == end_ && c.connected;
          core_->finish(std::move(conn_), reusable);
          done = true;
          co_return std::error_code{};
        }
        if (st == wire::response_parser::status::error)
          co_return fail(c.parser.too_large() ? client_errc::response_too_large
                                              : client_errc::bad_response);
        if (!out.empty() && begin_ == end_) co_return std::error_code{};
        if (begin_ < end_) continue;
      }
      auto [ec, n] = co_await c.on_stream([&](auto& s) {
        return s.async_read_some(asio::buffer(c.in.data(), c.in.size()), use_tuple);
      });
      if (c.aborted) co_return fail(client_errc::client_closed);
      if (c.timed_out) co_return fail(client_errc::timed_out);
      if (ec) {
        c.connected = false;
        if ((ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) &&
            c.parser.finish() == wire::response_parser::status::complete) {
          core_->finish(std::move(conn_), false);
          done = true;
          co_return std::error_code{};
        }
        co_return fail(client_errc::connection_reset);
      }
      begin_ = 0;
      end_ = n;
    }
  }

 private:
  std::error_code fail(client_errc e) {
    core_->finish(std::move(conn_), false);
    return make_error_code(e);
  }

  std::shared_ptr<client_core> core_;
  std::shared_ptr<upstream_connection> conn_;
  std::size_t begin_, end_;
  std::optional<std::size_t> length_ = conn_->parser.content_length();
  bool first_ = true;  // feed once even without input: the parser may be at the body's end
};

void append_number(std::string& out, std::size_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

bool sends_length(std::string_view method, std::size_t body) noexcept {
  return body > 0 || method == "POST" || method == "PUT" || method == "PATCH";
}

// Opens the connection (resolving a host name first), with TLS when the upstream has it.
asio::awaitable<std::error_code> connect(upstream_connection& c, const upstream_address& to,
                                         const asio::any_io_executor& executor,
                                         const net::cancel_handle& cancel) {
  std::vector<tcp::endpoint> endpoints;
  asio::ip::address addr;
  if (ip_literal(to.host, addr)) {
    endpoints.emplace_back(addr, to.port);
  } else {
    tcp::resolver resolver(executor);
    char port[8];
    auto [end, pec] = std::to_chars(port, port + sizeof port, to.port);
    auto [rec, results] = co_await resolver.async_resolve(std::string(to.host),
                                                          std::string(port, end), bound(cancel));
    net::disarm(cancel.slot);  // its handler refers to the resolver
    if (c.aborted) co_return make_error_code(client_errc::client_closed);
    if (c.timed_out) co_return make_error_code(client_errc::connect_timeout);
    if (rec == asio::error::operation_aborted)  // the call's cancellation
      co_return make_error_code(client_errc::client_closed);
    if (rec) co_return make_error_code(client_errc::resolve_failed);
    for (const auto& r : results) endpoints.push_back(r.endpoint());
  }
  std::error_code last = asio::error_code(asio::error::host_not_found);
  for (const auto& ep : endpoints) {
    asio::error_code ec;
    if (c.socket.is_open()) c.socket.close(ec);
    auto [cec] = co_await c.socket.async_connect(ep, bound(cancel));
    if (c.aborted) co_return make_error_code(client_errc::client_closed);
    if (c.timed_out) co_return make_error_code(client_errc::connect_timeout);
    if (cec == asio::error::operation_aborted)
      co_return make_error_code(client_errc::client_closed);
    last = cec;
    if (!cec) break;
  }
  if (last)
    co_return make_error_code(last == asio::error_code(asio::error::connection_refused)
                                  ? client_errc::connect_refused
                                  : client_errc::connect_failed);
  asio::error_code ec;
  c.socket.set_option(tcp::no_delay(true), ec);
  if (c.up->tls) {
    c.tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(c.socket, *c.up->ssl);
    SSL* ssl = c.tls->native_handle();
    net::prepare_client_tls(ssl, to.host, !c.up->skip_verification);
    auto [hec] = co_await c.tls->async_handshake(asio::ssl::stream_base::client, bound(cancel));
    if (c.aborted) co_return make_error_code(client_errc::client_closed);
    if (c.timed_out) co_return make_error_code(client_errc::connect_timeout);
    if (hec == asio::error::operation_aborted)
      co_return make_error_code(client_errc::client_closed);
    if (hec) {
      const bool rejected = !c.up->skip_verification && SSL_get_verify_result(ssl) != X509_V_OK;
      co_return make_error_code(rejected ? client_errc::certificate_rejected
                                         : client_errc::tls_handshake_failed);
    }
  }
  c.connected = true;
  co_return std::error_code{};
}
}  // namespace

asio::awaitable<std::error_code> client_core::call(const upstream_address& to,
                                                   std::string_view method, std::string_view target,
                                                   head_writer fields, std::string_view body,
                                                   const call_options& options, response& out,
                                                   std::unique_ptr<wire::body_source>* stream) {
  const auto start = clock::now();
  const auto deadline = start + options.timeout;
  {
    auto ms = options.timeout.count();
    auto cur = shortest_timeout_ms_.load(std::memory_order_relaxed);
    while (ms < cur && !shortest_timeout_ms_.compare_exchange_weak(cur, ms)) {
    }
  }
  // What the operations leave in the cancellation slot refers to them: it goes with the call.
  struct disarm_at_end {
    asio::cancellation_slot slot;
    ~disarm_at_end() { net::disarm(slot); }
  } disarm{options.cancel.slot};
  auto up = find_upstream(to, options);
  if (!up) co_return make_error_code(client_errc::tls_handshake_failed);
  const bool head_request = method == "HEAD";

  for (int attempt = 0;; ++attempt) {
    const bool repeatable = idempotent(method) && attempt == 0;
    lease l = try_acquire(*up, repeatable);  // no coroutine frame when a connection is at hand
    if (!l.conn) l = co_await acquire(*up, deadline, repeatable, options.cancel);
    if (l.ec) co_return l.ec;
    auto conn = std::move(l.conn);
    upstream_connection& c = *conn;
    if (!l.reused) {
      c.up = up->shared_from_this();
      c.epoch = abort_epoch_.load(std::memory_order_acquire);
    }
    if (options.cancel.requested()) {  // while it waited for a hand-over (not cancellable)
      release(std::move(conn), true);
      co_return make_error_code(client_errc::client_closed);
    }
    c.owner = co_await asio::this_coro::executor;
    watch(c, deadline);

    if (!c.connected) {
      auto connect_by = std::min(deadline, clock::now() + options_.connect_timeout);
      c.deadline.store(ticks(connect_by), std::memory_order_relaxed);
      auto ec = co_await connect(c, to, executor_, options.cancel);
      if (ec) {
        // A connect that ran out of the call's own time is the call timing out.
        if (ec == client_errc::connect_timeout && clock::now() >= deadline)
          ec = make_error_code(client_errc::timed_out);
        release(std::move(conn), false);
        co_return ec;
      }
      c.deadline.store(ticks(deadline), std::memory_order_relaxed);
    }

    // The head, into the connection's own buffer (its capacity stays for the next call).
    std::string& o = c.out;
    o.clear();
    o.append(method).push_back(' ');
    if (target.empty() || target.front() == '?') o.push_back('/');
    o.append(target).append(" HTTP/1.1\r\nHost: ").append(to.authority).append("\r\n");
    if (fields.write) fields.write(fields.context, o);
    if (sends_length(method, body.size())) {
      o.append("Content-Length: ");
      append_number(o, body.size());
      o.append("\r\n");
    }
    o.append("\r\n");
    std::string_view rest = body;
    if (rest.size() <= inline_body) {
      o.append(rest);
      rest = {};
    }
    std::array<asio::const_buffer, 2> bufs = {asio::buffer(o), asio::buffer(rest)};
    // Not cancellable: a composed write would give the slot a handler of its own per call (an
    // allocation); a request is written at once but to a backend that reads nothing.
    auto [wec, wn] =
        co_await c.on_stream([&](auto& s) { return asio::async_write(s, bufs, bound()); });

    std::error_code ec = wec;
    if (!ec && options.cancel.requested()) ec = asio::error_code(asio::error::operation_aborted);
    bool complete = false, leftover = false;
    c.parser.start(out, head_request);
    if (stream) c.parser.stop_after_head();
    while (!ec) {
      auto [rec, n] = co_await c.on_stream([&](auto& s) {
        return s.async_read_some(asio::buffer(c.in.data(), c.in.size()), bound(options.cancel));
      });
      if (c.aborted || c.timed_out) {
        ec = asio::error_code(asio::error::operation_aborted);
        break;
      }
      if (rec) {
        if ((rec == asio::error::eof || rec == asio::ssl::error::stream_truncated) &&
            c.parser.finish() == wire::response_parser::status::complete)
          complete = true;  // a response delimited by the connection's end
        else
          ec = rec;
        c.connected = false;
        break;
      }
      std::size_t pos = 0;
      auto st = wire::response_parser::status::need_more;
      // After the head the parser runs again even without input: a body-less response ends.
      for (bool again = true; again;) {
        again = false;
        std::size_t used = 0;
        st = c.parser.feed({c.in.data() + pos, n - pos}, used);
        pos += used;
        if (st == wire::response_parser::status::head_complete) {
          auto length = c.parser.content_length();
          if (!c.parser.bodiless() && (!length || *length > stream_threshold)) {
            *stream = std::make_unique<upstream_body>(shared_from_this(), std::move(conn), pos, n);
            co_return std::error_code{};
          }
          again = true;
        }
      }
      if (st == wire::response_parser::status::complete) {
        complete = true;
        leftover = pos < n;
        break;
      }
      if (st == wire::response_parser::status::error) {
        ec = make_error_code(c.parser.too_large() ? client_errc::response_too_large
                                                  : client_errc::bad_response);
        break;
      }
    }
    if (complete) {
      release(std::move(conn), c.parser.keep_alive() && !leftover && c.connected);
      co_return std::error_code{};
    }
    std::error_code result;
    // The call's own cancellation (the request it serves was abandoned) ends it like a closed
    // client: the connection is closed, and the call is not tried again.
    if (c.aborted)
      result = make_error_code(client_errc::client_closed);
    else if (c.timed_out)
      result = make_error_code(client_errc::timed_out);
    else if (ec == asio::error_code(asio::error::operation_aborted))
      result = make_error_code(client_errc::client_closed);
    else if (ec.category() == client_category())
      result = ec;
    else if (ec.category() == asio::error::get_ssl_category() && !l.reused && !c.parser.started())
      // TLS 1.3 servers check our certificate after the client has finished its handshake:
      // their refusal arrives as an alert on the first read.
      result = make_error_code(client_errc::tls_handshake_failed);
    else
      result = make_error_code(client_errc::connection_reset);
    // A kept-alive connection the server closed just as we reused it: try once more on a new
    // one, when nothing of a response arrived and the method may be repeated.
    const bool retry = l.reused && attempt == 0 && result == client_errc::connection_reset &&
                       !c.parser.started() && idempotent(method) && clock::now() < deadline;
    release(std::move(conn), false);
    if (!retry) co_return result;
  }
}

}  // namespace gatehouse::detail
