#pragma once

// The way of a request through the gateway, in AWS's order. Every entry point (the listener,
// async_dispatch, the WebSocket upgrade and WebSocket routes with integrations) runs requests
// through run().

#include "http/body_source.hpp"
#include "net/cancellation.hpp"
#include "observe/observer.hpp"
#include "routing/deployment.hpp"
#include "usage/key_registry.hpp"

#include <gatehouse/gateway.hpp>
#include <gatehouse/gateway_response.hpp>
#include <gatehouse/http.hpp>
#include <gatehouse/http_client.hpp>

#include <asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace gatehouse::cache {
class flight_table;
}
namespace gatehouse::auth {
struct authorization;
}

namespace gatehouse::detail {

struct websocket_call;

/// The stages a gateway serves, by name. Immutable; replaced as a whole on mount.
struct mount_table {
  std::map<std::string, std::shared_ptr<stage_state>, std::less<>> stages;
  /// Stages no request path reaches (WebSocket APIs' routes): run only through internal_run.
  std::vector<std::shared_ptr<stage_state>> hidden;
  bool all_http_apis = false;  // then an unknown stage answers 404 rather than 403
};

/// A request's state while it runs (exchange, outcome, what it waits for), from a per-thread
/// pool. A pending_run owns one.
struct run_state;
struct run_state_release {
  void operator()(run_state* s) const noexcept;
};
/// A request stopped at a step that has to wait (an authorizer call, the store, a cache miss
/// led by another request, an integration): run_rest() takes it to the end.
using pending_run = std::unique_ptr<run_state, run_state_release>;

/// A request the gateway makes up itself and runs on a given stage, not one found by its path
/// (a WebSocket API's $connect or message with an integration).
struct internal_run {
  const stage_state* stage = nullptr;  // matched against the whole path of the request
  const websocket_call* websocket = nullptr;
  /// In: what an earlier authorization found out (a WebSocket connection's $connect). Out:
  /// what step 4 found out.
  std::shared_ptr<const auth::authorization> auth;
  /// The caller's cancellation, as reply_target::cancel (a host's cancelled async_upgrade).
  net::cancel_handle cancel{};
  bool gateway_error = false;  // out: the gateway ended the request itself (a gateway response)
  response_type error_type = response_type::default_4xx;  // out: of that gateway response
  /// Out: the API key step 5 accepted ("" for none), for WebSocket metering.
  std::string api_key_id;
  /// Out: how long its integration took (negative: none was called), for WebSocket metrics.
  std::chrono::nanoseconds integration_latency{-1};
  /// In: the event's request id (36 characters), which its record and the error messages its
  /// client gets share; empty: a new one.
  std::string_view request_id{};
  /// In: the caller records the event itself once it has ended (record_event). Out: then the
  /// finished run's state, kept for that.
  bool records_itself = false;
  pending_run finished;
};

/// What a WebSocket event came to, for its record (pipeline::record_event).
struct event_outcome {
  int status = 200;
  const gateway_error* error = nullptr;  // how the event ended, if not as its run did
  /// A C++ route handler's run (negative: none ran); nullopt: the internal run's, if any.
  std::optional<std::chrono::nanoseconds> integration_latency;
  /// When the event began, for an event without an internal run; default: now.
  std::chrono::steady_clock::time_point received{};
};

/// Where a connection takes its answers: its own response object, whose buffers a cache hit
/// reuses (no allocation), and its buffer for the request id, which it sends as x-amzn-RequestId.
struct reply_target {
  response& res;
  char (&request_id)[37];
  /// The caller's cancellation (its client going away): an HTTP integration binds its backend
  /// call to it (what else a step awaits is cancelled through the caller's coroutine, whose
  /// cancellation the caller emits too); once it is requested, no further step starts.
  net::cancel_handle cancel{};
  bool abandoned = false;  ///< out: cancelled while it waited
  /// In: the caller records the request itself once it has sent the answer (pipeline::answered),
  /// knowing what it wrote. Out: then the finished request's state, kept for that.
  bool records_itself = false;
  pending_run finished;
};

enum class wait_for : std::uint8_t;

class pipeline {
 public:
  pipeline(asio::any_io_executor executor, gateway_options options);
  ~pipeline();

  /// Runs one request through every step and returns the response to send. Never throws.
  /// With `stream`, an integration may leave a large body to be read as it is sent: then the
  /// response's body holds its first bytes and *stream yields the rest. With `reply`, the
  /// response goes there (and an empty one is returned) and the request id to its buffer;
  /// otherwise the response carries the id as x-amzn-RequestId.
  asio::awaitable<response> run(request& req, std::unique_ptr<wire::body_source>* stream = nullptr,
                                internal_run* internal = nullptr,
                                reply_target* reply = nullptr) const;
  /// run() in two halves, for a caller that can skip a coroutine when nothing waits (most
  /// requests: cache hits, function and mock integrations, cached authorizers): runs the steps
  /// that complete at once and answers into `reply`, returning null; or, when a step has to
  /// wait, returns the request's state for run_rest(), which answers into `reply` at the end.
  pending_run run_now(request& req, std::unique_ptr<wire::body_source>* stream,
                      reply_target& reply) const;
  asio::awaitable<void> run_rest(pending_run state) const;
  /// For a reply_target that records itself: its answer went out (`bytes_out` written for it,
  /// `body_bytes` of them the payload). Records the request (observe::observer) and lets its
  /// state go.
  void answered(reply_target& reply, std::uint64_t bytes_out, std::uint64_t body_bytes) const;
  /// Records a WebSocket event once it has ended (observe::observer::record_event): with the
  /// state of its internal run when `run.records_itself` kept one, else as an event of
  /// `run.stage` without a request of its own (its websocket call and authorization).
  void record_event(internal_run& run, const event_outcome& outcome) const noexcept;
  /// Waits for the access logs of the mounted stages to write what they hold (each for up to
  /// its flush_timeout).
  void flush_access_logs() const;

  /// Serves a stage at /{name}/…, or, `hidden`, only to internal runs (its name need not be
  /// unique then).
  void mount(const std::shared_ptr<stage_state>& stage, bool hidden = false);
  void log(log_level level, std::string_view text) const;
  /// Requests abandoned (reply_target::cancel) while they waited on a step, since the start.
  std::uint64_t abandoned_requests() const noexcept {
    return abandoned_.load(std::memory_order_relaxed);
  }
  /// Counts a request its caller gave up before it began (a cancelled async_dispatch).
  void count_abandoned() const noexcept { abandoned_.fetch_add(1, std::memory_order_relaxed); }
  void export_traces(tracing_options options) { observer_.export_traces(std::move(options)); }
  tracing_statistics trace_export_statistics() const noexcept {
    return observer_.trace_export_statistics();
  }
  /// The client HTTP integrations call backends with.
  http_client& client() noexcept { return client_; }
  ApiKeys& api_keys() noexcept { return api_keys_; }
  /// The step after the response (metrics, and what else records answered requests).
  const observe::observer& observer() const noexcept { return observer_; }
  /// Where buckets, quotas, keys and cache entries live.
  gatehouse::store& shared_store() const noexcept { return *store_; }
  /// Empties the stage's cache.
  void flush_cache(const stage_state& stage);
  /// The mounted stages whose cache is on.
  std::vector<observe::cache_in_use> caches_in_use() const;
  /// A usage plan attached to a mounted stage, by id.
  std::shared_ptr<const plan_state> find_plan(std::string_view id) const;

 private:
  pending_run begin(request& req, std::unique_ptr<wire::body_source>* stream,
                    internal_run* internal, reply_target* reply) const;
  wait_for advance(run_state& s) const;
  asio::awaitable<void> complete(run_state& s, wait_for w) const;
  response finish(run_state& s) const;
  void record(const run_state& s, const response& res, std::uint64_t bytes_out,
              std::uint64_t body_bytes) const noexcept;

  gateway_options options_;
  http_client client_;
  std::shared_ptr<store> store_;
  std::shared_ptr<key_registry> keys_;
  ApiKeys api_keys_;
  std::unique_ptr<cache::flight_table> flights_;  // misses under way, for coalescing
  observe::observer observer_;
  std::atomic<std::shared_ptr<const mount_table>> mounts_{std::make_shared<mount_table>()};
  mutable std::atomic<std::uint64_t> abandoned_{0};
  std::mutex mount_mutex_;
};

}  // namespace gatehouse::detail
