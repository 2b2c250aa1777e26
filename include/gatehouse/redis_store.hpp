#pragma once

// A store shared by many gateway instances: Redis (redis-server 7.0 or later). Throttles,
// quotas, usage counts, API key records and metering live there, so that a plan's limits hold
// across every instance, on Redis's clock; the stage cache may live in a second Redis.
//
//   auto store = gatehouse::make_redis_store(io.get_executor(),
//                                            {.url = "redis://127.0.0.1:6379/0"});
//   gatehouse::Gateway gw{io, {.store = store}};
//
// The request path never blocks a thread: admission is one script call (EVALSHA) on the
// host's io_context, at most one round trip per admitted request, within `timeout`. The
// record calls (API key management, usage reports, metering's flushes) block the calling
// thread for one round trip (at most `record_timeout`) on a connection of their own, run on a
// private io_context by the calling thread itself: no thread is started, and a host that runs
// one thread cannot deadlock. They throw store_error when Redis cannot answer in time.

#include <gatehouse/client_certificate.hpp>
#include <gatehouse/store.hpp>

#include <asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace gatehouse {

/// What a request meets when Redis cannot be asked (down, slow past `timeout`, or the circuit
/// breaker open after `breaker_failures` failures in a row; it probes Redis and closes again
/// by itself).
enum class redis_failure_mode {
  /// Refused at once: 503 Service Unavailable with Retry-After: 1 (a DEFAULT_5XX gateway
  /// response, which the host may change).
  fail_closed,
  /// Admitted by an in-memory store of this instance, each limit (rate, burst, quota) divided
  /// by the number of instances that used Redis in the last 3 seconds before it failed; the
  /// counts of the outage are this instance's alone and not added to Redis afterwards.
  fail_open,
};

struct redis_options {
  /// The limiter's Redis: redis://[user:password@]host[:port][/db] or rediss://… (TLS). It
  /// must keep what it is given: maxmemory-policy noeviction, and AOF persistence so that
  /// quotas survive its restart (a warning is logged when it evicts).
  std::string url = "redis://127.0.0.1:6379";
  /// The stage cache's Redis (an evicting policy: allkeys-lru; a warning is logged otherwise).
  /// Empty: each instance keeps its stage cache in its own memory, as without Redis.
  std::string cache_url{};
  /// Every key begins with "{key_prefix}:": one hash tag, so that a request's keys share a hash
  /// slot (Redis Cluster places them all on one node; scripts never cross slots).
  std::string key_prefix = "gatehouse";
  std::size_t connections = 2;                      ///< per Redis, on the host's io_context
  std::chrono::milliseconds timeout{50};            ///< a request's call: admission, cache
  std::chrono::milliseconds record_timeout{500};    ///< a record call (put, get, scan, …)
  std::chrono::milliseconds connect_timeout{1000};  ///< TCP, TLS, AUTH and SELECT
  std::uint32_t breaker_failures = 5;               ///< failures in a row that open it
  redis_failure_mode on_failure = redis_failure_mode::fail_open;
  // rediss:// only (both Redis servers):
  std::string ca_file{};                    ///< trusted CAs (PEM); empty: the system's
  std::string ca_pem{};                     ///< trusted CAs in memory
  client_certificate certificate{};         ///< for a server with tls-auth-clients
  bool insecure_skip_verification = false;  ///< tests only
  /// Where the store's warnings go (a Redis that evicts, Redis lost and back); stderr when
  /// empty. Said once per event, never per request.
  std::function<void(std::string_view)> warn{};
};

/// What the Redis store has seen since it was made (any thread).
struct redis_store_statistics {
  std::uint64_t admissions = 0;      ///< admission scripts sent
  std::uint64_t local_refusals = 0;  ///< requests refused by the "refused until" memory alone
  std::uint64_t fallbacks = 0;       ///< requests admitted or refused by the failure mode
  std::uint64_t live_instances = 0;  ///< instances that used Redis in the last 3 seconds
};

/// The Redis store. Throws config_error for a bad URL or option. Connects when first used, so
/// that a gateway starts while Redis is down (in its failure mode until Redis answers).
std::shared_ptr<store> make_redis_store(asio::any_io_executor executor, redis_options options);

/// The statistics of a store make_redis_store made (zeros for any other store).
redis_store_statistics redis_statistics(const store& s) noexcept;

}  // namespace gatehouse
