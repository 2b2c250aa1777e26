// Certificates for the host: loading PEM files, and making a self-signed one for development.

#include <gatehouse/config_error.hpp>
#include <gatehouse/tls.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>

#include <fstream>
#include <memory>
#include <sstream>

namespace gatehouse::tls {

namespace {
template <class T, void (*F)(T*)>
struct deleter {
  void operator()(T* p) const noexcept { F(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509, X509_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO, BIO_free_all>>;

std::string read_file(const std::filesystem::path& p, std::string_view what) {
  std::ifstream in(p, std::ios::binary);
  // A directory opens fine and reads as nothing: say so here, naming it, not later at listen.
  std::error_code ec;
  if (!in || std::filesystem::is_directory(p, ec))
    throw config_error(fmt::format("TLS {}: cannot read '{}'", what, p.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (in.bad()) throw config_error(fmt::format("TLS {}: cannot read '{}'", what, p.string()));
  if (text.find("-----BEGIN ") == std::string::npos)
    throw config_error(fmt::format("TLS {}: '{}' holds no PEM data", what, p.string()));
  return text;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

bool is_ip(const std::string& s) {
  return s.find_first_not_of("0123456789.") == std::string::npos ||
         s.find(':') != std::string::npos;
}
}  // namespace

config from_files(const std::filesystem::path& certificate_chain,
                  const std::filesystem::path& key) {
  return config{read_file(certificate_chain, "certificate chain"), read_file(key, "private key")};
}

config self_signed(const std::vector<std::string>& names, int days) {
  auto fail = [](std::string_view step) {
    return config_error(fmt::format("self-signed certificate: {} failed", step));
  };
  if (names.empty()) throw config_error("self-signed certificate: give at least one name");
  if (days < 1) throw config_error("self-signed certificate: validity must be at least one day");

  // ECDSA P-256: this BoringSSL signs RSA-2048 slowly, and handshakes pay for it.
  pkey_ctx_ptr kctx(EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr));
  EVP_PKEY* raw_key = nullptr;
  if (!kctx || EVP_PKEY_keygen_init(kctx.get()) != 1 ||
      EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kctx.get(), NID_X9_62_prime256v1) != 1 ||
      EVP_PKEY_keygen(kctx.get(), &raw_key) != 1)
    throw fail("key generation");
  pkey_ptr key(raw_key);

  x509_ptr cert(X509_new());
  if (!cert) throw fail("X509_new");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // a positive serial number
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("gatehouse development"), -1,
                             -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(names.front().c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);

  std::string san;
  for (const auto& n : names) {
    if (!san.empty()) san += ",";
    san += (is_ip(n) ? "IP:" : "DNS:") + n;
  }
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, san},
                            std::pair{NID_basic_constraints, std::string("critical,CA:FALSE")},
                            std::pair{NID_ext_key_usage, std::string("serverAuth,clientAuth")}}) {
    X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &v3, nid, value.c_str());
    if (!ext) throw fail(fmt::format("extension '{}'", value));
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) throw fail("signing");

  bio_ptr cert_bio(BIO_new(BIO_s_mem())), key_bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1)
    throw fail("PEM encoding");
  return config{bio_text(cert_bio.get()), bio_text(key_bio.get())};
}

}  // namespace gatehouse::tls
