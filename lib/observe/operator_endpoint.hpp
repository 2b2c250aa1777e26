#pragma once

// What the gateway answers on its operator listener (Gateway::listen_metrics): the paths an
// operator reads there — GET /metrics, and beside it what later modules add (the metering
// report) — and 404 for any other path. No API is served there, and no operator path is served
// on the APIs' listeners.

#include <gatehouse/http.hpp>
#include <gatehouse/metrics.hpp>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gatehouse::observe {

using operator_handler = std::function<response(const request&)>;

class operator_endpoint {
 public:
  /// Serves GET and HEAD of `path` (the request's path without its query) with `handler`;
  /// other methods get 405. Set up before the listener opens; read-only afterwards.
  void add(std::string path, operator_handler handler);
  /// The answer to a request of the operator listener. Never throws.
  response answer(const request& req) const noexcept;

 private:
  std::vector<std::pair<std::string, operator_handler>> paths_;
};

/// A 405 (with Allow: GET, HEAD) for a request that is neither a GET nor a HEAD; else nullopt.
std::optional<response> refuse_method(const request& req);

/// The exposition of `snapshot` in the format `req`'s Accept asks for (200, or 405 for a
/// method other than GET and HEAD).
response exposition_response(const metrics_snapshot& snapshot, const request& req);

}  // namespace gatehouse::observe
