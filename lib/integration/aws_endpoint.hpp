#pragma once

// What the AWS integrations (aws_service, lambda_invoke) share: checks of their options when
// they are made, and a call through the gateway's HTTP client signed with SigV4.

#include "http/body_source.hpp"
#include "net/client_core.hpp"

#include <gatehouse/aws_integration.hpp>
#include <gatehouse/http.hpp>
#include <gatehouse/http_client.hpp>

#include <asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace gatehouse::detail {

/// Checks the signing region, service and credentials. Throws config_error starting with `what`.
void check_aws_signing(const aws_signing& signing, std::string_view what);

/// Checks an endpoint, http(s)://host[:port] with no path but an optional final '/', and
/// returns it without that '/'. Throws config_error starting with `what`.
std::string checked_aws_endpoint(std::string_view endpoint, std::string_view what);

/// The Invoke API's URL of a Lambda function: {endpoint}/2015-03-31/functions/{name}/invocations
/// [?Qualifier=…]. Checks the function's name, qualifier, endpoint, region and credentials first;
/// throws config_error starting with `what`.
std::string lambda_invocation_url(const lambda_options& o, std::string_view what);

/// Checks an integration timeout: 50 ms to 29 s. Throws config_error starting with `what`.
void check_integration_timeout(std::chrono::milliseconds timeout, std::string_view what);

/// client_core::call, with the fields `fields` writes signed (with Host, the target and the
/// body) and the signature's fields added. The arguments must stay valid until it ends.
asio::awaitable<std::error_code> signed_call(client_core& client, const aws_signing& signing,
                                             const upstream_address& to, std::string_view method,
                                             std::string_view target, head_writer fields,
                                             std::string_view body, const call_options& options,
                                             response& out,
                                             std::unique_ptr<wire::body_source>* stream = nullptr);

}  // namespace gatehouse::detail
