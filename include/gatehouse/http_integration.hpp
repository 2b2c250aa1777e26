#pragma once

#include <gatehouse/integration.hpp>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace gatehouse {

/// Settings of an HTTP integration, as AWS's integration fields of the same names.
struct http_options {
  /// How long the backend may take for the whole response: 50 ms to 29 s (timeoutInMillis).
  /// Over it → 504 {"message":"Endpoint request timed out"} (INTEGRATION_TIMEOUT).
  std::chrono::milliseconds timeout{29'000};
  /// Accept any certificate from an HTTPS backend (tlsConfig.insecureSkipVerification).
  bool insecure_skip_verification = false;
  /// requestParameters, target ← source:
  ///   {"integration.request.header.x-user", "method.request.querystring.user"}
  /// Targets: integration.request.{header|querystring|path}.NAME. Sources:
  /// method.request.{path|querystring|multivaluequerystring|header|multivalueheader}.NAME,
  /// stageVariables.NAME, context.NAME (requestId, stage, httpMethod, resourcePath,
  /// identity.sourceIp, …) and 'static text'. Checked when the integration is made.
  std::vector<std::pair<std::string, std::string>> request_parameters{};
};

/// AWS's HTTP_PROXY integration: forwards the client's method, path, query string, headers and
/// body to `url` and passes the backend's status, headers and body back. `url` may use path
/// parameters ({proxy}, {petId}) and stage variables (${stageVariables.backend}), e.g.
/// "http://${stageVariables.backend}/{proxy}". Hop-by-hop headers are dropped and
/// X-Forwarded-For/-Proto/-Host added. Throws config_error for a bad URL or option.
integration http_proxy(std::string url, http_options options = {});

/// AWS's HTTP (non-proxy) integration: calls `method` `url` with only what request_parameters
/// map, and the client's body as it is (mapping templates join with request transforms). The
/// backend's status, body and Content-Type come back. Throws config_error as http_proxy does.
integration http(std::string method, std::string url, http_options options = {});

}  // namespace gatehouse
