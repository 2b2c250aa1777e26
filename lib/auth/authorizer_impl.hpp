#pragma once

// The inside of an Authorizer: step 4 of the pipeline for the methods that name it.

#include "pipeline/exchange.hpp"

#include <asio/awaitable.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::spec {
struct authorizer_model;
}

namespace gatehouse::detail {

struct export_context;

/// An authorizer: decides whether the caller of `ex` may invoke its method. On success it sets
/// ex.auth and returns no error; otherwise the gateway error to answer with (401, 403, 500).
struct authorizer_impl {
  explicit authorizer_impl(std::string n) : name(std::move(n)) {}
  virtual ~authorizer_impl() = default;

  /// The fast path, without I/O (a cached result): nullopt when the answer needs authorize().
  virtual std::optional<std::optional<gateway_error>> try_authorize(exchange& ex) const = 0;
  /// The full decision; may call the host's handler or fetch keys.
  virtual asio::awaitable<std::optional<gateway_error>> authorize(exchange& ex) const = 0;
  /// Forgets cached results.
  virtual void flush() const = 0;
  /// Whether methods may name authorization scopes for it (JWT authorizers).
  virtual bool takes_scopes() const noexcept { return false; }
  /// Whether it evaluates the API's resource policy itself, with the caller it authenticated as
  /// the principal (IAM); step 3 then leaves the resource policy to it.
  virtual bool checks_resource_policy() const noexcept { return false; }

  /// Describes it for export: returns AWS's authorizationType of the methods it guards
  /// ("CUSTOM", "COGNITO_USER_POOLS" or "AWS_IAM") and, but for AWS_IAM, fills `out` with
  /// the Authorizer (named as this one).
  virtual std::string_view describe(spec::authorizer_model& out,
                                    const export_context& context) const = 0;

  std::string name;
};

}  // namespace gatehouse::detail
