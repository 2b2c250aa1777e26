#include "cache/stage_cache.hpp"
#include "observe/stage_access_log.hpp"
#include "routing/deployment.hpp"
#include "routing/stage_variables.hpp"
#include "throttle/token_bucket.hpp"
#include "util/access.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/stage.hpp>

#include <openssl/rand.h>

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

void resolve_settings(stage_state& st, stage_snapshot& s) {
  const auto& table = s.deployment->routes;
  const std::string& api_id = s.deployment->api.id;
  for (const auto& [key, setting] : s.methods)
    if (!table.find(key))
      throw config_error(
          fmt::format("stage '{}': method setting for '{}', a method the deployment lacks (name "
                      "it as routed, e.g. \"GET /pets\")",
                      s.name, key));
  s.cache_namespace = fmt::format("{}/{}", api_id, s.name);
  s.routes.assign(table.size(), {});
  s.counters.assign(table.size(), nullptr);
  for (std::size_t i = 0; i < table.size(); ++i) {
    auto& r = s.routes[i];
    const std::string& key = table.key(i);
    r.throttle_key = fmt::format("throttle/{}/{}/{}", api_id, s.name, key);
    auto m = s.methods.find(key);
    const method_setting* ms = m != s.methods.end() ? &m->second : nullptr;
    r.throttle = ms && ms->throttle ? ms->throttle : s.throttle;
    r.metrics_enabled = ms && ms->metrics_enabled ? *ms->metrics_enabled : s.metrics_enabled;
    if (s.cache) {
      r.cache_ttl = ms && ms->cache_ttl ? *ms->cache_ttl : s.cache->ttl;
      r.cache_all_methods = ms && ms->caching.value_or(false);
      r.cached = (!ms || ms->caching.value_or(true)) && r.cache_ttl.count() > 0;
      r.cache_encrypted = ms && ms->cache_encrypted ? *ms->cache_encrypted : s.cache->encrypted;
      if (r.cached) cache::prepare_keys(s.cache_namespace, key, table.options(i), r);
    }
    auto& c = st.counters[key];
    if (!c) c = std::make_unique<cache_counters>();
    s.counters[i] = c.get();
  }
  for (auto& p : s.plans) {
    p.by_route.assign(table.size(), std::nullopt);
    for (const auto& [key, limit] : p.method_throttles) {
      auto i = table.find(key);
      if (!i)
        throw config_error(fmt::format(
            "usage plan on stage '{}': throttle for '{}', a method the deployment lacks", s.name,
            key));
      p.by_route[*i] = limit;
    }
  }
}

// Applies `change` to a copy of the current snapshot and publishes it; requests in flight
// keep the snapshot they started with.
void update_stage(stage_state& st, const std::function<void(stage_snapshot&)>& change) {
  std::lock_guard lock(st.write_mutex);
  auto next = std::make_shared<stage_snapshot>(*st.load());
  change(*next);
  resolve_settings(st, *next);
  if (st.mounted) check_stage_variables(*next);
  st.current.store(std::move(next), std::memory_order_release);
}
}  // namespace detail

namespace {
bool valid_stage_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

void update(detail::stage_state& st, const std::function<void(detail::stage_snapshot&)>& change) {
  detail::update_stage(st, change);
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
  snap->deployment = detail::access::share(deployment);
  state_->name = std::move(name);
  detail::resolve_settings(*state_, *snap);
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

Stage& Stage::throttle(std::optional<throttle_settings> limits) {
  if (limits) throttle::check_settings(*limits, fmt::format("stage '{}': throttle", state_->name));
  update(*state_, [&](detail::stage_snapshot& s) { s.throttle = limits; });
  return *this;
}

Stage& Stage::tracing(bool enabled) {
  update(*state_, [&](detail::stage_snapshot& s) { s.tracing = enabled; });
  return *this;
}

Stage& Stage::method(std::string_view route, method_setting setting) {
  if (setting.cache_ttl && (setting.cache_ttl->count() < 0 || setting.cache_ttl->count() > 3600))
    throw config_error(fmt::format("stage '{}': method '{}': cache TTL {} s — use 0 to 3600 s",
                                   state_->name, route, setting.cache_ttl->count()));
  if (setting.throttle)
    throttle::check_settings(*setting.throttle,
                             fmt::format("stage '{}': method '{}': throttle", state_->name, route));
  update(*state_, [&](detail::stage_snapshot& s) { s.methods[std::string(route)] = setting; });
  return *this;
}

Stage& Stage::cache(std::optional<cache_settings> settings) {
  std::array<std::uint8_t, 32> key{};
  if (settings) {
    const auto where = fmt::format("stage '{}': cache", state_->name);
    if (settings->ttl.count() < 0 || settings->ttl.count() > 3600)
      throw config_error(fmt::format("{}: TTL {} s — use 0 to 3600 s (0 caches nothing)", where,
                                     settings->ttl.count()));
    if (settings->capacity_bytes == 0)
      throw config_error(fmt::format("{}: a capacity of 0 bytes holds nothing", where));
    if (settings->encryption_key)
      key = *settings->encryption_key;
    else if (auto now = state_->load(); now->cache)
      key = now->cache_key;  // changed settings keep the entries they encrypted readable
    else
      RAND_bytes(key.data(), key.size());
  }
  update(*state_, [&](detail::stage_snapshot& s) {
    s.cache = std::move(settings);
    s.cache_key = key;
  });
  return *this;
}

std::vector<cache_metrics> Stage::cache_statistics() const {
  std::lock_guard lock(state_->write_mutex);
  std::vector<cache_metrics> out;
  for (const auto& [key, c] : state_->counters)
    out.push_back(
        {key, c->hits.load(std::memory_order_relaxed), c->misses.load(std::memory_order_relaxed)});
  return out;
}

Stage& Stage::metrics_enabled(bool on) {
  update(*state_, [&](detail::stage_snapshot& s) { s.metrics_enabled = on; });
  return *this;
}

Stage& Stage::deploy(Deployment deployment) {
  if (!deployment) throw config_error(fmt::format("stage '{}': no deployment", state_->name));
  update(*state_, [&](detail::stage_snapshot& s) {
    s.deployment = detail::access::share(deployment);
    s.access_log = observe::access_log_for(s.access_log, s.deployment->api.type, s.name);
  });
  return *this;
}

}  // namespace gatehouse
