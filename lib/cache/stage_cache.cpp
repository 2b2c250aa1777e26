#include "cache/stage_cache.hpp"

#include "auth/authorization.hpp"
#include "auth/evaluate.hpp"
#include "cache/cached_response.hpp"
#include "routing/route_table.hpp"
#include "util/access.hpp"
#include "util/sized_writer.hpp"
#include "util/text.hpp"

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

// One name[=value] part of a raw query, as sent (percent-encoded).
struct query_part {
  std::string_view name, value;
  bool has_value;
  bool name_encoded, value_encoded;  // hold '%' or '+', to decode
};

// The parts of a raw query, in order: found once per request for all its key parameters.
void split_query(std::string_view query, std::vector<query_part>& parts) {
  parts.clear();
  const std::size_t size = query.size();
  std::size_t i = 0;
  while (i < size) {  // each turn: one part and the '&' after it
    query_part part{};
    const std::size_t start = i;
    for (; i < size && query[i] != '=' && query[i] != '&'; ++i)
      part.name_encoded |= query[i] == '%' || query[i] == '+';
    part.name = query.substr(start, i - start);
    part.has_value = i < size && query[i] == '=';
    if (part.has_value) {
      const std::size_t value_start = ++i;
      for (; i < size && query[i] != '&'; ++i)
        part.value_encoded |= query[i] == '%' || query[i] == '+';
      part.value = query.substr(value_start, i - value_start);
    }
    ++i;  // past the '&'
    if (!part.name.empty() || part.has_value) parts.push_back(part);
  }
}

// The last part named `name` (names compared decoded), or null.
const query_part* last_part_named(const std::vector<query_part>& parts, std::string_view name) {
  for (auto it = parts.rbegin(); it != parts.rend(); ++it)
    if (it->name_encoded ? util::percent_decode(it->name, true) == name : it->name == name)
      return &*it;
  return nullptr;
}

// As append_part, into space sized beforehand.
void put_part(util::sized_writer& out, std::string_view s) noexcept {
  out.at = std::to_chars(out.at, out.at + 20, s.size()).ptr;
  out.put(':');
  out.put(s);
}
constexpr std::size_t part_overhead = 21;  // a length's digits and ':'

// The stage's namespace + method + resource + the method's cache key parameters, as AWS keys
// the stage cache. A parameter given twice counts with its last value, as integrations see it.
// The parts known in advance come from the route's settings (prepare_keys). The values are
// found first, then everything is copied once into `buf` (grown when too small, never shrunk):
// the key is the view returned, at its start.
std::string_view make_key(const detail::exchange& ex, const detail::route_settings& rs,
                          std::string& buf) {
  using source = detail::cache_key_parameter::source;
  struct found {  // trivial: the array below is not initialized, each entry is set before use
    std::string_view value;
    bool present;
    bool encoded;  // a query value still percent-encoded
  };
  std::array<found, 16> few;
  std::vector<found> many;
  const std::size_t count = rs.cache_key_parameters.size();
  if (count > few.size()) many.resize(count);
  found* values = count > few.size() ? many.data() : few.data();

  thread_local std::vector<query_part> query_parts;  // kept: no allocation per request
  bool query_split = false;
  const bool own_method = ex.req.method == rs.cache_key_method;
  std::size_t bound = own_method ? rs.cache_key_prefix.size()
                                 : ex.stage->cache_namespace.size() + ex.req.method.size() +
                                       ex.match.resource.size() + 3 * part_overhead;
  for (std::size_t i = 0; i < count; ++i) {
    const auto& p = rs.cache_key_parameters[i];
    auto& v = values[i];
    std::optional<std::string_view> value;
    v.encoded = false;
    switch (p.from) {
      case source::path:
        value = ex.path_param(p.name);
        break;
      case source::header:
        for (const auto& f : ex.req.headers)
          if (iequals(f.name, p.name)) value = f.value;
        break;
      case source::querystring:
        if (!query_split) {
          split_query(ex.query, query_parts);
          query_split = true;
        }
        if (const auto* part = last_part_named(query_parts, p.name)) {
          value = part->value;
          v.encoded = part->value_encoded;
        }
        break;
    }
    v.present = value.has_value();
    v.value = value.value_or(std::string_view{});
    bound += p.key_part.size() + part_overhead + v.value.size();
  }

  if (buf.size() < bound) buf.resize(bound);
  util::sized_writer out{buf.data()};
  if (own_method) {
    out.put(rs.cache_key_prefix);
  } else {  // an ANY route, or a method matched by another's route
    put_part(out, ex.stage->cache_namespace);
    put_part(out, ex.req.method);
    put_part(out, ex.match.resource);
  }
  for (std::size_t i = 0; i < count; ++i) {
    out.put(rs.cache_key_parameters[i].key_part);
    const auto& v = values[i];
    if (!v.present)
      out.put("-");  // absent differs from empty
    else if (v.encoded)
      put_part(out, util::percent_decode(v.value, true));  // decoding only shortens
    else
      put_part(out, v.value);
  }
  return {buf.data(), static_cast<std::size_t>(out.at - buf.data())};
}

// The key of this request, built in a buffer the thread keeps (a hit needs no copy of it).
std::string_view scratch_key(const detail::exchange& ex, const detail::route_settings& rs) {
  thread_local std::string buf;
  return make_key(ex, rs, buf);
}

void finish_hit(detail::exchange& ex, response& res, bool header) {
  const auto add = [&](std::string_view name, std::string_view value) {
    auto& f = detail::access::add_for_overwrite(
        res.headers);  // in the space of the last response's fields
    util::set_text(f.name, name);
    util::set_text(f.value, value);
  };
  if (header) add("x-cache", "Hit");
  if (ex.cache.warning) add("Warning", ex.cache.warning);
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

void prepare_keys(std::string_view ns, std::string_view route_key, const method_options& options,
                  detail::route_settings& r) {
  auto space = route_key.find(' ');
  std::string_view method = route_key.substr(0, space), resource = route_key.substr(space + 1);
  r.cache_key_method = method;
  r.cache_key_prefix.clear();
  append_part(r.cache_key_prefix, ns);
  append_part(r.cache_key_prefix, method);
  append_part(r.cache_key_prefix, resource);
  r.cache_key_parameters.clear();
  using source = detail::cache_key_parameter::source;
  for (std::string_view spec : options.cache_key_parameters) {  // checked by the route table
    spec.remove_prefix(std::string_view("method.request.").size());
    detail::cache_key_parameter p;
    append_part(p.key_part, spec);
    if (spec.starts_with("path.")) {
      p.from = source::path, p.name = spec.substr(5);
    } else if (spec.starts_with("header.")) {
      p.from = source::header, p.name = spec.substr(7);
    } else {
      p.from = source::querystring, p.name = spec.substr(12);
    }
    r.cache_key_parameters.push_back(std::move(p));
  }
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
  const std::string_view key = scratch_key(ex, rs);
  const cache_key_bytes* crypt = rs.cache_encrypted ? &ex.stage->cache_key : nullptr;
  auto found = s.try_cache_get(ex.stage->cache_namespace, key, ex.start);
  if (found.state == cache_lookup::outcome::hit) {
    if (ex.reply) {  // straight into the caller's response, reusing its buffers
      if (decode_into(*found.data, crypt, key, *ex.reply)) {
        finish_hit(ex, *ex.reply, settings.hit_header);
        c.hit_in_reply = true;
        hit.emplace();
        return true;
      }
    } else if (auto res = decode(*found.data, crypt, key)) {
      finish_hit(ex, *res, settings.hit_header);
      hit.emplace(detail::outcome{std::move(*res), std::nullopt});
      return true;
    }
  }
  c.key = key;  // a miss: the key is kept for the store and the flight
  if (found.state == cache_lookup::outcome::pending) return false;
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
  if (c.key.empty()) c.key.resize(make_key(ex, rs, c.key).size());  // unless try_lookup() did

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
