#pragma once

// A custom authorizer's function that runs elsewhere (a Lambda function called through the
// Invoke API) instead of as the host's C++ handler: what the custom authorizer needs of it.

#include "auth/authorizer_impl.hpp"
#include "pipeline/exchange.hpp"

#include <gatehouse/authorizer.hpp>

#include <asio/awaitable.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace gatehouse::detail {
struct export_context;
}

namespace gatehouse::auth {

/// What the function answered.
struct function_answer {
  authorizer_result result;  ///< an IAM-policy answer, or result.unauthorized (401)
  bool simple = false;       ///< a simple response (HTTP APIs): isAuthorized and result.context
  bool authorized = false;   ///< its isAuthorized
  std::string failure;       ///< not empty: no usable answer (500), and why, for the log
};

class remote_function {
 public:
  virtual ~remote_function() = default;
  /// Calls the function for `ex`. `identity` holds the identity sources' values, joined by NULs
  /// when there are several (`count`). Never throws.
  virtual asio::awaitable<void> call(gatehouse::detail::exchange& ex,
                                     const authorizer_request& input, std::string_view identity,
                                     std::size_t count, function_answer& out) const = 0;
  /// The authorizerUri it exports as.
  virtual std::string uri(const gatehouse::detail::export_context& c) const = 0;
};

/// A custom authorizer (identity sources, validation expression, result cache) whose function
/// is `function`. Throws config_error for bad options.
std::shared_ptr<gatehouse::detail::authorizer_impl> make_custom_authorizer(
    authorizer_options options, std::shared_ptr<const remote_function> function);

}  // namespace gatehouse::auth
