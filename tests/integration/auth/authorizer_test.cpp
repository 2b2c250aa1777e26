// Custom authorizers end to end (AWS's Lambda authorizers): a real gateway on loopback, raw
// HTTP/1.1 requests, C++ handlers in the place of the Lambda function that count their calls,
// and function integrations that record what requestContext.authorizer told them.
// TOKEN and REQUEST kinds, AWS's answers for every outcome, the result cache, the method ARN,
// and API keys that come from the authorizer (key source AUTHORIZER).

#include "harness.hpp"

#include <gatehouse/gatehouse.hpp>

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

namespace {

using namespace std::chrono_literals;
using gatehouse::Authorizer;
using gatehouse::authorizer_options;
using gatehouse::authorizer_request;
using gatehouse::authorizer_result;
using gatehouse::authorizer_type;
using gatehouse::context_value;
using gatehouse::method_options;
using gatehouse::payload_format;
using gatehouse::proxy_event;
using gatehouse::proxy_result;

using header_list = std::vector<std::pair<std::string, std::string>>;

// AWS's answers, as summary() writes them.
const std::string unauthorized = R"(401 UnauthorizedException {"message":"Unauthorized"})";
const std::string explicit_deny =
    R"(403 AccessDeniedException {"Message":"User is not authorized to access this resource with an explicit deny"})";
const std::string no_allow =
    R"(403 AccessDeniedException {"Message":"User is not authorized to access this resource"})";
const std::string configuration_error = R"(500 AuthorizerConfigurationException {"message":null})";
const std::string forbidden = R"(403 ForbiddenException {"message":"Forbidden"})";

std::string request(std::string_view method, std::string_view target,
                    const header_list& headers = {}) {
  std::string r(method);
  r.append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  for (const auto& [name, value] : headers)
    r.append(name).append(": ").append(value).append("\r\n");
  if (method == "POST" || method == "PUT") r.append("Content-Length: 0\r\n");
  return r.append("\r\n");
}

// "200 - ok", "403 AccessDeniedException {…}": status, x-amzn-ErrorType and body at once.
std::string summary(const test::reply& r) {
  if (r.status == 0) return "<no reply>";
  auto type = r.headers.get("x-amzn-ErrorType");
  return std::to_string(r.status) + " " + std::string(type.value_or("-")) + " " + r.body;
}

// One keep-alive connection to the gateway.
class client {
 public:
  explicit client(unsigned short port) : raw_(port, 5s) {}

  test::reply send(std::string_view method, std::string_view target,
                   const header_list& headers = {}) {
    raw_.send(request(method, target, headers));
    auto r = raw_.read_reply();
    return r ? std::move(*r) : test::reply{};
  }
  test::reply get(std::string_view target, const header_list& headers = {}) {
    return send("GET", target, headers);
  }
  std::string call(std::string_view target, const header_list& headers = {}) {
    return summary(get(target, headers));
  }
  // GET with an Authorization header.
  std::string call_with(std::string_view target, std::string_view authorization) {
    return call(target, {{"Authorization", std::string(authorization)}});
  }

 private:
  test::raw_client raw_;
};

// What an integration saw of one request: copied out of the proxy_event during the call.
struct seen {
  std::string principal_id;
  std::vector<std::pair<std::string, context_value>> context;
  bool authorizer_empty = true;
  std::string api_key;
  std::string api_key_id;
  std::string json;  // proxy_event::to_json()
};

// A function integration that records what it saw and answers 200 "ok".
class recorder {
 public:
  gatehouse::integration integration(payload_format format = payload_format::v1) {
    return gatehouse::function(
        [this](const proxy_event& ev) {
          auto ctx = ev.context();
          seen s;
          s.principal_id = std::string(ctx.authorizer.principal_id);
          s.context.assign(ctx.authorizer.context.begin(), ctx.authorizer.context.end());
          s.authorizer_empty = ctx.authorizer.empty();
          s.api_key = std::string(ctx.api_key);
          s.api_key_id = std::string(ctx.api_key_id);
          s.json = ev.to_json();
          std::lock_guard lock(mutex_);
          events_.push_back(std::move(s));
          return proxy_result{.body = "ok"};
        },
        {.format = format});
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return events_.size();
  }
  seen last() const {
    std::lock_guard lock(mutex_);
    return events_.empty() ? seen{} : events_.back();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<seen> events_;
};

// The JSON text of the value at `pointer` in `json` ("<missing>" when there is none), e.g.
// "\"42\"" for the string 42 and "42" for the number.
std::string json_at(const std::string& json, const char* pointer) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) return "<not JSON>";
  const rapidjson::Value* v = rapidjson::Pointer(pointer).Get(doc);
  if (!v) return "<missing>";
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v->Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

// The number at `pointer`, nullopt when it is absent or not a number.
std::optional<double> number_at(const std::string& json, const char* pointer) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) return std::nullopt;
  const rapidjson::Value* v = rapidjson::Pointer(pointer).Get(doc);
  if (!v || !v->IsNumber()) return std::nullopt;
  return v->GetDouble();
}

// A context value as "string:x", "number:42", "bool:true"; "<absent>" when not there.
std::string describe(const std::vector<std::pair<std::string, context_value>>& context,
                     std::string_view key) {
  for (const auto& [k, v] : context) {
    if (k != key) continue;
    if (const auto* s = std::get_if<std::string>(&v)) return "string:" + *s;
    if (const auto* b = std::get_if<bool>(&v)) return *b ? "bool:true" : "bool:false";
    return "number:" + gatehouse::to_string(v);
  }
  return "<absent>";
}

// Thread-safe record of what the authorizer handler was given.
struct handler_log {
  std::atomic<int> calls{0};
  std::mutex mutex;
  std::vector<std::string> tokens;
  std::vector<std::string> arns;
  std::vector<std::string> inputs;  // authorizer_request::to_json()

  void record(const authorizer_request& in) {
    ++calls;
    std::lock_guard lock(mutex);
    tokens.emplace_back(in.authorization_token());
    arns.emplace_back(in.method_arn());
    inputs.push_back(in.to_json());
  }
  std::string last_arn() {
    std::lock_guard lock(mutex);
    return arns.empty() ? "<none>" : arns.back();
  }
  std::string last_input() {
    std::lock_guard lock(mutex);
    return inputs.empty() ? "<none>" : inputs.back();
  }
  std::string last_token() {
    std::lock_guard lock(mutex);
    return tokens.empty() ? "<none>" : tokens.back();
  }
};

// The TOKEN authorizer of the outcome tests: the bearer token says what to answer.
authorizer_result answer_for(std::string_view token) {
  if (token == "Bearer allow") {
    auto r = authorizer_result::allow("user-1");
    r.context = {{"name", std::string("alice")},
                 {"count", 42.0},
                 {"ratio", 2.5},
                 {"admin", true},
                 {"guest", false}};
    return r;
  }
  if (token == "Bearer deny") return authorizer_result::deny("user-2");
  if (token == "Bearer elsewhere")
    return authorizer_result::allow(
        "user-3", "arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/elsewhere");
  if (token == "Bearer reject") return authorizer_result::reject();
  if (token == "Bearer throw") throw std::runtime_error("the authorizer broke");
  if (token == "Bearer throw-int") throw 7;
  if (token == "Bearer no-principal") return authorizer_result::allow("");
  if (token == "Bearer bad-policy") {
    auto r = authorizer_result::allow("user-4");
    r.policy_document = "{\"Version\":\"2012-10-17\",\"Statement\":";  // cut short
    return r;
  }
  if (token == "Bearer bad-effect") {
    auto r = authorizer_result::allow("user-5");
    r.policy_document =
        R"({"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Action":"execute-api:Invoke","Resource":"*"}]})";
    return r;
  }
  if (token == "Bearer empty-key") {
    auto r = authorizer_result::allow("user-6");
    r.context = {{"", std::string("x")}};
    return r;
  }
  return authorizer_result::deny("stranger");
}

}  // namespace

// --- 1. TOKEN authorizers: every outcome ------------------------------------------------------

TEST_CASE(
    "authorizer: a TOKEN authorizer's Allow reaches the integration with its principal and "
    "context (v1 and v2 events)",
    "[authorizer]") {
  handler_log log;
  Authorizer auth({.name = "tokens"}, [&log](const authorizer_request& in) {
    log.record(in);
    return answer_for(in.authorization_token());
  });
  recorder v1, v2;
  gatehouse::Router api({.name = "shop", .id = "shop000001"});
  api.route("GET", "/v1", v1.integration(payload_format::v1), {.authorizer = auth});
  api.route("GET", "/v2", v2.integration(payload_format::v2), {.authorizer = auth});
  api.route("GET", "/open", v1.integration(payload_format::v1));
  test::running_gateway gw;
  client c(gw.serve_plain(gatehouse::Stage("prod", api.deploy())));

  REQUIRE(c.call_with("/prod/v1", "Bearer allow") == "200 - ok");
  CHECK(log.calls == 1);
  CHECK(log.last_token() == "Bearer allow");
  // The handler's input, as AWS's TOKEN event.
  auto input = log.last_input();
  CHECK(json_at(input, "/type") == R"("TOKEN")");
  CHECK(json_at(input, "/authorizationToken") == R"("Bearer allow")");
  CHECK(json_at(input, "/methodArn") ==
        R"("arn:aws:execute-api:us-east-1:123456789012:shop000001/prod/GET/v1")");

  // The integration's view, typed.
  auto e = v1.last();
  CHECK_FALSE(e.authorizer_empty);
  CHECK(e.principal_id == "user-1");
  CHECK(describe(e.context, "name") == "string:alice");
  CHECK(describe(e.context, "count") == "number:42");
  CHECK(describe(e.context, "ratio") == "number:2.5");
  CHECK(describe(e.context, "admin") == "bool:true");
  CHECK(describe(e.context, "guest") == "bool:false");
  // v1 (REST): requestContext.authorizer with every value a string.
  CHECK(json_at(e.json, "/requestContext/authorizer/principalId") == R"("user-1")");
  CHECK(json_at(e.json, "/requestContext/authorizer/name") == R"("alice")");
  CHECK(json_at(e.json, "/requestContext/authorizer/count") == R"("42")");
  CHECK(json_at(e.json, "/requestContext/authorizer/ratio") == R"("2.5")");
  CHECK(json_at(e.json, "/requestContext/authorizer/admin") == R"("true")");
  CHECK(json_at(e.json, "/requestContext/authorizer/guest") == R"("false")");

  // v2 (HTTP API): requestContext.authorizer.lambda with the values' own types. The cached
  // result serves this other method: no second call.
  REQUIRE(c.call_with("/prod/v2", "Bearer allow") == "200 - ok");
  CHECK(log.calls == 1);
  auto f = v2.last();
  CHECK(f.principal_id == "user-1");
  CHECK(describe(f.context, "count") == "number:42");
  CHECK(json_at(f.json, "/requestContext/authorizer/lambda/name") == R"("alice")");
  CHECK(number_at(f.json, "/requestContext/authorizer/lambda/count") == 42.0);
  CHECK(number_at(f.json, "/requestContext/authorizer/lambda/ratio") == 2.5);
  CHECK(json_at(f.json, "/requestContext/authorizer/lambda/admin") == "true");
  CHECK(json_at(f.json, "/requestContext/authorizer/lambda/guest") == "false");

  // A method without an authorizer: an empty authorizer context, no authorizer in the event.
  REQUIRE(c.call("/prod/open") == "200 - ok");
  auto g = v1.last();
  CHECK(g.authorizer_empty);
  CHECK(g.principal_id.empty());
  CHECK(json_at(g.json, "/requestContext/authorizer/principalId") == "<missing>");
  CHECK(log.calls == 1);
}

TEST_CASE("authorizer: TOKEN authorizer denials, refusals and failures get AWS's answers",
          "[authorizer]") {
  handler_log log;
  Authorizer auth({.name = "tokens", .validation_expression = "^Bearer [a-z-]+$"},
                  [&log](const authorizer_request& in) {
                    log.record(in);
                    return answer_for(in.authorization_token());
                  });
  recorder rec;
  gatehouse::Router api({.name = "shop"});
  api.route("GET", "/a", rec.integration(), {.authorizer = auth});
  test::running_gateway gw;
  client c(gw.serve_plain(gatehouse::Stage("prod", api.deploy())));

  SECTION("an explicit Deny: 403 with an explicit deny, and cached like an Allow") {
    auto r = c.get("/prod/a", {{"Authorization", "Bearer deny"}});
    CHECK(summary(r) == explicit_deny);
    CHECK(r.headers.get("Content-Type") == "application/json");
    CHECK(c.call_with("/prod/a", "Bearer deny") == explicit_deny);
    CHECK(log.calls == 1);
  }
  SECTION("a policy that allows another resource only: 403 without an Allow") {
    CHECK(c.call_with("/prod/a", "Bearer elsewhere") == no_allow);
    CHECK(log.calls == 1);
  }
  SECTION("no Authorization header: 401 without a call") {
    CHECK(c.call("/prod/a") == unauthorized);
    CHECK(c.call_with("/prod/a", "") == unauthorized);  // present but empty
    CHECK(log.calls == 0);
  }
  SECTION("a token that fails the validation expression: 401 without a call") {
    CHECK(c.call_with("/prod/a", "Basic YWxpY2U6c2VjcmV0") == unauthorized);
    CHECK(c.call_with("/prod/a", "Bearer ALLOW") == unauthorized);
    CHECK(c.call_with("/prod/a", "xBearer allow") == unauthorized);  // the whole token must match
    CHECK(log.calls == 0);
    CHECK(c.call_with("/prod/a", "Bearer allow") == "200 - ok");
    CHECK(log.calls == 1);
  }
  SECTION("authorizer_result::reject(): 401, not cached") {
    CHECK(c.call_with("/prod/a", "Bearer reject") == unauthorized);
    CHECK(c.call_with("/prod/a", "Bearer reject") == unauthorized);
    CHECK(log.calls == 2);
  }
  SECTION("a handler that throws: 500 AUTHORIZER_CONFIGURATION_ERROR with a null message") {
    auto r = c.get("/prod/a", {{"Authorization", "Bearer throw"}});
    CHECK(summary(r) == configuration_error);
    CHECK(r.headers.get("Content-Type") == "application/json");
    CHECK(c.call_with("/prod/a", "Bearer throw-int") == configuration_error);
    CHECK(log.calls == 2);
    CHECK(rec.count() == 0);
  }
  SECTION("an empty principalId: 500") {
    CHECK(c.call_with("/prod/a", "Bearer no-principal") == configuration_error);
  }
  SECTION("a malformed policy document: 500") {
    CHECK(c.call_with("/prod/a", "Bearer bad-policy") == configuration_error);
    CHECK(c.call_with("/prod/a", "Bearer bad-effect") == configuration_error);
    // Not cached: the handler is asked again.
    CHECK(c.call_with("/prod/a", "Bearer bad-policy") == configuration_error);
    CHECK(log.calls == 3);
  }
  SECTION("an empty context key: 500") {
    CHECK(c.call_with("/prod/a", "Bearer empty-key") == configuration_error);
  }
  // Only the one allowed request reached the integration.
  CHECK(rec.count() == static_cast<std::size_t>(log.last_token() == "Bearer allow" ? 1 : 0));
}

TEST_CASE("authorizer: a TOKEN authorizer reads the header its identity source names",
          "[authorizer]") {
  handler_log log;
  Authorizer auth({.name = "custom-header", .identity_sources = {"method.request.header.X-Token"}},
                  [&log](const authorizer_request& in) {
                    log.record(in);
                    return in.authorization_token() == "letmein" ? authorizer_result::allow("u")
                                                                 : authorizer_result::deny("u");
                  });
  gatehouse::Router api({.name = "shop"});
  api.route("GET", "/a", gatehouse::mock({.body = "a"}), {.authorizer = auth});
  test::running_gateway gw;
  client c(gw.serve_plain(gatehouse::Stage("prod", api.deploy())));

  CHECK(c.call_with("/prod/a", "letmein") == unauthorized);  // Authorization is not X-Token
  CHECK(log.calls == 0);
  CHECK(c.call("/prod/a", {{"x-token", "letmein"}}) == "200 - a");
  CHECK(log.last_token() == "letmein");
  CHECK(c.call("/prod/a", {{"X-Token", "nope"}}) == explicit_deny);

  // Options a TOKEN authorizer cannot have.
  auto noop = [](const authorizer_request&) { return authorizer_result::reject(); };
  CHECK_THROWS_AS(Authorizer({.identity_sources = {"method.request.querystring.token"}}, noop),
                  gatehouse::config_error);
  CHECK_THROWS_AS(
      Authorizer({.identity_sources = {"method.request.header.A", "method.request.header.B"}},
                 noop),
      gatehouse::config_error);
  CHECK_THROWS_AS(Authorizer({.validation_expression = "(unclosed"}, noop),
                  gatehouse::config_error);
  CHECK_THROWS_AS(Authorizer({.result_ttl = 3601s}, noop), gatehouse::config_error);
  CHECK_THROWS_AS(Authorizer({.result_ttl = -1s}, noop), gatehouse::config_error);
  CHECK_NOTHROW(Authorizer({.result_ttl = 3600s}, noop));
}

// --- 2. The result cache --------------------------------------------------------------------

TEST_CASE("authorizer: results are cached by token for the TTL; TTL 0 calls every time",
          "[authorizer]") {
  handler_log cached_log, uncached_log;
  auto allow_all = [](handler_log& log) {
    return [&log](const authorizer_request& in) {
      log.record(in);
      return authorizer_result::allow("p-" + std::string(in.authorization_token()));
    };
  };
  Authorizer cached({.name = "cached"}, allow_all(cached_log));  // default TTL: 300 s
  Authorizer uncached({.name = "uncached", .result_ttl = 0s}, allow_all(uncached_log));
  recorder rec;
  gatehouse::Router api({.name = "shop"});
  api.route("GET", "/cached", rec.integration(), {.authorizer = cached});
  api.route("GET", "/uncached", rec.integration(), {.authorizer = uncached});
  test::running_gateway gw;
  client c(gw.serve_plain(gatehouse::Stage("prod", api.deploy())));

  for (int i = 0; i < 5; ++i) CHECK(c.call_with("/prod/cached", "token-one") == "200 - ok");
  CHECK(cached_log.calls == 1);
  CHECK(rec.last().principal_id == "p-token-one");  // the cached result's principal
  // Another token: another call, then cached too.
  for (int i = 0; i < 3; ++i) CHECK(c.call_with("/prod/cached", "token-two") == "200 - ok");
  CHECK(cached_log.calls == 2);
  CHECK(rec.last().principal_id == "p-token-two");
  CHECK(c.call_with("/prod/cached", "token-one") == "200 - ok");
  CHECK(cached_log.calls == 2);
  // A token differing only in case is another token.
  CHECK(c.call_with("/prod/cached", "TOKEN-ONE") == "200 - ok");
  CHECK(cached_log.calls == 3);
  // From another connection too.
  client d(gw.gateway().listen("127.0.0.1:0", gatehouse::plain_http).port());
  CHECK(d.call_with("/prod/cached", "token-one") == "200 - ok");
  CHECK(cached_log.calls == 3);

  // TTL 0: every request calls.
  for (int i = 0; i < 4; ++i) CHECK(c.call_with("/prod/uncached", "token-one") == "200 - ok");
  CHECK(uncached_log.calls == 4);
}

TEST_CASE("authorizer: a cached policy is evaluated again for each method's ARN", "[authorizer]") {
  handler_log log;
  // Allows exactly the ARN it was asked about (not cache-friendly, as AWS warns).
  Authorizer auth({.name = "narrow"}, [&log](const authorizer_request& in) {
    log.record(in);
    return authorizer_result::allow("narrow-user", in.method_arn());
  });
  gatehouse::Router api({.name = "shop", .id = "shop000002"});
  api.route("GET", "/a", gatehouse::mock({.body = "a"}), {.authorizer = auth});
  api.route("GET", "/b", gatehouse::mock({.body = "b"}), {.authorizer = auth});
  api.route("GET", "/items/{id}", gatehouse::mock({.body = "item"}), {.authorizer = auth});
  test::running_gateway gw;
  client c(gw.serve_plain(gatehouse::Stage("prod", api.deploy())));

  CHECK(c.call_with("/prod/a", "t") == "200 - a");
  CHECK(log.calls == 1);
  CHECK(log.last_arn() == "arn:aws:execute-api:us-east-1:123456789012:shop000002/prod/GET/a");
  // The cached policy allows GET /a only.
  CHECK(c.call_with("/prod/b", "t") == no_allow);
  CHECK(c.call_with("/prod/items/1", "t") == no_allow);
  CHECK(c.call_with("/prod/a", "t") == "200 - a");
  CHECK(log.calls == 1);

  // Flushing the cache (AWS's FlushStageAuthorizersCache) makes the next request call again,
  // and that call's narrow policy is what is cached now.
  auth.flush_cache();
  CHECK(c.call_with("/prod/items/7", "t") == "200 - item");
  CHECK(log.calls == 2);
  CHECK(log.last_arn() == "arn:aws:execute-api:us-east-1:123456789012:shop000002/prod/GET/items/7");
  CHECK(c.call_with("/prod/items/8", "t") ==
        no_allow);  // the resource is the path, not the template
  CHECK(c.call_with("/prod/a", "t") == no_allow);
  CHECK(log.calls == 2);
}

TEST_CASE("authorizer: a cached result expires after its TTL", "[authorizer]") {
  handler_log log;
  Authorizer auth({.name = "short", .result_ttl = 1s}, [&log](const authorizer_request& in) {
    log.record(in);
    return authorizer_result::allow("u");
  });
  gatehouse::Router api({.name = "shop"});
  api.route("GET", "/a", gatehouse::mock({.body = "a"}), {.authorizer = auth});
  test::running_gateway gw;
  client c(gw.serve_plain(gatehouse::Stage("prod", api.deploy())));

  CHECK(c.call_with("/prod/a", "t") == "200 - a");
  CHECK(c.call_with("/prod/a", "t") == "200 - a");
  CHECK(log.calls == 1);
  std::this_thread::sleep_for(1100ms);
  CHECK(c.call_with("/prod/a", "t") == "200 - a");
  CHECK(log.calls == 2);
  CHECK(c.call_with("/prod/a", "t") == "200 - a");
  CHECK(log.calls == 2);
}

// --- 3. REQUEST authorizers (coroutines) ------------------------------------------------------

TEST_CASE(
    "authorizer: a REQUEST authorizer (a coroutine) takes header, query string and stage "
    "variable, all of them its cache key",
    "[authorizer]") {
  handler_log log;
  std::mutex seen_mutex;
  std::vector<std::string> seen_identity;  // "tenant|user|zone" per call
  Authorizer auth({.name = "request-kind",
                   .type = authorizer_type::request,
                   .identity_sources = {"method.request.header.X-Tenant",
                                        "method.request.querystring.user", "stageVariables.zone"}},
                  [&](const authorizer_request& in) -> asio::awaitable<authorizer_result> {
                    log.record(in);
                    const auto& ev = in.request();
                    std::string identity = std::string(ev.header("X-Tenant").value_or("?")) + "|" +
                                           ev.query("user").value_or("?") + "|" +
                                           std::string(ev.stage_variable("zone").value_or("?"));
                    {
                      std::lock_guard lock(seen_mutex);
                      seen_identity.push_back(identity);
                    }
                    // Really asynchronous: a timer on the gateway's executor.
                    asio::steady_timer timer(co_await asio::this_coro::executor, 2ms);
                    co_await timer.async_wait(asio::use_awaitable);
                    auto r = authorizer_result::allow("tenant-user");
                    r.context = {{"identity", identity}};
                    co_return r;
                  });
  recorder rec;
  gatehouse::Router api({.name = "shop", .id = "shop000003"});
  api.route("GET", "/a", rec.integration(), {.authorizer = auth});
  auto deployment = api.deploy();
  gatehouse::Stage prod("prod", deployment), beta("beta", deployment), bare("bare", deployment);
  prod.variable("zone", "eu");
  beta.variable("zone", "us");
  test::running_gateway gw;
  auto port = gw.serve_plain(prod);
  gw.gateway().mount(beta);
  gw.gateway().mount(bare);
  client c(port);
  auto last_identity = [&] {
    std::lock_guard lock(seen_mutex);
    return seen_identity.empty() ? std::string("<none>") : seen_identity.back();
  };

  // Every source present: a call, and the integration sees the context.
  CHECK(c.call("/prod/a?user=ann", {{"X-Tenant", "t1"}}) == "200 - ok");
  CHECK(log.calls == 1);
  CHECK(last_identity() == "t1|ann|eu");
  CHECK(log.last_token().empty());  // REQUEST: no authorization token
  CHECK(json_at(rec.last().json, "/requestContext/authorizer/identity") == R"("t1|ann|eu")");
  // The handler's input, as AWS's REQUEST event.
  auto input = log.last_input();
  CHECK(json_at(input, "/type") == R"("REQUEST")");
  CHECK(json_at(input, "/methodArn") ==
        R"("arn:aws:execute-api:us-east-1:123456789012:shop000003/prod/GET/a")");
  CHECK(json_at(input, "/headers/X-Tenant") == R"("t1")");
  CHECK(json_at(input, "/queryStringParameters/user") == R"("ann")");
  CHECK(json_at(input, "/stageVariables/zone") == R"("eu")");
  CHECK(json_at(input, "/httpMethod") == R"("GET")");
  CHECK(json_at(input, "/authorizationToken") == "<missing>");

  // Any source missing: 401 without a call.
  CHECK(c.call("/prod/a?user=ann") == unauthorized);                           // no header
  CHECK(c.call("/prod/a", {{"X-Tenant", "t1"}}) == unauthorized);              // no query
  CHECK(c.call("/prod/a?user=", {{"X-Tenant", "t1"}}) == unauthorized);        // empty query
  CHECK(c.call("/prod/a?someone=ann", {{"X-Tenant", "t1"}}) == unauthorized);  // other query
  CHECK(c.call("/bare/a?user=ann", {{"X-Tenant", "t1"}}) == unauthorized);     // no variable
  CHECK(log.calls == 1);

  // The same identity again: cached (even with other, unlisted, parts of the request changed).
  CHECK(c.call("/prod/a?user=ann&page=2", {{"X-Tenant", "t1"}, {"X-Other", "x"}}) == "200 - ok");
  CHECK(log.calls == 1);
  // Each source is part of the key.
  CHECK(c.call("/prod/a?user=bob", {{"X-Tenant", "t1"}}) == "200 - ok");
  CHECK(log.calls == 2);
  CHECK(last_identity() == "t1|bob|eu");
  CHECK(c.call("/prod/a?user=ann", {{"X-Tenant", "t2"}}) == "200 - ok");
  CHECK(log.calls == 3);
  CHECK(last_identity() == "t2|ann|eu");
  CHECK(c.call("/beta/a?user=ann", {{"X-Tenant", "t1"}}) == "200 - ok");
  CHECK(log.calls == 4);
  CHECK(last_identity() == "t1|ann|us");
  // Values that would run together if the key were a plain concatenation.
  CHECK(c.call("/prod/a?user=1ann", {{"X-Tenant", "t"}}) == "200 - ok");
  CHECK(log.calls == 5);
  CHECK(last_identity() == "t|1ann|eu");
  // A percent-encoded query value is the decoded value.
  CHECK(c.call("/prod/a?user=a%6En", {{"X-Tenant", "t1"}}) == "200 - ok");
  CHECK(log.calls == 5);
  // All cached now.
  CHECK(c.call("/prod/a?user=bob", {{"X-Tenant", "t1"}}) == "200 - ok");
  CHECK(c.call("/beta/a?user=ann", {{"X-Tenant", "t1"}}) == "200 - ok");
  CHECK(log.calls == 5);

  // A REQUEST authorizer that caches needs a source; one that does not cache may have none.
  auto noop = [](const authorizer_request&) { return authorizer_result::allow("x"); };
  CHECK_THROWS_AS(Authorizer({.type = authorizer_type::request}, noop), gatehouse::config_error);
  CHECK_NOTHROW(Authorizer({.type = authorizer_type::request, .result_ttl = 0s}, noop));
  CHECK_THROWS_AS(
      Authorizer({.type = authorizer_type::request, .identity_sources = {"method.request.path.id"}},
                 noop),
      gatehouse::config_error);
  CHECK_THROWS_AS(Authorizer({.type = authorizer_type::request,
                              .identity_sources = {"method.request.header.A"},
                              .validation_expression = ".*"},
                             noop),
                  gatehouse::config_error);
}

TEST_CASE("authorizer: HTTP API style identity sources and context values", "[authorizer]") {
  handler_log log;
  Authorizer auth(
      {.name = "http-style",
       .type = authorizer_type::request,
       .identity_sources = {"$request.header.X-Device", "$context.identity.sourceIp",
                            "$context.httpMethod"}},
      [&log](const authorizer_request& in) {
        log.record(in);
        return authorizer_result::allow(std::string(in.request().header("X-Device").value_or("?")));
      });
  gatehouse::Router api({.name = "shop"});
  api.route("ANY", "/a", gatehouse::mock({.body = "a"}), {.authorizer = auth});
  test::running_gateway gw;
  client c(gw.serve_plain(gatehouse::Stage("prod", api.deploy())));

  CHECK(c.call("/prod/a", {{"X-Device", "d1"}}) == "200 - a");
  CHECK(c.call("/prod/a", {{"X-Device", "d1"}}) == "200 - a");
  CHECK(log.calls == 1);
  // Another method is another value of $context.httpMethod: another key.
  CHECK(summary(c.send("POST", "/prod/a", {{"X-Device", "d1"}})) == "200 - a");
  CHECK(log.calls == 2);
  CHECK(c.call("/prod/a") == unauthorized);
  CHECK(log.calls == 2);
  CHECK_THROWS_AS(
      Authorizer({.type = authorizer_type::request, .identity_sources = {"$context.noSuchThing"}},
                 [](const authorizer_request&) { return authorizer_result::reject(); }),
      gatehouse::config_error);
}

TEST_CASE("authorizer: a REQUEST authorizer without sources and TTL 0 is called every time",
          "[authorizer]") {
  handler_log log;
  Authorizer auth({.name = "every-time", .type = authorizer_type::request, .result_ttl = 0s},
                  [&log](const authorizer_request& in) -> asio::awaitable<authorizer_result> {
                    log.record(in);
                    auto pass = in.request().query("pass").value_or("");
                    if (pass == "throw") throw std::runtime_error("the coroutine broke");
                    if (pass == "reject") co_return authorizer_result::reject();
                    co_return pass == "yes" ? authorizer_result::allow("anyone")
                                            : authorizer_result::deny("anyone");
                  });
  gatehouse::Router api({.name = "shop"});
  api.route("GET", "/a", gatehouse::mock({.body = "a"}), {.authorizer = auth});
  test::running_gateway gw;
  client c(gw.serve_plain(gatehouse::Stage("prod", api.deploy())));

  CHECK(c.call("/prod/a?pass=yes") == "200 - a");
  CHECK(c.call("/prod/a?pass=yes") == "200 - a");
  CHECK(c.call("/prod/a") == explicit_deny);
  CHECK(log.calls == 3);
  // A coroutine that throws, or rejects, gets the same answers as a synchronous handler.
  CHECK(c.call("/prod/a?pass=throw") == configuration_error);
  CHECK(c.call("/prod/a?pass=reject") == unauthorized);
  CHECK(log.calls == 5);
}

// --- 4. The method ARN ------------------------------------------------------------------------

TEST_CASE("authorizer: the method ARN names region, account, API id, stage, method and path",
          "[authorizer]") {
  handler_log log;
  Authorizer auth({.name = "arns", .result_ttl = 0s}, [&log](const authorizer_request& in) {
    log.record(in);
    return authorizer_result::allow("u");
  });
  gatehouse::Router api({.name = "pets", .id = "a1b2c3d4e5"});
  api.route("GET", "/pets/{petId}", gatehouse::mock({.body = "pet"}), {.authorizer = auth});
  api.route("POST", "/pets", gatehouse::mock({.body = "made"}), {.authorizer = auth});
  api.route("ANY", "/files/{path+}", gatehouse::mock({.body = "file"}), {.authorizer = auth});
  api.route("GET", "/", gatehouse::mock({.body = "root"}), {.authorizer = auth});
  gatehouse::gateway_options options;
  options.region = "eu-west-3";
  options.account_id = "111122223333";
  test::running_gateway gw(options);
  client c(gw.serve_plain(gatehouse::Stage("v1", api.deploy())));
  const std::string base = "arn:aws:execute-api:eu-west-3:111122223333:a1b2c3d4e5/v1/";

  CHECK(c.call_with("/v1/pets/42?x=1", "t") == "200 - pet");
  CHECK(log.last_arn() == base + "GET/pets/42");
  CHECK(summary(c.send("POST", "/v1/pets", {{"Authorization", "t"}})) == "200 - made");
  CHECK(log.last_arn() == base + "POST/pets");
  CHECK(summary(c.send("DELETE", "/v1/files/a/b.txt", {{"Authorization", "t"}})) == "200 - file");
  CHECK(log.last_arn() == base + "DELETE/files/a/b.txt");
  CHECK(c.call_with("/v1/", "t") == "200 - root");
  CHECK(log.last_arn() == base + "GET/");
  CHECK(log.calls == 4);
}

TEST_CASE("authorizer: the method ARN follows the stage, its API and its redeployments",
          "[authorizer]") {
  // ARNs up to the method are remembered per thread and snapshot: two stages of two APIs on
  // one io thread, and a redeployment, must each be named right.
  handler_log log;
  Authorizer auth({.name = "narrow"}, [&log](const authorizer_request& in) {
    log.record(in);
    return authorizer_result::allow("narrow-user", in.method_arn());
  });
  gatehouse::Router one({.name = "one", .id = "apione0001"});
  one.route("GET", "/a", gatehouse::mock({.body = "one"}), {.authorizer = auth});
  gatehouse::Router two({.name = "two", .id = "apitwo0002"});
  two.route("GET", "/a", gatehouse::mock({.body = "two"}), {.authorizer = auth});
  test::running_gateway gw({}, 1);
  gatehouse::Stage prod("prod", one.deploy());
  client c(gw.serve_plain(prod));
  gw.gateway().mount(gatehouse::Stage("beta", two.deploy()));
  const std::string base = "arn:aws:execute-api:us-east-1:123456789012:";

  CHECK(c.call_with("/prod/a", "t") == "200 - one");
  CHECK(log.last_arn() == base + "apione0001/prod/GET/a");
  CHECK(c.call_with("/beta/a", "t") == no_allow);  // the cached policy names prod's ARN only
  auth.flush_cache();
  CHECK(c.call_with("/beta/a", "t") == "200 - two");
  CHECK(log.last_arn() == base + "apitwo0002/beta/GET/a");
  CHECK(c.call_with("/prod/a", "t") == no_allow);
  CHECK(log.calls == 2);

  prod.deploy(two.deploy());  // prod now serves API two
  auth.flush_cache();
  CHECK(c.call_with("/prod/a", "t") == "200 - two");
  CHECK(log.last_arn() == base + "apitwo0002/prod/GET/a");
  CHECK(c.call_with("/beta/a", "t") == no_allow);
  CHECK(log.calls == 3);
}

// --- 5. API keys from the authorizer (key source AUTHORIZER) ---------------------------------

TEST_CASE("authorizer: with key source AUTHORIZER the usageIdentifierKey picks the API key",
          "[authorizer]") {
  std::string good_key;  // set once the gateway has made it
  handler_log log;
  Authorizer auth({.name = "keys"}, [&](const authorizer_request& in) {
    log.record(in);
    auto r = authorizer_result::allow("customer");
    auto token = in.authorization_token();
    if (token == "Bearer good") r.usage_identifier_key = good_key;
    if (token == "Bearer unknown")
      r.usage_identifier_key = "Unknown0Key0Of0Forty0Characters000000000";
    if (token == "Bearer empty") r.usage_identifier_key = "";
    return r;  // "Bearer none": no key at all
  });
  recorder rec;
  gatehouse::Router api({.name = "metered", .key_source = gatehouse::api_key_source::authorizer});
  api.route("GET", "/a", rec.integration(), {.api_key_required = true, .authorizer = auth});
  api.route("GET", "/free", rec.integration(), {.authorizer = auth});
  api.route("GET", "/no-authorizer", rec.integration(), {.api_key_required = true});
  gatehouse::Stage prod("prod", api.deploy());
  gatehouse::UsagePlan plan({.name = "plan"});
  plan.attach(prod);
  test::running_gateway gw;
  client c(gw.serve_plain(prod));
  auto key = gw.gateway().api_keys().create({.name = "customer", .usage_plan_ids = {plan.id()}});
  REQUIRE(key.value);
  good_key = *key.value;

  CHECK(c.call_with("/prod/a", "Bearer good") == "200 - ok");
  auto e = rec.last();
  CHECK(e.api_key == good_key);
  CHECK(e.api_key_id == key.id);
  CHECK(e.principal_id == "customer");
  CHECK(json_at(e.json, "/requestContext/identity/apiKey") == "\"" + good_key + "\"");

  CHECK(c.call_with("/prod/a", "Bearer unknown") == forbidden);
  CHECK(c.call_with("/prod/a", "Bearer none") == forbidden);
  CHECK(c.call_with("/prod/a", "Bearer empty") == forbidden);
  // An x-api-key header is not where this API looks.
  CHECK(c.call("/prod/a", {{"Authorization", "Bearer none"}, {"x-api-key", good_key}}) ==
        forbidden);
  // A method that does not require a key does not care.
  CHECK(c.call_with("/prod/free", "Bearer none") == "200 - ok");
  // A method that requires one but has no authorizer can never have one here.
  CHECK(c.call("/prod/no-authorizer", {{"x-api-key", good_key}}) == forbidden);
  // The key disabled: the same cached result is now refused.
  REQUIRE(gw.gateway().api_keys().disable(key.id));
  CHECK(c.call_with("/prod/a", "Bearer good") == forbidden);
  CHECK(log.calls == 4);  // good, unknown, none, empty: each once, then from the cache
}

// --- Policies, the stage cache, gateway responses -------------------------------------------

TEST_CASE(
    "authorizer: the policy an authorizer returns is IAM's: wildcards, conditions, "
    "several statements, Deny wins",
    "[authorizer]") {
  const std::string arn = "arn:aws:execute-api:us-east-1:123456789012:shop000004/prod/";
  auto doc = [](std::string statements) {
    return R"({"Version":"2012-10-17","Statement":)" + statements + "}";
  };
  const std::map<std::string, std::string> policies = {
      {"one-char", doc(R"([{"Effect":"Allow","Action":"execute-api:Invoke","Resource":")" + arn +
                       R"(GET/item?"}])")},
      {"from-10", doc(R"([{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*",)"
                      R"("Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}])")},
      {"from-loopback", doc(R"([{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*",)"
                            R"("Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.1/32"}}}])")},
      {"deny-wins", doc(R"([{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"},)"
                        R"({"Effect":"Deny","Action":"execute-api:Invoke","Resource":")" +
                        arn + R"(GET/item1"}])")},
      {"any-action",
       doc(R"([{"Effect":"Allow","Action":"execute-api:*","Resource":["x",")" + arn + R"(*"]}])")},
      {"action-case", doc(R"([{"Effect":"Allow","Action":"Execute-API:invoke","Resource":"*"}])")},
      {"other-action",
       doc(R"([{"Effect":"Allow","Action":"execute-api:InvalidateCache","Resource":"*"}])")},
      {"single-object", doc(R"({"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"})")},
      {"as-object", ""},  // filled below: the document as a JSON object in from_json
  };
  handler_log log;
  Authorizer auth({.name = "policies", .result_ttl = 0s}, [&](const authorizer_request& in) {
    log.record(in);
    std::string token(in.authorization_token());
    if (token == "as-object") {
      std::string why;
      auto r = authorizer_result::from_json(
          R"({"principalId":"obj","policyDocument":{"Version":"2012-10-17","Statement":[)"
          R"({"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]},)"
          R"("context":{"tier":"gold","n":3,"ok":true}})",
          &why);
      if (!r) throw std::runtime_error(why);
      return *r;
    }
    authorizer_result r;
    r.principal_id = "p";
    r.policy_document = policies.at(token);
    return r;
  });
  recorder rec;
  gatehouse::Router api({.name = "shop", .id = "shop000004"});
  api.route("GET", "/{name}", rec.integration(), {.authorizer = auth});
  test::running_gateway gw;
  client c(gw.serve_plain(gatehouse::Stage("prod", api.deploy())));

  CHECK(c.call_with("/prod/item1", "one-char") == "200 - ok");
  CHECK(c.call_with("/prod/itemX", "one-char") == "200 - ok");
  CHECK(c.call_with("/prod/item12", "one-char") == no_allow);
  CHECK(c.call_with("/prod/item", "one-char") == no_allow);
  CHECK(c.call_with("/prod/item1", "from-10") == no_allow);
  CHECK(c.call_with("/prod/item1", "from-loopback") == "200 - ok");
  CHECK(c.call_with("/prod/item1", "deny-wins") == explicit_deny);
  CHECK(c.call_with("/prod/item2", "deny-wins") == "200 - ok");
  CHECK(c.call_with("/prod/item2", "any-action") == "200 - ok");
  CHECK(c.call_with("/prod/item2", "action-case") == "200 - ok");
  CHECK(c.call_with("/prod/item2", "other-action") == no_allow);
  CHECK(c.call_with("/prod/item2", "single-object") == "200 - ok");
  CHECK(c.call_with("/prod/item2", "as-object") == "200 - ok");
  auto e = rec.last();
  CHECK(e.principal_id == "obj");
  CHECK(describe(e.context, "tier") == "string:gold");
  CHECK(describe(e.context, "n") == "number:3");
  CHECK(describe(e.context, "ok") == "bool:true");
  CHECK(log.calls == 13);
}

TEST_CASE("authorizer: the stage cache never answers a request the authorizer refuses",
          "[authorizer]") {
  std::atomic<int> integration_calls{0};
  Authorizer auth({.name = "cache-guard"}, [](const authorizer_request& in) {
    return in.authorization_token() == "good" ? authorizer_result::allow("u")
                                              : authorizer_result::deny("u");
  });
  gatehouse::Router api({.name = "shop"});
  api.route("GET", "/a", gatehouse::function([&integration_calls](const proxy_event&) {
              int n = ++integration_calls;
              return proxy_result{.body = "call " + std::to_string(n)};
            }),
            {.authorizer = auth});
  gatehouse::Stage prod("prod", api.deploy());
  prod.cache(gatehouse::cache_settings{});
  test::running_gateway gw;
  client c(gw.serve_plain(prod));

  CHECK(c.call_with("/prod/a", "good") == "200 - call 1");
  CHECK(c.call_with("/prod/a", "good") == "200 - call 1");  // from the stage cache
  CHECK(c.call_with("/prod/a", "bad") == explicit_deny);
  CHECK(c.call("/prod/a") == unauthorized);
  CHECK(integration_calls == 1);
}

TEST_CASE("authorizer: gateway responses reshape the authorizer's 401, 403 and 500",
          "[authorizer]") {
  Authorizer auth({.name = "tokens"}, [](const authorizer_request& in) {
    return answer_for(in.authorization_token());
  });
  gatehouse::Router api({.name = "shop"});
  api.route("GET", "/a", gatehouse::mock({.body = "a"}), {.authorizer = auth});
  gatehouse::header_map h;
  h.add("X-Why", "$context.error.responseType");
  api.set_gateway_response(
      gatehouse::response_type::unauthorized,
      {.status = 403,
       .headers = h,
       .body = R"({"error":"please log in","msg":$context.error.messageString})"});
  api.set_gateway_response(gatehouse::response_type::access_denied,
                           {.body = R"({"denied":$context.error.messageString})"});
  api.set_gateway_response(gatehouse::response_type::default_5xx,
                           {.body = R"({"oops":"$context.error.responseType"})"});
  test::running_gateway gw;
  client c(gw.serve_plain(gatehouse::Stage("prod", api.deploy())));

  auto r = c.get("/prod/a");
  CHECK(summary(r) ==
        R"(403 UnauthorizedException {"error":"please log in","msg":"Unauthorized"})");
  CHECK(r.headers.get("X-Why") == "UNAUTHORIZED");
  CHECK(
      c.call_with("/prod/a", "Bearer deny") ==
      R"(403 AccessDeniedException {"denied":"User is not authorized to access this resource with an explicit deny"})");
  CHECK(c.call_with("/prod/a", "Bearer elsewhere") ==
        R"(403 AccessDeniedException {"denied":"User is not authorized to access this resource"})");
  CHECK(c.call_with("/prod/a", "Bearer throw") ==
        R"(500 AuthorizerConfigurationException {"oops":"AUTHORIZER_CONFIGURATION_ERROR"})");
  CHECK(c.call_with("/prod/a", "Bearer allow") == "200 - a");
}

TEST_CASE("authorizer: the usage plan's throttle and quota count the authorizer's API key",
          "[authorizer]") {
  std::string key_one, key_two;
  Authorizer auth({.name = "keys"}, [&](const authorizer_request& in) {
    auto r = authorizer_result::allow("customer");
    r.usage_identifier_key = in.authorization_token() == "one" ? key_one : key_two;
    return r;
  });
  gatehouse::Router api({.name = "metered", .key_source = gatehouse::api_key_source::authorizer});
  api.route("GET", "/a", gatehouse::mock({.body = "a"}),
            {.api_key_required = true, .authorizer = auth});
  gatehouse::Stage prod("prod", api.deploy());
  gatehouse::UsagePlan plan({.name = "tight", .throttle = gatehouse::throttle_settings{0.001, 2}});
  plan.attach(prod);
  test::running_gateway gw;
  client c(gw.serve_plain(prod));
  auto& keys = gw.gateway().api_keys();
  key_one = *keys.create({.name = "one", .usage_plan_ids = {plan.id()}}).value;
  key_two = *keys.create({.name = "two", .usage_plan_ids = {plan.id()}}).value;

  const std::string throttled = R"(429 TooManyRequestsException {"message":"Too Many Requests"})";
  CHECK(c.call_with("/prod/a", "one") == "200 - a");
  CHECK(c.call_with("/prod/a", "one") == "200 - a");
  CHECK(c.call_with("/prod/a", "one") == throttled);
  // The other key has its own bucket.
  CHECK(c.call_with("/prod/a", "two") == "200 - a");
}

TEST_CASE(
    "authorizer: a policy that allows execute-api:InvalidateCache lets the caller "
    "invalidate the stage cache",
    "[authorizer]") {
  // Two tokens: "admin" gets Invoke and InvalidateCache, "user" gets Invoke only.
  Authorizer auth({.name = "cache-admin"}, [](const authorizer_request& req) {
    auto r = authorizer_result::allow("someone");
    if (req.authorization_token() == "admin")
      r.policy_document =
          R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["execute-api:Invoke","execute-api:InvalidateCache"],"Resource":"*"}]})";
    return r;
  });
  std::atomic<int> calls{0};
  gatehouse::Router api({.name = "cached"});
  api.route("GET", "/n", gatehouse::function([&calls](const proxy_event&) {
              proxy_result r;
              r.body = std::to_string(++calls);
              return r;
            }),
            method_options{.authorizer = auth});
  gatehouse::Stage prod{"prod", api.deploy()};
  prod.cache(gatehouse::cache_settings{
      .ttl = 300s, .unauthorized = gatehouse::cache_control_strategy::fail_with_403});
  test::running_gateway gw;
  client c(gw.serve_plain(prod));
  auto get = [&](std::string_view token, bool invalidate) {
    header_list h{{"Authorization", std::string(token)}};
    if (invalidate) h.emplace_back("Cache-Control", "max-age=0");
    return summary(c.get("/prod/n", h));
  };
  CHECK(get("user", false) == "200 - 1");
  CHECK(get("user", false) == "200 - 1");  // a hit
  CHECK(get("user", true).starts_with("403 AccessDeniedException"));
  CHECK(get("admin", true) == "200 - 2");  // invalidated: the integration ran again
  CHECK(get("user", false) == "200 - 2");  // … and its response replaced the entry
}

TEST_CASE(
    "authorizer: a coroutine handler that does not answer within its timeout is cancelled "
    "and the client gets 500",
    "[authorizer]") {
  std::atomic<int> cancelled{0};
  Authorizer auth({.name = "slow", .result_ttl = 0s, .timeout = 100ms},
                  [&](const authorizer_request&) -> asio::awaitable<authorizer_result> {
                    asio::steady_timer timer(co_await asio::this_coro::executor, 30s);
                    asio::error_code ec;
                    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
                    if (ec == asio::error::operation_aborted) ++cancelled;
                    co_return authorizer_result::allow("late");
                  });
  recorder rec;
  gatehouse::Router api({.name = "shop"});
  api.route("GET", "/a", rec.integration(), {.authorizer = auth});
  gatehouse::Stage prod("prod", api.deploy());
  test::running_gateway gw;
  client c(gw.serve_plain(prod));
  auto start = std::chrono::steady_clock::now();
  CHECK(c.call_with("/prod/a", "token") == configuration_error);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(cancelled == 1);
  CHECK_THROWS_AS(Authorizer({.name = "x", .timeout = 0ms},
                             [](const authorizer_request&) { return authorizer_result::reject(); }),
                  gatehouse::config_error);
}
