#pragma once

// Where a JWT authorizer's keys come from: a JWKS given in code, or one fetched over HTTPS with
// the gateway's HTTP client, kept for a while, and fetched again (at most so often) when a token
// names a key it lacks. Concurrent requests that need a fetch share one.

#include "auth/jwt.hpp"

#include <asio/awaitable.hpp>

#include <atomic>
#include <chrono>
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
};

class jwks_source {
 public:
  using clock = std::chrono::steady_clock;

  /// Keys given in code (never fetched).
  explicit jwks_source(key_set keys);
  /// Keys fetched from settings.url on first use.
  explicit jwks_source(jwks_settings settings);
  ~jwks_source();

  /// The key set to verify a token with key id `kid`, without I/O; null when a fetch is due
  /// (first use, stale, or an unknown kid with the refetch interval passed).
  std::shared_ptr<const key_set> try_keys(std::string_view kid, clock::time_point now) const;
  /// As try_keys(), fetching when due (with `client`). Null when no key set could ever be
  /// fetched; then `why` says what failed.
  asio::awaitable<std::shared_ptr<const key_set>> keys(std::string_view kid,
                                                       gatehouse::detail::client_core& client,
                                                       std::string& why);

 private:
  struct flight;
  asio::awaitable<void> fetch(gatehouse::detail::client_core& client);

  jwks_settings settings_;
  std::atomic<std::shared_ptr<const key_set>> keys_;
  std::atomic<clock::rep> fetched_at_{0};    // last successful fetch
  std::atomic<clock::rep> attempted_at_{0};  // last attempt, successful or not
  mutable std::mutex mutex_;                 // guards flight_ and last_error_
  std::shared_ptr<flight> flight_;
  std::string last_error_;
};

}  // namespace gatehouse::auth
