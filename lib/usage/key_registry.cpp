#include "usage/key_registry.hpp"
#include "util/json_parse.hpp"

#include "usage/api_key_csv.hpp"
#include "usage/quota_period.hpp"
#include "util/access.hpp"

#include <gatehouse/config_error.hpp>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace gatehouse::detail {

namespace {
constexpr std::string_view record_prefix = "apikey/";
// In a shared store, the id of the key with a value's hash: how an instance finds a key
// another one made.
constexpr std::string_view hash_prefix = "apikeyhash/";

// `n` characters drawn uniformly from `alphabet` with the system's random generator.
std::string random_text(std::size_t n, std::string_view alphabet) {
  const unsigned limit = 256 - 256 % alphabet.size();  // reject above: no bias
  std::string out;
  out.reserve(n);
  unsigned char buf[64];
  while (out.size() < n) {
    RAND_bytes(buf, sizeof buf);
    for (unsigned char b : buf)
      if (b < limit && out.size() < n) out.push_back(alphabet[b % alphabet.size()]);
  }
  return out;
}

constexpr std::string_view alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

std::string to_hex(const key_hash& h) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : h) out.push_back(digits[b >> 4]), out.push_back(digits[b & 15]);
  return out;
}

bool from_hex(std::string_view s, key_hash& h) {
  if (s.size() != 64) return false;
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < 32; ++i) {
    int hi = val(s[2 * i]), lo = val(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    h[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return true;
}

std::string serialize(const key_record& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](const std::string& s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  w.Key("id"), str(r.id);
  w.Key("name"), str(r.name);
  w.Key("description"), str(r.description);
  w.Key("enabled"), w.Bool(r.enabled);
  w.Key("createdDate"),
      w.Int64(
          std::chrono::duration_cast<std::chrono::seconds>(r.created.time_since_epoch()).count());
  w.Key("valueSha256"), str(to_hex(r.hash));
  w.Key("usagePlanIds");
  w.StartArray();
  for (const auto& p : r.plan_ids) str(p);
  w.EndArray();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::shared_ptr<key_record> deserialize(std::string_view text) {
  rapidjson::Document d;
  if (!util::parse_json(d, text) || !d.IsObject()) return nullptr;
  auto r = std::make_shared<key_record>();
  auto str = [&](const char* k, std::string& out) {
    if (!d.HasMember(k) || !d[k].IsString()) return false;
    out.assign(d[k].GetString(), d[k].GetStringLength());
    return true;
  };
  std::string hex;
  if (!str("id", r->id) || !str("name", r->name) || !str("valueSha256", hex) ||
      !from_hex(hex, r->hash))
    return nullptr;
  str("description", r->description);
  r->enabled = !d.HasMember("enabled") || !d["enabled"].IsBool() || d["enabled"].GetBool();
  if (d.HasMember("createdDate") && d["createdDate"].IsInt64())
    r->created = time_point(std::chrono::seconds(d["createdDate"].GetInt64()));
  if (d.HasMember("usagePlanIds") && d["usagePlanIds"].IsArray())
    for (const auto& p : d["usagePlanIds"].GetArray())
      if (p.IsString()) r->plan_ids.emplace_back(p.GetString(), p.GetStringLength());
  return r;
}

api_key to_api_key(const key_record& r) {
  return {r.id, r.name, r.description, r.enabled, r.created, r.plan_ids, std::nullopt};
}
}  // namespace

bool key_record::in_plan(std::string_view plan_id) const noexcept {
  return std::find(plan_ids.begin(), plan_ids.end(), plan_id) != plan_ids.end();
}

key_hash hash_key(std::string_view value) noexcept {
  key_hash h;
  SHA256(reinterpret_cast<const std::uint8_t*>(value.data()), value.size(), h.data());
  return h;
}

std::size_t key_registry::hash_of_hash::operator()(const key_hash& h) const noexcept {
  std::size_t v;
  std::memcpy(&v, h.data(), sizeof v);  // already uniformly distributed
  return v;
}

key_registry::key_registry(std::shared_ptr<store> s, plan_finder find_plan)
    : store_(std::move(s)), find_plan_(std::move(find_plan)) {
  // Keys another instance (or an earlier run, with a lasting store) put in the store. A
  // shared store that cannot answer now is asked again for each key as requests bring it.
  try {
    for (const auto& [k, v] : store_->scan(record_prefix))
      if (auto r = deserialize(v)) {
        by_hash_[r->hash] = r;
        by_id_[r->id] = r;
      }
  } catch (const store_error&) {
    if (!store_->shared()) throw;
  }
}

void key_registry::remember(std::shared_ptr<const key_record> r) {
  std::unique_lock lock(index_mutex_);
  if (auto old = by_id_.find(r->id); old != by_id_.end() && old->second->hash != r->hash)
    by_hash_.erase(old->second->hash);
  by_hash_[r->hash] = r;
  by_id_[r->id] = std::move(r);
}

bool key_registry::claim(const key_record& r) {
  if (!store_->shared()) return true;
  return store_->put_new(fmt::format("{}{}", hash_prefix, to_hex(r.hash)), r.id);
}

void key_registry::forget(std::string_view id) {
  std::unique_lock lock(index_mutex_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  by_hash_.erase(it->second->hash);
  by_id_.erase(it);
}

void key_registry::resync() {
  std::vector<std::pair<std::string, std::string>> records;
  try {
    records = store_->scan(record_prefix);
  } catch (const store_error&) {
    return;  // asked again at the next reconnect; keys unknown here are fetched meanwhile
  }
  std::set<std::string, std::less<>> ids;
  for (const auto& [k, v] : records)
    if (auto r = deserialize(v)) {
      ids.insert(r->id);
      remember(std::move(r));
    }
  std::vector<std::string> gone;
  {
    std::shared_lock lock(index_mutex_);
    for (const auto& [id, r] : by_id_)
      if (!ids.contains(id)) gone.push_back(id);
  }
  for (const auto& id : gone) forget(id);
}

void key_registry::follow_store() {
  if (!store_->shared()) return;
  store_->watch(record_prefix, [weak = weak_from_this()](std::string_view key,
                                                         std::optional<std::string_view> value) {
    auto self = weak.lock();
    if (!self) return;
    if (key.empty()) return self->resync();
    if (!value) return self->forget(key.substr(record_prefix.size()));
    if (auto r = deserialize(*value)) self->remember(std::move(r));
  });
}

std::shared_ptr<const key_record> key_registry::load(const key_hash& h) {
  if (!store_->shared()) return nullptr;
  auto id = store_->get(fmt::format("{}{}", hash_prefix, to_hex(h)));
  if (!id) return nullptr;
  auto text = store_->get(fmt::format("{}{}", record_prefix, *id));
  std::shared_ptr<const key_record> r = text ? deserialize(*text) : nullptr;
  if (!r || r->hash != h) return nullptr;
  remember(r);
  return r;
}

asio::awaitable<void> key_registry::fetch(std::string_view value) {
  const key_hash h = hash_key(value);
  auto id = co_await store_->fetch(fmt::format("{}{}", hash_prefix, to_hex(h)));
  if (!id) co_return;
  auto text = co_await store_->fetch(fmt::format("{}{}", record_prefix, *id));
  if (!text) co_return;
  auto r = deserialize(*text);
  if (r && r->hash == h) remember(std::move(r));
}

std::shared_ptr<const key_record> key_registry::find(std::string_view value) const {
  const key_hash h = hash_key(value);
  std::shared_lock lock(index_mutex_);
  auto it = by_hash_.find(h);
  if (it == by_hash_.end()) return nullptr;
  // The table found it by hash; compare the whole hash again in constant time.
  if (CRYPTO_memcmp(it->first.data(), h.data(), h.size()) != 0) return nullptr;
  return it->second;
}

void key_registry::publish(std::shared_ptr<const key_record> r) {
  store_->put(fmt::format("{}{}", record_prefix, r->id), serialize(*r));
  if (store_->shared()) store_->put(fmt::format("{}{}", hash_prefix, to_hex(r->hash)), r->id);
  remember(std::move(r));
}

void key_registry::check_plans(const key_record& r, std::string_view where,
                               const std::shared_ptr<const plan_state>& known) const {
  std::vector<std::shared_ptr<const plan_state>> plans;
  for (std::size_t i = 0; i < r.plan_ids.size(); ++i) {
    const auto& id = r.plan_ids[i];
    if (std::find(r.plan_ids.begin(), r.plan_ids.begin() + i, id) != r.plan_ids.begin() + i)
      throw config_error(fmt::format("{}: usage plan '{}' is named twice", where, id));
    auto p = known && known->options.id == id ? known : find_plan_(id);
    if (!p) {
      if (known) continue;  // adding to `known`: plans the key is in already stay as they are
      throw config_error(
          fmt::format("{}: usage plan '{}' is not attached to a stage of this gateway", where, id));
    }
    plans.push_back(std::move(p));
  }
  // A key may be in only one plan per stage (AWS's rule).
  for (std::size_t i = 0; i < plans.size(); ++i)
    for (std::size_t j = i + 1; j < plans.size(); ++j) {
      std::lock_guard a(plans[i]->mutex);
      for (const auto& w : plans[i]->stages) {
        auto st = w.lock();
        if (st && plans[j]->covers(st.get()))
          throw config_error(fmt::format(
              "{}: usage plans '{}' and '{}' both cover stage '{}'; a key may be in one plan per "
              "stage",
              where, plans[i]->options.id, plans[j]->options.id, st->name));
      }
    }
}

api_key key_registry::create(api_key_spec spec) {
  std::lock_guard lock(write_mutex_);
  const std::string where = fmt::format("API key '{}'", spec.name);
  if (spec.name.empty() || spec.name.size() > 1024)
    throw config_error("API key: a name of 1 to 1024 characters is required");
  std::string value = spec.value ? *spec.value : random_text(40, alnum);
  if (!usage::valid_key_value(value))
    throw config_error(fmt::format("{}: a value is 20 to 128 letters and digits", where));
  auto r = std::make_shared<key_record>();
  r->hash = hash_key(value);
  bool taken;
  {
    std::shared_lock ilock(index_mutex_);
    taken = by_hash_.contains(r->hash);
  }
  if (taken || load(r->hash))
    throw config_error(fmt::format("{}: another key has this value", where));
  do r->id = random_text(10, "abcdefghijklmnopqrstuvwxyz0123456789");
  while (by_id_.contains(r->id));
  // Another instance may make a key of this value at the same moment: the first to claim the
  // value's hash has it.
  if (!claim(*r)) throw config_error(fmt::format("{}: another key has this value", where));
  r->name = std::move(spec.name);
  r->description = std::move(spec.description);
  r->enabled = spec.enabled;
  r->created = std::chrono::system_clock::now();
  r->plan_ids = std::move(spec.usage_plan_ids);
  check_plans(*r, where);
  publish(r);
  api_key out = to_api_key(*r);
  out.value = std::move(value);
  return out;
}

std::vector<std::string> key_registry::import_csv(std::string_view csv) {
  std::lock_guard lock(write_mutex_);
  auto file = usage::parse_key_csv(csv);
  // Check everything first: nothing is imported unless every row is good.
  std::vector<std::shared_ptr<key_record>> records;
  for (const auto& row : file.rows) {
    auto r = std::make_shared<key_record>();
    r->hash = hash_key(row.key);
    std::shared_ptr<const key_record> same;
    {
      std::shared_lock ilock(index_mutex_);
      if (auto it = by_hash_.find(r->hash); it != by_hash_.end()) same = it->second;
    }
    if (!same) same = load(r->hash);  // made by another instance
    if (same) {                       // the same key: update it
      r->id = same->id;
      r->created = same->created;
    }
    if (r->id.empty()) {
      do r->id = random_text(10, "abcdefghijklmnopqrstuvwxyz0123456789");
      while (by_id_.contains(r->id));
      r->created = std::chrono::system_clock::now();
      // Another instance importing the same key at the same moment: the first to claim the
      // value's hash made it, and this import updates that one.
      if (!claim(*r)) {
        if (auto other = load(r->hash)) {
          r->id = other->id;
          r->created = other->created;
        } else if (auto id = store_->get(fmt::format("{}{}", hash_prefix, to_hex(r->hash)))) {
          r->id = *id;  // claimed, its record not written yet: this import writes it
        }
      }
    }
    r->name = row.name;
    r->description = row.description;
    r->enabled = row.enabled;
    r->plan_ids = row.plan_ids;
    try {
      check_plans(*r, fmt::format("line {}", row.line));
    } catch (const config_error& e) {
      file.errors.emplace_back(e.what());
      continue;
    }
    records.push_back(std::move(r));
  }
  if (!file.errors.empty())
    throw config_error(fmt::format("API key import: nothing imported; {}",
                                   fmt::format("{}", fmt::join(file.errors, "; "))));
  std::vector<std::string> ids;
  for (auto& r : records) {
    ids.push_back(r->id);
    publish(std::move(r));
  }
  return ids;
}

std::shared_ptr<const key_record> key_registry::record(std::string_view id) const {
  std::shared_lock lock(index_mutex_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::optional<api_key> key_registry::get(std::string_view id) const {
  std::shared_lock lock(index_mutex_);
  if (auto it = by_id_.find(id); it != by_id_.end()) return to_api_key(*it->second);
  return std::nullopt;
}

std::vector<api_key> key_registry::list() const {
  std::shared_lock lock(index_mutex_);
  std::vector<api_key> out;
  for (const auto& [id, r] : by_id_) out.push_back(to_api_key(*r));
  return out;
}

bool key_registry::enable(std::string_view id, bool enabled) {
  std::lock_guard lock(write_mutex_);
  auto old = record(id);
  if (!old) return false;
  auto r = std::make_shared<key_record>(*old);
  r->enabled = enabled;
  publish(std::move(r));
  return true;
}

bool key_registry::remove(std::string_view id) {
  std::lock_guard lock(write_mutex_);
  std::unique_lock ilock(index_mutex_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return false;
  const key_hash h = it->second->hash;
  by_hash_.erase(h);
  by_id_.erase(it);
  ilock.unlock();
  store_->erase(fmt::format("{}{}", record_prefix, id));
  if (store_->shared()) store_->erase(fmt::format("{}{}", hash_prefix, to_hex(h)));
  return true;
}

void key_registry::add_to_plan(std::string_view id, const std::shared_ptr<const plan_state>& plan) {
  std::lock_guard lock(write_mutex_);
  auto old = record(id);
  if (!old) throw config_error(fmt::format("API key '{}': no such key", id));
  if (old->in_plan(plan->options.id)) return;
  auto r = std::make_shared<key_record>(*old);
  r->plan_ids.push_back(plan->options.id);
  // The plan need not be on a mounted stage yet: check against it directly.
  check_plans(*r, fmt::format("API key '{}'", old->name), plan);
  publish(std::move(r));
}

bool key_registry::remove_from_plan(std::string_view id, const plan_state& plan) {
  std::lock_guard lock(write_mutex_);
  auto old = record(id);
  if (!old) return false;
  if (!old->in_plan(plan.options.id)) return false;
  auto r = std::make_shared<key_record>(*old);
  std::erase(r->plan_ids, plan.options.id);
  publish(std::move(r));
  return true;
}

usage_report key_registry::usage(const plan_state& plan, std::chrono::year_month_day from,
                                 std::chrono::year_month_day to,
                                 std::optional<std::string_view> key_id) const {
  using std::chrono::days;
  using std::chrono::sys_days;
  if (!from.ok() || !to.ok() || sys_days{to} < sys_days{from})
    throw config_error("usage report: the start date must be a date on or before the end date");
  if (sys_days{to} - sys_days{from} > days{366})
    throw config_error("usage report: at most 366 days at a time");
  usage_report report;
  report.usage_plan_id = plan.options.id;
  report.start = from;
  report.end = to;
  std::vector<std::shared_ptr<const key_record>> keys;
  {
    std::shared_lock lock(index_mutex_);
    for (const auto& [id, r] : by_id_)
      if (r->in_plan(plan.options.id) && (!key_id || *key_id == id)) keys.push_back(r);
  }
  const auto now = std::chrono::system_clock::now();
  for (const auto& k : keys) {
    auto used_on = [&](sys_days d) {
      return store_->counter(
          fmt::format("usage/{}/{}/{}", plan.options.id, k->id, usage::day_text(d)), now);
    };
    auto& days_out = report.items[k->id];
    for (sys_days d = sys_days{from}; d <= sys_days{to}; d += days{1}) {
      day_usage u;
      u.used = used_on(d);
      if (plan.options.quota) {
        auto w = usage::period_at(plan.options.quota->period, d);
        std::int64_t used_in_period = 0;
        for (sys_days p = std::chrono::floor<days>(w.start); p <= d; p += days{1})
          used_in_period += p == d ? u.used : used_on(p);
        u.remaining = std::max<std::int64_t>(
            0, usage::limit_in(*plan.options.quota, plan.created, w) - used_in_period);
      }
      days_out.push_back(u);
    }
  }
  return report;
}

}  // namespace gatehouse::detail

namespace gatehouse {

std::string usage_report::to_json() const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](const std::string& s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  w.Key("usagePlanId"), str(usage_plan_id);
  w.Key("startDate"), str(usage::day_text(start));
  w.Key("endDate"), str(usage::day_text(end));
  w.Key("values");
  w.StartObject();
  for (const auto& [id, days] : items) {
    w.Key(id.data(), static_cast<rapidjson::SizeType>(id.size()));
    w.StartArray();
    for (const auto& d : days) {
      w.StartArray();
      w.Int64(d.used);
      if (d.remaining)
        w.Int64(*d.remaining);
      else
        w.Null();
      w.EndArray();
    }
    w.EndArray();
  }
  w.EndObject();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

api_key ApiKeys::create(api_key_spec spec) { return registry_->create(std::move(spec)); }
std::vector<std::string> ApiKeys::import_csv(std::string_view csv) {
  return registry_->import_csv(csv);
}
std::optional<api_key> ApiKeys::get(std::string_view id) const { return registry_->get(id); }
std::vector<api_key> ApiKeys::list() const { return registry_->list(); }
bool ApiKeys::enable(std::string_view id, bool enabled) { return registry_->enable(id, enabled); }
bool ApiKeys::remove(std::string_view id) { return registry_->remove(id); }
void ApiKeys::add_to_plan(std::string_view id, const UsagePlan& plan) {
  registry_->add_to_plan(id, detail::access::state(plan));
}
bool ApiKeys::remove_from_plan(std::string_view id, const UsagePlan& plan) {
  return registry_->remove_from_plan(id, *detail::access::state(plan));
}
usage_report ApiKeys::usage(const UsagePlan& plan, std::chrono::year_month_day from,
                            std::chrono::year_month_day to,
                            std::optional<std::string_view> key_id) const {
  return registry_->usage(*detail::access::state(plan), from, to, key_id);
}

}  // namespace gatehouse
