#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace gatehouse {

/// Asks Gateway::listen for plain HTTP: never the default, always explicit.
struct plain_http_t {
  explicit plain_http_t() = default;
};
inline constexpr plain_http_t plain_http{};

namespace tls {

/// A server certificate chain and its private key, in PEM.
struct config {
  std::string certificate_chain_pem{};
  std::string private_key_pem{};
};

/// Loads PEM files; throws config_error naming the file that cannot be read.
config from_files(const std::filesystem::path& certificate_chain, const std::filesystem::path& key);

/// A fresh self-signed certificate (ECDSA P-256) for development, valid for `days`,
/// with the given DNS names and IP addresses as subject alternative names.
config self_signed(const std::vector<std::string>& names = {"localhost", "127.0.0.1", "::1"},
                   int days = 365);

}  // namespace tls
}  // namespace gatehouse
