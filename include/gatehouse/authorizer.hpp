#pragma once

#include <gatehouse/authorizer_context.hpp>
#include <gatehouse/config.hpp>
#include <gatehouse/iam.hpp>
#include <gatehouse/integration.hpp>

#include <asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse {

namespace detail {
struct authorizer_impl;
struct access;  // the library's own way to what the public types keep private
}  // namespace detail
struct lambda_options;  // <gatehouse/aws_integration.hpp>

/// AWS's two kinds of Lambda authorizer.
enum class authorizer_type {
  token,    ///< one header holds a bearer token; an optional regex pre-checks it
  request,  ///< headers, query strings, stage variables and context values together
};

/// What a custom authorizer is given: the analogue of AWS's authorizer input event.
class authorizer_request {
 public:
  authorizer_request(authorizer_type type, std::string_view token, std::string_view method_arn,
                     const proxy_event& request) noexcept
      : type_(type), token_(token), method_arn_(method_arn), request_(&request) {}

  authorizer_type type() const noexcept { return type_; }
  /// TOKEN: the identity source's value (e.g. the whole Authorization header); "" for REQUEST.
  std::string_view authorization_token() const noexcept { return token_; }
  /// arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}
  std::string_view method_arn() const noexcept { return method_arn_; }
  /// The request: headers, query string, path parameters, stage variables and context.
  const proxy_event& request() const noexcept { return *request_; }
  /// The input as AWS's JSON for this kind (TOKEN: type, authorizationToken, methodArn;
  /// REQUEST: type, methodArn and the REST proxy event's fields but the body, as AWS sends).
  std::string to_json() const;

 private:
  authorizer_type type_{};
  std::string_view token_{};
  std::string_view method_arn_{};
  const proxy_event* request_{};
};

/// What a custom authorizer returns: the analogue of AWS's authorizer output.
struct authorizer_result {
  std::string principal_id{};  ///< required (AWS's principalId)
  /// An IAM policy document with execute-api:Invoke statements over method ARNs. A result that
  /// is cached applies to other methods too, so cache-friendly policies use wildcards.
  std::string policy_document{};
  std::vector<std::pair<std::string, context_value>> context{};  ///< → requestContext.authorizer
  std::optional<std::string> usage_identifier_key{};  ///< the API key, for key source AUTHORIZER
  bool unauthorized = false;  ///< 401 Unauthorized: AWS's `raise Exception('Unauthorized')`

  /// A result whose policy allows `resource` ("*" for every method of every API).
  static authorizer_result allow(std::string principal_id, std::string_view resource = "*");
  /// A result whose policy denies `resource`: 403 with an explicit deny.
  static authorizer_result deny(std::string principal_id, std::string_view resource = "*");
  /// The caller is not authenticated: 401 Unauthorized (not cached).
  static authorizer_result reject();
  /// Parses AWS's JSON output ({"principalId", "policyDocument", "context",
  /// "usageIdentifierKey"}); nullopt and a reason in `why` when it is malformed.
  static std::optional<authorizer_result> from_json(std::string_view json, std::string* why);
};

/// Settings of a custom authorizer (AWS's Authorizer resource).
struct authorizer_options {
  std::string name = "authorizer";
  authorizer_type type = authorizer_type::token;
  /// Where the identity comes from. REST style: "method.request.header.NAME",
  /// "method.request.querystring.NAME", "stageVariables.NAME", "context.NAME"; HTTP API style:
  /// "$request.header.NAME", "$request.querystring.NAME", "$stageVariables.NAME",
  /// "$context.NAME". TOKEN takes exactly one header; empty means the Authorization header.
  /// A request missing any of them gets 401 without a call.
  std::vector<std::string> identity_sources{};
  /// TOKEN only: a regular expression (ECMAScript) the whole token must match, else 401
  /// without a call.
  std::string validation_expression{};
  /// How long a result is reused for requests with the same identity (0 to 3,600 s; 0: never).
  std::chrono::seconds result_ttl{300};
  std::size_t cache_capacity = 100'000;  ///< results kept at most
  /// A coroutine handler that has not answered after this long (1 ms to 29 s; AWS's HTTP APIs
  /// give Lambda authorizers 10 s) is cancelled and the client gets 500
  /// (AUTHORIZER_CONFIGURATION_ERROR). A plain handler holds its request until it returns.
  std::chrono::milliseconds timeout{10'000};
};

/// What a Lambda authorizer's function is sent, and answers (AWS's event formats).
enum class authorizer_payload {
  /// REST APIs: TOKEN {type, authorizationToken, methodArn}, REQUEST {type, methodArn, resource,
  /// path, httpMethod, headers, …}; the answer is an IAM policy (authorizer_result::from_json).
  rest,
  /// HTTP APIs, authorizerPayloadFormatVersion 1.0: the REQUEST event with version "1.0" and
  /// identitySource (the values joined by ','); an IAM policy back.
  http_v1,
  /// HTTP APIs, 2.0: {version, type, routeArn, identitySource: […], routeKey, rawPath, …};
  /// an IAM policy back.
  http_v2,
  /// 2.0 with enableSimpleResponses: {"isAuthorized": bool, "context": {…}} back.
  http_v2_simple,
};

/// Settings of a JWT authorizer: Cognito user pools (REST) and HTTP APIs' JWT authorizer.
struct jwt_options {
  std::string name = "jwt";
  std::string issuer{};                  ///< `iss` must equal it (required)
  std::vector<std::string> audiences{};  ///< `aud` or `client_id` must be one of them (≤ 50)
  std::string token_use{};               ///< Cognito's token_use: "id", "access" or "" (either)
  /// Keys: an https:// URL of a JWKS, fetched with the gateway's HTTP client (and its trust
  /// store, gateway_options::upstream), cached, and refetched when a token names an unknown
  /// `kid` (at most every `refetch_interval`) …
  std::string jwks_url{};
  /// … or the JWKS document itself.
  std::string jwks{};
  std::string identity_source =
      "$request.header.Authorization";            ///< a "Bearer " prefix is optional
  std::chrono::seconds leeway{60};                ///< clock skew allowed for exp, nbf, iat
  std::chrono::seconds jwks_max_age{3600};        ///< a fetched JWKS is refreshed after this
  std::chrono::seconds refetch_interval{30};      ///< unknown kids refetch at most this often
  std::chrono::milliseconds fetch_timeout{1500};  ///< AWS's JWKS timeout
  /// After a failed fetch (nothing listening, an untrusted certificate, a timeout, an error
  /// status, an unusable JWKS) the JWKS is not fetched again for this long; each failure in a
  /// row doubles the wait, up to max(fetch_backoff, refetch_interval); a success resets it.
  /// Meanwhile requests that need keys the gateway lacks get 500 (AUTHORIZER_FAILURE) at once,
  /// and the log has one line per failed fetch, with the number of requests refused since the
  /// last one. 1 ms to 1 hour.
  std::chrono::milliseconds fetch_backoff{1000};
  /// A token that passed is remembered for this long (never past its exp, and only while the
  /// JWKS still has its key), so that a client sending it again skips the signature check; the
  /// method's scopes are still checked. 0: every request verifies its token.
  std::chrono::seconds verified_ttl{300};
  std::size_t cache_capacity = 100'000;  ///< verified tokens remembered at most
};

/// An authorizer for methods: a custom C++ one (AWS's Lambda authorizer) or a JWT one. A
/// method names it in method_options::authorizer; one object can serve many methods, APIs and
/// stages, and holds the result cache they share. Cheap to copy (a shared handle).
class Authorizer {
 public:
  using handler = std::function<authorizer_result(const authorizer_request&)>;
  using async_handler =
      std::function<asio::awaitable<authorizer_result>(const authorizer_request&)>;

  Authorizer() = default;  ///< no authorizer (AWS's authorization type NONE)
  /// A custom authorizer; the handler may block only briefly (it runs on the I/O thread) or be
  /// a coroutine. Throwing from it gives the client 500 (AUTHORIZER_CONFIGURATION_ERROR).
  /// Throws config_error for bad options.
  Authorizer(authorizer_options options, handler h);
  Authorizer(authorizer_options options, async_handler h);
  /// A JWT authorizer. Throws config_error for bad options or an unusable in-code JWKS.
  static Authorizer jwt(jwt_options options);
  /// A custom authorizer whose function is a Lambda function, called through the Lambda Invoke
  /// API as lambda_invoke calls one (SigV4-signed, through the gateway's HTTP client), with
  /// `options`' identity sources, validation expression and result cache. The call may take
  /// options.timeout (function.timeout and function.format are not used). Its errors answer as
  /// AWS's do: a function error "Unauthorized" → 401; any other function error, a malformed
  /// answer, a refusal of the Lambda service, a timeout → 500 AUTHORIZER_CONFIGURATION_ERROR.
  /// HTTP payloads take REQUEST authorizers only. Throws config_error for bad options.
  static Authorizer lambda(authorizer_options options, const lambda_options& function,
                           authorizer_payload payload = authorizer_payload::rest);
  /// IAM authorization (AWS_IAM): requests signed with Signature Version 4 (Authorization header
  /// or presigned URL) by a key of `options.credentials`, whose policies (or the API's resource
  /// policy) allow execute-api:Invoke on the method. Throws config_error for bad options.
  static Authorizer iam(iam_options options);

  explicit operator bool() const noexcept { return impl_ != nullptr; }
  /// Empties the result cache (AWS's FlushStageAuthorizersCache).
  void flush_cache() const;
  const std::string& name() const noexcept;

 private:
  friend struct detail::access;
  const detail::authorizer_impl& impl() const noexcept { return *impl_; }
  explicit Authorizer(std::shared_ptr<detail::authorizer_impl> impl) noexcept
      : impl_(std::move(impl)) {}
  std::shared_ptr<detail::authorizer_impl> impl_{};
};

}  // namespace gatehouse
