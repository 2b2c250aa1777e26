#pragma once

// The contract every integration type fulfils (step 10 of the pipeline).

#include "pipeline/exchange.hpp"

#include <gatehouse/integration.hpp>

#include <asio/awaitable.hpp>

#include <fmt/format.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::spec {
struct integration_model;
}

namespace gatehouse::detail {

/// What describing a route for export needs to know beyond the route itself.
struct export_context {
  std::string_view region;      ///< of ARNs: Lambda functions, AWS services
  std::string_view account_id;  ///< of Lambda function ARNs
  /// The name a function without one exports under: the route's ("GET-pets-petId").
  std::string_view route_name;
};

/// AWS's integration URI of a Lambda function: `function` is a name or an ARN, with or
/// without its qualifier.
inline std::string lambda_function_uri(const export_context& c, std::string_view function,
                                       std::string_view qualifier = {}) {
  std::string arn = function.starts_with("arn:") ? std::string(function)
                                                 : fmt::format("arn:aws:lambda:{}:{}:function:{}",
                                                               c.region, c.account_id, function);
  if (!qualifier.empty()) fmt::format_to(std::back_inserter(arn), ":{}", qualifier);
  return fmt::format("arn:aws:apigateway:{}:lambda:path/2015-03-31/functions/{}/invocations",
                     c.region, arn);
}

struct integration_impl {
  virtual ~integration_impl() = default;
  /// Calls the integration for a matched request; never throws, ends with a response or a
  /// gateway error.
  virtual asio::awaitable<outcome> invoke(exchange& ex) const = 0;
  /// Answers at once when the integration can without waiting (a synchronous function, a
  /// mock): true with the answer in `out`; false (leaving `out` alone) to co_await invoke().
  /// Saves the request a coroutine frame.
  virtual bool invoke_now(exchange&, outcome&) const { return false; }
  /// Appends the stage variables the integration uses, checked when a stage is mounted.
  virtual void collect_stage_variables(std::vector<std::string>&) const {}
  /// Proxy integrations (function, http_proxy, lambda_invoke) pass requests and responses as
  /// they are; only non-proxy ones take mapping templates and integration responses.
  virtual bool is_proxy() const noexcept { return true; }
  /// Describes the integration as AWS's Integration (type, httpMethod, uri, …), for export;
  /// leaves `out` alone when it has no AWS form (an integration that only reports an error).
  virtual void describe(spec::integration_model& out, const export_context& context) const = 0;
  /// The same integration giving its handler events of another payload format; null when it
  /// has no such setting. An imported HTTP API's payloadFormatVersion decides it, as in AWS,
  /// also for a C++ function the host bound.
  virtual std::shared_ptr<const integration_impl> with_format(payload_format) const {
    return nullptr;
  }
};

}  // namespace gatehouse::detail
