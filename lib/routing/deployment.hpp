#pragma once

// What a Router freezes into when deployed, and what a Stage serves: both immutable, shared by
// every request that uses them, replaced as a whole on redeploy.

#include "routing/route_table.hpp"

#include <gatehouse/client_certificate.hpp>
#include <gatehouse/gateway_response.hpp>
#include <gatehouse/router.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
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

struct stage_snapshot {
  std::string name;
  std::shared_ptr<const deployment_data> deployment;
  variable_map variables;
  client_certificate backend_certificate;  // presented to HTTPS backends
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

}  // namespace gatehouse::detail
