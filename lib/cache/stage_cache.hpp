#pragma once

// Steps 8 (cache lookup) and 12 (cache store) of the pipeline: the stage cache, with AWS's
// keys, TTLs and invalidation rules, and coalescing of concurrent misses for one key into one
// integration call.

#include "pipeline/exchange.hpp"

#include <gatehouse/store.hpp>

#include <asio/awaitable.hpp>

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace gatehouse::cache {

struct flight;

/// The misses under way, by cache key: the first becomes the leader and calls the
/// integration; the others wait for its response.
class flight_table {
 public:
  /// The flight for `key`, and whether the caller leads it.
  std::pair<std::shared_ptr<flight>, bool> join(const std::string& key);
  /// Ends the flight: waiters get `res` (nullopt: call the integration yourselves).
  void finish(const std::shared_ptr<flight>& f, std::optional<response> res);

 private:
  struct alignas(64) shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<flight>> flights;
  };
  std::array<shard, 16> shards_;
  shard& shard_of(const std::string& key) noexcept;
};

/// What a leader holds: finishes its flight when dropped, so waiters never wait forever.
struct lease {
  lease(flight_table& t, std::shared_ptr<flight> f) : table(t), fl(std::move(f)) {}
  ~lease();
  void finish(std::optional<response> res);
  flight_table& table;
  std::shared_ptr<flight> fl;
};

/// Fills in `r`'s cache key prefix and parameters, for the route `route_key` ("GET /pets") of a
/// stage whose entries live in `ns`.
void prepare_keys(std::string_view ns, std::string_view route_key, const method_options& options,
                  detail::route_settings& r);

/// True when the stage caches the request's method.
bool applies(const detail::exchange& ex) noexcept;

/// Step 8 without waiting, for requests applies() accepts: true when the answer is known now
/// (a hit in `hit`, or a miss this request leads: go on to the integration); false when the
/// store or another request's integration call must be waited for: then co_await lookup().
bool try_lookup(detail::exchange& ex, store& s, flight_table& flights,
                std::optional<detail::outcome>& hit);

/// Step 8, for requests applies() accepts: a hit (or a refused invalidation) as the outcome
/// to send; nullopt to go on to the integration, step 12 then knowing what to store.
asio::awaitable<std::optional<detail::outcome>> lookup(detail::exchange& ex, store& s,
                                                       flight_table& flights);

/// Step 12: keeps the response if the request may fill the cache and the response may be
/// kept (2xx, no Set-Cookie, no Cache-Control no-store/private, at most 1 MB), and marks it.
void store_response(detail::exchange& ex, detail::outcome& out, store& s);

}  // namespace gatehouse::cache
