#pragma once

// What a Router freezes into when deployed, and what a Stage serves: both immutable, shared by
// every request that uses them, replaced as a whole on redeploy.

#include "routing/route_table.hpp"

#include <gatehouse/client_certificate.hpp>
#include <gatehouse/gateway_response.hpp>
#include <gatehouse/router.hpp>
#include <gatehouse/stage.hpp>
#include <gatehouse/throttle.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace gatehouse::detail {

struct deployment_data {
  api_options api;
  routing::route_table routes;
  std::map<response_type, gateway_response> responses;  // the API's gateway-response overrides
  std::vector<std::string> stage_variable_refs;         // names integrations use
};

using variable_map = std::map<std::string, std::string, std::less<>>;

struct plan_state;

/// Per route of the deployment (by route index): what step 6 needs, resolved in advance.
struct route_limits {
  std::string throttle_key;                   // the method's bucket: "{apiId}/{stage}/GET /pets"
  std::optional<throttle_settings> throttle;  // the method's setting, else the stage's default
};

/// A usage plan attached to the stage, with its per-method throttles.
struct stage_plan {
  std::shared_ptr<const plan_state> plan;
  std::map<std::string, throttle_settings, std::less<>> method_throttles;  // "GET /pets" → …
  std::vector<std::optional<throttle_settings>> by_route;                  // resolved by index
};

struct stage_snapshot {
  std::string name;
  std::shared_ptr<const deployment_data> deployment;
  variable_map variables;
  client_certificate backend_certificate;     // presented to HTTPS backends
  std::optional<throttle_settings> throttle;  // default method throttling
  std::map<std::string, method_setting, std::less<>> methods;  // "GET /pets" → settings
  std::vector<stage_plan> plans;
  std::vector<route_limits> routes;  // derived from the above by resolve_settings()
};

struct stage_state {
  std::string name;
  std::mutex write_mutex;  // serialises changes; requests never take it
  std::atomic<std::shared_ptr<const stage_snapshot>> current;
  bool mounted = false;  // guarded by write_mutex: once mounted, changes are validated

  std::shared_ptr<const stage_snapshot> load() const noexcept {
    return current.load(std::memory_order_acquire);
  }
};

/// Throws config_error when `snapshot`'s deployment uses a stage variable it does not define.
void check_stage_variables(const stage_snapshot& snapshot);

/// Fills `routes` and each plan's `by_route` from the settings; throws config_error naming a
/// setting whose method the deployment lacks.
void resolve_settings(stage_snapshot& snapshot);

/// Publishes a changed copy of the stage's snapshot (as Stage's setters do).
void update_stage(stage_state& stage, const std::function<void(stage_snapshot&)>& change);

}  // namespace gatehouse::detail
