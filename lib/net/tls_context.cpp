#include "net/tls_context.hpp"

#include "net/url.hpp"
#include "util/access.hpp"

#include <gatehouse/config_error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <string>

namespace gatehouse::net {

namespace {
std::string last_ssl_error() {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// We speak HTTP/1.1 only; a client offering ALPN without it gets no ALPN answer (and falls
// back to HTTP/1.1 anyway, since it connected to an HTTP/1.1 server).
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  static constexpr unsigned char http11[] = "http/1.1";
  for (unsigned int i = 0; i < inlen;) {
    unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == 8 && std::memcmp(in + i + 1, http11, 8) == 0) {
      *out = in + i + 1;
      *outlen = 8;
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

// There is no way to give a pass phrase: an encrypted key fails to load. Without this, OpenSSL
// asks for the pass phrase on the controlling terminal, and listen() blocks on it.
int no_passphrase(char*, int, int, void*) { return 0; }
}  // namespace

std::shared_ptr<asio::ssl::context> make_server_context(const tls::config& config) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_alpn_select_cb(native, &select_alpn, nullptr);
  SSL_CTX_set_default_passwd_cb(native, &no_passphrase);
  asio::error_code ec;
  // The key first: BoringSSL refuses a key that does not match a certificate already set
  // (KEY_VALUES_MISMATCH), OpenSSL drops it silently; a certificate set after the key is
  // accepted by both, so that the check below reports a mismatch the same way for both.
  ctx->use_private_key(asio::buffer(config.private_key_pem), asio::ssl::context::pem, ec);
  if (ec) throw config_error(fmt::format("TLS private key: cannot use it: {}", ec.message()));
  ctx->use_certificate_chain(asio::buffer(config.certificate_chain_pem), ec);
  if (ec) throw config_error(fmt::format("TLS certificate chain: cannot use it: {}", ec.message()));
  if (SSL_CTX_check_private_key(native) != 1)
    throw config_error(
        fmt::format("TLS private key does not match the certificate: {}", last_ssl_error()));
  return ctx;
}

std::shared_ptr<asio::ssl::context> make_client_context(const client_tls_settings& o) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  if (!o.alpn.empty())
    SSL_CTX_set_alpn_protos(ctx->native_handle(),
                            reinterpret_cast<const unsigned char*>(o.alpn.data()), o.alpn.size());
  asio::error_code ec;
  if (o.verify) {
    ctx->set_verify_mode(asio::ssl::verify_peer);
    if (!o.ca_file.empty()) {
      ctx->load_verify_file(std::string(o.ca_file), ec);
      if (ec)
        throw config_error(
            fmt::format("{} ca_file '{}': cannot load: {}", o.what, o.ca_file, ec.message()));
    } else if (!o.ca_pem.empty()) {
      // Only the given certificates.
    } else {
      // The system trust store; Debian's bundle first, as BoringSSL's default paths differ.
      const char* bundle = "/etc/ssl/certs/ca-certificates.crt";
      std::error_code fec;
      if (std::filesystem::exists(bundle, fec))
        ctx->load_verify_file(bundle, ec);
      else
        ctx->set_default_verify_paths(ec);
    }
    if (!o.ca_pem.empty()) {
      ctx->add_certificate_authority(asio::buffer(o.ca_pem.data(), o.ca_pem.size()), ec);
      if (ec)
        throw config_error(
            fmt::format("{} ca_pem: not PEM certificates: {}", o.what, ec.message()));
    }
  } else {
    ctx->set_verify_mode(asio::ssl::verify_none);
  }
  if (o.certificate && *o.certificate) {
    const auto& d = detail::access::data(*o.certificate);
    ctx->use_certificate_chain(asio::buffer(d.certificate_pem), ec);
    if (!ec) ctx->use_private_key(asio::buffer(d.private_key_pem), asio::ssl::context::pem, ec);
    if (ec)
      throw config_error(
          fmt::format("client certificate '{}': cannot be used: {}", d.id, ec.message()));
  }
  return ctx;
}

void prepare_client_tls(SSL* ssl, std::string_view host_view, bool verify) {
  const std::string host(host_view);
  const bool is_ip = is_ip_literal(host);
  if (!is_ip) SSL_set_tlsext_host_name(ssl, host.c_str());
  if (!verify) return;
  if (is_ip)
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  else
    X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl), host.c_str(), host.size());
}

}  // namespace gatehouse::net
