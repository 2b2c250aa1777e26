#pragma once

#include <gatehouse/store.hpp>
#include <gatehouse/usage_plan.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse {

namespace detail {
class key_registry;
}

/// An API key as AWS's ApiKey. The store keeps only a hash of the value: `value` is filled in
/// only in the answer to create() (AWS's includeValue at creation).
struct api_key {
  std::string id{};
  std::string name{};
  std::string description{};
  bool enabled = true;
  time_point created{};
  std::vector<std::string> usage_plan_ids{};
  std::optional<std::string> value{};
};

/// What to create: the value is generated (40 random alphanumerics) unless given (20–128
/// alphanumerics, as AWS).
struct api_key_spec {
  std::string name{};
  std::string description{};
  bool enabled = true;
  std::optional<std::string> value{};
  std::vector<std::string> usage_plan_ids{};
};

/// One day of a key's usage in a report: requests counted, and what was left of the quota at
/// the end of that day (nullopt when the plan has no quota).
struct day_usage {
  std::int64_t used = 0;
  std::optional<std::int64_t> remaining{};
};

/// A usage report, as AWS's GetUsage: per API key id, one entry per day from start to end.
struct usage_report {
  std::string usage_plan_id{};
  std::chrono::year_month_day start{};
  std::chrono::year_month_day end{};
  std::map<std::string, std::vector<day_usage>> items{};
  /// {"usagePlanId":…,"startDate":"2026-11-01","endDate":…,"values":{"<keyId>":[[used,remaining],…]}}
  std::string to_json() const;
};

/// The gateway's API keys (Gateway::api_keys()): create, import, enable, delete, join plans,
/// report usage. Thread-safe; changes apply to the next request.
class ApiKeys {
 public:
  explicit ApiKeys(std::shared_ptr<detail::key_registry> registry)
      : registry_(std::move(registry)) {}

  /// Creates a key; throws config_error for a bad or duplicate value or an unknown plan id.
  api_key create(api_key_spec spec);
  /// Imports keys from AWS's CSV format (header row with Name and Key, and optionally
  /// Description, Enabled, UsagePlanIds; any order, any case). A key whose value exists is
  /// updated. All or nothing: bad rows throw one config_error naming each by line number.
  std::vector<std::string> import_csv(std::string_view csv);

  std::optional<api_key> get(std::string_view id) const;
  std::vector<api_key> list() const;
  /// Enables or disables a key; false if there is no such key.
  bool enable(std::string_view id, bool enabled = true);
  bool disable(std::string_view id) { return enable(id, false); }
  /// Deletes a key; false if there is no such key.
  bool remove(std::string_view id);

  /// Adds a key to a plan (AWS's CreateUsagePlanKey); throws config_error for an unknown key
  /// or plan, or a key that another plan already gives access to one of this plan's stages.
  void add_to_plan(std::string_view id, const UsagePlan& plan);
  bool remove_from_plan(std::string_view id, const UsagePlan& plan);

  /// Usage per key and day over [from, to] (AWS's GetUsage); one key only when `key_id` is set.
  usage_report usage(const UsagePlan& plan, std::chrono::year_month_day from,
                     std::chrono::year_month_day to,
                     std::optional<std::string_view> key_id = std::nullopt) const;

 private:
  std::shared_ptr<detail::key_registry> registry_{};
};

}  // namespace gatehouse
