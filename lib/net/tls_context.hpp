#pragma once

// TLS settings. Server side: TLS 1.2 or later, ALPN "http/1.1", the host's certificate.
// Client side (the HTTP client's HTTPS, the Redis store's rediss://): TLS 1.2 or later,
// verification against the system or a given trust store, an optional client certificate.

#include <gatehouse/client_certificate.hpp>
#include <gatehouse/tls.hpp>

#include <asio/ssl/context.hpp>

#include <openssl/ssl.h>

#include <memory>
#include <string_view>

namespace gatehouse::net {

/// What a client's TLS context trusts and presents.
struct client_tls_settings {
  bool verify = true;          ///< verify the server's certificate (chain, dates, name)
  std::string_view ca_file{};  ///< trusted CAs (PEM file); empty: the system store, unless…
  std::string_view ca_pem{};   ///< … trusted CAs given in memory (added to ca_file's)
  const client_certificate* certificate = nullptr;  ///< presented when the server asks
  std::string_view alpn{};           ///< protocols offered, in ALPN's wire format; empty: none
  std::string_view what = "client";  ///< names the settings in config_error messages
};

/// Throws config_error (naming `what`) for an unreadable CA file, bad CA PEM or an unusable
/// client certificate.
std::shared_ptr<asio::ssl::context> make_client_context(const client_tls_settings& settings);

/// Sets up a client connection to `host` (a name, or an IP address without brackets): SNI for
/// a name, and, when verifying, the name or address the certificate must be for.
void prepare_client_tls(SSL* ssl, std::string_view host, bool verify);

/// Builds the TLS context a listener uses; throws config_error for an unusable certificate or key.
std::shared_ptr<asio::ssl::context> make_server_context(const tls::config& config);

}  // namespace gatehouse::net
