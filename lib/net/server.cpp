#include "net/server.hpp"

#include "net/serial_executor.hpp"

#include "net/connection.hpp"
#include "util/as_tuple.hpp"

#include <gatehouse/config_error.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>

#include <fmt/format.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace gatehouse::net {

using asio::ip::tcp;

namespace {
// A storm: the open connections fell to half of their peak, and by at least this many. The
// memory is given back this long after, when the storm has mostly passed.
constexpr std::size_t storm_connections = 1000;
constexpr std::chrono::seconds release_delay{1};
// Connections accepted in one go at most, before they start.
constexpr std::size_t accept_batch = 64;
// Asio's per-socket records (see reserve_socket_states) are made ahead in runs of this many.
constexpr std::size_t socket_state_run = 256;
}  // namespace

struct server::listener {
  explicit listener(asio::any_io_executor ex) : acceptor(asio::make_strand(ex)) {}
  tcp::acceptor acceptor;
  std::shared_ptr<asio::ssl::context> tls;
  std::string private_endpoint;
  std::shared_ptr<const observe::operator_endpoint> operator_paths;
};

server::server(asio::any_io_executor executor, std::shared_ptr<const detail::pipeline> pipeline,
               server_limits limits)
    : executor_(std::move(executor)), pipeline_(std::move(pipeline)), limits_(limits) {}

tcp::endpoint server::listen(const tcp::endpoint& at, std::shared_ptr<asio::ssl::context> tls,
                             std::string private_endpoint,
                             std::shared_ptr<const observe::operator_endpoint> operator_paths) {
  auto l = std::make_shared<listener>(executor_);
  l->tls = std::move(tls);
  l->private_endpoint = std::move(private_endpoint);
  l->operator_paths = std::move(operator_paths);
  asio::error_code ec;
  auto where = [&] { return fmt::format("listen on {}:{}", at.address().to_string(), at.port()); };
  l->acceptor.open(at.protocol(), ec);
  if (!ec) l->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && at.address().is_v6()) l->acceptor.set_option(asio::ip::v6_only(true), ec);
  if (!ec) l->acceptor.bind(at, ec);
  if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) l->acceptor.non_blocking(true, ec);  // accepts in batches, until none is waiting
  if (ec) throw config_error(fmt::format("{}: {}", where(), ec.message()));
  auto bound = l->acceptor.local_endpoint();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw config_error(fmt::format("{}: the gateway is stopping", where()));
    listeners_.push_back(l);
  }

  auto self = shared_from_this();
  asio::co_spawn(
      l->acceptor.get_executor(),
      [self, l]() -> asio::awaitable<void> {
        std::vector<tcp::socket> batch;
        batch.reserve(accept_batch);
        for (;;) {
          auto [ec] = co_await l->acceptor.async_wait(tcp::acceptor::wait_read,
                                                      util::as_tuple(asio::use_awaitable));
          if (ec == asio::error::operation_aborted || !l->acceptor.is_open()) co_return;
          self->reserve_socket_states(self->connection_count() + accept_batch);
          // Every connection waiting is accepted at once, then they all start. Besides fewer
          // wake-ups in a storm, this keeps the state Asio allocates per socket (and keeps for
          // reuse when it closes) together, instead of between each connection's own memory:
          // after a storm, the pages the connections used can then be given back whole.
          for (std::size_t i = 0; !ec && i < accept_batch; ++i) {
            tcp::socket socket(self->connection_executor());
            l->acceptor.accept(socket, ec);
            if (!ec)
              batch.push_back(std::move(socket));
            else if (ec == asio::error::connection_aborted)
              ec = {};  // reset before we took it: the next one
          }
          for (auto& socket : batch) {
            if (self->connection_count() >= self->limits_.max_connections) {
              self->pipeline().log(log_level::warning,
                                   "connection limit reached: closing a new connection");
              asio::error_code ignored;
              socket.close(ignored);
              continue;
            }
            start_connection(self, std::move(socket), l->tls, l->private_endpoint,
                             l->operator_paths);
          }
          batch.clear();
          if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
            if (!l->acceptor.is_open()) co_return;
            // Out of descriptors and the like: log, breathe, and keep accepting.
            self->pipeline().log(log_level::error, fmt::format("accept: {}", ec.message()));
            asio::steady_timer pause(l->acceptor.get_executor(), std::chrono::milliseconds(50));
            co_await pause.async_wait(util::as_tuple(asio::use_awaitable));
          }
        }
      },
      asio::detached);
  return bound;
}

// Asio keeps a small record per socket (its reactor's descriptor state, 168 bytes) for as long
// as the io_context lives, and reuses freed ones first. Made one by one as connections arrive,
// they sit between the connections' own memory and, after a storm, keep its pages from being
// given back (malloc_trim returns whole free pages only). So they are made ahead, in runs, by
// opening sockets that are closed at once, unused: each run lies together, a few pages long.
void server::reserve_socket_states(std::size_t needed) {
  const std::size_t have = reserved_states_.load(std::memory_order_relaxed);
  if (needed <= have) return;
  const std::size_t run = std::max(socket_state_run, needed - have);
  std::vector<tcp::socket> spare;
  spare.reserve(run);
  asio::error_code ec;
  for (std::size_t i = 0; i < run; ++i) {
    tcp::socket socket(executor_);
    socket.open(tcp::v4(), ec);
    if (ec) break;  // out of descriptors: fewer now, more at the next connection
    spare.push_back(std::move(socket));
  }
  reserved_states_.fetch_add(spare.size(), std::memory_order_relaxed);
  // `spare` closes them here: their records wait in Asio's pool for the next sockets.
}

asio::any_io_executor server::connection_executor() const { return serial_executor(executor_); }

bool server::add(const std::shared_ptr<connection_base>& c) {
  std::lock_guard lock(mutex_);
  if (stopping_) return false;
  connections_.emplace(c.get(), c);
  count_.fetch_add(1, std::memory_order_relaxed);
  peak_since_release_ = std::max(peak_since_release_, connections_.size());
  return true;
}

void server::remove(connection_base* c) {
  std::vector<detail::callback<detail::nothing>> done;
  bool release = false;
  {
    std::lock_guard lock(mutex_);
    if (connections_.erase(c) == 0) return;
    count_.fetch_sub(1, std::memory_order_relaxed);
    const std::size_t open = connections_.size();
    if (!release_pending_ && !stopping_ && peak_since_release_ >= open + storm_connections &&
        open * 2 <= peak_since_release_)
      release = release_pending_ = true;
    if (stopping_ && connections_.empty()) {
      done.swap(stop_waiters_);
      if (drain_timer_)
        asio::post(drain_timer_->get_executor(), [t = drain_timer_] { t->cancel(); });
      drain_timer_.reset();
    }
  }
  for (auto& d : done) d(detail::nothing{});
  if (release) {
    auto timer = std::make_shared<asio::steady_timer>(executor_, release_delay);
    timer->async_wait([w = weak_from_this(), timer](std::error_code ec) {
      if (auto self = w.lock(); self && !ec) self->release_memory();
    });
  }
}

// glibc keeps what a program frees for its next allocations: after thousands of connections
// have closed, the heap stays at its peak. malloc_trim gives the free pages back (it changes no
// allocator setting of the host's); it walks the heap, so it runs here, after a storm, never
// per connection or per request.
void server::release_memory() {
  {
    std::lock_guard lock(mutex_);
    release_pending_ = false;
    peak_since_release_ = connections_.size();
  }
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

void server::close_listeners() {
  for (auto& l : listeners_)
    asio::post(l->acceptor.get_executor(), [l] {
      asio::error_code ec;
      l->acceptor.close(ec);
    });
  listeners_.clear();
}

void server::stop_now() {
  std::vector<std::shared_ptr<connection_base>> open;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    close_listeners();
    for (auto& [p, w] : connections_)
      if (auto c = w.lock()) open.push_back(std::move(c));
  }
  for (auto& c : open) c->close();
}

void server::drain_deadline() {
  // Whatever is still open is closed now, and the stop completes now. A connection whose
  // request is still inside a handler cannot interrupt it: its socket is closed, it no longer
  // counts, and it goes away whenever the handler returns (its remove() then finds nothing).
  std::vector<std::shared_ptr<connection_base>> open;
  std::vector<detail::callback<detail::nothing>> done;
  {
    std::lock_guard lock(mutex_);
    for (auto& [p, w] : connections_)
      if (auto c = w.lock()) open.push_back(std::move(c));
    connections_.clear();
    count_.store(0, std::memory_order_relaxed);
    done.swap(stop_waiters_);
    drain_timer_.reset();
  }
  for (auto& c : open) c->close();
  for (auto& d : done) d(detail::nothing{});
}

void server::stop_gracefully(std::chrono::milliseconds drain,
                             detail::callback<detail::nothing> done) {
  std::vector<std::shared_ptr<connection_base>> open;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    close_listeners();
    if (connections_.empty()) {
      asio::post(executor_, [d = std::make_shared<detail::callback<detail::nothing>>(
                                 std::move(done))]() mutable { (*d)(detail::nothing{}); });
      return;
    }
    stop_waiters_.push_back(std::move(done));
    for (auto& [p, w] : connections_)
      if (auto c = w.lock()) open.push_back(std::move(c));
    // At the deadline, whatever is still open is closed.
    drain_timer_ = std::make_shared<asio::steady_timer>(asio::make_strand(executor_), drain);
    drain_timer_->async_wait([self = shared_from_this()](std::error_code ec) {
      if (!ec) self->drain_deadline();
    });
  }
  for (auto& c : open) c->drain();
}

}  // namespace gatehouse::net
