#pragma once

#include <gatehouse/stage.hpp>
#include <gatehouse/throttle.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse {

class WebSocketStage;

namespace detail {
struct plan_state;
struct access;  // the library's own way to what the public types keep private
}  // namespace detail

/// AWS's QuotaSettings: at most `limit` requests per period and API key; `offset` requests
/// fewer in the period in which the plan was made. Exhausted → 429 QUOTA_EXCEEDED.
struct quota_settings {
  std::int64_t limit = 0;
  quota_period period = quota_period::day;
  std::int64_t offset = 0;
};

/// Settings of a usage plan.
struct usage_plan_options {
  std::string name{};
  std::string id{};  ///< generated when empty (AWS-style, 6 characters)
  std::string description{};
  std::optional<throttle_settings> throttle{};  ///< per API key, across all the plan's stages
  std::optional<quota_settings> quota{};        ///< per API key, across all the plan's stages
};

/// A usage plan (AWS's UsagePlan): which stages API keys may call and how much. It applies to
/// methods that require an API key (`method_options::api_key_required`). Copies share one plan.
class UsagePlan {
 public:
  /// Throws config_error for a negative or otherwise bad limit, or a bad id.
  explicit UsagePlan(usage_plan_options options);

  /// Applies the plan to a stage; `method_throttles` (keyed "GET /pets") limit each API key on
  /// those methods, on top of the plan's own throttle. Throws config_error for a method the
  /// stage does not serve, a bad limit, or a second plan sharing a key … (checked when keys join).
  UsagePlan& attach(Stage& stage, std::map<std::string, throttle_settings> method_throttles = {});
  /// Applies the plan to a WebSocket stage: its keys may open connections when the stage's
  /// $connect needs an API key (websocket_stage_options::api_key_required).
  UsagePlan& attach(WebSocketStage& stage);

  const std::string& id() const noexcept;
  const usage_plan_options& options() const noexcept;
  /// When the plan was made: the quota's first period is shortened by `offset`.
  std::chrono::system_clock::time_point created() const noexcept;

 private:
  friend struct detail::access;
  const std::shared_ptr<detail::plan_state>& state() const noexcept { return state_; }
  std::shared_ptr<detail::plan_state> state_{};
};

}  // namespace gatehouse
