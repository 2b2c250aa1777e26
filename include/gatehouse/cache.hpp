#pragma once

#include <gatehouse/http.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse {

/// What a stage does with `Cache-Control: max-age=0` from a caller not allowed to invalidate
/// (AWS's unauthorizedCacheControlHeaderStrategy).
enum class cache_control_strategy {
  fail_with_403,        ///< 403 ACCESS_DENIED
  ignore_with_warning,  ///< serve as usual, with a Warning header (AWS:
                        ///< SUCCEED_WITH_RESPONSE_HEADER)
  ignore,               ///< serve as usual (AWS: SUCCEED_WITHOUT_RESPONSE_HEADER)
};

/// A request that asks to invalidate its cache entry, as an invalidation callback sees it.
struct cache_invalidation {
  std::string_view stage{};
  std::string_view method{};         ///< the route's method: GET
  std::string_view resource_path{};  ///< the route's resource: /pets/{petId}
  const request& req;
};

/// A stage's response cache (AWS's stage cache). Responses of cached methods (GET unless a
/// method setting says otherwise) are kept per cache key — method, resource and the method's
/// cache key parameters — for `ttl`; 2xx only, and never with Set-Cookie or Cache-Control
/// no-store/private; at most 1 MB each, as AWS.
struct cache_settings {
  std::chrono::seconds ttl{300};                                ///< 0 to 3,600 s; 0 caches nothing
  std::size_t capacity_bytes = std::size_t{512} * 1024 * 1024;  ///< AWS's smallest, 0.5 GB
  bool encrypted = false;  ///< AES-256-GCM at rest (AWS's cacheDataEncrypted)
  /// The key for `encrypted`; when not given, random per stage (kept when the settings
  /// change). Give one when several gateways share a store.
  std::optional<std::array<std::uint8_t, 32>> encryption_key{};
  /// Whether invalidating needs permission (AWS's requireAuthorizationForCacheControl).
  bool require_authorization = true;
  /// Who may invalidate when permission is required, besides callers whose authorizer returned
  /// a policy that allows execute-api:InvalidateCache on the method (AWS's IAM permission).
  std::function<bool(const cache_invalidation&)> authorize_invalidation{};
  cache_control_strategy unauthorized = cache_control_strategy::ignore_with_warning;
  bool hit_header = false;  ///< add `x-cache: Hit` or `x-cache: Miss` to cached methods' responses
};

/// Hits and misses of one method (AWS's CacheHitCount / CacheMissCount).
struct cache_metrics {
  std::string method{};  ///< "GET /pets"
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
};

}  // namespace gatehouse
