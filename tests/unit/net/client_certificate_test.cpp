#include <gatehouse/client_certificate.hpp>
#include <gatehouse/config_error.hpp>
#include "util/access.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <catch2/catch.hpp>

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

using namespace gatehouse;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

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

x509_ptr read_certificate(const std::string& pem) {
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return x509_ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

pkey_ptr read_key(const std::string& pem) {
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return pkey_ptr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string name_entry(X509_NAME* name, int nid) {
  char buf[256];
  int len = X509_NAME_get_text_by_NID(name, nid, buf, sizeof buf);
  return len < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(len));
}

std::chrono::system_clock::time_point unix_time(std::int64_t seconds) {
  return std::chrono::system_clock::time_point{} + std::chrono::seconds{seconds};
}

// A self-signed certificate for `key` with the given validity, made here rather than by the
// library, to check what from_pem reads out of certificates it did not make.
std::string self_signed(EVP_PKEY* key, std::time_t not_before, std::time_t not_after) {
  x509_ptr cert(X509_new());
  REQUIRE(X509_set_version(cert.get(), 2) == 1);
  bignum_ptr serial(BN_new());
  REQUIRE(BN_set_word(serial.get(), 4242) == 1);
  REQUIRE(BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) != nullptr);
  time_ptr from(ASN1_TIME_set(nullptr, not_before)), to(ASN1_TIME_set(nullptr, not_after));
  REQUIRE(X509_set1_notBefore(cert.get(), from.get()) == 1);
  REQUIRE(X509_set1_notAfter(cert.get(), to.get()) == 1);
  X509_NAME* name = X509_get_subject_name(cert.get());
  REQUIRE(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("test"), -1, -1,
                                     0) == 1);
  REQUIRE(X509_set_issuer_name(cert.get(), name) == 1);
  REQUIRE(X509_set_pubkey(cert.get(), key) == 1);
  REQUIRE(X509_sign(cert.get(), key, EVP_sha256()) != 0);
  bio_ptr bio(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_X509(bio.get(), cert.get()) == 1);
  return bio_text(bio.get());
}

pkey_ptr rsa_key() {
  // 1024 bits: enough to show that any key type works, and quick to generate.
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr));
  EVP_PKEY* key = nullptr;
  REQUIRE(ctx);
  REQUIRE(EVP_PKEY_keygen_init(ctx.get()) == 1);
  REQUIRE(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 1024) == 1);
  REQUIRE(EVP_PKEY_keygen(ctx.get(), &key) == 1);
  return pkey_ptr(key);
}

// The "-----BEGIN RSA PRIVATE KEY-----" form older tools write.
std::string traditional_rsa_pem(EVP_PKEY* key) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
#if defined(OPENSSL_IS_BORINGSSL)
  REQUIRE(PEM_write_bio_RSAPrivateKey(bio.get(), EVP_PKEY_get0_RSA(key), nullptr, nullptr, 0,
                                      nullptr, nullptr) == 1);
#else
  REQUIRE(PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                               nullptr) == 1);
#endif
  return bio_text(bio.get());
}

std::string encrypted_pkcs8_pem(EVP_PKEY* key) {
  char passphrase[] = "correct horse";
  bio_ptr bio(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_PKCS8PrivateKey(bio.get(), key, EVP_aes_128_cbc(), passphrase,
                                        sizeof passphrase - 1, nullptr, nullptr) == 1);
  return bio_text(bio.get());
}

// A scratch directory of this test process, removed with its files at the end of a test.
struct scratch_dir {
  std::filesystem::path path;
  scratch_dir() {
    static std::atomic<int> n{0};
    path = std::filesystem::temp_directory_path() /
           ("gatehouse-client-cert-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    std::filesystem::create_directories(path);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return path / name;
  }
};

bool is_id(const std::string& id) {
  return id.size() == 6 &&
         id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") == std::string::npos;
}

}  // namespace

TEST_CASE("a default client certificate is empty", "[client_certificate]") {
  client_certificate none;
  CHECK_FALSE(none);
}

TEST_CASE("generate makes a self-signed ECDSA P-256 client certificate", "[client_certificate]") {
  auto before = std::chrono::system_clock::now();
  client_certificate c = client_certificate::generate("for the pet store backend");
  auto after = std::chrono::system_clock::now();
  REQUIRE(c);
  CHECK(c.description() == "for the pet store backend");
  CHECK(is_id(c.id()));

  x509_ptr cert = read_certificate(c.pem_encoded_certificate());
  REQUIRE(cert);
  CHECK(X509_get_version(cert.get()) == 2);  // v3

  SECTION("subject and issuer") {
    X509_NAME* subject = X509_get_subject_name(cert.get());
    CHECK(name_entry(subject, NID_organizationName) == "gatehouse");
    CHECK(name_entry(subject, NID_commonName) == "gatehouse client certificate " + c.id());
    CHECK(X509_NAME_cmp(subject, X509_get_issuer_name(cert.get())) == 0);
  }

  SECTION("self-signed: its own public key verifies its signature") {
    pkey_ptr pub(X509_get_pubkey(cert.get()));
    REQUIRE(pub);
    CHECK(X509_verify(cert.get(), pub.get()) == 1);
    CHECK(EVP_PKEY_id(pub.get()) == EVP_PKEY_EC);
    CHECK(EVP_PKEY_bits(pub.get()) == 256);
  }

  // What a backend does with the PEM it installs; with BoringSSL this fails if the certificate
  // has a keyUsage extension without keyCertSign.
  SECTION("a backend that trusts the certificate accepts it from a TLS client") {
    std::unique_ptr<X509_STORE, free_with<X509_STORE, X509_STORE_free>> store(X509_STORE_new());
    std::unique_ptr<X509_STORE_CTX, free_with<X509_STORE_CTX, X509_STORE_CTX_free>> ctx(
        X509_STORE_CTX_new());
    REQUIRE(X509_STORE_add_cert(store.get(), cert.get()) == 1);
    REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) == 1);
    REQUIRE(X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT) == 1);
    CHECK(X509_verify_cert(ctx.get()) == 1);
    CHECK(X509_STORE_CTX_get_error(ctx.get()) == X509_V_OK);
  }

  SECTION("extensions: an end-entity certificate for client authentication") {
    CHECK(X509_check_ca(cert.get()) == 0);
    CHECK((X509_get_extension_flags(cert.get()) & EXFLAG_XKUSAGE) != 0);
    CHECK(X509_get_extended_key_usage(cert.get()) == XKU_SSL_CLIENT);
    // No keyUsage: with one, BoringSSL does not take the certificate as its own trust anchor
    // (see the section above and client_certificate.cpp).
    CHECK((X509_get_extension_flags(cert.get()) & EXFLAG_KUSAGE) == 0);
    int crit = -1;
    auto* bc = static_cast<BASIC_CONSTRAINTS*>(
        X509_get_ext_d2i(cert.get(), NID_basic_constraints, &crit, nullptr));
    REQUIRE(bc);
    CHECK(crit == 1);
    CHECK(bc->ca == 0);
    BASIC_CONSTRAINTS_free(bc);
    CHECK(X509_check_purpose(cert.get(), X509_PURPOSE_SSL_CLIENT, 0) == 1);
  }

  SECTION("a positive 16-byte serial number") {
    bignum_ptr serial(ASN1_INTEGER_to_BN(X509_get_serialNumber(cert.get()), nullptr));
    REQUIRE(serial);
    CHECK_FALSE(BN_is_negative(serial.get()));
    CHECK(BN_num_bytes(serial.get()) == 16);
  }

  SECTION("valid from a minute ago for 365 days") {
    CHECK(c.expiration_date() - c.created_date() == 365 * 24h + 60s);
    // Whole seconds in the certificate: allow the truncation of `before`.
    CHECK(c.created_date() >= before - 61s);
    CHECK(c.created_date() <= after - 59s);
    CHECK(X509_cmp_current_time(X509_get0_notBefore(cert.get())) < 0);
    CHECK(X509_cmp_current_time(X509_get0_notAfter(cert.get())) > 0);
  }

  SECTION("the private key is unencrypted PKCS#8 and matches the certificate") {
    const std::string& key_pem = gatehouse::detail::access::data(c).private_key_pem;
    CHECK(key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
    pkey_ptr key = read_key(key_pem);
    REQUIRE(key);
    CHECK(X509_check_private_key(cert.get(), key.get()) == 1);
    CHECK(c.pem_encoded_certificate().find("PRIVATE KEY") == std::string::npos);
  }
}

TEST_CASE("generated client certificates differ", "[client_certificate]") {
  client_certificate a = client_certificate::generate(), b = client_certificate::generate();
  CHECK(is_id(a.id()));
  CHECK(is_id(b.id()));
  CHECK(a.id() != b.id());
  CHECK(a.description().empty());
  CHECK(a.pem_encoded_certificate() != b.pem_encoded_certificate());
  CHECK(gatehouse::detail::access::data(a).private_key_pem !=
        gatehouse::detail::access::data(b).private_key_pem);
}

TEST_CASE("generate takes 1 to 3650 days", "[client_certificate]") {
  client_certificate shortest = client_certificate::generate({}, 1);
  CHECK(shortest.expiration_date() - shortest.created_date() == 24h + 60s);
  client_certificate longest = client_certificate::generate({}, 3650);
  CHECK(longest.expiration_date() - longest.created_date() == 3650 * 24h + 60s);

  for (int days : {0, -1, 3651}) {
    INFO("days = " << days);
    CHECK_THROWS_MATCHES(client_certificate::generate({}, days), config_error,
                         Catch::Matchers::Message("client certificate: validity must be from 1 "
                                                  "to 3650 days, not " +
                                                  std::to_string(days)));
  }
}

TEST_CASE("from_pem takes back a generated certificate", "[client_certificate]") {
  client_certificate g = client_certificate::generate("original", 30);
  client_certificate c = client_certificate::from_pem(
      g.pem_encoded_certificate(), gatehouse::detail::access::data(g).private_key_pem, "imported");
  REQUIRE(c);
  CHECK(is_id(c.id()));
  CHECK(c.description() == "imported");
  CHECK(c.pem_encoded_certificate() == g.pem_encoded_certificate());
  CHECK(gatehouse::detail::access::data(c).private_key_pem ==
        gatehouse::detail::access::data(g).private_key_pem);
  CHECK(c.created_date() == g.created_date());
  CHECK(c.expiration_date() == g.expiration_date());
}

TEST_CASE("from_pem keeps the chain and nothing else", "[client_certificate]") {
  client_certificate leaf = client_certificate::generate(), other = client_certificate::generate();
  const std::string& key = gatehouse::detail::access::data(leaf).private_key_pem;

  SECTION("a chain after the certificate is kept, in order") {
    std::string chain = leaf.pem_encoded_certificate() + other.pem_encoded_certificate();
    client_certificate c = client_certificate::from_pem(chain, key);
    CHECK(c.pem_encoded_certificate() == chain);
    CHECK(c.created_date() == leaf.created_date());
  }
  SECTION("text around the blocks and a private key in the same text are left out") {
    std::string combined = "Bag Attributes\n    friendlyName: leaf\n" +
                           leaf.pem_encoded_certificate() + key + "subject=/CN=other\n" +
                           other.pem_encoded_certificate();
    client_certificate c = client_certificate::from_pem(combined, combined);
    CHECK(c.pem_encoded_certificate() ==
          leaf.pem_encoded_certificate() + other.pem_encoded_certificate());
    CHECK(c.pem_encoded_certificate().find("PRIVATE KEY") == std::string::npos);
    CHECK(gatehouse::detail::access::data(c).private_key_pem == key);
  }
  SECTION("a chain certificate that does not parse is named") {
    std::string broken = other.pem_encoded_certificate();
    broken.replace(broken.find('\n') + 10, 8, "!!!!!!!!");
    CHECK_THROWS_MATCHES(
        client_certificate::from_pem(leaf.pem_encoded_certificate() + broken, key), config_error,
        Catch::Matchers::Message("client certificate: certificate 2 of the chain does not parse"));
  }
}

TEST_CASE("from_pem reads the validity of a certificate it did not make", "[client_certificate]") {
  pkey_ptr key = rsa_key();
  // 2001-02-03T04:05:06Z is a UTCTime, 2126-10-31T04:18:49Z a GeneralizedTime.
  std::string cert = self_signed(key.get(), 981173106, 4949093929);

  SECTION("an RSA key in the traditional PEM form") {
    std::string key_pem = traditional_rsa_pem(key.get());
    REQUIRE(key_pem.rfind("-----BEGIN RSA PRIVATE KEY-----", 0) == 0);
    client_certificate c = client_certificate::from_pem(cert, key_pem, "rsa");
    CHECK(c.created_date() == unix_time(981173106));
    CHECK(c.expiration_date() == unix_time(4949093929));
    // Stored as PKCS#8 whatever the form it came in.
    CHECK(gatehouse::detail::access::data(c).private_key_pem.rfind("-----BEGIN PRIVATE KEY-----",
                                                                   0) == 0);
    pkey_ptr stored = read_key(gatehouse::detail::access::data(c).private_key_pem);
    REQUIRE(stored);
    CHECK(EVP_PKEY_id(stored.get()) == EVP_PKEY_RSA);
  }
  SECTION("an encrypted key is refused without asking for a passphrase") {
    CHECK_THROWS_MATCHES(client_certificate::from_pem(cert, encrypted_pkcs8_pem(key.get())),
                         config_error,
                         Catch::Matchers::Message("client certificate: the private key is "
                                                  "encrypted; give it unencrypted"));
  }
}

TEST_CASE("from_pem refuses what is not a usable certificate and key", "[client_certificate]") {
  client_certificate a = client_certificate::generate(), b = client_certificate::generate();
  const std::string& cert = a.pem_encoded_certificate();
  const std::string& key = gatehouse::detail::access::data(a).private_key_pem;

  auto refuses = [](const std::string& c, const std::string& k, const std::string& message) {
    CHECK_THROWS_MATCHES(client_certificate::from_pem(c, k), config_error,
                         Catch::Matchers::Message("client certificate: " + message));
    // Nothing of the failure stays in the thread's error queue for a later TLS call to find.
    CHECK(ERR_peek_error() == 0);
  };

  SECTION("a key that does not match the certificate") {
    refuses(cert, gatehouse::detail::access::data(b).private_key_pem,
            "the private key does not match the certificate");
  }
  SECTION("garbage") {
    refuses("not a certificate", key, "no PEM certificate found");
    refuses("", key, "no PEM certificate found");
    refuses(cert, "not a key", "no PEM private key found");
    refuses(key, key, "no PEM certificate found");
    refuses(cert, cert, "no PEM private key found");
  }
  SECTION("a certificate block that does not parse") {
    std::string broken = cert;
    broken.replace(broken.find('\n') + 10, 8, "!!!!!!!!");
    refuses(broken, key, "the certificate does not parse");
    refuses(cert.substr(0, cert.size() / 2), key, "the certificate does not parse");
  }
  SECTION("a key block that does not parse") {
    std::string broken = key;
    broken.replace(broken.find('\n') + 10, 8, "!!!!!!!!");
    refuses(cert, broken, "the private key does not parse");
  }
}

TEST_CASE("from_files reads the certificate and key files", "[client_certificate]") {
  client_certificate g = client_certificate::generate();
  scratch_dir dir;
  auto cert_file = dir.write("client.crt", g.pem_encoded_certificate());
  auto key_file = dir.write("client.key", gatehouse::detail::access::data(g).private_key_pem);
  auto missing = dir.path / "missing.pem";

  client_certificate c = client_certificate::from_files(cert_file, key_file, "from files");
  CHECK(c.description() == "from files");
  CHECK(c.pem_encoded_certificate() == g.pem_encoded_certificate());
  CHECK(c.expiration_date() == g.expiration_date());

  CHECK_THROWS_MATCHES(client_certificate::from_files(missing, key_file), config_error,
                       Catch::Matchers::Message("client certificate: cannot read the certificate "
                                                "file '" +
                                                missing.string() + "'"));
  CHECK_THROWS_MATCHES(client_certificate::from_files(cert_file, missing), config_error,
                       Catch::Matchers::Message("client certificate: cannot read the private key "
                                                "file '" +
                                                missing.string() + "'"));
  CHECK_THROWS_WITH(client_certificate::from_files(dir.path, key_file),
                    Contains("cannot read the certificate file '" + dir.path.string() + "'"));
  // Contents that do not parse are named by their file too.
  CHECK_THROWS_WITH(client_certificate::from_files(key_file, key_file),
                    Contains("no PEM certificate found in '" + key_file.string() + "'"));
  auto other_key = dir.write(
      "other.key", gatehouse::detail::access::data(client_certificate::generate()).private_key_pem);
  CHECK_THROWS_WITH(client_certificate::from_files(cert_file, other_key),
                    Contains("the private key in '" + other_key.string() +
                             "' does not match the certificate in '" + cert_file.string() + "'"));
}
