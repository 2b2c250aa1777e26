#include "cache/stage_cache.hpp"

#include "auth/authorization.hpp"
#include "auth/evaluate.hpp"
#include "cache/cached_response.hpp"
#include "routing/route_table.hpp"

#include <gatehouse/gateway.hpp>

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <charconv>

namespace gatehouse {

namespace cache {

struct flight {
  std::string key;
  std::mutex mutex;
  bool done = false;
  std::optional<response> result;
  std::vector<detail::callback<std::optional<response>>> waiters;
};

}  // namespace cache

detail::exchange::cache_use::cache_use() = default;
detail::exchange::cache_use::~cache_use() = default;

namespace cache {

namespace {
// AWS grants invalidation by IAM policy: here the policy the method's authorizer returned must
// allow execute-api:InvalidateCache on the method's ARN.
bool policy_allows_invalidation(const detail::exchange& ex) {
  if (!ex.auth || !ex.auth->policy_document || ex.method_arn.empty()) return false;
  auto facts = auth::facts_of(ex);
  facts.action = "execute-api:InvalidateCache";
  return ex.auth->policy_document->evaluate(facts) == auth::decision::allow;
}

constexpr std::size_t max_entry_body = 1'048'576;  // AWS: a cached response is at most 1 MB
constexpr const char* unauthorized_warning =
    "199 - \"Cache-control headers were ignored because the caller was unauthorized.\"";

// `v` contains `token` as a comma-separated directive, case-insensitively (max-age=0, no-store).
bool has_directive(std::string_view v, std::string_view token) {
  while (!v.empty()) {
    auto comma = v.find(',');
    auto part = v.substr(0, comma);
    while (!part.empty() && (part.front() == ' ' || part.front() == '\t')) part.remove_prefix(1);
    while (!part.empty() && (part.back() == ' ' || part.back() == '\t')) part.remove_suffix(1);
    if (iequals(part, token)) return true;
    if (token == "private" && part.size() > 7 && iequals(part.substr(0, 8), "private="))
      return true;
    v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
  }
  return false;
}

bool asks_invalidation(const request& req) {
  for (const auto& f : req.headers)
    if (iequals(f.name, "Cache-Control") && has_directive(f.value, "max-age=0")) return true;
  return false;
}

bool keepable(const detail::exchange& ex, const detail::outcome& out) {
  if (out.error || ex.stream) return false;
  const auto& r = out.res;
  if (r.status < 200 || r.status > 299 || r.body.size() > max_entry_body) return false;
  for (const auto& f : r.headers) {
    if (iequals(f.name, "Set-Cookie")) return false;
    if (iequals(f.name, "Cache-Control") &&
        (has_directive(f.value, "no-store") || has_directive(f.value, "private")))
      return false;
  }
  return true;
}

// A length before each part, so that no two different requests can make one key.
void append_part(std::string& key, std::string_view part) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, part.size()).ptr;
  key.append(digits, end).push_back(':');
  key.append(part);
}

// Appends the last value of query parameter `name` in the raw query (decoded, as integrations
// see it); false if there is none. Decodes only what it must.
bool append_query_value(std::string& key, std::string_view query, std::string_view name) {
  std::string_view last;
  bool found = false, encoded = false;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = part.find('=');
    auto n = part.substr(0, eq);
    const bool n_encoded = n.find_first_of("%+") != std::string_view::npos;
    if (n_encoded ? routing::percent_decode(n, true) != name : n != name) continue;
    found = true;
    last = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
    encoded = last.find_first_of("%+") != std::string_view::npos;
  }
  if (!found) return false;
  append_part(key, encoded ? std::string_view(routing::percent_decode(last, true)) : last);
  return true;
}

// The stage's namespace + method + resource + the method's cache key parameters, as AWS keys
// the stage cache. A parameter given twice counts with its last value, as integrations see it.
void make_key(detail::exchange& ex) {
  auto& key = ex.cache.key;
  key.reserve(64 + ex.stage->cache_namespace.size() + ex.match.resource.size() + ex.query.size());
  append_part(key, ex.stage->cache_namespace);  // concurrent misses of two stages never merge
  append_part(key, ex.req.method);
  append_part(key, ex.match.resource);
  for (const auto& p : ex.match.options->cache_key_parameters) {
    std::string_view spec = p;
    spec.remove_prefix(std::string_view("method.request.").size());
    append_part(key, spec);
    std::optional<std::string_view> value;
    if (spec.starts_with("path.")) {
      value = ex.path_param(spec.substr(5));
    } else if (spec.starts_with("header.")) {
      for (const auto& f : ex.req.headers)
        if (iequals(f.name, spec.substr(7))) value = f.value;
    } else {  // querystring.
      if (!append_query_value(key, ex.query, spec.substr(12))) key.push_back('-');
      continue;
    }
    if (value)
      append_part(key, *value);
    else
      key.push_back('-');  // absent differs from empty
  }
}

void finish_hit(detail::exchange& ex, response& res, bool header) {
  if (header) res.headers.add("x-cache", "Hit");
  if (ex.cache.warning) res.headers.add("Warning", ex.cache.warning);
  ex.stage->counters[ex.match.index]->hits.fetch_add(1, std::memory_order_relaxed);
}

// Waits for the leader of `f` (which the caller keeps alive): its response, or nullopt when it
// had nothing to share. The initiation holds a plain pointer and is a named object: GCC 12
// destroys a temporary function object passed into a coroutine twice, which must not matter.
asio::awaitable<std::optional<response>> wait_for(flight* f) {
  auto initiation = [f](auto handler) {
    auto ex = asio::get_associated_executor(handler);
    auto deliver = [ex](auto h, std::optional<response> r) {
      asio::post(ex,
                 [h = std::move(h), r = std::move(r)]() mutable { std::move(h)(std::move(r)); });
    };
    std::unique_lock lock(f->mutex);
    if (f->done) {
      auto r = f->result;
      lock.unlock();
      deliver(std::move(handler), std::move(r));
      return;
    }
    f->waiters.emplace_back([h = std::move(handler), deliver](std::optional<response> r) mutable {
      deliver(std::move(h), std::move(r));
    });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable),
                                          void(std::optional<response>)>(initiation,
                                                                         asio::use_awaitable);
}
}  // namespace

flight_table::shard& flight_table::shard_of(const std::string& key) noexcept {
  return shards_[std::hash<std::string>{}(key) % shards_.size()];
}

std::pair<std::shared_ptr<flight>, bool> flight_table::join(const std::string& key) {
  auto& sh = shard_of(key);
  std::lock_guard lock(sh.mutex);
  auto [it, fresh] = sh.flights.try_emplace(key);
  if (fresh) {
    it->second = std::make_shared<flight>();
    it->second->key = key;
  }
  return {it->second, fresh};
}

void flight_table::finish(const std::shared_ptr<flight>& f, std::optional<response> res) {
  {
    auto& sh = shard_of(f->key);
    std::lock_guard lock(sh.mutex);
    if (auto it = sh.flights.find(f->key); it != sh.flights.end() && it->second == f)
      sh.flights.erase(it);
  }
  std::vector<detail::callback<std::optional<response>>> waiters;
  {
    std::lock_guard lock(f->mutex);
    if (f->done) return;
    f->done = true;
    f->result = res;
    waiters.swap(f->waiters);
  }
  for (auto& w : waiters) w(res);
}

lease::~lease() {
  if (fl) table.finish(fl, std::nullopt);
}

void lease::finish(std::optional<response> res) {
  table.finish(fl, std::move(res));
  fl.reset();
}

bool applies(const detail::exchange& ex) noexcept {
  if (!ex.stage->cache) return false;
  const auto& rs = ex.stage->routes[ex.match.index];
  return rs.cached && (rs.cache_all_methods || ex.req.method == "GET");
}

bool try_lookup(detail::exchange& ex, store& s, flight_table& flights,
                std::optional<detail::outcome>& hit) {
  if (asks_invalidation(ex.req)) return false;  // rare: lookup() decides
  const auto& settings = *ex.stage->cache;
  const auto& rs = ex.stage->routes[ex.match.index];
  auto& c = ex.cache;
  c.active = true;
  ex.may_stream = false;
  make_key(ex);
  const cache_key_bytes* crypt = rs.cache_encrypted ? &ex.stage->cache_key : nullptr;
  auto found = s.try_cache_get(ex.stage->cache_namespace, c.key, ex.start);
  if (found.state == cache_lookup::outcome::pending) return false;
  if (found.state == cache_lookup::outcome::hit) {
    if (auto res = decode(*found.data, crypt, c.key)) {
      finish_hit(ex, *res, settings.hit_header);
      hit.emplace(detail::outcome{std::move(*res), std::nullopt});
      return true;
    }
  }
  auto [f, leader] = flights.join(c.key);
  if (!leader) {  // lookup() waits for the leader
    c.follow = std::move(f);
    return false;
  }
  c.lease = std::make_unique<lease>(flights, std::move(f));
  c.fill = true;
  ex.stage->counters[ex.match.index]->misses.fetch_add(1, std::memory_order_relaxed);
  return true;
}

asio::awaitable<std::optional<detail::outcome>> lookup(detail::exchange& ex, store& s,
                                                       flight_table& flights) {
  const auto& settings = *ex.stage->cache;
  const auto& rs = ex.stage->routes[ex.match.index];
  auto& c = ex.cache;
  c.active = true;
  ex.may_stream = false;  // a cached method's response is kept whole (up to 1 MB)
  make_key(ex);

  if (asks_invalidation(ex.req)) {
    const bool allowed = !settings.require_authorization || policy_allows_invalidation(ex) ||
                         (settings.authorize_invalidation &&
                          settings.authorize_invalidation(cache_invalidation{
                              ex.stage->name, ex.match.method, ex.match.resource, ex.req}));
    if (allowed) {  // straight to the integration; its response replaces the entry
      c.fill = true;
      ex.stage->counters[ex.match.index]->misses.fetch_add(1, std::memory_order_relaxed);
      co_return std::nullopt;
    }
    switch (settings.unauthorized) {
      case cache_control_strategy::fail_with_403:
        co_return detail::outcome{{}, detail::gateway_error{response_type::access_denied}};
      case cache_control_strategy::ignore_with_warning:
        c.warning = unauthorized_warning;
        break;
      case cache_control_strategy::ignore:
        break;
    }
  }

  if (c.follow) {  // try_lookup() found a miss another request leads: wait for it
    auto f = std::move(c.follow);
    if (auto res = co_await wait_for(f.get())) {
      finish_hit(ex, *res, settings.hit_header);
      co_return detail::outcome{std::move(*res), std::nullopt};
    }
    c.fill = true;
    ex.stage->counters[ex.match.index]->misses.fetch_add(1, std::memory_order_relaxed);
    co_return std::nullopt;
  }
  const cache_key_bytes* crypt = rs.cache_encrypted ? &ex.stage->cache_key : nullptr;
  auto found = s.try_cache_get(ex.stage->cache_namespace, c.key, ex.start);
  if (found.state == cache_lookup::outcome::pending)
    found = co_await s.cache_get(ex.stage->cache_namespace, c.key, ex.start);
  if (found.state == cache_lookup::outcome::hit) {
    if (auto res = decode(*found.data, crypt, c.key)) {
      finish_hit(ex, *res, settings.hit_header);
      co_return detail::outcome{std::move(*res), std::nullopt};
    }
  }

  // A miss: the first request for the key calls the integration, the others wait for it.
  auto [f, leader] = flights.join(c.key);
  if (!leader) {
    if (auto res = co_await wait_for(f.get())) {
      finish_hit(ex, *res, settings.hit_header);
      co_return detail::outcome{std::move(*res), std::nullopt};
    }
  } else {
    c.lease = std::make_unique<lease>(flights, std::move(f));
  }
  c.fill = true;
  ex.stage->counters[ex.match.index]->misses.fetch_add(1, std::memory_order_relaxed);
  co_return std::nullopt;
}

void store_response(detail::exchange& ex, detail::outcome& out, store& s) {
  auto& c = ex.cache;
  if (!c.active) return;
  const auto& settings = *ex.stage->cache;
  const auto& rs = ex.stage->routes[ex.match.index];
  if (c.fill && keepable(ex, out)) {
    const cache_key_bytes* crypt = rs.cache_encrypted ? &ex.stage->cache_key : nullptr;
    auto data = std::make_shared<const std::string>(encode(out.res, crypt, c.key));
    if (!data->empty())
      s.cache_put(ex.stage->cache_namespace, c.key, std::move(data), ex.start + rs.cache_ttl,
                  settings.capacity_bytes);
    if (c.lease) c.lease->finish(out.res);
  }
  c.lease.reset();  // nothing to share: waiters call the integration themselves
  if (out.error) return;
  if (settings.hit_header) out.res.headers.add("x-cache", "Miss");
  if (c.warning) out.res.headers.add("Warning", c.warning);
}

}  // namespace cache
}  // namespace gatehouse
