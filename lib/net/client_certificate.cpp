// Client certificates: what the gateway presents to HTTPS backends that ask for one (mutual TLS).
// Either generated here (ECDSA P-256, self-signed, as AWS does) or brought by the host as PEM.

#include <gatehouse/client_certificate.hpp>
#include <gatehouse/config_error.hpp>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>

#include <cstdint>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

namespace gatehouse {

namespace {

template <class T, void (*F)(T*)>
struct free_with {
  void operator()(T* p) const noexcept { F(p); }
};
using bio_ptr = std::unique_ptr<BIO, free_with<BIO, BIO_free_all>>;
using bignum_ptr = std::unique_ptr<BIGNUM, free_with<BIGNUM, BN_free>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, free_with<EVP_PKEY, EVP_PKEY_free>>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, free_with<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using time_ptr = std::unique_ptr<ASN1_TIME, free_with<ASN1_TIME, ASN1_TIME_free>>;
using x509_ptr = std::unique_ptr<X509, free_with<X509, X509_free>>;
using extension_ptr =
    std::unique_ptr<X509_EXTENSION, free_with<X509_EXTENSION, X509_EXTENSION_free>>;

constexpr int max_days = 3650;
constexpr std::string_view pem_begin = "-----BEGIN ";
constexpr std::string_view pem_dashes = "-----";

// The library's failures leave entries in the thread's error queue, where a later TLS call on
// the same thread would find them and misreport its own outcome: drop them on the way out.
struct error_queue_cleaner {
  error_queue_cleaner() = default;
  error_queue_cleaner(const error_queue_cleaner&) = delete;
  error_queue_cleaner& operator=(const error_queue_cleaner&) = delete;
  ~error_queue_cleaner() { ERR_clear_error(); }
};

config_error failure(std::string_view what) {
  return config_error(fmt::format("client certificate: {}", what));
}

bio_ptr memory_bio(std::string_view text) {
  bio_ptr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) throw failure("out of memory");
  return bio;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

void random_bytes(unsigned char* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) throw failure("the random generator failed");
}

// AWS's clientCertificateId: 6 characters of [a-z0-9], uniformly (rejection sampling).
std::string random_id() {
  static constexpr std::string_view alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  constexpr unsigned limit = 256 - 256 % alphabet.size();  // 252: keeps every character 7/252
  std::string id;
  while (id.size() < 6) {
    unsigned char buf[16];
    random_bytes(buf, sizeof buf);
    for (unsigned char c : buf)
      if (c < limit && id.size() < 6) id += alphabet[c % alphabet.size()];
  }
  return id;
}

// ASN1_TIME → time_point, by difference from the Unix epoch (the epoch of system_clock in
// C++20). ASN1_TIME_diff exists in BoringSSL and OpenSSL alike, for UTCTime and
// GeneralizedTime, and a fixed reference avoids reading the clock.
std::chrono::system_clock::time_point to_time_point(const ASN1_TIME* t, std::string_view which) {
  time_ptr epoch(ASN1_TIME_set(nullptr, 0));
  int days = 0, seconds = 0;
  if (!t || !epoch || ASN1_TIME_diff(&days, &seconds, epoch.get(), t) != 1)
    throw failure(fmt::format("the certificate's {} date does not parse", which));
  return std::chrono::system_clock::time_point{} +
         std::chrono::seconds{std::int64_t{days} * 86400 + seconds};
}

struct pem_block {
  std::string_view label;
  std::string_view text;  // from "-----BEGIN" to the end of the "-----END …-----" line
};

// The PEM blocks of `text`, in order. A block without its END line is returned with
// an empty `text`, so that the caller can name it as truncated.
std::vector<pem_block> pem_blocks(std::string_view text) {
  std::vector<pem_block> blocks;
  std::size_t pos = 0;
  while ((pos = text.find(pem_begin, pos)) != std::string_view::npos) {
    std::size_t label_start = pos + pem_begin.size();
    std::size_t label_end = text.find(pem_dashes, label_start);
    if (label_end == std::string_view::npos) break;
    std::string_view label = text.substr(label_start, label_end - label_start);
    if (label.find('\n') != std::string_view::npos) {  // not a BEGIN line after all
      pos = label_start;
      continue;
    }
    std::string end_line = fmt::format("-----END {}-----", label);
    std::size_t end = text.find(end_line, label_end);
    if (end == std::string_view::npos) {
      blocks.push_back({label, {}});
      break;
    }
    end += end_line.size();
    blocks.push_back({label, text.substr(pos, end - pos)});
    pos = end;
  }
  return blocks;
}

x509_ptr parse_certificate(std::string_view block) {
  bio_ptr bio = memory_bio(block);
  return x509_ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// Keeps the certificate blocks of `text` verbatim, leaf first, each checked to parse. Anything
// else in the text (a private key in a combined file, "Bag Attributes" comments) is left out:
// the result is what pem_encoded_certificate() shows, and a private key must never be in it.
std::pair<std::string, x509_ptr> certificate_chain(std::string_view text, std::string_view where) {
  std::string chain;
  x509_ptr leaf;
  int index = 0;
  for (const pem_block& b : pem_blocks(text)) {
    if (b.label != "CERTIFICATE") continue;
    ++index;
    x509_ptr cert = b.text.empty() ? nullptr : parse_certificate(b.text);
    if (!cert) {
      if (index == 1) throw failure(fmt::format("the certificate{} does not parse", where));
      throw failure(fmt::format("certificate {} of the chain{} does not parse", index, where));
    }
    if (index == 1) leaf = std::move(cert);
    chain.append(b.text);
    chain += '\n';
  }
  if (!leaf) throw failure(fmt::format("no PEM certificate found{}", where));
  return {std::move(chain), std::move(leaf)};
}

// Never asks for a passphrase (OpenSSL's default callback would prompt on the terminal): it
// notes that one was wanted and refuses.
int refuse_passphrase(char*, int, int, void* asked) {
  *static_cast<bool*>(asked) = true;
  return -1;
}

pkey_ptr parse_private_key(std::string_view text, std::string_view where) {
  bool has_key_block = false, encrypted = false;
  for (const pem_block& b : pem_blocks(text)) {
    if (b.label.ends_with("PRIVATE KEY")) {
      has_key_block = true;
      encrypted = encrypted || b.label.starts_with("ENCRYPTED") ||
                  b.text.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos;
    }
  }
  if (!has_key_block) throw failure(fmt::format("no PEM private key found{}", where));

  bool asked = false;
  bio_ptr bio = memory_bio(text);
  pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, &asked));
  if (!key && (asked || encrypted))
    throw failure(fmt::format("the private key{} is encrypted; give it unencrypted", where));
  if (!key) throw failure(fmt::format("the private key{} does not parse", where));
  return key;
}

std::string encode_private_key(EVP_PKEY* key) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw failure("encoding the private key failed");
  return bio_text(bio.get());
}

std::string encode_certificate(X509* cert) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
    throw failure("encoding the certificate failed");
  return bio_text(bio.get());
}

pkey_ptr generate_p256_key() {
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx.get(), NID_X9_62_prime256v1) != 1 ||
      EVP_PKEY_keygen(ctx.get(), &key) != 1)
    throw failure("key generation failed");
  return pkey_ptr(key);
}

// A positive serial of exactly 16 bytes: the top bit clear (positive), the next one set (so no
// leading zero byte shortens it); 126 random bits, as RFC 5280 asks for at least 64.
void set_random_serial(X509* cert) {
  unsigned char bytes[16];
  random_bytes(bytes, sizeof bytes);
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x3f) | 0x40);
  bignum_ptr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)))
    throw failure("setting the serial number failed");
}

void add_name_entry(X509_NAME* name, const char* field, const std::string& value) {
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                 0) != 1)
    throw failure(fmt::format("setting the subject's {} failed", field));
}

std::shared_ptr<detail::client_certificate_data> make_data(std::string id, std::string description,
                                                           std::string certificate_pem,
                                                           std::string private_key_pem,
                                                           X509* cert) {
  auto d = std::make_shared<detail::client_certificate_data>();
  d->id = std::move(id);
  d->description = std::move(description);
  d->certificate_pem = std::move(certificate_pem);
  d->private_key_pem = std::move(private_key_pem);
  d->created = to_time_point(X509_get0_notBefore(cert), "notBefore");
  d->expires = to_time_point(X509_get0_notAfter(cert), "notAfter");
  return d;
}

std::string read_file(const std::filesystem::path& p, std::string_view what) {
  auto cannot = [&] {
    return failure(fmt::format("cannot read the {} file '{}'", what, p.string()));
  };
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) throw cannot();
  std::ifstream in(p, std::ios::binary);
  if (!in) throw cannot();
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw cannot();
  return std::move(text).str();
}

}  // namespace

client_certificate client_certificate::generate(std::string description, int days) {
  if (days < 1 || days > max_days)
    throw failure(fmt::format("validity must be from 1 to {} days, not {}", max_days, days));
  error_queue_cleaner clean;

  pkey_ptr key = generate_p256_key();
  std::string id = random_id();

  x509_ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1)  // v3
    throw failure("creating the certificate failed");
  set_random_serial(cert.get());

  // Both ends from one reading of the clock, so the validity is exactly `days` days and 60 s.
  std::time_t now = std::time(nullptr);
  if (!X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, -60, &now) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, &now))
    throw failure("setting the validity failed");

  X509_NAME* name = X509_get_subject_name(cert.get());
  add_name_entry(name, "O", "gatehouse");
  add_name_entry(name, "CN", "gatehouse client certificate " + id);
  if (X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key.get()) != 1)
    throw failure("creating the certificate failed");

  // No keyUsage extension, on purpose. A backend trusts this certificate by installing it as
  // its own trust anchor, and BoringSSL's verifier takes a self-signed certificate as its own
  // issuer only when its keyUsage, if any, includes keyCertSign, which RFC 5280 forbids with
  // CA:FALSE. With keyUsage digitalSignature, BoringSSL-built backends refuse the handshake
  // ("unable to get local issuer certificate"); without it, BoringSSL and OpenSSL both accept.
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                            std::pair{NID_ext_key_usage, "clientAuth"},
                            std::pair{NID_subject_key_identifier, "hash"}}) {
    extension_ptr ext(X509V3_EXT_nconf_nid(nullptr, &v3, nid, value));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1)
      throw failure(fmt::format("adding the extension '{}' failed", value));
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) throw failure("signing failed");

  return client_certificate(make_data(std::move(id), std::move(description),
                                      encode_certificate(cert.get()), encode_private_key(key.get()),
                                      cert.get()));
}

namespace {
// from_pem and from_files; `*_where` is empty or names the file in messages (" in '…'").
std::shared_ptr<detail::client_certificate_data> load(std::string_view certificate_text,
                                                      std::string_view private_key_text,
                                                      std::string description,
                                                      std::string_view certificate_where,
                                                      std::string_view private_key_where) {
  error_queue_cleaner clean;
  auto [chain, cert] = certificate_chain(certificate_text, certificate_where);
  pkey_ptr key = parse_private_key(private_key_text, private_key_where);
  if (X509_check_private_key(cert.get(), key.get()) != 1)
    throw failure(fmt::format("the private key{} does not match the certificate{}",
                              private_key_where, certificate_where));
  // Stored unencrypted as PKCS#8 whatever form it came in, so that its users need no callback
  // and no knowledge of the key type.
  return make_data(random_id(), std::move(description), std::move(chain),
                   encode_private_key(key.get()), cert.get());
}

std::string in_file(const std::filesystem::path& p) { return fmt::format(" in '{}'", p.string()); }
}  // namespace

client_certificate client_certificate::from_pem(std::string certificate_pem,
                                                std::string private_key_pem,
                                                std::string description) {
  return client_certificate(load(certificate_pem, private_key_pem, std::move(description), {}, {}));
}

client_certificate client_certificate::from_files(const std::filesystem::path& certificate,
                                                  const std::filesystem::path& private_key,
                                                  std::string description) {
  std::string certificate_text = read_file(certificate, "certificate");
  std::string private_key_text = read_file(private_key, "private key");
  return client_certificate(load(certificate_text, private_key_text, std::move(description),
                                 in_file(certificate), in_file(private_key)));
}

const std::string& client_certificate::id() const noexcept { return data_->id; }
const std::string& client_certificate::description() const noexcept { return data_->description; }
const std::string& client_certificate::pem_encoded_certificate() const noexcept {
  return data_->certificate_pem;
}
std::chrono::system_clock::time_point client_certificate::created_date() const noexcept {
  return data_->created;
}
std::chrono::system_clock::time_point client_certificate::expiration_date() const noexcept {
  return data_->expires;
}

}  // namespace gatehouse
