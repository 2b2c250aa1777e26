#include "routing/deployment.hpp"
#include "routing/stage_variables.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/stage.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace gatehouse {

namespace detail {
void check_stage_variables(const stage_snapshot& s) {
  for (const auto& name : s.deployment->stage_variable_refs)
    if (!s.variables.contains(name))
      throw config_error(fmt::format(
          "stage '{}': an integration uses ${{stageVariables.{}}}, which the stage does not define",
          s.name, name));
}
}  // namespace detail

namespace {
bool valid_stage_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// Applies `change` to a copy of the current snapshot and publishes it; requests in flight
// keep the snapshot they started with.
template <class F>
void update(detail::stage_state& st, F&& change) {
  std::lock_guard lock(st.write_mutex);
  auto next = std::make_shared<detail::stage_snapshot>(*st.load());
  change(*next);
  if (st.mounted) detail::check_stage_variables(*next);
  st.current.store(std::move(next), std::memory_order_release);
}
}  // namespace

Stage::Stage(std::string name, Deployment deployment)
    : state_(std::make_shared<detail::stage_state>()) {
  if (!valid_stage_name(name))
    throw config_error(
        fmt::format("stage name '{}': use 1 to 128 characters of A-Z a-z 0-9 _ -", name));
  if (!deployment) throw config_error(fmt::format("stage '{}': no deployment", name));
  auto snap = std::make_shared<detail::stage_snapshot>();
  snap->name = name;
  snap->deployment = deployment.share();
  state_->name = std::move(name);
  state_->current.store(std::move(snap));
}

const std::string& Stage::name() const noexcept { return state_->name; }

Stage& Stage::variable(std::string name, std::string value) {
  if (!routing::valid_stage_variable_name(name))
    throw config_error(
        fmt::format("stage '{}': stage variable name '{}': use A-Z a-z 0-9 _", state_->name, name));
  update(*state_, [&](detail::stage_snapshot& s) { s.variables[name] = std::move(value); });
  return *this;
}

std::optional<std::string> Stage::variable(std::string_view name) const {
  auto snap = state_->load();
  if (auto it = snap->variables.find(name); it != snap->variables.end()) return it->second;
  return std::nullopt;
}

Stage& Stage::backend_certificate(client_certificate certificate) {
  update(*state_,
         [&](detail::stage_snapshot& s) { s.backend_certificate = std::move(certificate); });
  return *this;
}

Stage& Stage::deploy(Deployment deployment) {
  if (!deployment) throw config_error(fmt::format("stage '{}': no deployment", state_->name));
  update(*state_, [&](detail::stage_snapshot& s) { s.deployment = deployment.share(); });
  return *this;
}

}  // namespace gatehouse
