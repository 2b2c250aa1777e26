#pragma once

// The HTTP client's engine: per-upstream keep-alive pools (sharded by thread), connections with
// their own buffers, TLS toward backends, and one sweeper timer that enforces call deadlines and
// idle timeouts. http_client is its public face; HTTP integrations call it directly.

#include "http/body_source.hpp"
#include "net/cancellation.hpp"

#include <gatehouse/http_client.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace gatehouse::detail {

/// Where a call goes, from a parsed URL.
struct upstream_address {
  bool tls = false;
  std::string_view host;  // a name or an IP address (IPv6 without brackets)
  std::uint16_t port = 0;
  std::string_view authority;  // the Host header's value
};

/// How a call is made.
struct call_options {
  std::chrono::milliseconds timeout{29'000};  // the whole call, from its start
  const client_certificate* certificate = nullptr;
  bool skip_verification = false;
  /// The caller's cancellation: the call's waits are bound to it, and a cancelled call ends
  /// with client_closed, its connection closed. Without it, nothing but abort_all() and the
  /// timeout ends a call (not the cancellation of the coroutine awaiting it).
  net::cancel_handle cancel;
};

/// Appends a call's header fields ("Name: value\r\n" each) to the head the client writes, after
/// the request line and Host, before Content-Length. A function reference: no allocation.
struct head_writer {
  const void* context = nullptr;
  void (*write)(const void* context, std::string& out) = nullptr;
};

struct upstream;
struct upstream_connection;

class client_core : public std::enable_shared_from_this<client_core> {
 public:
  /// Throws config_error for an unreadable CA file or bad CA PEM.
  client_core(asio::any_io_executor executor, http_client_options options);
  ~client_core();

  /// Sends a request and reads the whole response into `out`. The method, target, fields and
  /// body must stay valid until the call ends. Never throws.
  /// With `stream`, a large body or one of unknown length is not read whole: the call returns
  /// after the head with `out.body` empty and *stream set to what yields the body; the call's
  /// deadline still covers the body, and the connection is busy until the stream ends.
  asio::awaitable<std::error_code> call(const upstream_address& to, std::string_view method,
                                        std::string_view target, head_writer fields,
                                        std::string_view body, const call_options& options,
                                        response& out,
                                        std::unique_ptr<wire::body_source>* stream = nullptr);

  /// Bodies above this many bytes are streamed when the caller allows it.
  static constexpr std::size_t stream_threshold = 256 * 1024;

  /// Ends a call that streamed its body (for the stream).
  void finish(std::shared_ptr<upstream_connection> c, bool reusable) {
    release(std::move(c), reusable);
  }

  /// Closes idle connections now.
  void close_idle();
  /// Ends every call in flight with client_closed and closes idle connections.
  void abort_all();
  std::size_t connection_count() const noexcept { return open_.load(std::memory_order_relaxed); }
  /// Of those, the connections idle in the pools (for metrics: takes the upstreams' lock).
  std::size_t idle_count();
  const http_client_options& options() const noexcept { return options_; }
  const asio::any_io_executor& executor() const noexcept { return executor_; }

  // For the pool's parts in client_core.cpp.
  struct shard;
  struct lease;

 private:
  upstream* find_upstream(const upstream_address& to, const call_options& o);
  lease try_acquire(upstream& up, bool repeatable);
  asio::awaitable<lease> acquire(upstream& up, std::chrono::steady_clock::time_point deadline,
                                 bool repeatable, const net::cancel_handle& cancel);
  void release(std::shared_ptr<upstream_connection> c, bool reusable);
  void watch(upstream_connection& c, std::chrono::steady_clock::time_point deadline);
  void unwatch(upstream_connection& c);
  void post_abort(upstream_connection& c, shard& sh, bool by_client);
  void start_sweeper();
  void sweep();
  shard& my_shard() noexcept;

  asio::any_io_executor executor_;
  http_client_options options_;
  std::shared_ptr<asio::ssl::context> verify_context_, insecure_context_;  // without certificate
  std::vector<std::unique_ptr<shard>> shards_;
  const std::uint64_t id_;  // tells cores apart in the per-thread cache of find_upstream
  std::atomic<std::size_t> open_{0};
  std::atomic<std::int64_t> shortest_timeout_ms_{1000};
  std::atomic<std::uint64_t> abort_epoch_{0};  // bumped by abort_all

  std::mutex mutex_;  // guards what follows: taken when an upstream is first seen, and by sweeps
  std::vector<std::shared_ptr<upstream>> upstreams_;
  asio::steady_timer sweeper_;
  std::atomic<bool> sweeping_{false};  // written under mutex_; read without it
};

}  // namespace gatehouse::detail
