#pragma once

// Minting JWTs in tests: an RSA-2048 and a P-256 key, their JWK Set, and RS256 / ES256 / HS256
// signing of header.payload, with BoringSSL or OpenSSL 3. Header-only, for unit and integration
// tests alike. Failures throw std::runtime_error (a test helper, not a data-plane path).

#include "auth/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#if !defined(OPENSSL_IS_BORINGSSL)
#include <openssl/core_names.h>
#endif

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace gatehouse::test {

namespace mint_detail {

template <class T, void (*F)(T*)>
struct free_with {
  void operator()(T* p) const noexcept { F(p); }
};
using bignum_ptr = std::unique_ptr<BIGNUM, free_with<BIGNUM, BN_free>>;
using bio_ptr = std::unique_ptr<BIO, free_with<BIO, BIO_free_all>>;
using ecdsa_sig_ptr = std::unique_ptr<ECDSA_SIG, free_with<ECDSA_SIG, ECDSA_SIG_free>>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, free_with<EVP_MD_CTX, EVP_MD_CTX_free>>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, free_with<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;

inline void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("jwt_mint: ") + what);
}

inline std::shared_ptr<EVP_PKEY> own(EVP_PKEY* key) {
  check(key != nullptr, "no key");
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

/// A fresh RSA (bits > 0) or P-256 (bits == 0) key.
inline std::shared_ptr<EVP_PKEY> generate(int bits) {
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_id(bits > 0 ? EVP_PKEY_RSA : EVP_PKEY_EC, nullptr));
  EVP_PKEY* key = nullptr;
  check(ctx && EVP_PKEY_keygen_init(ctx.get()) == 1, "keygen init");
  if (bits > 0) {
    check(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) == 1, "rsa bits");
  } else {
    check(EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx.get(), NID_X9_62_prime256v1) == 1, "curve");
  }
  check(EVP_PKEY_keygen(ctx.get(), &key) == 1, "keygen");
  return own(key);
}

/// base64url of a big number, left-padded with zeros to `size` bytes (0: its own size).
inline std::string b64(const BIGNUM* n, int size = 0) {
  if (size == 0) size = BN_num_bytes(n);
  std::string bytes(static_cast<std::size_t>(size), '\0');
  check(BN_bn2binpad(n, reinterpret_cast<unsigned char*>(bytes.data()), size) == size, "bn2bin");
  return auth::base64url_encode(bytes);
}

/// The JWK members of an RSA public key: "n" and "e", base64url.
inline std::pair<std::string, std::string> rsa_members(EVP_PKEY* key) {
#if defined(OPENSSL_IS_BORINGSSL)
  const RSA* rsa = EVP_PKEY_get0_RSA(key);
  check(rsa != nullptr, "not an RSA key");
  return {b64(RSA_get0_n(rsa)), b64(RSA_get0_e(rsa))};
#else
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  check(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) == 1, "n");
  bignum_ptr n_owner(n);
  check(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) == 1, "e");
  bignum_ptr e_owner(e);
  return {b64(n), b64(e)};
#endif
}

/// The JWK members of a P-256 public key: "x" and "y", base64url, 32 bytes each.
inline std::pair<std::string, std::string> ec_members(EVP_PKEY* key) {
#if defined(OPENSSL_IS_BORINGSSL)
  const EC_KEY* ec = EVP_PKEY_get0_EC_KEY(key);
  check(ec != nullptr, "not an EC key");
  bignum_ptr x(BN_new()), y(BN_new());
  check(x && y &&
            EC_POINT_get_affine_coordinates_GFp(EC_KEY_get0_group(ec), EC_KEY_get0_public_key(ec),
                                                x.get(), y.get(), nullptr) == 1,
        "coordinates");
  return {b64(x.get(), 32), b64(y.get(), 32)};
#else
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  check(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1, "x");
  bignum_ptr x_owner(x);
  check(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1, "y");
  bignum_ptr y_owner(y);
  return {b64(x, 32), b64(y, 32)};
#endif
}

/// EVP_DigestSign: PKCS#1 v1.5 for RSA keys, DER ECDSA-Sig-Value for EC keys.
inline std::string digest_sign(EVP_PKEY* key, const EVP_MD* md, std::string_view data) {
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  check(ctx && EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key) == 1, "sign init");
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t size = 0;
  check(EVP_DigestSign(ctx.get(), nullptr, &size, in, data.size()) == 1, "sign size");
  std::string out(size, '\0');
  check(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &size, in,
                       data.size()) == 1,
        "sign");
  out.resize(size);
  return out;
}

/// A DER ECDSA signature as JWS wants it: R||S, each `size` bytes.
inline std::string raw_ecdsa(std::string_view der, int size) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ecdsa_sig_ptr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  check(sig != nullptr, "ecdsa der");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(2 * static_cast<std::size_t>(size), '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  check(BN_bn2binpad(r, bytes, size) == size && BN_bn2binpad(s, bytes + size, size) == size,
        "ecdsa raw");
  return out;
}

/// A DER element: tag, definite length, content.
inline std::string der(unsigned char tag, std::string_view content) {
  std::string out(1, static_cast<char>(tag));
  std::size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<char>(n));
  } else {
    std::string length;
    for (; n > 0; n >>= 8) length.insert(length.begin(), static_cast<char>(n & 0xff));
    out.push_back(static_cast<char>(0x80 | length.size()));
    out += length;
  }
  return out += content;
}

/// A DER INTEGER from the base64url big-endian bytes of a JWK member.
inline std::string der_integer(std::string_view b64url) {
  auto bytes = auth::base64url_decode(b64url);
  check(bytes.has_value(), "base64url");
  std::string content = bytes->empty() || (static_cast<unsigned char>(bytes->front()) & 0x80)
                            ? std::string(1, '\0') + *bytes
                            : *bytes;
  return der(0x02, content);
}

}  // namespace mint_detail

/// Signs `header_json`.`claims_json` (both base64url-encoded here) with `key`. `alg` picks the
/// digest and form: RS256/384/512 (PKCS#1 v1.5) or ES256/384/512 (raw R||S).
inline std::string sign_token(EVP_PKEY* key, std::string_view alg, std::string_view header_json,
                              std::string_view claims_json) {
  using namespace mint_detail;
  std::string input =
      auth::base64url_encode(header_json) + "." + auth::base64url_encode(claims_json);
  std::string_view bits = alg.substr(alg.size() >= 2 ? 2 : 0);
  const EVP_MD* md = bits == "384" ? EVP_sha384() : bits == "512" ? EVP_sha512() : EVP_sha256();
  std::string signature = digest_sign(key, md, input);
  if (alg.substr(0, 2) == "ES") {
    signature = raw_ecdsa(signature, bits == "384" ? 48 : bits == "512" ? 66 : 32);
  }
  return input + "." + auth::base64url_encode(signature);
}

/// header.payload of the given JSON texts, HMAC-SHA256'd with `secret` (for HS256 tokens that a
/// gateway must refuse, e.g. keyed with an RSA public key's PEM: the RS/HS confusion attack).
inline std::string sign_hs256(std::string_view secret, std::string_view header_json,
                              std::string_view claims_json) {
  std::string input =
      auth::base64url_encode(header_json) + "." + auth::base64url_encode(claims_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  mint_detail::check(HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                          reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                          &size) != nullptr,
                     "hmac");
  return input + "." +
         auth::base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), size));
}

/// The PEM SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----") of a key.
inline std::string public_key_pem(EVP_PKEY* key) {
  mint_detail::bio_ptr bio(BIO_new(BIO_s_mem()));
  mint_detail::check(bio && PEM_write_bio_PUBKEY(bio.get(), key) == 1, "pem");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

/// The RSA private key of a JWK's members (n, e, d, p, q, dp, dq, qi, base64url), e.g. the one
/// of RFC 7515 A.2, via PKCS#1 RSAPrivateKey DER.
struct rsa_private_jwk {
  std::string_view n, e, d, p, q, dp, dq, qi;
};
inline std::shared_ptr<EVP_PKEY> rsa_private_key(const rsa_private_jwk& k) {
  using namespace mint_detail;
  std::string body = der(0x02, std::string_view("\0", 1));  // version 0
  for (auto member : {k.n, k.e, k.d, k.p, k.q, k.dp, k.dq, k.qi}) body += der_integer(member);
  std::string pkcs1 = der(0x30, body);
  const auto* in = reinterpret_cast<const unsigned char*>(pkcs1.data());
  return own(d2i_PrivateKey(EVP_PKEY_RSA, nullptr, &in, static_cast<long>(pkcs1.size())));
}

/// A JWK object (JSON text) of a public key: RSA or P-256 by the key's type. `alg` may be "".
inline std::string public_jwk_json(EVP_PKEY* key, std::string_view kid, std::string_view alg) {
  std::string json = "{";
  if (EVP_PKEY_id(key) == EVP_PKEY_RSA) {
    auto [n, e] = mint_detail::rsa_members(key);
    json += R"("kty":"RSA","n":")" + n + R"(","e":")" + e + '"';
  } else {
    auto [x, y] = mint_detail::ec_members(key);
    json += R"("kty":"EC","crv":"P-256","x":")" + x + R"(","y":")" + y + '"';
  }
  json += R"(,"kid":")" + std::string(kid) + R"(","use":"sig")";
  if (!alg.empty()) json += R"(,"alg":")" + std::string(alg) + '"';
  return json + "}";
}

/// An RSA-2048 and a P-256 key pair for minting tokens.
struct test_keys {
  std::shared_ptr<EVP_PKEY> rsa = mint_detail::generate(2048);
  std::shared_ptr<EVP_PKEY> ec = mint_detail::generate(0);

  /// One pair per process: RSA key generation takes a noticeable fraction of a second.
  static const test_keys& shared() {
    static const test_keys keys;
    return keys;
  }

  /// {"keys":[RSA JWK (alg RS256), EC JWK (alg ES256)]}.
  std::string jwks_json(std::string_view kid_rsa, std::string_view kid_ec) const {
    return R"({"keys":[)" + public_jwk_json(rsa.get(), kid_rsa, "RS256") + "," +
           public_jwk_json(ec.get(), kid_ec, "ES256") + "]}";
  }

  /// A token {"alg":"RS256","kid":kid,"typ":"JWT"}.claims signed with the RSA key.
  std::string sign_rs256(std::string_view kid, std::string_view claims_json) const {
    return sign_token(rsa.get(), "RS256", header_json("RS256", kid), claims_json);
  }

  /// A token {"alg":"ES256","kid":kid,"typ":"JWT"}.claims signed with the P-256 key.
  std::string sign_es256(std::string_view kid, std::string_view claims_json) const {
    return sign_token(ec.get(), "ES256", header_json("ES256", kid), claims_json);
  }

  /// The protected header the sign_* functions use.
  static std::string header_json(std::string_view alg, std::string_view kid) {
    return R"({"alg":")" + std::string(alg) + R"(","kid":")" + std::string(kid) +
           R"(","typ":"JWT"})";
  }
};

}  // namespace gatehouse::test
