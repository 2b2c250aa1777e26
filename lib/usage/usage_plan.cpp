#include "throttle/token_bucket.hpp"
#include "usage/plan_state.hpp"
#include "util/access.hpp"
#include "websocket/api_host.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/usage_plan.hpp>

#include <openssl/rand.h>

#include <fmt/format.h>

#include <algorithm>

namespace gatehouse {

namespace detail {
bool plan_state::covers(const stage_state* stage) const {
  std::lock_guard lock(mutex);
  return std::any_of(stages.begin(), stages.end(),
                     [&](const auto& w) { return w.lock().get() == stage; });
}
}  // namespace detail

namespace {
// AWS's usage plan ids are 6 lower-case alphanumerics.
std::string make_plan_id() {
  static constexpr char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string id(6, 'a');
  for (auto& c : id) {
    unsigned char r = 0;
    do RAND_bytes(&r, 1);
    while (r >= 252);  // 252 = 7 × 36: no bias
    c = chars[r % 36];
  }
  return id;
}

bool valid_plan_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}
}  // namespace

UsagePlan::UsagePlan(usage_plan_options options) : state_(std::make_shared<detail::plan_state>()) {
  if (options.id.empty()) options.id = make_plan_id();
  std::string what =
      fmt::format("usage plan '{}'", options.name.empty() ? options.id : options.name);
  if (!valid_plan_id(options.id))
    throw config_error(
        fmt::format("{}: id '{}' — use 1 to 64 characters of A-Z a-z 0-9 _ -", what, options.id));
  if (options.throttle) throttle::check_settings(*options.throttle, what + ": throttle");
  if (options.quota) {
    if (options.quota->limit < 0)
      throw config_error(
          fmt::format("{}: quota limit {} — use 0 or more requests", what, options.quota->limit));
    if (options.quota->offset < 0 || options.quota->offset > options.quota->limit)
      throw config_error(fmt::format("{}: quota offset {} — use 0 to the limit ({})", what,
                                     options.quota->offset, options.quota->limit));
  }
  state_->options = std::move(options);
  state_->created = std::chrono::system_clock::now();
}

const std::string& UsagePlan::id() const noexcept { return state_->options.id; }
const usage_plan_options& UsagePlan::options() const noexcept { return state_->options; }
std::chrono::system_clock::time_point UsagePlan::created() const noexcept {
  return state_->created;
}

UsagePlan& UsagePlan::attach(Stage& stage,
                             std::map<std::string, throttle_settings> method_throttles) {
  const auto& st = detail::access::state(stage);
  for (const auto& [route, limit] : method_throttles)
    throttle::check_settings(limit, fmt::format("usage plan '{}' on stage '{}': method '{}'", id(),
                                                stage.name(), route));
  detail::update_stage(*st, [&](detail::stage_snapshot& s) {
    auto it = std::find_if(s.plans.begin(), s.plans.end(),
                           [&](const auto& p) { return p.plan == state_; });
    if (it == s.plans.end()) it = s.plans.insert(s.plans.end(), detail::stage_plan{state_, {}, {}});
    it->method_throttles.clear();
    for (auto& [route, limit] : method_throttles) it->method_throttles.emplace(route, limit);
  });
  std::lock_guard lock(state_->mutex);
  std::erase_if(state_->stages, [](const auto& w) { return w.expired(); });
  if (std::none_of(state_->stages.begin(), state_->stages.end(),
                   [&](const auto& w) { return w.lock() == st; }))
    state_->stages.push_back(st);
  return *this;
}

UsagePlan& UsagePlan::attach(WebSocketStage& stage) {
  return attach(*detail::access::state(stage)->routes);
}

}  // namespace gatehouse
