#include "cache/cached_response.hpp"

#include "util/access.hpp"
#include "util/text.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <memory>

namespace gatehouse::cache {

namespace {
constexpr std::size_t nonce_size = 12, tag_size = 16;
constexpr char plain_mark = 'P', sealed_mark = 'S';

void put_u32(std::string& out, std::uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out.append(b, 4);
}
bool get_u32(std::string_view& in, std::uint32_t& v) {
  if (in.size() < 4) return false;
  auto u = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(in[i]));
  };
  v = u(0) << 24 | u(1) << 16 | u(2) << 8 | u(3);
  in.remove_prefix(4);
  return true;
}
void put_text(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

struct ctx_free {
  void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, ctx_free>;

// AES-256-GCM with the cache key as associated data, so an entry cannot pass for another's.
bool seal(std::string_view plain, const cache_key_bytes& key, std::string_view aad,
          std::string& out) {
  cipher_ctx ctx(EVP_CIPHER_CTX_new());
  unsigned char nonce[nonce_size];
  RAND_bytes(nonce, sizeof nonce);
  int n = 0;
  const std::size_t start = out.size();
  out.append(reinterpret_cast<const char*>(nonce), nonce_size);
  out.resize(start + nonce_size + plain.size() + tag_size);
  auto* cipher = reinterpret_cast<unsigned char*>(out.data() + start + nonce_size);
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, nonce_size, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), cipher, &n, reinterpret_cast<const unsigned char*>(plain.data()),
                        static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), cipher + n, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_size, cipher + plain.size()) != 1)
    return false;
  return true;
}

bool open(std::string_view sealed, const cache_key_bytes& key, std::string_view aad,
          std::string& out) {
  if (sealed.size() < nonce_size + tag_size) return false;
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  const std::size_t len = sealed.size() - nonce_size - tag_size;
  const auto* cipher = nonce + nonce_size;
  unsigned char tag[tag_size];
  std::memcpy(tag, cipher + len, tag_size);
  out.resize(len);
  auto* plain = reinterpret_cast<unsigned char*>(out.data());
  cipher_ctx ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  return ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, nonce_size, nullptr) == 1 &&
         EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce) == 1 &&
         EVP_DecryptUpdate(ctx.get(), nullptr, &n,
                           reinterpret_cast<const unsigned char*>(aad.data()),
                           static_cast<int>(aad.size())) == 1 &&
         EVP_DecryptUpdate(ctx.get(), plain, &n, cipher, static_cast<int>(len)) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_size, tag) == 1 &&
         EVP_DecryptFinal_ex(ctx.get(), plain + n, &n) == 1;
}
}  // namespace

std::string encode(const response& res, const cache_key_bytes* key, std::string_view cache_key) {
  std::string plain;
  std::size_t size = 12 + res.body.size();
  for (const auto& f : res.headers) size += 8 + f.name.size() + f.value.size();
  plain.reserve(size);
  put_u32(plain, static_cast<std::uint32_t>(res.status));
  put_u32(plain, static_cast<std::uint32_t>(res.headers.size()));
  for (const auto& f : res.headers) put_text(plain, f.name), put_text(plain, f.value);
  put_text(plain, res.body);
  std::string out;
  if (!key) {
    out.reserve(plain.size() + 1);
    out.push_back(plain_mark);
    out.append(plain);
    return out;
  }
  out.reserve(1 + nonce_size + plain.size() + tag_size);
  out.push_back(sealed_mark);
  if (!seal(plain, *key, cache_key, out)) return {};
  return out;
}

namespace {
bool get_view(std::string_view& in, std::string_view& s) {
  std::uint32_t n = 0;
  if (!get_u32(in, n) || in.size() < n) return false;
  s = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}
}  // namespace

bool decode_into(std::string_view bytes, const cache_key_bytes* key, std::string_view cache_key,
                 response& res) {
  if (bytes.empty()) return false;
  std::string opened;
  std::string_view in = bytes.substr(1);
  if (bytes.front() == sealed_mark) {
    if (!key || !open(in, *key, cache_key, opened)) return false;
    in = opened;
  } else if (bytes.front() != plain_mark || key) {
    return false;  // an entry stored unencrypted is not served where encryption is on
  }
  std::uint32_t status = 0, count = 0;
  if (!get_u32(in, status) || !get_u32(in, count) || count > in.size() / 8) return false;
  res.status = static_cast<int>(status);
  // The fields are written into the space of the previous response's (header_map keeps it).
  auto& fields = res.headers;
  fields.clear();
  for (std::size_t i = 0; i < count; ++i) {
    std::string_view name, value;
    if (!get_view(in, name) || !get_view(in, value)) return false;
    auto& f = detail::access::add_for_overwrite(fields);
    util::set_text(f.name, name);
    util::set_text(f.value, value);
  }
  std::string_view body;
  if (!get_view(in, body) || !in.empty()) return false;
  res.body.assign(body);
  return true;
}

std::optional<response> decode(std::string_view bytes, const cache_key_bytes* key,
                               std::string_view cache_key) {
  response res;
  if (!decode_into(bytes, key, cache_key, res)) return std::nullopt;
  return res;
}

}  // namespace gatehouse::cache
