#pragma once

// The contract every integration type fulfils (step 10 of the pipeline).

#include "pipeline/exchange.hpp"

#include <gatehouse/integration.hpp>

#include <asio/awaitable.hpp>

#include <memory>
#include <string>
#include <vector>

namespace gatehouse::detail {

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
  /// The same integration giving its handler events of another payload format; null when it
  /// has no such setting. An imported HTTP API's payloadFormatVersion decides it, as in AWS,
  /// also for a C++ function the host bound.
  virtual std::shared_ptr<const integration_impl> with_format(payload_format) const {
    return nullptr;
  }
};

}  // namespace gatehouse::detail
