#pragma once

// Server-side TLS settings: TLS 1.2 or later, ALPN "http/1.1", the host's certificate.

#include <gatehouse/tls.hpp>

#include <asio/ssl/context.hpp>

#include <memory>

namespace gatehouse::net {

/// Builds the TLS context a listener uses; throws config_error for an unusable certificate or key.
std::shared_ptr<asio::ssl::context> make_server_context(const tls::config& config);

}  // namespace gatehouse::net
