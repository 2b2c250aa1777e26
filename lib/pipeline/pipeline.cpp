#include "pipeline/pipeline.hpp"
#include "cache/cache_warnings.hpp"

#include "auth/authorize.hpp"
#include "cache/stage_cache.hpp"
#include "integration/integration_impl.hpp"
#include "observe/stage_access_log.hpp"
#include "pipeline/gateway_responses.hpp"
#include "pipeline/request_id.hpp"
#include "throttle/admission.hpp"
#include "transform/method_transform.hpp"
#include "usage/api_key_check.hpp"
#include "usage/plan_state.hpp"
#include "util/access.hpp"
#include "util/text.hpp"
#include "util/time_text.hpp"
#include "validate/request_validation.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <optional>

namespace gatehouse::detail {

namespace {
using step = std::optional<gateway_error>;  // nullopt: go on; otherwise end the request

// Keeps a step's error, if it has one: the usual empty result is not assigned (an optional's
// move assignment is a call, six times per request).
void keep_error(outcome& out, step&& e) {
  if (e) out.error = std::move(e);
}

// Step 1: find the API and stage from the base path /{stage}/….
step find_stage(exchange& ex, const mount_table& mounts) {
  const std::string& target = ex.req.target;
  auto q = target.find('?');
  ex.path = std::string_view(target).substr(0, q);
  ex.query = q == std::string::npos ? std::string_view{} : std::string_view(target).substr(q + 1);
  std::string_view rest = ex.path.substr(ex.path.empty() ? 0 : 1);
  auto slash = rest.find('/');
  std::string_view name = rest.substr(0, slash);
  ex.stage_path = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  auto it = mounts.stages.find(name);
  if (it == mounts.stages.end()) {
    if (mounts.all_http_apis) return gateway_error{response_type::resource_not_found};
    return gateway_error{response_type::missing_authentication_token};
  }
  ex.stage = it->second->load();
  return std::nullopt;
}

// Step 1 of an internal run: the stage is given, and routes match the whole path.
void use_stage(exchange& ex, const internal_run& internal) {
  const std::string& target = ex.req.target;
  auto q = target.find('?');
  ex.path = std::string_view(target).substr(0, q);
  ex.query = q == std::string::npos ? std::string_view{} : std::string_view(target).substr(q + 1);
  ex.stage_path = ex.path;
  ex.stage = internal.stage->load();
  ex.websocket = internal.websocket;
  ex.auth = internal.auth;
}

// Step 2: match the route in the stage's deployment.
step match_route(exchange& ex) {
  const auto& deployment = *ex.stage->deployment;
  if (!deployment.routes.match(ex.req.method, ex.stage_path, ex.match)) {
    if (deployment.api.type == api_type::http)
      return gateway_error{response_type::resource_not_found};
    return gateway_error{response_type::missing_authentication_token};
  }
  // Parameters reach integrations percent-decoded. Decoding only shrinks text, so one buffer
  // reserved to the raw sizes never moves, and views into it stay valid.
  std::size_t raw = 0;
  for (std::size_t i = 0; i < ex.match.param_count; ++i)
    if (ex.match.params[i].value.find('%') != std::string_view::npos)
      raw += ex.match.params[i].value.size();
  if (raw > 0) {
    ex.decoded_params.reserve(raw);
    for (std::size_t i = 0; i < ex.match.param_count; ++i) {
      auto& p = ex.match.params[i];
      if (p.value.find('%') == std::string_view::npos) continue;
      auto start = ex.decoded_params.size();
      ex.decoded_params.append(util::percent_decode(p.value));
      p.value = std::string_view(ex.decoded_params).substr(start);
    }
  }
  return std::nullopt;
}

}  // namespace

// What the request waits for when a step cannot finish at once, and where it goes on after.
enum class wait_for : std::uint8_t { nothing, authorizer, api_key, admission, cache, integration };
enum class run_step : std::uint8_t {
  begin,
  after_authorizer,
  after_key_fetch,
  after_admission,
  after_cache,
  after_integration,
  done
};

// What a request keeps while it runs: in one block, recycled per thread, rather than in a
// coroutine's frame. A frame this large (over 1 KiB) is not recycled by Asio: each request's
// would be a fresh malloc of a size that makes glibc consolidate its free lists every time.
struct run_state {
  exchange ex;
  outcome out;
  admission adm;
  std::optional<admission_result> verdict;
  std::optional<outcome> hit;
  std::shared_ptr<const mount_table> mounts;
  bool from_cache = false;
  bool key_fetched = false;  // step 5 asked the shared store for a key unknown here
  bool abandoned = false;    // cancelled while it waited: no further step ran
  run_step next = run_step::begin;
  wait_for waiting = wait_for::nothing;
  // The caller's: where a streamed body, an internal run's results and the reply go.
  std::unique_ptr<wire::body_source>* stream = nullptr;
  internal_run* internal = nullptr;
  reply_target* reply = nullptr;
  run_state(request& req, gateway_identity id) : ex(req, id) {}
};

namespace {

// Spare run_state blocks per thread: up to as many as the thread had requests in flight at once,
// at most 256 (under 0.5 MiB).
class run_state_cache {
 public:
  ~run_state_cache() {
    for (std::size_t i = 0; i < count_; ++i) ::operator delete(spare_[i]);
  }
  void* take() { return count_ > 0 ? spare_[--count_] : ::operator new(sizeof(run_state)); }
  void give(void* block) {
    if (count_ < spare_.size())
      spare_[count_++] = block;
    else
      ::operator delete(block);
  }
  // The buffers of method ARNs, which are longer than a string's inline space, are kept too.
  std::string take_text() {
    return text_count_ > 0 ? std::move(texts_[--text_count_]) : std::string();
  }
  void give_text(std::string&& text) {
    if (text.capacity() <= 15 || text.capacity() > 1024 || text_count_ == texts_.size()) return;
    text.clear();
    texts_[text_count_++] = std::move(text);
  }

 private:
  std::array<void*, 256> spare_{};  // enough for the requests a thread usually has in flight
  std::size_t count_ = 0;
  std::array<std::string, 256> texts_;
  std::size_t text_count_ = 0;
};
thread_local run_state_cache state_cache;

using run_state_ptr = pending_run;

run_state_ptr make_run_state(request& req, gateway_identity id) {
  void* block = state_cache.take();
  try {
    run_state_ptr state(new (block) run_state(req, id));
    state->ex.method_arn = state_cache.take_text();
    return state;
  } catch (...) {
    state_cache.give(block);
    throw;
  }
}

// Step 4 without I/O: false when the authorizer has to be awaited (auth::authorize).
bool authorize_now(exchange& ex, outcome& out) {
  if (auto quick = auth::try_authorize(ex)) {
    out.error = std::move(*quick);
    return true;
  }
  return false;
}

// Step 4's end, for the access log's authorizer variables.
void end_authorizer(exchange& ex, const outcome& out) {
  ex.authorizer_latency = std::chrono::steady_clock::now() - ex.authorizer_start;
  ex.authorizer_refused = out.error.has_value();
}

// The integration's own status, before step 11 maps it (none when it failed).
void end_integration(exchange& ex, const outcome& out) {
  ex.integration_latency = std::chrono::steady_clock::now() - ex.integration_start;
  ex.integration_status = out.error ? 0 : out.res.status;
}

void start(exchange& ex, std::string_view id = {}) {
  if (id.size() == 36)
    std::memcpy(ex.request_id, id.data(), 36);
  else
    make_request_id(ex.request_id);
  auto t = util::clf_time(ex.start);
  std::memcpy(ex.request_time_text, t.data(), std::min(t.size(), sizeof ex.request_time_text - 1));
  ex.request_time = {ex.request_time_text, std::min(t.size(), sizeof ex.request_time_text - 1)};
  ex.request_time_epoch =
      std::chrono::duration_cast<std::chrono::milliseconds>(ex.start.time_since_epoch()).count();
  observe::begin_trace(ex.trace, ex.req.headers, ex.request_time_epoch / 1000);
}
}  // namespace

void run_state_release::operator()(run_state* s) const noexcept {
  state_cache.give_text(std::move(s->ex.method_arn));
  s->~run_state();
  state_cache.give(s);
}

pipeline::pipeline(asio::any_io_executor executor, gateway_options options)
    : options_(std::move(options)),
      client_(executor, options_.upstream),
      store_(options_.store ? options_.store : make_memory_store()),
      keys_(std::make_shared<key_registry>(store_,
                                           [this](std::string_view id) { return find_plan(id); })),
      api_keys_(keys_),
      flights_(std::make_unique<cache::flight_table>()),
      observer_(options_, store_, std::move(executor)) {
  if (const auto& m = observer_.meter()) m->caches([this] { return caches_in_use(); });
  keys_->follow_store();
}

// The stage caches that are on, for metering's cache hours.
std::vector<observe::cache_in_use> pipeline::caches_in_use() const {
  std::vector<observe::cache_in_use> out;
  auto mounts = mounts_.load(std::memory_order_acquire);
  for (const auto& [name, stage] : mounts->stages) {
    const auto s = stage->load();
    if (!s->cache) continue;
    const auto& api = s->deployment->api;
    out.push_back({api.id, api.name, s->name, s->cache->capacity_bytes});
  }
  return out;
}

pipeline::~pipeline() {
  // The meter may outlive the pipeline (a report under way, a posted flush): it must not call
  // back into it.
  if (const auto& m = observer_.meter()) m->caches(nullptr);
}

void pipeline::flush_cache(const stage_state& stage) {
  store_->cache_flush(stage.load()->cache_namespace);
}

std::shared_ptr<const plan_state> pipeline::find_plan(std::string_view id) const {
  auto mounts = mounts_.load(std::memory_order_acquire);
  for (const auto& [name, stage] : mounts->stages)
    for (const auto& p : stage->load()->plans)
      if (p.plan->options.id == id) return p.plan;
  for (const auto& stage : mounts->hidden)
    for (const auto& p : stage->load()->plans)
      if (p.plan->options.id == id) return p.plan;
  return nullptr;
}

pending_run pipeline::begin(request& req, std::unique_ptr<wire::body_source>* stream,
                            internal_run* internal, reply_target* reply) const {
  run_state_ptr state = make_run_state(req, {options_.account_id, options_.region});
  exchange& ex = state->ex;
  ex.client = detail::access::core(client_).get();
  if (reply) {
    ex.reply = &reply->res;
    ex.cancel = reply->cancel;
  } else if (internal) {
    ex.cancel = internal->cancel;
  }
  ex.may_stream = stream != nullptr;
  state->stream = stream;
  state->internal = internal;
  state->reply = reply;
  start(ex, internal ? internal->request_id : std::string_view{});
  return state;
}

// The steps, from where the request stopped, for as long as none has to wait. Every step runs
// only while no earlier one ended the request (out.error).
wait_for pipeline::advance(run_state& s) const {
  exchange& ex = s.ex;
  outcome& out = s.out;
  switch (s.next) {
    case run_step::begin:
      // 1 find the API and stage, 2 match the route.
      if (s.internal) {
        use_stage(ex, *s.internal);
      } else {
        s.mounts = mounts_.load(std::memory_order_acquire);
        keep_error(out, find_stage(ex, *s.mounts));
      }
      if (ex.stage) observer_.sample(ex);  // tracing: once the stage is known
      if (!out.error) keep_error(out, match_route(ex));
      // 3 resource policy: the API's endpoint type and resource policy, before any authorizer.
      if (!out.error) keep_error(out, auth::check_resource_policy(ex));
      // 4 authorize: the method's custom or JWT authorizer (a cached result needs no I/O).
      if (!out.error && auth::has_authorizer(ex)) {
        ex.authorizer_start = std::chrono::steady_clock::now();
        if (!authorize_now(ex, out)) {
          s.next = run_step::after_authorizer;
          return wait_for::authorizer;
        }
        end_authorizer(ex, out);
      }
      [[fallthrough]];
    case run_step::after_authorizer:
    case run_step::after_key_fetch:
      // 5 API key + usage plan: for methods that require a key. A key unknown here may have
      // been made by another instance sharing the store: asked for once.
      if (!out.error) {
        bool fetch = false;
        keep_error(out, usage::check_api_key(ex, *keys_, s.key_fetched ? nullptr : &fetch));
        if (fetch) {
          s.key_fetched = true;
          s.next = run_step::after_key_fetch;
          return wait_for::api_key;
        }
      }
      // 6 throttle: the plan's buckets for the key, the method's, the account's; the plan's
      // quota.
      if (!out.error && throttle::prepare(ex, options_.throttle, s.adm)) {
        s.verdict = store_->try_admit(s.adm, ex.start);
        if (!s.verdict) {
          s.next = run_step::after_admission;
          return wait_for::admission;
        }
      }
      [[fallthrough]];
    case run_step::after_admission:
      if (s.verdict) keep_error(out, throttle::verdict(*s.verdict));  // set only when admitting
      // 7 validate: the method's required parameters and its body against the model.
      if (!out.error) keep_error(out, validate::check_request(ex));
      // 8 cache lookup: for methods the stage caches, a hit ends the request here.
      if (!out.error && cache::applies(ex) && !cache::try_lookup(ex, *store_, *flights_, s.hit)) {
        s.next = run_step::after_cache;
        return wait_for::cache;
      }
      [[fallthrough]];
    case run_step::after_cache:
      if (s.hit) {
        out = std::move(*s.hit);
        s.from_cache = true;
      }
      // 9 request transform: the method's request template (or passthrough decision) and hook.
      // (Parameter mapping, transform/parameter_mapping, is applied by HTTP integrations as
      // they build the backend request, AWS's integration request.)
      if (!out.error && !s.from_cache) keep_error(out, transform::transform_request(ex));
      // 10 integration: a function, mock or HTTP backend. A large HTTP response body may be
      // left in ex.stream, to be sent as it arrives; steps that need the whole body will
      // drain() it.
      if (!out.error && !s.from_cache) {
        ex.integration_start = std::chrono::steady_clock::now();
        if (!detail::access::impl(*ex.match.target).invoke_now(ex, out)) {
          s.next = run_step::after_integration;
          return wait_for::integration;
        }
        end_integration(ex, out);
      }
      [[fallthrough]];
    case run_step::after_integration:
      // 11 response transform: the integration response for the backend's status (status,
      // header mapping, response template) and the hook.
      if (!s.from_cache) transform::transform_response(ex, out);
      // 12 cache store: a cacheable response of a cached method is kept for the method's TTL.
      if (!s.from_cache) cache::store_response(ex, out, *store_);
      s.next = run_step::done;
      [[fallthrough]];
    case run_step::done:
      break;
  }
  return wait_for::nothing;
}

// Waits for what the request waits for, then goes on, until every step has run.
// Not `a ? b : co_await c` anywhere here: GCC 12 evaluates a co_await in either arm of ?:.
asio::awaitable<void> pipeline::complete(run_state& s, wait_for w) const {
  while (w != wait_for::nothing) {
    switch (w) {
      case wait_for::authorizer:
        s.out.error = co_await auth::authorize(s.ex);
        end_authorizer(s.ex, s.out);
        break;
      case wait_for::api_key:
        co_await keys_->fetch(s.ex.api_key_value);
        break;
      case wait_for::admission:
        s.verdict = co_await store_->admit(s.adm, s.ex.start);
        break;
      case wait_for::cache:
        s.hit = co_await cache::lookup(s.ex, *store_, *flights_);
        break;
      case wait_for::integration:
        s.out = co_await detail::access::impl(*s.ex.match.target).invoke(s.ex);
        end_integration(s.ex, s.out);
        break;
      case wait_for::nothing:
        break;
    }
    // The caller's client went away (or the host cancelled its dispatch): what the step awaited
    // was cancelled (through the cancellation of the caller's coroutine, or exchange::cancel)
    // and it returned an error; no further step starts.
    if (s.ex.cancel.requested()) {
      s.abandoned = true;
      break;
    }
    w = advance(s);
  }
}

// The response: a gateway error rendered, the streamed body and an internal run's results
// handed over, the answer moved to the caller's reply (then an empty response is returned).
response pipeline::finish(run_state& s) const {
  exchange& ex = s.ex;
  outcome& out = s.out;
  if (s.abandoned) {
    abandoned_.fetch_add(1, std::memory_order_relaxed);
    log(log_level::info,
        fmt::format("{} {} {}: cancelled while it waited (its client went away, or its caller "
                    "cancelled it)",
                    ex.id(), ex.req.method, ex.path));
    if (!out.error)
      out.error = gateway_error{response_type::integration_failure, 0, {}, "cancelled"};
    out.error->log_reason.clear();  // logged above: the failure is the cancellation's
    if (s.reply) s.reply->abandoned = true;
  }
  if (out.error) {
    if (!out.error->log_reason.empty())
      log(log_level::error,
          fmt::format("{} {} {}: {}", ex.id(), ex.req.method, ex.path, out.error->log_reason));
    out.res = render_gateway_error(*out.error, &ex);
    if (s.internal) {
      s.internal->gateway_error = true;
      s.internal->error_type = out.error->type;
    }
  }
  if (s.stream && !out.error && ex.stream) *s.stream = std::move(ex.stream);
  if (s.internal) {
    // A run kept for its record keeps its authorization for it too.
    s.internal->auth = s.internal->records_itself ? ex.auth : std::move(ex.auth);
    if (ex.api_key) s.internal->api_key_id = ex.api_key->id;
    s.internal->integration_latency =
        s.abandoned ? std::chrono::nanoseconds{-1} : ex.integration_latency;
  }
  if (s.reply) {  // the connection sends the id itself: no strings to allocate
    std::memcpy(s.reply->request_id, ex.request_id, sizeof ex.request_id);
    if (!ex.cache.hit_in_reply) s.reply->res = std::move(out.res);
    return response{};  // recorded by the caller (answered), which knows what it sent
  }
  out.res.headers.add("x-amzn-RequestId", std::string(ex.id()));
  // WebSocket events run internally are recorded by their session, not as HTTP requests.
  if (!s.internal) record(s, out.res, observe::wire_size(out.res), out.res.body.size());
  return std::move(out.res);
}

void pipeline::record(const run_state& s, const response& res, std::uint64_t bytes_out,
                      std::uint64_t body_bytes) const noexcept {
  observe::request_facts facts{s.ex, res, s.out.error ? &*s.out.error : nullptr};
  facts.cache_hit = s.from_cache;
  facts.abandoned = s.abandoned;
  facts.body_bytes = body_bytes;
  facts.bytes_out = bytes_out;
  facts.latency = std::chrono::steady_clock::now() - s.ex.received;
  observer_.record(facts);
}

void pipeline::answered(reply_target& reply, std::uint64_t bytes_out,
                        std::uint64_t body_bytes) const {
  if (!reply.finished) return;
  record(*reply.finished, reply.res, bytes_out, body_bytes);
  reply.finished.reset();
}

void pipeline::record_event(internal_run& run, const event_outcome& o) const noexcept {
  request blank;  // what an event without an internal run stands on
  pending_run state = std::move(run.finished);
  // Only access logs record WebSocket events so far: a stage without one costs nothing more.
  if (!run.stage || !run.stage->load()->access_log) return;
  const auto now = std::chrono::steady_clock::now();
  if (!state) {
    try {
      state = make_run_state(blank, {options_.account_id, options_.region});
    } catch (...) {  // no memory for the record
      return;
    }
    exchange& ex = state->ex;
    if (o.received != std::chrono::steady_clock::time_point{}) {
      ex.received = o.received;
      ex.start -= std::chrono::duration_cast<std::chrono::system_clock::duration>(now - o.received);
    }
    start(ex, run.request_id);
    use_stage(ex, run);
  }
  exchange& ex = state->ex;
  if (o.integration_latency) ex.integration_latency = *o.integration_latency;
  response res;
  res.status = o.status;
  const gateway_error* error =
      o.error ? o.error : (state->out.error ? &*state->out.error : nullptr);
  observe::request_facts facts{ex, res, error};
  facts.latency = now - ex.received;
  observer_.record_event(facts);
}

void pipeline::flush_access_logs() const {
  auto mounts = mounts_.load(std::memory_order_acquire);
  std::vector<const observe::log_writer*> flushed;  // stages may share one
  auto flush = [&](const stage_state& stage) {
    auto snapshot = stage.load();
    if (!snapshot->access_log) return;
    auto* writer = snapshot->access_log->writer.get();
    if (std::find(flushed.begin(), flushed.end(), writer) != flushed.end()) return;
    flushed.push_back(writer);
    writer->flush();
  };
  for (const auto& [name, stage] : mounts->stages) flush(*stage);
  for (const auto& stage : mounts->hidden) flush(*stage);
}

asio::awaitable<response> pipeline::run(request& req, std::unique_ptr<wire::body_source>* stream,
                                        internal_run* internal, reply_target* reply) const {
  pending_run state = begin(req, stream, internal, reply);
  if (auto w = advance(*state); w != wait_for::nothing) co_await complete(*state, w);
  response res = finish(*state);
  if (reply && reply->records_itself) reply->finished = std::move(state);
  if (internal && internal->records_itself) internal->finished = std::move(state);
  co_return res;
}

pending_run pipeline::run_now(request& req, std::unique_ptr<wire::body_source>* stream,
                              reply_target& reply) const {
  pending_run state = begin(req, stream, nullptr, &reply);
  state->waiting = advance(*state);
  if (state->waiting != wait_for::nothing) return state;
  finish(*state);
  if (reply.records_itself) reply.finished = std::move(state);
  return nullptr;
}

asio::awaitable<void> pipeline::run_rest(pending_run state) const {
  co_await complete(*state, state->waiting);
  finish(*state);
  if (state->reply && state->reply->records_itself) state->reply->finished = std::move(state);
}

void pipeline::mount(const std::shared_ptr<stage_state>& stage, bool hidden) {
  std::lock_guard lock(mount_mutex_);
  auto current = mounts_.load();
  if (!hidden && current->stages.contains(stage->name))
    throw config_error(fmt::format("stage '{}' is mounted already", stage->name));
  {
    std::lock_guard stage_lock(stage->write_mutex);
    check_stage_variables(*stage->load());
    stage->mounted = true;
  }
  auto next = std::make_shared<mount_table>(*current);
  if (hidden) {
    next->hidden.push_back(stage);
    mounts_.store(std::move(next), std::memory_order_release);
    return;
  }
  next->stages.emplace(stage->name, stage);
  observer_.mounted(stage->load());
  next->all_http_apis = true;
  for (const auto& [name, s] : next->stages)
    if (s->load()->deployment->api.type != api_type::http) next->all_http_apis = false;
  mounts_.store(std::move(next), std::memory_order_release);
  // Said once, here: cache settings that serve one caller's or one path's response to others.
  for (const auto& warning : cache::risky_cache_settings(*stage->load()))
    log(log_level::warning, warning);
}

void pipeline::log(log_level level, std::string_view text) const {
  if (options_.log) {
    options_.log(level, text);
    return;
  }
  if (level >= log_level::warning) {
    static constexpr const char* names[] = {"debug", "info", "warning", "error"};
    std::fprintf(stderr, "gatehouse %s: %.*s\n", names[static_cast<int>(level)],
                 static_cast<int>(text.size()), text.data());
  }
}

}  // namespace gatehouse::detail
