#pragma once

// gatehouse's own HTTP/1.1 server: listeners, the connections they accept, and how they stop.

#include "observe/operator_endpoint.hpp"
#include "pipeline/pipeline.hpp"
#include "websocket/api_host.hpp"

#include <gatehouse/gateway.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace gatehouse::net {

/// What the server needs of a connection to stop it. Both calls are thread-safe.
class connection_base {
 public:
  virtual ~connection_base() = default;
  /// Finish the request in flight (answering with Connection: close), then close.
  virtual void drain() = 0;
  /// Close now.
  virtual void close() = 0;
};

class server : public std::enable_shared_from_this<server> {
 public:
  server(asio::any_io_executor executor, std::shared_ptr<const detail::pipeline> pipeline,
         server_limits limits);

  /// Binds and starts accepting; `tls` null means plain HTTP. With `operator_paths`, an
  /// operator listener: its requests are answered by it, not by the APIs. Throws config_error.
  asio::ip::tcp::endpoint listen(
      const asio::ip::tcp::endpoint& at, std::shared_ptr<asio::ssl::context> tls,
      std::string private_endpoint = {},
      std::shared_ptr<const observe::operator_endpoint> operator_paths = {});

  /// Stops accepting and closes every connection now.
  void stop_now();
  /// Stops accepting, drains connections for up to `drain`, closes the rest, then calls `done`.
  void stop_gracefully(std::chrono::milliseconds drain, detail::callback<detail::nothing> done);

  /// HTTP connections and WebSocket sessions open now.
  std::size_t connection_count() const {
    return count_.load(std::memory_order_relaxed) + hub_.open_sessions();
  }

  // For connections.
  const detail::pipeline& pipeline() const noexcept { return *pipeline_; }
  const server_limits& limits() const noexcept { return limits_; }
  bool add(const std::shared_ptr<connection_base>& c);
  void remove(connection_base* c);
  /// The WebSocket stages served on this server's listeners.
  websocket::hub& websockets() noexcept { return hub_; }

 private:
  struct listener;
  void close_listeners();
  /// A fresh strand for a connection: its work stays serial whatever threads run the context.
  asio::any_io_executor connection_executor() const;
  void drain_deadline();
  /// After a storm of connections: gives the memory they used back to the system (see remove()).
  void release_memory();
  /// Makes sure Asio holds at least `needed` per-socket records, made together (see .cpp).
  void reserve_socket_states(std::size_t needed);

  asio::any_io_executor executor_;
  std::shared_ptr<const detail::pipeline> pipeline_;
  server_limits limits_;
  std::atomic<std::size_t> count_{0};
  std::atomic<std::size_t> reserved_states_{0};  // per-socket records made ahead
  websocket::hub hub_;

  std::mutex mutex_;  // guards what follows; taken on connect, disconnect and stop only
  std::vector<std::shared_ptr<listener>> listeners_;
  std::unordered_map<connection_base*, std::weak_ptr<connection_base>> connections_;
  bool stopping_ = false;
  std::vector<detail::callback<detail::nothing>> stop_waiters_;
  std::shared_ptr<asio::steady_timer> drain_timer_;
  std::size_t peak_since_release_ = 0;  // connections open at most since the last release
  bool release_pending_ = false;
};

}  // namespace gatehouse::net
