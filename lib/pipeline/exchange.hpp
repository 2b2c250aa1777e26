#pragma once

// The per-request state that flows through the pipeline's steps.

#include "http/body_source.hpp"
#include "net/cancellation.hpp"
#include "observe/trace_context.hpp"
#include "routing/deployment.hpp"
#include "routing/route_table.hpp"

#include <gatehouse/gateway_response.hpp>
#include <gatehouse/http.hpp>
#include <gatehouse/store.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::detail {

class client_core;
struct key_record;
}  // namespace gatehouse::detail
namespace gatehouse::cache {
struct lease;
struct flight;
}  // namespace gatehouse::cache
namespace gatehouse::auth {
struct authorization;
}  // namespace gatehouse::auth
namespace gatehouse::detail {

/// How the gateway ends a request itself: a gateway response of a type, with an optional
/// status and client message overriding the type's defaults, and a reason for the log only.
struct gateway_error {
  gateway_error(response_type t, int s = 0, std::string m = {}, std::string why = {})
      : type(t), status(s), message(std::move(m)), log_reason(std::move(why)) {}
  response_type type;
  int status;                            // 0: the type's default
  std::string message;                   // empty: the type's default
  std::string log_reason;                // for the log only, never sent
  std::chrono::seconds retry_after{-1};  // ≥ 0: sent as Retry-After (429s)
  std::string www_authenticate;          // sent as WWW-Authenticate when not empty (JWT 401s)
  std::string_view error_type;           // x-amzn-ErrorType instead of the type's (static text)
  std::string validation_errors;         // $context.error.validationErrorString (400s of step 7)
};

/// What a step or an integration produced: a response, or a gateway error to render.
struct outcome {
  response res;
  std::optional<gateway_error> error;
};

struct gateway_identity {
  std::string_view account_id;
  std::string_view region;
};

/// A WebSocket event run through the pipeline (a route of a WebSocket API with an integration):
/// what $context adds for it (connectionId, routeKey, eventType …).
struct websocket_call {
  std::string_view connection_id;
  std::string_view route_key;
  std::string_view event_type;  // CONNECT, MESSAGE or DISCONNECT
  std::string_view message_id;  // MESSAGE only
  std::int64_t connected_at = 0;
  // The connection's, for events that have no request of their own (a message for a C++ route).
  std::string_view source_ip;
  std::string_view user_agent;
  std::string_view domain_name;
};

struct exchange {
  request& req;
  gateway_identity gateway;
  std::chrono::system_clock::time_point start = std::chrono::system_clock::now();
  // For the record after the response (observe/): when the request arrived, and how long its
  // integration took (negative: none was called).
  std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point integration_start{};
  std::chrono::nanoseconds integration_latency{-1};
  int integration_status = 0;  // the integration's status, before step 11 mapped it
  // Step 4, for methods with an authorizer: how long it took, and whether it ended the request.
  std::chrono::steady_clock::time_point authorizer_start{};
  std::chrono::nanoseconds authorizer_latency{-1};
  bool authorizer_refused = false;
  observe::trace_context trace;     // X-Amzn-Trace-Id / traceparent, taken or started
  char request_id[37] = {};         // UUID text, $context.requestId
  char request_time_text[32] = {};  // CLF, $context.requestTime
  std::string_view request_time;
  std::int64_t request_time_epoch = 0;  // milliseconds
  std::string_view path;                // request path without the query: /prod/pets/1
  std::string_view query;               // raw query string, without '?'
  std::string_view stage_path;          // path below the stage: /pets/1
  std::shared_ptr<const stage_snapshot> stage;
  client_core* client = nullptr;              // the gateway's HTTP client, for HTTP integrations
  const websocket_call* websocket = nullptr;  // a WebSocket API's event, else null
  bool may_stream = false;                    // the way in can send a body as it arrives
  response* reply = nullptr;  // the caller's response, when it has one to reuse (reply_target)
  // The caller's cancellation (reply_target::cancel): the awaited operations of a step that
  // observes it (an HTTP integration's backend call) are bound to it.
  net::cancel_handle cancel;
  std::unique_ptr<wire::body_source> stream;  // the rest of the response body, when streamed
  routing::route_match match;
  std::string decoded_params;  // percent-decoded parameter values, when any needed decoding

  // Steps 3 and 4: the method ARN policies are evaluated against (when an API has a resource
  // policy or the method an authorizer), and what the authorizer found out about the caller.
  std::string method_arn;
  bool resource_policy_allows = false;  // an Allow there is enough for the authorizer's policy
  std::shared_ptr<const auth::authorization> auth;
  // Step 4 (authorizers) may supply the usage identifier key, for APIs whose key source is
  // AUTHORIZER. Step 5: the API key and the plan it is used under, when the method needs one.
  std::string_view authorizer_usage_key;
  std::string_view api_key_value;
  std::shared_ptr<const key_record> api_key;
  const stage_plan* plan = nullptr;
  // Step 6: the buckets and counters the request is admitted by (names of per-key ones in
  // `usage_keys`).
  std::array<bucket_check, 4> buckets;
  std::string usage_keys;
  // Step 10: a non-proxy integration's backend header fields, which only step 11's mapping
  // passes on (integration.response.header.NAME).
  header_map backend_headers;
  // Step 9: HTTP APIs' parameter mapping of the query string and path the integration sends.
  bool query_mapped = false;
  std::string mapped_query;  // encoded, without '?'
  bool path_mapped = false;
  std::string mapped_path;
  // Step 9: header fields a request template set for the integration request.
  std::vector<std::pair<std::string, std::string>> override_headers;
  // Steps 8 and 12: the stage cache, for methods it caches.
  struct cache_use {
    bool active = false;                    // the method is cached
    bool fill = false;                      // step 12 stores the response
    std::string key;                        // the cache key
    const char* warning = nullptr;          // a Warning header to add
    bool hit_in_reply = false;              // a hit was decoded straight into *reply
    std::unique_ptr<cache::lease> lease;    // when leading concurrent misses for the key
    std::shared_ptr<cache::flight> follow;  // when another request leads them
    cache_use();
    ~cache_use();
  } cache;

  explicit exchange(request& r, gateway_identity g) : req(r), gateway(g) {}
  std::string_view id() const noexcept { return {request_id, 36}; }
  /// Path parameter value, percent-decoded.
  std::optional<std::string_view> path_param(std::string_view name) const noexcept;
};

}  // namespace gatehouse::detail
