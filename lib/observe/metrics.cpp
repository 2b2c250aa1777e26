#include "observe/metrics.hpp"

#include "pipeline/exchange.hpp"
#include "routing/deployment.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <new>

namespace gatehouse::observe {

namespace {
// A shard holds its series in chunks, made when the thread first records into one of their
// series: a chunk never moves, so a reader may look into it while its thread writes.
constexpr std::size_t chunk_series = 64;
constexpr std::size_t max_chunks = 1024;  // 65,536 series; the next ones are not kept
constexpr std::size_t max_series = chunk_series * max_chunks;

constexpr auto bounds_ns = [] {
  std::array<std::int64_t, latency_histogram::bounds_ms.size()> out{};
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<std::int64_t>(latency_histogram::bounds_ms[i] * 1'000'000);
  return out;
}();

}  // namespace

void histogram_cells::add(std::chrono::nanoseconds d) noexcept {
  const std::int64_t ns = std::max<std::int64_t>(d.count(), 0);
  std::size_t i = 0;
  while (i < bounds_ns.size() && ns > bounds_ns[i]) ++i;  // a bucket holds what is ≤ its bound
  buckets[i].add();
  sum_ns.add(static_cast<std::uint64_t>(ns));
}

struct metrics::shard {
  struct chunk {
    std::array<series_cells, chunk_series> cells;
  };
  std::array<std::atomic<chunk*>, max_chunks> chunks{};
  counter unmatched, refused, tls_ok, tls_failed;
  // The series of the snapshots this thread saw last.
  // (Each holds its resolution: the registry drops one whose snapshot is gone while a thread may
  // still have it here, and only the owning thread lets go of these.)
  snapshot_memo<std::shared_ptr<const resolution>> memos;

  shard() = default;
  shard(const shard&) = delete;
  shard& operator=(const shard&) = delete;
  ~shard() {
    for (auto& c : chunks) delete c.load(std::memory_order_relaxed);
  }

  // For the owning thread: the series' cells, made when first used (null: out of memory).
  series_cells* cells(series_id id) noexcept {
    auto& slot = chunks[id / chunk_series];
    chunk* c = slot.load(std::memory_order_relaxed);
    if (!c) {
      c = new (std::nothrow) chunk();
      if (!c) return nullptr;
      slot.store(c, std::memory_order_release);
    }
    return &c->cells[id % chunk_series];
  }
  // For a reader, any thread: null when the thread never recorded into the series' chunk.
  const series_cells* find(series_id id) const noexcept {
    const chunk* c = chunks[id / chunk_series].load(std::memory_order_acquire);
    return c ? &c->cells[id % chunk_series] : nullptr;
  }
};

struct metrics::series_info {
  metrics_api_type type = metrics_api_type::rest;
  std::string api_name, api_id, stage, method, resource, route;
};

// The series of one stage snapshot: the stage's and its routes' (by route index; no_series
// without detailed metrics).
struct metrics::resolution {
  std::weak_ptr<const detail::stage_snapshot> snapshot;
  metrics_api_type type = metrics_api_type::rest;
  series_id stage = no_series;
  std::vector<series_id> routes;
};

metrics::metrics() = default;
metrics::~metrics() = default;

series_id metrics::add_series(series_info info) {
  auto key =
      fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", static_cast<int>(info.type),
                  info.api_id, info.api_name, info.stage, info.method, info.resource, info.route);
  if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
  if (series_.size() >= max_series) return no_series;
  const auto id = static_cast<series_id>(series_.size());
  series_.push_back(std::move(info));
  by_key_.emplace(std::move(key), id);
  return id;
}

std::shared_ptr<const metrics::resolution> metrics::resolve_locked(
    const std::shared_ptr<const detail::stage_snapshot>& s) {
  if (auto it = resolutions_.find(s->serial.value); it != resolutions_.end()) return it->second;
  // Snapshots that are gone are never asked for again (their serials are not reused).
  std::erase_if(resolutions_, [](const auto& r) { return r.second->snapshot.expired(); });
  auto r = std::make_shared<resolution>();
  r->snapshot = s;
  const auto& api = s->deployment->api;
  r->type = api.type == api_type::http ? metrics_api_type::http : metrics_api_type::rest;
  if (s->no_metrics) return resolutions_.emplace(s->serial.value, std::move(r)).first->second;
  r->stage = add_series({r->type, api.name, api.id, s->name, {}, {}, {}});
  const auto& table = s->deployment->routes;
  r->routes.assign(table.size(), no_series);
  for (std::size_t i = 0; i < table.size() && i < s->routes.size(); ++i) {
    if (!s->routes[i].metrics_enabled) continue;
    const std::string& key = table.key(i);  // "GET /pets/{petId}", "$default"
    series_info info{r->type, api.name, api.id, s->name, {}, {}, {}};
    const auto space = key.find(' ');
    if (r->type == metrics_api_type::rest && space != std::string::npos) {
      info.method = key.substr(0, space);
      info.resource = key.substr(space + 1);
    } else {
      info.route = key;
    }
    r->routes[i] = add_series(std::move(info));
  }
  return resolutions_.emplace(s->serial.value, std::move(r)).first->second;
}

const metrics::resolution* metrics::resolve(
    shard& sh, const std::shared_ptr<const detail::stage_snapshot>& s) {
  if (auto found = sh.memos.find(s->serial.value)) return found->get();
  try {
    std::lock_guard lock(mutex_);
    return sh.memos.remember(s->serial.value, resolve_locked(s))->get();
  } catch (...) {
    return nullptr;
  }
}

void metrics::prepare(const std::shared_ptr<const detail::stage_snapshot>& snapshot) noexcept {
  try {
    std::lock_guard lock(mutex_);
    resolve_locked(snapshot);
  } catch (...) {  // the series appear with the first request instead
  }
}

websocket_series metrics::websocket_stage(std::string_view api_name, std::string_view api_id,
                                          std::string_view stage,
                                          const std::vector<std::string>& routes, bool detailed) {
  std::lock_guard lock(mutex_);
  websocket_series out;
  const auto info = [&](std::string route) {
    return series_info{metrics_api_type::websocket,
                       std::string(api_name),
                       std::string(api_id),
                       std::string(stage),
                       {},
                       {},
                       std::move(route)};
  };
  out.stage = add_series(info({}));
  if (detailed)
    for (const auto& key : routes) out.routes.push_back(add_series(info(key)));
  return out;
}

namespace {
void add_request(series_cells& c, metrics_api_type type, const request_facts& f) noexcept {
  const auto& ex = f.ex;
  c.count.add();
  if (!f.abandoned) {  // an abandoned request was not answered: no status, no latency
    const int status = f.res.status;
    if (status >= 400 && status <= 499)
      c.errors_4xx.add();
    else if (status >= 500 && status <= 599)
      c.errors_5xx.add();
    c.latency.add(f.latency);
    if (ex.integration_latency.count() >= 0) c.integration_latency.add(ex.integration_latency);
  }
  if (type == metrics_api_type::rest) {
    if (f.cache_hit)
      c.cache_hits.add();
    else if (ex.cache.fill)  // a cached method's request that went to the integration
      c.cache_misses.add();
  } else {
    c.data_processed.add(ex.req.body.size() + f.body_bytes);
  }
}

void add_websocket(series_cells& c, websocket_count what) noexcept {
  switch (what) {
    case websocket_count::connect:
      c.connects.add();
      break;
    case websocket_count::message:
      c.messages.add();
      break;
    case websocket_count::integration_error:
      c.integration_errors.add();
      break;
    case websocket_count::client_error:
      c.client_errors.add();
      break;
    case websocket_count::execution_error:
      c.execution_errors.add();
      break;
  }
}
}  // namespace

void metrics::record(const request_facts& f) noexcept {
  shard* sh = shards_.local();
  if (!sh) return;
  const auto& ex = f.ex;
  if (!ex.stage) {  // no mounted stage: no API to count it for
    sh->unmatched.add();
    return;
  }
  const resolution* r = resolve(*sh, ex.stage);
  if (!r || r->stage == no_series) return;
  if (auto* c = sh->cells(r->stage)) add_request(*c, r->type, f);
  if (ex.match.target && ex.match.index < r->routes.size()) {
    const series_id route = r->routes[ex.match.index];
    if (route == no_series) return;
    if (auto* c = sh->cells(route)) add_request(*c, r->type, f);
  }
}

void metrics::count(series_id stage, series_id route, websocket_count what) noexcept {
  if (stage == no_series) return;
  shard* sh = shards_.local();
  if (!sh) return;
  if (auto* c = sh->cells(stage)) add_websocket(*c, what);
  if (route == no_series) return;
  if (auto* c = sh->cells(route)) add_websocket(*c, what);
}

void metrics::integration_latency(series_id stage, series_id route,
                                  std::chrono::nanoseconds d) noexcept {
  if (stage == no_series) return;
  shard* sh = shards_.local();
  if (!sh) return;
  if (auto* c = sh->cells(stage)) c->integration_latency.add(d);
  if (route == no_series) return;
  if (auto* c = sh->cells(route)) c->integration_latency.add(d);
}

void metrics::refused() noexcept {
  if (shard* sh = shards_.local()) sh->refused.add();
}

void metrics::tls_handshake(bool ok) noexcept {
  if (shard* sh = shards_.local()) (ok ? sh->tls_ok : sh->tls_failed).add();
}

namespace {
void merge(latency_histogram& h, const histogram_cells& c) {
  for (std::size_t i = 0; i < histogram_cells::size; ++i) h.buckets[i] += c.buckets[i].get();
  h.sum_ms += static_cast<double>(c.sum_ns.get()) / 1e6;
}

void merge(api_metrics& m, const series_cells& c) {
  m.count += c.count.get();
  m.errors_4xx += c.errors_4xx.get();
  m.errors_5xx += c.errors_5xx.get();
  m.cache_hits += c.cache_hits.get();
  m.cache_misses += c.cache_misses.get();
  m.data_processed += c.data_processed.get();
  m.connects += c.connects.get();
  m.messages += c.messages.get();
  m.integration_errors += c.integration_errors.get();
  m.client_errors += c.client_errors.get();
  m.execution_errors += c.execution_errors.get();
  merge(m.latency, c.latency);
  merge(m.integration_latency, c.integration_latency);
}

void total(latency_histogram& h) {
  h.count = 0;
  for (auto n : h.buckets) h.count += n;
}
}  // namespace

metrics_snapshot metrics::snapshot() const {
  metrics_snapshot out;
  std::lock_guard lock(mutex_);
  out.apis.reserve(series_.size());
  for (series_id id = 0; id < series_.size(); ++id) {
    const auto& info = series_[id];
    api_metrics& m = out.apis.emplace_back();
    m.type = info.type;
    m.api_name = info.api_name;
    m.api_id = info.api_id;
    m.stage = info.stage;
    m.method = info.method;
    m.resource = info.resource;
    m.route = info.route;
    shards_.for_each_locked([&](const shard& sh) {
      if (const auto* c = sh.find(id)) merge(m, *c);
    });
    total(m.latency);
    total(m.integration_latency);
  }
  shards_.for_each_locked([&](const shard& sh) {
    out.gateway.unmatched_requests += sh.unmatched.get();
    out.gateway.requests_refused += sh.refused.get();
    out.gateway.tls_handshakes += sh.tls_ok.get();
    out.gateway.tls_handshake_failures += sh.tls_failed.get();
  });
  return out;
}

}  // namespace gatehouse::observe
