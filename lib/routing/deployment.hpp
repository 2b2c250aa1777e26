#pragma once

// What a Router freezes into when deployed, and what a Stage serves: both immutable, shared by
// every request that uses them, replaced as a whole on redeploy.

#include "auth/policy.hpp"
#include "routing/route_table.hpp"

#include <gatehouse/client_certificate.hpp>
#include <gatehouse/gateway_response.hpp>
#include <gatehouse/router.hpp>
#include <gatehouse/stage.hpp>
#include <gatehouse/throttle.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace gatehouse::transform {
struct method_transform;
}
namespace gatehouse::observe {
struct stage_access_log;
}

namespace gatehouse::validate {
struct method_rules;
class model;
}  // namespace gatehouse::validate

namespace gatehouse::detail {

struct deployment_data {
  // For export: the models' schemas as given, and the imported API's own model (null for an
  // API composed in C++, or changed after its import).
  std::map<std::string, std::string, std::less<>> model_schemas;
  std::shared_ptr<const spec::rest_api_model> imported;
  // When deploy() made it: an export's info.version for an API without a version, as AWS's.
  std::chrono::system_clock::time_point created = std::chrono::system_clock::now();
  api_options api;
  routing::route_table routes;
  std::map<response_type, gateway_response> responses;  // the API's gateway-response overrides
  std::vector<std::string> stage_variable_refs;         // names integrations use
  std::shared_ptr<const auth::policy> resource_policy;  // null when the API has none
  // Step 7: the API's models, and each route's request validation (by route index; null for
  // routes that check nothing).
  std::map<std::string, std::shared_ptr<const validate::model>, std::less<>> models;
  std::vector<std::shared_ptr<const validate::method_rules>> validation;
  // Steps 9 and 11: each route's transforms (null for routes without).
  std::vector<std::shared_ptr<const transform::method_transform>> transforms;
};

using variable_map = std::map<std::string, std::string, std::less<>>;

struct plan_state;

/// A method's cache key parameter, parsed: where its value comes from, and the text that
/// precedes the value in cache keys.
struct cache_key_parameter {
  enum class source { path, querystring, header } from = source::path;
  std::string name;
  std::string key_part;
};

/// Per route of the deployment (by route index): what steps 6, 8 and 12 need, resolved in
/// advance from the stage's and the method's settings.
struct route_settings {
  std::string throttle_key;                   // the method's bucket: "{apiId}/{stage}/GET /pets"
  std::optional<throttle_settings> throttle;  // the method's setting, else the stage's default
  bool cached = false;             // the stage caches this method's GETs (with ttl > 0) …
  bool cache_all_methods = false;  // … and its other methods too (a method setting says so)
  std::chrono::seconds cache_ttl{0};
  bool cache_encrypted = false;
  // The start of the route's cache keys (namespace, method, resource), for requests with the
  // route's own method, and its cache key parameters (see cache::prepare_keys).
  std::string cache_key_method;
  std::string cache_key_prefix;
  std::vector<cache_key_parameter> cache_key_parameters;
  bool metrics_enabled = false;  // detailed metrics: a series of its own (observe/metrics)
};

/// Cache hits and misses of one method; kept by the stage across redeploys.
struct cache_counters {
  std::atomic<std::uint64_t> hits{0};
  std::atomic<std::uint64_t> misses{0};
};

/// A usage plan attached to the stage, with its per-method throttles.
struct stage_plan {
  std::shared_ptr<const plan_state> plan;
  std::map<std::string, throttle_settings, std::less<>> method_throttles;  // "GET /pets" → …
  std::vector<std::optional<throttle_settings>> by_route;                  // resolved by index
};

/// A number no other snapshot has, a copy included: what per-thread memos of things derived
/// from a snapshot are keyed by (an address may be reused once a snapshot is gone).
struct snapshot_serial {
  std::uint64_t value = next();
  snapshot_serial() = default;
  snapshot_serial(const snapshot_serial&) noexcept : value(next()) {}
  snapshot_serial& operator=(const snapshot_serial&) noexcept {
    value = next();
    return *this;
  }
  static std::uint64_t next() noexcept {
    static std::atomic<std::uint64_t> last{0};
    return last.fetch_add(1, std::memory_order_relaxed) + 1;
  }
};

struct stage_snapshot {
  snapshot_serial serial;
  std::string name;
  std::shared_ptr<const deployment_data> deployment;
  variable_map variables;
  client_certificate backend_certificate;                      // presented to HTTPS backends
  std::optional<throttle_settings> throttle;                   // default method throttling
  std::map<std::string, method_setting, std::less<>> methods;  // "GET /pets" → settings
  std::vector<stage_plan> plans;
  std::optional<cache_settings> cache;
  bool metrics_enabled = false;  // detailed metrics for every method
  // Not an API of AWS's metrics (a WebSocket stage's @connections endpoint): no series.
  bool no_metrics = false;
  std::string cache_namespace;               // "{apiId}/{stage}": entries of stages never mix
  std::array<std::uint8_t, 32> cache_key{};  // for encrypted entries
  std::vector<route_settings> routes;        // derived from the above by resolve_settings()
  std::vector<cache_counters*> counters;     // by route index, owned by the stage_state
  bool tracing = false;                      // AWS's tracingEnabled: sample, export spans
  std::shared_ptr<const observe::stage_access_log> access_log;  // null: none
};

struct stage_state {
  std::string name;
  std::mutex write_mutex;  // serialises changes; requests never take it
  std::atomic<std::shared_ptr<const stage_snapshot>> current;
  bool mounted = false;  // guarded by write_mutex: once mounted, changes are validated
  // Cache counters by route key ("GET /pets"), kept across snapshots; guarded by write_mutex.
  std::map<std::string, std::unique_ptr<cache_counters>, std::less<>> counters;

  std::shared_ptr<const stage_snapshot> load() const noexcept {
    return current.load(std::memory_order_acquire);
  }
};

/// Throws config_error when `snapshot`'s deployment uses a stage variable it does not define.
void check_stage_variables(const stage_snapshot& snapshot);

/// Fills `routes`, `counters` and each plan's `by_route` from the settings; throws config_error
/// naming a setting whose method the deployment lacks. Called under the stage's write_mutex.
void resolve_settings(stage_state& stage, stage_snapshot& snapshot);

/// Publishes a changed copy of the stage's snapshot (as Stage's setters do).
void update_stage(stage_state& stage, const std::function<void(stage_snapshot&)>& change);

}  // namespace gatehouse::detail
