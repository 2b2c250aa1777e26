#pragma once

// Where a JWT authorizer's keys come from: a JWKS given in code, or one fetched over HTTPS with
// the gateway's HTTP client, kept for a while, and fetched again (at most so often) when a token
// names a key it lacks. Concurrent and back-to-back requests that need a fetch share one; a
// failed fetch is not tried again before its backoff has passed, so an identity provider that is
// down (or untrusted) costs one connection per backoff, not one per request.

#include "auth/jwt.hpp"

#include <asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace gatehouse::detail {
class client_core;
}

namespace gatehouse::auth {

struct jwks_settings {
  std::string url;  // https://…; empty for a key set given in code
  std::chrono::seconds max_age{3600};
  std::chrono::seconds refetch_interval{30};
  std::chrono::milliseconds timeout{1500};
  // After a failed fetch (connection refused, untrusted certificate, timeout, a status other
  // than 200, an unusable key set) no other is tried for `backoff`; each further failure in a
  // row doubles the wait, up to max(backoff, refetch_interval). A success resets it.
  std::chrono::milliseconds backoff{1000};
};

class jwks_source {
 public:
  using clock = std::chrono::steady_clock;

  /// Keys given in code (never fetched).
  explicit jwks_source(key_set keys);
  /// Keys fetched from settings.url on first use. Throws config_error for bad settings.
  explicit jwks_source(jwks_settings settings);
  ~jwks_source();

  /// The key set to verify a token with key id `kid`, without I/O; null when a fetch is due
  /// (first use, stale, or an unknown kid with the refetch interval passed) and when no key set
  /// is held (see refused_for_now()).
  std::shared_ptr<const key_set> try_keys(std::string_view kid, clock::time_point now) const;
  /// True when no key set is held and the last fetch failed less than its backoff ago: a
  /// request that needs keys is then refused at once, without I/O, and counted for the next
  /// report.
  bool refused_for_now(clock::time_point now);
  /// As try_keys(), fetching when due (with `client`). Null when no key set could be had: then
  /// the request that made a failed fetch gets `report` (what failed, how many failures in a
  /// row, how many requests were refused since the last report, when the next try is), every
  /// other one an empty `report`. So a caller that logs reports logs one line per attempt.
  asio::awaitable<std::shared_ptr<const key_set>> keys(std::string_view kid,
                                                       gatehouse::detail::client_core& client,
                                                       std::string& report);

 private:
  struct flight;
  // Whether a request must wait for a fetch: try_keys() gave nothing and no backoff holds.
  bool fetch_due(std::string_view kid, clock::time_point now) const;
  // How long to wait after `failures` failed fetches in a row.
  clock::duration backoff_after(int failures) const;
  asio::awaitable<void> fetch(gatehouse::detail::client_core& client, std::string& report);

  jwks_settings settings_;
  std::atomic<std::shared_ptr<const key_set>> keys_;
  std::atomic<clock::rep> fetched_at_{0};    // last successful fetch
  std::atomic<clock::rep> attempted_at_{0};  // last attempt, successful or not
  std::atomic<clock::rep> retry_at_{0};      // after a failure: no attempt before; 0 after success
  std::atomic<std::uint64_t> refused_{0};    // requests refused since the last report
  int failures_ = 0;                         // in a row; only a flight's leader touches it
  std::mutex mutex_;                         // guards flight_
  std::shared_ptr<flight> flight_;
};

}  // namespace gatehouse::auth
