#pragma once

// The gateway's API keys: records in the store (a SHA-256 of the value, never the value), and
// an index by hash in memory for step 5, read under a shared lock.

#include "usage/plan_state.hpp"

#include <gatehouse/api_keys.hpp>
#include <gatehouse/store.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gatehouse::detail {

using key_hash = std::array<std::uint8_t, 32>;

struct key_record {
  std::string id;
  std::string name;
  std::string description;
  bool enabled = true;
  time_point created;
  key_hash hash{};
  std::vector<std::string> plan_ids;

  bool in_plan(std::string_view plan_id) const noexcept;
};

/// SHA-256 of an API key value.
key_hash hash_key(std::string_view value) noexcept;

class key_registry : public std::enable_shared_from_this<key_registry> {
 public:
  using plan_finder = std::function<std::shared_ptr<const plan_state>(std::string_view id)>;
  key_registry(std::shared_ptr<store> store, plan_finder find_plan);

  // Step 5: the record whose value this is (compared by hash, in constant time), or null.
  std::shared_ptr<const key_record> find(std::string_view value) const;
  // For a shared store: asks it for the key with this value (made by another instance) and,
  // when there is one, keeps it here, so that find() finds it. Never blocks a thread.
  asio::awaitable<void> fetch(std::string_view value);
  // For a shared store: follows the changes other instances make to the keys (made, changed,
  // removed), and reads them all again when changes may have been missed. Call once, after
  // construction (it keeps a weak reference to this registry).
  void follow_store();

  api_key create(api_key_spec spec);
  std::vector<std::string> import_csv(std::string_view csv);
  std::optional<api_key> get(std::string_view id) const;
  std::vector<api_key> list() const;
  bool enable(std::string_view id, bool enabled);
  bool remove(std::string_view id);
  void add_to_plan(std::string_view id, const std::shared_ptr<const plan_state>& plan);
  bool remove_from_plan(std::string_view id, const plan_state& plan);
  usage_report usage(const plan_state& plan, std::chrono::year_month_day from,
                     std::chrono::year_month_day to, std::optional<std::string_view> key_id) const;

  store& state_store() const noexcept { return *store_; }

 private:
  struct hash_of_hash {
    std::size_t operator()(const key_hash& h) const noexcept;
  };
  std::shared_ptr<const key_record> record(std::string_view id) const;
  // Callers hold write_mutex_.
  void publish(std::shared_ptr<const key_record> record);
  // Keeps `record` in the index (replacing the one with its id).
  void remember(std::shared_ptr<const key_record> record);
  // For a shared store: claims `record`'s value for its id (false: another instance has it).
  bool claim(const key_record& record);
  // Drops the key `id` from the index.
  void forget(std::string_view id);
  // Reads every key record again (a shared store's changes may have been missed).
  void resync();
  // A shared store's record of the key with hash `h`, kept in the index; null if none.
  std::shared_ptr<const key_record> load(const key_hash& h);
  // Throws config_error unless every plan of `record` exists (`known` need not be mounted)
  // and no two of them cover one stage.
  void check_plans(const key_record& record, std::string_view where,
                   const std::shared_ptr<const plan_state>& known = nullptr) const;

  std::shared_ptr<store> store_;
  plan_finder find_plan_;
  std::mutex write_mutex_;  // serialises changes
  mutable std::shared_mutex index_mutex_;
  std::unordered_map<key_hash, std::shared_ptr<const key_record>, hash_of_hash> by_hash_;
  std::map<std::string, std::shared_ptr<const key_record>, std::less<>> by_id_;
};

}  // namespace gatehouse::detail
