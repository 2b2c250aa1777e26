#pragma once

#include <gatehouse/authorizer_context.hpp>
#include <gatehouse/config.hpp>
#include <gatehouse/http.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace gatehouse {

namespace detail {
struct exchange;
struct integration_impl;
struct access;  // the library's own way to what the public types keep private
}  // namespace detail

/// The event shape a function integration receives, as AWS's Lambda proxy payload formats.
enum class payload_format {
  v1,  ///< REST API proxy event (resource, path, httpMethod, multiValueHeaders, …)
  v2,  ///< HTTP API payload format 2.0 (version, routeKey, rawPath, rawQueryString, cookies, …)
};

/// `requestContext` of the proxy event: where and how the request arrived.
struct request_context {
  std::string_view account_id{};
  std::string_view api_id{};
  std::string_view domain_name{};
  std::string_view http_method{};
  std::string_view path{};      ///< full path including the stage: /prod/pets/1
  std::string_view protocol{};  ///< "HTTP/1.1"
  std::string_view request_id{};
  std::string_view request_time{};      ///< CLF: 24/Nov/2026:01:02:03 +0000
  std::int64_t request_time_epoch = 0;  ///< milliseconds
  std::string_view resource_path{};     ///< the matched resource template: /pets/{petId}
  std::string_view stage{};
  std::string_view source_ip{};
  std::string_view user_agent{};
  std::string_view api_key{};       ///< the API key the request used, when its method needs one
  std::string_view api_key_id{};    ///< that key's id
  std::string_view vpce_id{};       ///< the private endpoint the request came through, if any
  authorizer_context authorizer{};  ///< what the method's authorizer found out (empty: none)
  iam_identity iam{};               ///< the IAM caller, for methods with IAM authorization
};

/// What a function integration ("Lambda proxy") gets: a view of the request, valid for the call.
class proxy_event {
 public:
  std::string_view http_method() const noexcept;
  std::string_view resource() const noexcept;  ///< the route's template: /pets/{petId}
  std::string_view path() const noexcept;      ///< path without the stage: /pets/1
  std::string_view raw_query_string() const noexcept;
  std::string_view body() const noexcept;  ///< raw bytes, never base64 here

  std::optional<std::string_view> header(std::string_view name) const noexcept;
  /// The last value of a query string parameter, percent-decoded.
  std::optional<std::string> query(std::string_view name) const;
  /// A path parameter, percent-decoded.
  std::optional<std::string_view> path_parameter(std::string_view name) const noexcept;
  std::optional<std::string_view> stage_variable(std::string_view name) const noexcept;
  request_context context() const noexcept;

  payload_format format() const noexcept { return format_; }
  /// The event as AWS's JSON for this payload format (body base64-encoded when not UTF-8).
  std::string to_json() const;

 private:
  /// The request it views (gatehouse's own use).
  const detail::exchange& impl() const noexcept { return *ex_; }
  friend struct detail::access;
  explicit proxy_event(const detail::exchange& ex, payload_format format) noexcept
      : ex_(&ex), format_(format) {}
  const detail::exchange* ex_{};
  payload_format format_{};
};

/// What a function integration returns, as AWS's proxy result. Missing fields take AWS's defaults.
struct proxy_result {
  int status_code = 200;
  header_map headers{};                ///< repeated names become repeated header fields
  std::vector<std::string> cookies{};  ///< each becomes a Set-Cookie field (v2's `cookies`)
  std::string body{};
  bool is_base64_encoded = false;  ///< body is base64; the gateway decodes it

  /// Parses a JSON proxy result as a Lambda function would return it, with AWS's rules for the
  /// payload format. On a malformed result returns nullopt and says why in `why`.
  static std::optional<proxy_result> from_json(std::string_view json, payload_format format,
                                               std::string* why = nullptr);
};

/// Options of a function integration.
struct function_options {
  payload_format format = payload_format::v1;
  /// When set, the handler runs there instead of on the I/O thread: for handlers that block.
  std::optional<asio::any_io_executor> executor{};
  /// For coroutine handlers: after this (50 ms to 29 s) the handler is cancelled (its pending
  /// Asio operation ends with operation_aborted) and the client gets 504
  /// {"message":"Endpoint request timed out"}. A handler that ignores cancellation, and a
  /// synchronous or executor-run handler, still holds its request until it returns.
  std::chrono::milliseconds timeout{29'000};
  /// The Lambda function the handler stands for in an export: an aws_proxy integration of
  /// arn:aws:lambda:{region}:{account}:function:{name}, so that the export, imported again with
  /// this name bound to the same handler (openapi_options::functions), behaves the same. Empty:
  /// the route's method and resource, letters and digits joined by '-' ("GET-pets-petId").
  std::string name{};
};

/// An integration: what a route calls once the request has passed the pipeline's checks.
class integration {
 public:
  integration() = default;
  explicit integration(std::shared_ptr<const detail::integration_impl> impl) noexcept
      : impl_(std::move(impl)) {}
  explicit operator bool() const noexcept { return impl_ != nullptr; }

 private:
  friend struct detail::access;
  const detail::integration_impl& impl() const noexcept { return *impl_; }
  std::shared_ptr<const detail::integration_impl> impl_{};
};

/// The handler kinds a function integration accepts, erased.
using sync_handler = std::function<proxy_result(const proxy_event&)>;
using async_handler = std::function<asio::awaitable<proxy_result>(const proxy_event&)>;
using sync_json_handler = std::function<std::string(const proxy_event&)>;
using async_json_handler = std::function<asio::awaitable<std::string>(const proxy_event&)>;

integration make_function(sync_handler h, function_options opts);
integration make_function(async_handler h, function_options opts);
integration make_function(sync_json_handler h, function_options opts);
integration make_function(async_json_handler h, function_options opts);

/// A function integration ("Lambda proxy"). The handler takes `const proxy_event&` and returns
/// a proxy_result, or a JSON string as a Lambda function would; either may be a coroutine
/// (asio::awaitable<…>). A throwing handler or a malformed result answers 502.
template <class Handler>
integration function(Handler&& handler, function_options opts = {}) {
  using result = std::invoke_result_t<Handler&, const proxy_event&>;
  if constexpr (std::is_same_v<result, proxy_result>)
    return make_function(sync_handler(std::forward<Handler>(handler)), std::move(opts));
  else if constexpr (std::is_same_v<result, asio::awaitable<proxy_result>>)
    return make_function(async_handler(std::forward<Handler>(handler)), std::move(opts));
  else if constexpr (std::is_convertible_v<result, std::string>)
    return make_function(sync_json_handler(std::forward<Handler>(handler)), std::move(opts));
  else if constexpr (std::is_same_v<result, asio::awaitable<std::string>>)
    return make_function(async_json_handler(std::forward<Handler>(handler)), std::move(opts));
  else
    static_assert(sizeof(Handler) == 0,
                  "a function handler returns proxy_result, std::string (JSON), or an "
                  "asio::awaitable of either");
}

/// A mock integration's fixed answer. Header values and the body may use ${stageVariables.x}.
struct mock_response {
  int status = 200;
  header_map headers{};
  std::string body{};
  std::string content_type = "application/json";
};

/// A mock integration: answers without calling anything.
integration mock(mock_response response);

}  // namespace gatehouse
