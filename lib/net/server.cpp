#include "net/server.hpp"

#include "net/serial_executor.hpp"

#include "net/connection.hpp"

#include <gatehouse/config_error.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>

#include <fmt/format.h>

namespace gatehouse::net {

using asio::ip::tcp;

struct server::listener {
  explicit listener(asio::any_io_executor ex) : acceptor(asio::make_strand(ex)) {}
  tcp::acceptor acceptor;
  std::shared_ptr<asio::ssl::context> tls;
  std::string private_endpoint;
};

server::server(asio::any_io_executor executor, std::shared_ptr<const detail::pipeline> pipeline,
               server_limits limits)
    : executor_(std::move(executor)), pipeline_(std::move(pipeline)), limits_(limits) {}

tcp::endpoint server::listen(const tcp::endpoint& at, std::shared_ptr<asio::ssl::context> tls,
                             std::string private_endpoint) {
  auto l = std::make_shared<listener>(executor_);
  l->tls = std::move(tls);
  l->private_endpoint = std::move(private_endpoint);
  std::error_code ec;
  auto where = [&] { return fmt::format("listen on {}:{}", at.address().to_string(), at.port()); };
  l->acceptor.open(at.protocol(), ec);
  if (!ec) l->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && at.address().is_v6()) l->acceptor.set_option(asio::ip::v6_only(true), ec);
  if (!ec) l->acceptor.bind(at, ec);
  if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
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
        for (;;) {
          auto [ec, socket] = co_await l->acceptor.async_accept(
              self->connection_executor(), asio::experimental::as_tuple(asio::use_awaitable));
          if (ec == asio::error::operation_aborted || !l->acceptor.is_open()) co_return;
          if (ec) {
            // Out of descriptors and the like: log, breathe, and keep accepting.
            self->pipeline().log(log_level::error, fmt::format("accept: {}", ec.message()));
            asio::steady_timer pause(l->acceptor.get_executor(), std::chrono::milliseconds(50));
            co_await pause.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
            continue;
          }
          if (self->connection_count() >= self->limits_.max_connections) {
            self->pipeline().log(log_level::warning,
                                 "connection limit reached: closing a new connection");
            std::error_code ignored;
            socket.close(ignored);
            continue;
          }
          start_connection(self, std::move(socket), l->tls, l->private_endpoint);
        }
      },
      asio::detached);
  return bound;
}

asio::any_io_executor server::connection_executor() const { return serial_executor(executor_); }

bool server::add(const std::shared_ptr<connection_base>& c) {
  std::lock_guard lock(mutex_);
  if (stopping_) return false;
  connections_.emplace(c.get(), c);
  count_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void server::remove(connection_base* c) {
  std::vector<detail::callback<detail::nothing>> done;
  {
    std::lock_guard lock(mutex_);
    if (connections_.erase(c) == 0) return;
    count_.fetch_sub(1, std::memory_order_relaxed);
    if (stopping_ && connections_.empty()) {
      done.swap(stop_waiters_);
      if (drain_timer_)
        asio::post(drain_timer_->get_executor(), [t = drain_timer_] { t->cancel(); });
      drain_timer_.reset();
    }
  }
  for (auto& d : done) d(detail::nothing{});
}

void server::close_listeners() {
  for (auto& l : listeners_)
    asio::post(l->acceptor.get_executor(), [l] {
      std::error_code ec;
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
