#pragma once

// A usage plan as the pipeline and the key registry see it.

#include "routing/deployment.hpp"

#include <gatehouse/usage_plan.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gatehouse::detail {

struct plan_state {
  usage_plan_options options;  // fixed once made
  std::chrono::system_clock::time_point created;
  mutable std::mutex mutex;                        // guards stages
  std::vector<std::weak_ptr<stage_state>> stages;  // where the plan is attached

  /// True if the plan is attached to `stage`.
  bool covers(const stage_state* stage) const;
};

}  // namespace gatehouse::detail
