#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

namespace gatehouse {

namespace detail {
struct client_certificate_data;
struct access;  // the library's own way to what the public types keep private
}  // namespace detail

/// A certificate the gateway presents to HTTPS backends (mutual TLS), as AWS's client
/// certificates: backends install `pem_encoded_certificate()` and refuse callers without it.
/// A cheap, shareable handle; a default-constructed one is "no certificate".
class client_certificate {
 public:
  client_certificate() = default;

  /// Generates a key (ECDSA P-256) and a self-signed X.509 client certificate valid for `days`.
  static client_certificate generate(std::string description = {}, int days = 365);
  /// Uses an existing certificate (PEM, optionally followed by its chain) and its private key.
  /// Throws config_error when either does not parse or the key does not match the certificate.
  static client_certificate from_pem(std::string certificate_pem, std::string private_key_pem,
                                     std::string description = {});
  /// As from_pem, reading both from files; throws config_error naming an unreadable file.
  static client_certificate from_files(const std::filesystem::path& certificate,
                                       const std::filesystem::path& private_key,
                                       std::string description = {});

  explicit operator bool() const noexcept { return data_ != nullptr; }
  /// AWS-style clientCertificateId: 6 lowercase letters and digits.
  const std::string& id() const noexcept;
  const std::string& description() const noexcept;
  /// The public certificate in PEM, what a backend needs to trust the gateway.
  const std::string& pem_encoded_certificate() const noexcept;
  std::chrono::system_clock::time_point created_date() const noexcept;
  std::chrono::system_clock::time_point expiration_date() const noexcept;

 private:
  friend struct detail::access;
  /// For the library: the private key in PEM (never shown by the accessors above).
  const detail::client_certificate_data& data() const noexcept { return *data_; }
  explicit client_certificate(std::shared_ptr<const detail::client_certificate_data> d) noexcept
      : data_(std::move(d)) {}
  std::shared_ptr<const detail::client_certificate_data> data_{};
};

namespace detail {
struct client_certificate_data {
  std::string id{};
  std::string description{};
  std::string certificate_pem{};  // the certificate and any chain after it
  std::string private_key_pem{};
  std::chrono::system_clock::time_point created{};
  std::chrono::system_clock::time_point expires{};
};
}  // namespace detail

}  // namespace gatehouse
