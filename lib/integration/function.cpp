// The function integration ("Lambda proxy"): calls a host's C++ handler with the proxy event
// and turns its proxy result into the response, as AWS_PROXY does.

#include "integration/integration_impl.hpp"
#include "integration/proxy_response.hpp"
#include "spec/model.hpp"
#include "util/access.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/integration.hpp>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <exception>
#include <variant>

namespace gatehouse {

namespace {
detail::outcome malformed(std::string reason) {
  // AWS answers a malformed Lambda proxy response or a failed invocation with 502.
  return {{},
          detail::gateway_error{response_type::default_5xx, 502, "Internal server error",
                                std::move(reason)}};
}

using handler = std::variant<sync_handler, async_handler, sync_json_handler, async_json_handler>;

class function_integration final : public detail::integration_impl {
 public:
  function_integration(handler h, function_options opts) : h_(std::move(h)), opts_(opts) {}

  std::shared_ptr<const detail::integration_impl> with_format(
      payload_format format) const override {
    function_options opts = opts_;
    opts.format = format;
    return std::make_shared<function_integration>(h_, std::move(opts));
  }

  bool invoke_now(detail::exchange& ex, detail::outcome& out) const override {
    if (opts_.executor || !synchronous()) return false;
    auto ev = detail::access::event(ex, opts_.format);
    std::string why;
    std::optional<proxy_result> result;
    try {
      result = call_now(ev, why);
    } catch (const std::exception& e) {
      out = malformed(fmt::format("Execution failed: the handler threw: {}", e.what()));
      return true;
    } catch (...) {
      out = malformed("Execution failed: the handler threw a non-standard exception");
      return true;
    }
    out = finish(std::move(result), why);
    return true;
  }

  asio::awaitable<detail::outcome> invoke(detail::exchange& ex) const override {
    auto ev = detail::access::event(ex, opts_.format);
    std::string why;
    std::optional<proxy_result> result;
    try {
      if (opts_.executor) {
        // Blocking handlers run on the host's executor; we resume here when they finish.
        result = co_await asio::co_spawn(
            *opts_.executor, [this, &ev, &why]() { return call(ev, why); }, asio::use_awaitable);
      } else if (synchronous()) {
        result = call_now(ev, why);  // no coroutine frame for the common, synchronous case
      } else {
        // A coroutine handler races the integration timeout; the loser is cancelled.
        using namespace asio::experimental::awaitable_operators;
        asio::steady_timer timer(co_await asio::this_coro::executor, opts_.timeout);
        auto first = co_await (call(ev, why) || timer.async_wait(asio::use_awaitable));
        if (first.index() == 1)
          co_return detail::outcome{
              {},
              detail::gateway_error{response_type::integration_timeout,
                                    0,
                                    {},
                                    fmt::format("Execution failed due to a timeout error: the "
                                                "handler took over {} ms",
                                                opts_.timeout.count())}};
        result = std::move(std::get<0>(first));
      }
    } catch (const std::exception& e) {
      co_return malformed(fmt::format("Execution failed: the handler threw: {}", e.what()));
    } catch (...) {
      co_return malformed("Execution failed: the handler threw a non-standard exception");
    }
    co_return finish(std::move(result), why);
  }

  // A C++ handler is the Lambda function of its name (AWS_PROXY is always invoked with POST).
  void describe(spec::integration_model& out, const detail::export_context& c) const override {
    out.type = "AWS_PROXY";
    out.http_method = "POST";
    out.uri = detail::lambda_function_uri(c, opts_.name.empty() ? c.route_name : opts_.name);
    out.timeout_ms = static_cast<int>(opts_.timeout.count());
    out.payload_format_version = opts_.format == payload_format::v2 ? "2.0" : "1.0";
  }

 private:
  bool synchronous() const noexcept { return h_.index() == 0 || h_.index() == 2; }

  /// The response for a handler's result, or 502 when there is none or it is malformed.
  detail::outcome finish(std::optional<proxy_result> result, std::string& why) const {
    if (!result)
      return malformed(
          fmt::format("Execution failed due to configuration error: Malformed Lambda proxy "
                      "response: {}",
                      why));
    detail::outcome out;
    if (!detail::to_response(std::move(*result), opts_.format, out.res, why))
      return malformed(
          fmt::format("Execution failed due to configuration error: Malformed Lambda proxy "
                      "response: {}",
                      why));
    return out;
  }

  std::optional<proxy_result> call_now(const proxy_event& ev, std::string& why) const {
    if (h_.index() == 0) return std::get<0>(h_)(ev);
    return proxy_result::from_json(std::get<2>(h_)(ev), opts_.format, &why);
  }

  asio::awaitable<std::optional<proxy_result>> call(const proxy_event& ev, std::string& why) const {
    switch (h_.index()) {
      case 1:
        co_return co_await std::get<1>(h_)(ev);
      case 3: {
        std::string json = co_await std::get<3>(h_)(ev);
        co_return proxy_result::from_json(json, opts_.format, &why);
      }
      default:
        co_return call_now(ev, why);
    }
  }

  handler h_;
  function_options opts_;
};

template <class H>
integration make(H h, function_options opts) {
  if (opts.timeout < std::chrono::milliseconds(50) ||
      opts.timeout > std::chrono::milliseconds(29'000))
    throw config_error(fmt::format(
        "function integration: timeout {} ms is outside 50 ms to 29,000 ms", opts.timeout.count()));
  return integration{
      std::make_shared<function_integration>(handler(std::move(h)), std::move(opts))};
}
}  // namespace

integration make_function(sync_handler h, function_options opts) {
  return make(std::move(h), opts);
}
integration make_function(async_handler h, function_options opts) {
  return make(std::move(h), opts);
}
integration make_function(sync_json_handler h, function_options opts) {
  return make(std::move(h), opts);
}
integration make_function(async_json_handler h, function_options opts) {
  return make(std::move(h), opts);
}

}  // namespace gatehouse
