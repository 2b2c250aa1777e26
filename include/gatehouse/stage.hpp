#pragma once

#include <gatehouse/client_certificate.hpp>
#include <gatehouse/router.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse {

namespace detail {
struct stage_state;
}

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
  /// Replaces the deployment this stage serves (redeploy), without dropping any request.
  Stage& deploy(Deployment deployment);

  const std::string& name() const noexcept;
  const std::shared_ptr<detail::stage_state>& state() const noexcept { return state_; }

 private:
  std::shared_ptr<detail::stage_state> state_;
};

}  // namespace gatehouse
