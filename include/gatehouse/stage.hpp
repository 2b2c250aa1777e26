#pragma once

#include <gatehouse/access_log.hpp>
#include <gatehouse/cache.hpp>
#include <gatehouse/client_certificate.hpp>
#include <gatehouse/router.hpp>
#include <gatehouse/throttle.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse {

namespace detail {
struct stage_state;
struct access;  // the library's own way to what the public types keep private
}  // namespace detail

/// Settings of one method on a stage (AWS's MethodSetting).
struct method_setting {
  std::optional<throttle_settings> throttle{};  ///< replaces the stage's default for this method
  std::optional<bool> caching{};                ///< cache this method (default: GET only)
  std::optional<std::chrono::seconds> cache_ttl{};  ///< replaces the stage cache's TTL (0–3,600 s)
  std::optional<bool> cache_encrypted{};            ///< replaces the stage cache's setting
  /// Detailed metrics for this method (AWS's metricsEnabled): its own series, labelled with
  /// its method and resource (REST) or route (HTTP API); replaces the stage's setting.
  std::optional<bool> metrics_enabled{};
};

/// A named deployment: what a Router looked like when deployed, plus stage variables.
/// Requests reach it under /{name}/…. Copies share one stage; changes apply atomically to
/// requests that start afterwards, and requests in flight finish on what they started with.
class Stage {
 public:
  /// Throws config_error unless `name` is 1–128 characters of [A-Za-z0-9_-].
  Stage(std::string name, Deployment deployment);

  /// Sets a stage variable (name: [A-Za-z0-9_]+), usable as ${stageVariables.name}.
  Stage& variable(std::string name, std::string value);
  std::optional<std::string> variable(std::string_view name) const;

  /// The client certificate this stage's HTTP integrations present to HTTPS backends (AWS's
  /// stage clientCertificateId); an empty one stops presenting any.
  Stage& backend_certificate(client_certificate certificate);
  /// Default throttle of every method on this stage (AWS's default method throttling: each
  /// method has its own bucket with these limits); nullopt removes it. Throws config_error for
  /// a negative limit.
  Stage& throttle(std::optional<throttle_settings> limits);
  /// Settings of one method, named as routed: "GET /pets", "ANY /legacy/{proxy+}". Throws
  /// config_error for a method the deployment does not have, or a bad limit.
  Stage& method(std::string_view route, method_setting setting);

  /// Turns the stage cache on with these settings, or off (nullopt). Throws config_error for a
  /// TTL outside 0–3,600 s or no capacity. Gateway::flush_cache empties it.
  Stage& cache(std::optional<cache_settings> settings);
  /// Turns X-Ray-style tracing on or off (AWS's tracingEnabled; off by default): requests are
  /// sampled by gateway_options::tracing's rule, and the spans of sampled ones exported. Trace
  /// headers are passed on to integrations either way.
  Stage& tracing(bool enabled);

  /// Cache hits and misses per method since the stage was made.
  std::vector<cache_metrics> cache_statistics() const;

  /// Detailed metrics for every method of the stage (AWS's metricsEnabled method setting for
  /// "*/*"; an HTTP API's detailedMetricsEnabled): besides the stage's series, one per method
  /// or route (Gateway::metrics). Off by default, as at AWS: series per method multiply what a
  /// scrape carries. method_setting::metrics_enabled overrides it per method.
  Stage& metrics_enabled(bool on);
  /// Logs every request of this stage, one line each, as `settings` say (AWS's
  /// accessLogSettings), or stops logging (nullopt). The format is checked and compiled now, for
  /// the deployment's API type (and again on a redeploy that changes the type): throws
  /// config_error naming the stage for a bad format or an AccessLog without a destination.
  Stage& access_log(std::optional<access_log_settings> settings);

  /// Replaces the deployment this stage serves (redeploy), without dropping any request.
  /// Throws config_error if a method setting or usage plan names a method it lacks.
  Stage& deploy(Deployment deployment);

  const std::string& name() const noexcept;

 private:
  friend struct detail::access;
  const std::shared_ptr<detail::stage_state>& state() const noexcept { return state_; }
  std::shared_ptr<detail::stage_state> state_{};
};

}  // namespace gatehouse
