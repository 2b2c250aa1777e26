#pragma once

#include <stdexcept>
#include <string>

namespace gatehouse {

/// Thrown at composition time (building routes, stages, listeners) for a bad configuration.
/// The message names the offending item. Never thrown on the per-request path.
class config_error : public std::runtime_error {
 public:
  explicit config_error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace gatehouse
