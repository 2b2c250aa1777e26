#include "demo_jwt.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <stdexcept>
#include <vector>

namespace petstore {

namespace {
std::string base64url(std::string_view in) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(alphabet[(v >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
  } else if (i + 2 == in.size()) {
    unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
  }
  return out;
}

// One INTEGER of a DER ECDSA signature, as exactly 32 big-endian bytes.
bool read_scalar(const unsigned char*& p, const unsigned char* end, std::string& out) {
  if (end - p < 2 || p[0] != 0x02) return false;
  std::size_t len = p[1];
  p += 2;
  if (static_cast<std::size_t>(end - p) < len) return false;
  const unsigned char* v = p;
  p += len;
  while (len > 32 && *v == 0) ++v, --len;
  if (len > 32) return false;
  out.append(32 - len, '\0');
  out.append(reinterpret_cast<const char*>(v), len);
  return true;
}
}  // namespace

struct demo_signer::key {
  EVP_PKEY* pkey = nullptr;
  std::string x, y;  // the public point's coordinates
  ~key() { EVP_PKEY_free(pkey); }
};

demo_signer::demo_signer() : key_(std::make_unique<key>()) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr);
  bool ok = ctx && EVP_PKEY_keygen_init(ctx) == 1 &&
            EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) == 1 &&
            EVP_PKEY_keygen(ctx, &key_->pkey) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) throw std::runtime_error("cannot make a P-256 key for the demo JWT signer");
  // A P-256 SubjectPublicKeyInfo ends with the uncompressed point 04 || X || Y.
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(key_->pkey, &der);
  if (n < 65 || der[n - 65] != 0x04) {
    OPENSSL_free(der);
    throw std::runtime_error("cannot read the demo key's public point");
  }
  key_->x.assign(reinterpret_cast<const char*>(der + n - 64), 32);
  key_->y.assign(reinterpret_cast<const char*>(der + n - 32), 32);
  OPENSSL_free(der);
}

demo_signer::~demo_signer() = default;

std::string demo_signer::jwks() const {
  return R"({"keys":[{"kty":"EC","crv":"P-256","kid":"petstore-demo","alg":"ES256","use":"sig","x":")" +
         base64url(key_->x) + R"(","y":")" + base64url(key_->y) + R"("}]})";
}

std::string demo_signer::sign(std::string_view claims_json) const {
  std::string input = base64url(R"({"alg":"ES256","typ":"JWT","kid":"petstore-demo"})") + "." +
                      base64url(claims_json);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  std::vector<unsigned char> der(80);
  std::size_t len = der.size();
  bool ok = md && EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key_->pkey) == 1 &&
            EVP_DigestSign(md, der.data(), &len,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(md);
  // DER SEQUENCE { INTEGER r, INTEGER s } → JWS's raw r || s.
  std::string raw;
  const unsigned char* p = der.data();
  const unsigned char* end = der.data() + len;
  ok = ok && len > 2 && p[0] == 0x30 && p[1] == len - 2;
  p += 2;
  ok = ok && read_scalar(p, end, raw) && read_scalar(p, end, raw) && p == end;
  if (!ok) throw std::runtime_error("cannot sign the demo JWT");
  return input + "." + base64url(raw);
}

}  // namespace petstore
