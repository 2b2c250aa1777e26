// JSON Web Tokens: compact JWS decoding, JWK Set parsing, signature verification, claim checks.
//
// Public keys are built from the JWK members as a DER SubjectPublicKeyInfo and read back with
// d2i_PUBKEY: one path that BoringSSL and OpenSSL 3 both have, with no deprecated low-level
// RSA_/EC_KEY_ calls, and the library checks the key (an EC point must lie on its curve).

#include "auth/jwt.hpp"
#include "util/json_parse.hpp"

#include "util/json_ref.hpp"
#include "util/json_text.hpp"

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>  // d2i_PUBKEY in OpenSSL (BoringSSL: evp.h)

#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

namespace gatehouse::auth {

/// A decoded token's heap block: this header, then the bytes it describes (aligned for the DOM).
struct alignas(std::max_align_t) jwt_storage {
  /// The claims' DOM: in the first `dom` bytes of bytes(), then in heap chunks for a larger one.
  rapidjson::MemoryPoolAllocator<> pool;

  explicit jwt_storage(std::size_t dom) : pool(bytes(), dom, 4096) {}
  char* bytes() noexcept { return reinterpret_cast<char*>(this + 1); }
};
static_assert(alignof(jwt_storage) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

void jwt_storage_deleter::operator()(jwt_storage* storage) const noexcept {
  storage->~jwt_storage();
  ::operator delete(storage);
}

namespace {

using namespace std::string_view_literals;

template <class T, void (*F)(T*)>
struct free_with {
  void operator()(T* p) const noexcept { F(p); }
};
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, free_with<EVP_MD_CTX, EVP_MD_CTX_free>>;

// Failures leave entries in the thread's error queue, where a later TLS call on the same thread
// would find them and misreport its own outcome: drop them on the way out.
struct error_queue_cleaner {
  error_queue_cleaner() = default;
  error_queue_cleaner(const error_queue_cleaner&) = delete;
  error_queue_cleaner& operator=(const error_queue_cleaner&) = delete;
  ~error_queue_cleaner() { ERR_clear_error(); }
};

/// Sets *why (when asked for) and returns an empty optional of any type.
std::nullopt_t fail(std::string* why, std::string text) {
  if (why) *why = std::move(text);
  return std::nullopt;
}

/// Sets *why (when asked for) and returns false.
bool refuse(std::string* why, std::string text) {
  if (why) *why = std::move(text);
  return false;
}

/// Sets *why (when asked for) and returns no key.
std::shared_ptr<EVP_PKEY> no_key(std::string* why, std::string text) {
  if (why) *why = std::move(text);
  return nullptr;
}

/// `text` when it is safe to quote in a header value (short, printable, no quotes), else "".
std::string quotable(std::string_view text) {
  if (text.empty() || text.size() > 32) return {};
  for (char c : text) {
    if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') return {};
  }
  return std::string(text);
}

// ---------------------------------------------------------------------------------------------
// base64url
// ---------------------------------------------------------------------------------------------

constexpr std::string_view base64url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The 6-bit value of each base64url character, -1 for every other byte.
constexpr std::array<std::int8_t, 256> base64url_values = [] {
  std::array<std::int8_t, 256> values{};
  values.fill(-1);
  for (std::size_t i = 0; i < base64url_alphabet.size(); ++i)
    values[static_cast<unsigned char>(base64url_alphabet[i])] = static_cast<std::int8_t>(i);
  return values;
}();

/// base64url_values shifted into place for each of the four characters of a group: OR-ing the
/// four lookups gives the group's 24 bits, and bit 31 set marks a bad character in any of them.
using shifted_table = std::array<std::uint32_t, 256>;
constexpr std::array<shifted_table, 4> base64url_shifted = [] {
  std::array<shifted_table, 4> tables{};
  for (int position = 0; position < 4; ++position)
    for (int c = 0; c < 256; ++c) {
      const int v = base64url_values[static_cast<std::size_t>(c)];
      tables[static_cast<std::size_t>(position)][static_cast<std::size_t>(c)] =
          v < 0 ? 0x80000000u : static_cast<std::uint32_t>(v) << (18 - 6 * position);
    }
  return tables;
}();

/// The number of bytes base64url text of `length` characters decodes to; npos for a length no
/// encoding has (6 bits cannot end a byte).
std::size_t base64url_decoded_size(std::size_t length) {
  if (length % 4 == 1) return std::string_view::npos;
  const std::size_t rest = length % 4;  // 0, 2 or 3 characters: 0, 1 or 2 more bytes
  return length / 4 * 3 + (rest == 0 ? 0 : rest - 1);
}

/// Decodes base64url into `out`, base64url_decoded_size(in.size()) bytes (a valid size); false
/// on characters outside the alphabet or non-zero unused bits in the last character.
bool base64url_decode_to(std::string_view in, char* o) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t groups = in.size() / 4;
  const std::size_t rest = in.size() % 4;
  // Four characters make three bytes; a negative value anywhere marks a bad character.
  std::uint32_t bad = 0;
  auto group = [&] {
    const std::uint32_t v = base64url_shifted[0][p[0]] | base64url_shifted[1][p[1]] |
                            base64url_shifted[2][p[2]] | base64url_shifted[3][p[3]];
    bad |= v;
    p += 4;
    return v;
  };
  // All groups but the last store four bytes at once, the fourth overwritten by the next group.
  for (std::size_t g = 1; g < groups; ++g, o += 3) {
    std::uint32_t word = group() << 8;
    if constexpr (std::endian::native == std::endian::little) word = __builtin_bswap32(word);
    std::memcpy(o, &word, 4);
  }
  if (groups > 0) {
    const std::uint32_t v = group();
    o[0] = static_cast<char>(v >> 16);
    o[1] = static_cast<char>(v >> 8);
    o[2] = static_cast<char>(v);
    o += 3;
  }
  if (bad & 0x80000000u) return false;
  if (rest > 0) {
    int a = base64url_values[p[0]], b = base64url_values[p[1]];
    int c = rest == 3 ? base64url_values[p[2]] : 0;
    if ((a | b | c) < 0) return false;
    std::uint32_t v = (static_cast<std::uint32_t>(a) << 18) |
                      (static_cast<std::uint32_t>(b) << 12) | (static_cast<std::uint32_t>(c) << 6);
    o[0] = static_cast<char>(v >> 16);
    if (rest == 3) o[1] = static_cast<char>(v >> 8);
    // The unused low bits of the last character must be zero: one encoding per byte string.
    std::uint32_t unused = rest == 2 ? (v & 0xffff) : (v & 0xff);
    if (unused != 0) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

/// Parses as util::parse_json does (no recursion, nesting bounded), with UTF-8 checked here,
/// ahead of the parse: faster for the mostly ASCII text of tokens.
template <class Document>
bool parse_json(Document& doc, std::string_view text) {
  return util::valid_utf8(text) && util::parse_json(doc, text);
}

/// As parse_json, in place in `buffer` (a NUL-terminated copy of `text`), whose bytes the
/// values' strings then point into.
template <class Document>
bool parse_json_in_place(Document& doc, std::string_view text, char* buffer) {
  return util::valid_utf8(text) && util::parse_json_in_place(doc, text, buffer);
}

/// The member `name` of an object, or nullptr.
const rapidjson::Value* member(const rapidjson::Value& object, std::string_view name) {
  if (!object.IsObject()) return nullptr;
  rapidjson::Value key(util::json_ref(name));
  auto it = object.FindMember(key);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

/// The text of a string value.
std::string_view text_of(const rapidjson::Value& value) {
  return {value.GetString(), value.GetStringLength()};
}

/// True when an object has two members of the same name. RapidJSON keeps both and finds the
/// first, where other parsers take the last: RFC 7515 section 4 says to refuse such input.
bool has_duplicate_members(const rapidjson::Value& object) {
  // The usual few members without allocating: a hash of each name's length and ends, and the
  // whole names compared only for equal hashes (claim names are short and alike).
  if (object.MemberCount() <= 16) {
    std::uint8_t hashes[16];
    std::uint64_t seen = 0;
    std::size_t i = 0;
    for (auto a = object.MemberBegin(); a != object.MemberEnd(); ++a, ++i) {
      const std::string_view name = text_of(a->name);
      const unsigned first = name.empty() ? 0 : static_cast<unsigned char>(name.front());
      const unsigned last = name.empty() ? 0 : static_cast<unsigned char>(name.back());
      hashes[i] = static_cast<std::uint8_t>((name.size() * 37 + first * 11 + last) & 63);
      if (seen & (std::uint64_t{1} << hashes[i])) {
        for (std::size_t j = 0; j < i; ++j)
          if (hashes[j] == hashes[i] && text_of(object.MemberBegin()[j].name) == name) return true;
      }
      seen |= std::uint64_t{1} << hashes[i];
    }
    return false;
  }
  std::vector<std::string_view> names;
  names.reserve(object.MemberCount());
  for (const auto& m : object.GetObject()) names.push_back(text_of(m.name));
  std::sort(names.begin(), names.end());
  return std::adjacent_find(names.begin(), names.end()) != names.end();
}

/// Reads an optional string member into *out; false when it is present but not a string.
bool optional_string(const rapidjson::Value& object, std::string_view name, std::string* out) {
  const rapidjson::Value* value = member(object, name);
  if (!value) return true;
  if (!value->IsString()) return false;
  *out = std::string(text_of(*value));
  return true;
}

/// As above, with *out pointing into the value's string.
bool optional_string(const rapidjson::Value& object, std::string_view name, std::string_view* out) {
  const rapidjson::Value* value = member(object, name);
  if (!value) return true;
  if (!value->IsString()) return false;
  *out = text_of(*value);
  return true;
}

/// True when `value` is a string in `allowed`, or an array holding one.
bool any_string_in(const rapidjson::Value& value, const std::vector<std::string>& allowed) {
  auto listed = [&](const rapidjson::Value& v) {
    return v.IsString() && std::find(allowed.begin(), allowed.end(), text_of(v)) != allowed.end();
  };
  if (value.IsArray()) return std::any_of(value.Begin(), value.End(), listed);
  return listed(value);
}

/// Calls visit(scope) for each scope of a "scope" / "scp" value: a space-separated string or an
/// array; returns how many.
template <class Visit>
std::size_t visit_scopes(const rapidjson::Value& value, Visit&& visit) {
  std::size_t count = 0;
  if (value.IsArray()) {
    for (const auto& item : value.GetArray()) {
      if (item.IsString() && item.GetStringLength() > 0) {
        visit(text_of(item));
        ++count;
      }
    }
    return count;
  }
  if (!value.IsString()) return 0;
  std::string_view rest = text_of(value);
  while (!rest.empty()) {
    std::size_t space = rest.find(' ');
    std::string_view scope = rest.substr(0, space);
    if (!scope.empty()) {
      visit(scope);
      ++count;
    }
    if (space == std::string_view::npos) break;
    rest.remove_prefix(space + 1);
  }
  return count;
}

/// Calls visit(scope) for each scope a token carries: "scope" or, when it has none, "scp".
template <class Visit>
void for_each_scope(const rapidjson::Value& claims, Visit&& visit) {
  std::size_t count = 0;
  if (const rapidjson::Value* scope = member(claims, "scope")) count = visit_scopes(*scope, visit);
  if (count == 0) {
    if (const rapidjson::Value* scp = member(claims, "scp")) visit_scopes(*scp, visit);
  }
}

/// The claims check_claims() reads, each the first member of its name (as FindMember finds).
struct registered_claims {
  const rapidjson::Value *iss = nullptr, *aud = nullptr, *client_id = nullptr, *token_use = nullptr,
                         *exp = nullptr, *nbf = nullptr, *iat = nullptr;
};

/// One pass over the members rather than a FindMember for each claim.
registered_claims find_registered_claims(const rapidjson::Value& claims) {
  registered_claims c;
  for (const auto& m : claims.GetObject()) {
    const std::string_view name = text_of(m.name);
    const rapidjson::Value** slot = nullptr;
    if (name.size() == 3) {
      slot = name == "iss"   ? &c.iss
             : name == "aud" ? &c.aud
             : name == "exp" ? &c.exp
             : name == "nbf" ? &c.nbf
             : name == "iat" ? &c.iat
                             : nullptr;
    } else if (name.size() == 9) {
      slot = name == "client_id" ? &c.client_id : name == "token_use" ? &c.token_use : nullptr;
    }
    if (slot && !*slot) *slot = &m.value;
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// DER, just enough to write a SubjectPublicKeyInfo and an ECDSA-Sig-Value
// ---------------------------------------------------------------------------------------------

/// A DER element: tag, definite length, content.
std::string der(unsigned char tag, std::string_view content) {
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
  out += content;
  return out;
}

/// Big-endian bytes without their leading zeros.
std::string_view strip_leading_zeros(std::string_view bytes) {
  std::size_t first = bytes.find_first_not_of('\0');
  return first == std::string_view::npos ? std::string_view() : bytes.substr(first);
}

/// A non-negative DER INTEGER from big-endian bytes.
std::string der_unsigned(std::string_view big_endian) {
  std::string_view digits = strip_leading_zeros(big_endian);
  std::string content;
  if (digits.empty() || static_cast<unsigned char>(digits.front()) & 0x80) content.push_back('\0');
  content += digits;
  return der(0x02, content);
}

constexpr unsigned char der_bit_string = 0x03, der_sequence = 0x30;

// OIDs and NULL, as DER elements (tag and length included).
constexpr auto oid_rsa_encryption = "\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01"sv;
constexpr auto der_null = "\x05\x00"sv;
constexpr auto oid_ec_public_key = "\x06\x07\x2a\x86\x48\xce\x3d\x02\x01"sv;
constexpr auto oid_p256 = "\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07"sv;
constexpr auto oid_p384 = "\x06\x05\x2b\x81\x04\x00\x22"sv;
constexpr auto oid_p521 = "\x06\x05\x2b\x81\x04\x00\x23"sv;

/// SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING subjectPublicKey }.
std::string subject_public_key_info(std::string_view algorithm, std::string_view public_key) {
  std::string bits(1, '\0');  // no unused bits
  bits += public_key;
  return der(der_sequence, der(der_sequence, algorithm) + der(der_bit_string, bits));
}

/// Reads a DER SubjectPublicKeyInfo; null when the library refuses it.
std::shared_ptr<EVP_PKEY> read_public_key(const std::string& spki) {
  const auto* p = reinterpret_cast<const unsigned char*>(spki.data());
  EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size()));
  if (!key) return nullptr;
  std::shared_ptr<EVP_PKEY> owned(key, EVP_PKEY_free);
  if (p != reinterpret_cast<const unsigned char*>(spki.data()) + spki.size()) return nullptr;
  return owned;
}

// ---------------------------------------------------------------------------------------------
// JWK
// ---------------------------------------------------------------------------------------------

/// A base64url member of a JWK, decoded; nullopt when missing or malformed.
std::optional<std::string> binary_member(const rapidjson::Value& object, std::string_view name) {
  const rapidjson::Value* value = member(object, name);
  if (!value || !value->IsString()) return std::nullopt;
  return base64url_decode(text_of(*value));
}

/// An RSA public key from "n" and "e".
std::shared_ptr<EVP_PKEY> rsa_public_key(const rapidjson::Value& object, std::string* why) {
  auto n = binary_member(object, "n");
  auto e = binary_member(object, "e");
  if (!n || !e) return no_key(why, "the RSA JWK lacks a valid n or e");
  std::string_view modulus = strip_leading_zeros(*n);
  std::string_view exponent = strip_leading_zeros(*e);
  // A modulus is odd, an exponent odd and above 1: anything else verifies nothing, or anything.
  bool odd_modulus = !modulus.empty() && (modulus.back() & 1);
  bool good_exponent = !exponent.empty() && (exponent.back() & 1) &&
                       !(exponent.size() == 1 && exponent.front() == 1);
  if (!odd_modulus || !good_exponent) return no_key(why, "the RSA JWK has an invalid n or e");
  if (modulus.size() > static_cast<std::size_t>(max_rsa_bits / 8))
    return no_key(why, "the RSA JWK has more than 8192 bits");
  std::string algorithm = std::string(oid_rsa_encryption) + std::string(der_null);
  std::string rsa_key = der(der_sequence, der_unsigned(modulus) + der_unsigned(exponent));
  auto key = read_public_key(subject_public_key_info(algorithm, rsa_key));
  if (!key) return no_key(why, "the RSA JWK is not a valid key");
  return key;
}

/// The curve OID and coordinate size of a JWK "crv", or an empty OID.
std::pair<std::string_view, std::size_t> curve_of(std::string_view crv) {
  if (crv == "P-256") return {oid_p256, 32};
  if (crv == "P-384") return {oid_p384, 48};
  if (crv == "P-521") return {oid_p521, 66};
  return {{}, 0};
}

/// An EC public key from "crv", "x" and "y" (coordinates at their full size, RFC 7518 6.2.1).
std::shared_ptr<EVP_PKEY> ec_public_key(const rapidjson::Value& object, std::string* crv,
                                        std::string* why) {
  if (!optional_string(object, "crv", crv)) return no_key(why, "the EC JWK has an invalid crv");
  auto [oid, size] = curve_of(*crv);
  if (oid.empty()) return no_key(why, "the EC JWK's curve is not supported");
  auto x = binary_member(object, "x");
  auto y = binary_member(object, "y");
  if (!x || !y || x->size() != size || y->size() != size)
    return no_key(why, "the EC JWK lacks a valid x or y");
  std::string algorithm = std::string(oid_ec_public_key) + std::string(oid);
  std::string point = "\x04" + *x + *y;  // uncompressed
  auto key = read_public_key(subject_public_key_info(algorithm, point));
  if (!key) return no_key(why, "the EC JWK is not a point of its curve");
  return key;
}

/// False (and *why) when the JWK's "use" / "key_ops" say it is not for verifying signatures.
bool usable_for_signatures(const rapidjson::Value& object, std::string* why) {
  std::string use;
  if (!optional_string(object, "use", &use)) return refuse(why, "the JWK has an invalid use");
  if (!use.empty() && use != "sig") return refuse(why, "the JWK is not for signatures");
  const rapidjson::Value* ops = member(object, "key_ops");
  if (!ops) return true;
  if (!ops->IsArray()) return refuse(why, "the JWK has an invalid key_ops");
  std::vector<std::string> verify{"verify"};
  if (!any_string_in(*ops, verify)) return refuse(why, "the JWK is not for verifying");
  return true;
}

// ---------------------------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------------------------

enum class family { rsa, ec };

/// A JWS "alg" we verify.
struct jws_algorithm {
  std::string_view name;
  family kind;
  const EVP_MD* (*digest)();
  int digest_nid;
  std::size_t digest_size;
  int curve;               // EC: the NID of the curve the alg requires
  std::size_t coordinate;  // EC: the size of R and of S in the signature
};

constexpr std::array<jws_algorithm, 6> algorithms{{
    {"RS256", family::rsa, EVP_sha256, NID_sha256, SHA256_DIGEST_LENGTH, NID_undef, 0},
    {"RS384", family::rsa, EVP_sha384, NID_sha384, SHA384_DIGEST_LENGTH, NID_undef, 0},
    {"RS512", family::rsa, EVP_sha512, NID_sha512, SHA512_DIGEST_LENGTH, NID_undef, 0},
    {"ES256", family::ec, EVP_sha256, NID_sha256, SHA256_DIGEST_LENGTH, NID_X9_62_prime256v1, 32},
    {"ES384", family::ec, EVP_sha384, NID_sha384, SHA384_DIGEST_LENGTH, NID_secp384r1, 48},
    {"ES512", family::ec, EVP_sha512, NID_sha512, SHA512_DIGEST_LENGTH, NID_secp521r1, 66},
}};

/// The algorithm named `alg`, or nullptr ("none", HS*, PS*, anything else).
const jws_algorithm* find_algorithm(std::string_view alg) {
  for (const auto& a : algorithms) {
    if (a.name == alg) return &a;
  }
  return nullptr;
}

/// The NID of an EC key's curve, NID_undef when unknown. OpenSSL 3 deprecates the EC_KEY
/// accessors BoringSSL offers, and BoringSSL lacks the group-name call OpenSSL 3 offers.
int curve_nid(EVP_PKEY* key) {
#if defined(OPENSSL_IS_BORINGSSL)
  const EC_KEY* ec = EVP_PKEY_get0_EC_KEY(key);
  return ec ? EC_GROUP_get_curve_name(EC_KEY_get0_group(ec)) : NID_undef;
#else
  char name[80] = {};
  std::size_t length = 0;
  if (EVP_PKEY_get_group_name(key, name, sizeof name, &length) != 1) return NID_undef;
  return OBJ_sn2nid(name);
#endif
}

/// False (and *why) when `key` cannot verify `alg` signatures.
bool key_fits(const jws_algorithm& alg, const jwk& key, std::string* why) {
  const std::string name(alg.name);
  const bool rsa = alg.kind == family::rsa;
  if (key.kty != (rsa ? "RSA" : "EC"))
    return refuse(why, "signing method " + name + " does not match the key type");
  if (EVP_PKEY_id(key.key.get()) != (rsa ? EVP_PKEY_RSA : EVP_PKEY_EC))
    return refuse(why, "the key does not match its kty");
  if (!key.alg.empty() && key.alg != alg.name)
    return refuse(why, "signing method " + name + " does not match the key's alg");
  if (rsa) {
    int bits = EVP_PKEY_bits(key.key.get());
    if (bits < min_rsa_bits) return refuse(why, "the RSA key has fewer than 2048 bits");
    if (bits > max_rsa_bits) return refuse(why, "the RSA key has more than 8192 bits");
  } else if (curve_nid(key.key.get()) != alg.curve) {
    return refuse(why, "signing method " + name + " does not match the key's curve");
  }
  return true;
}

/// The DER ECDSA-Sig-Value of a raw R||S signature.
std::string ecdsa_der(std::string_view raw) {
  std::size_t half = raw.size() / 2;
  return der(der_sequence, der_unsigned(raw.substr(0, half)) + der_unsigned(raw.substr(half)));
}

#if defined(OPENSSL_IS_BORINGSSL)
/// `signature` over `data`, as EVP_DigestVerify checks it (the same RSA_verify / ECDSA_verify
/// of the same digest) without the EVP_MD_CTX, EVP_PKEY_CTX and digest state it allocates.
bool digest_verify(EVP_PKEY* key, const jws_algorithm& alg, std::string_view signature,
                   std::string_view data) {
  std::uint8_t digest[EVP_MAX_MD_SIZE];
  const auto* in = reinterpret_cast<const std::uint8_t*>(data.data());
  switch (alg.digest_nid) {
    case NID_sha256:
      SHA256(in, data.size(), digest);
      break;
    case NID_sha384:
      SHA384(in, data.size(), digest);
      break;
    case NID_sha512:
      SHA512(in, data.size(), digest);
      break;
    default:
      return false;
  }
  const auto* sig = reinterpret_cast<const std::uint8_t*>(signature.data());
  if (alg.kind == family::rsa) {
    RSA* rsa = EVP_PKEY_get0_RSA(key);
    return rsa &&
           RSA_verify(alg.digest_nid, digest, alg.digest_size, sig, signature.size(), rsa) == 1;
  }
  const EC_KEY* ec = EVP_PKEY_get0_EC_KEY(key);
  return ec && ECDSA_verify(0, digest, alg.digest_size, sig, signature.size(), ec) == 1;
}
#else
/// EVP_DigestVerify of `signature` over `data` (OpenSSL 3 deprecates the RSA_ / ECDSA_ calls).
bool digest_verify(EVP_PKEY* key, const jws_algorithm& alg, std::string_view signature,
                   std::string_view data) {
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, alg.digest(), nullptr, key) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}
#endif

// ---------------------------------------------------------------------------------------------
// Compact JWS
// ---------------------------------------------------------------------------------------------

/// A header or claims DOM whose parse stacks live in a pool on the caller's stack.
using pooled_document =
    rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                               rapidjson::MemoryPoolAllocator<>>;

/// The reader's own stack starts at this size (GenericReader's default), beside the document's.
constexpr std::size_t reader_stack = 256;

/// Reads the protected header, parsed in place in `text` (NUL-terminated, kept by the token:
/// alg, kid and typ point into it); false (and *why) when it is not acceptable.
bool read_header(char* text, std::size_t size, jwt& token, std::string* why) {
  // The header's DOM is dropped after reading: it lives in buffers on the stack (the allocators
  // fall back to the heap for a large header). The document's stack and the reader's must both
  // fit in `stack` beside the pool's chunk header, or the first push goes to the heap.
  char values[2048], stack[1024];
  rapidjson::MemoryPoolAllocator<> value_allocator(values, sizeof values);
  rapidjson::MemoryPoolAllocator<> stack_allocator(stack, sizeof stack);
  pooled_document header(&value_allocator, sizeof stack / 2 - reader_stack, &stack_allocator);
  if (!parse_json_in_place(header, {text, size}, text) || !header.IsObject())
    return refuse(why, "the token's header is not a JSON object");
  if (has_duplicate_members(header)) return refuse(why, "the token's header has duplicate members");
  const rapidjson::Value* alg = member(header, "alg");
  if (!alg || !alg->IsString() || alg->GetStringLength() == 0)
    return refuse(why, "the token's header has no alg");
  token.alg = text_of(*alg);
  if (!optional_string(header, "kid", &token.kid))
    return refuse(why, "the token's header has an invalid kid");
  if (!optional_string(header, "typ", &token.typ))
    return refuse(why, "the token's header has an invalid typ");
  // We implement no extension, so any critical one makes the token one we cannot process.
  if (member(header, "crit")) return refuse(why, "the token's header has critical extensions");
  return true;
}

/// Reads the claims from token.payload, parsed in place in `copy` (a NUL-terminated copy of it)
/// with their DOM in `pool`; with `claims_required`, the payload must be a JSON object.
bool read_payload(char* copy, rapidjson::MemoryPoolAllocator<>& pool, jwt& token,
                  bool claims_required, std::string* why) {
  char stack[2048];
  rapidjson::MemoryPoolAllocator<> stack_allocator(stack, sizeof stack);
  pooled_document claims(&pool, sizeof stack / 2, &stack_allocator);
  if (!parse_json_in_place(claims, token.payload, copy) || !claims.IsObject()) {
    if (claims_required) return refuse(why, std::string(reason::not_an_object));
    return true;
  }
  if (has_duplicate_members(claims))
    return refuse(why, "the token's payload has duplicate members");
  token.claims.Swap(claims);  // the values stay in `pool`
  return true;
}

/// The header this thread accepted last. The tokens of an issuer's key share their header, and
/// copying its parsed bytes costs less than decoding and parsing them again. One per thread: no
/// lock, and a bounded size.
struct header_memo {
  static constexpr std::size_t max_text = 512;
  std::string text;   // the header's base64url
  std::string bytes;  // its bytes as parsed in place (NUL-terminated), where alg, kid, typ lie
  std::array<std::pair<std::size_t, std::size_t>, 3> views{};  // offset, size: alg, kid, typ

  void remember(std::string_view header_text, const char* header, std::size_t size,
                const jwt& token) {
    if (header_text.size() > max_text) return;
    text.assign(header_text);
    bytes.assign(header, size + 1);
    const std::string_view parts[] = {token.alg, token.kid, token.typ};
    for (std::size_t i = 0; i < views.size(); ++i)
      views[i] = {parts[i].empty() ? 0 : static_cast<std::size_t>(parts[i].data() - header),
                  parts[i].size()};
  }

  /// Copies the header into `header` and points the token's views into it, when it is the same.
  bool recall(std::string_view header_text, char* header, jwt& token) const {
    if (header_text.empty() || header_text != text) return false;
    std::memcpy(header, bytes.data(), bytes.size());
    std::string_view* parts[] = {&token.alg, &token.kid, &token.typ};
    for (std::size_t i = 0; i < views.size(); ++i)
      *parts[i] = {header + views[i].first, views[i].second};
    return true;
  }
};
thread_local header_memo last_header;

/// Bytes of DOM that the storage holds for a payload of `size` bytes: a claims set's members
/// (32 bytes each) take about twice its text; a larger DOM goes on in heap chunks.
std::size_t dom_capacity(std::size_t size) { return (2 * size + 256 + 7) & ~std::size_t{7}; }

/// Splits and decodes a compact JWS.
std::optional<jwt> decode_compact(std::string_view text, bool claims_required, std::string* why) {
  if (text.empty()) return fail(why, "the token is empty");
  if (text.size() > max_token_size) return fail(why, "the token is larger than 16384 bytes");
  std::size_t first = text.find('.');
  std::size_t second = first == std::string_view::npos ? first : text.find('.', first + 1);
  if (second == std::string_view::npos || text.find('.', second + 1) != std::string_view::npos)
    return fail(why, "the token is not a compact JWS (header.payload.signature)");

  const std::string_view header_text = text.substr(0, first);
  const std::string_view payload_text = text.substr(first + 1, second - first - 1);
  const std::string_view signature_text = text.substr(second + 1);
  constexpr std::size_t npos = std::string_view::npos;
  const std::size_t header_size = base64url_decoded_size(header_text.size());
  if (header_size == npos || header_size == 0)
    return fail(why, "the token's header is not valid base64url");
  const std::size_t payload_size = base64url_decoded_size(payload_text.size());
  const std::size_t signature_size = base64url_decoded_size(signature_text.size());

  // One block for everything the token keeps: the claims' DOM, the header (parsed in place),
  // the signature, the payload and the payload's copy parsed in place.
  const std::size_t dom = dom_capacity(payload_size == npos ? 0 : payload_size);
  const std::size_t size = dom + header_size + 1 + (signature_size == npos ? 0 : signature_size) +
                           (payload_size == npos ? 0 : 2 * payload_size + 1);
  std::optional<jwt> result;
  jwt& token = result.emplace();
  token.storage.reset(new (::operator new(sizeof(jwt_storage) + size)) jwt_storage(dom));
  char* header = token.storage->bytes() + dom;
  char* signature = header + header_size + 1;

  const bool known_header = last_header.recall(header_text, header, token);
  if (!known_header) {
    if (!base64url_decode_to(header_text, header))
      return fail(why, "the token's header is not valid base64url");
    header[header_size] = '\0';
  }
  if (payload_size == npos) return fail(why, "the token's payload is not valid base64url");
  char* payload = signature + (signature_size == npos ? 0 : signature_size);
  if (!base64url_decode_to(payload_text, payload))
    return fail(why, "the token's payload is not valid base64url");
  if (signature_size == npos || !base64url_decode_to(signature_text, signature))
    return fail(why, "the token's signature is not valid base64url");

  token.signing_input = text.substr(0, second);
  token.signature = {signature, signature_size};
  token.payload = {payload, payload_size};
  char* copy = payload + payload_size;
  std::memcpy(copy, payload, payload_size);
  copy[payload_size] = '\0';
  if (!known_header) {
    if (!read_header(header, header_size, token, why)) return std::nullopt;
    last_header.remember(header_text, header, header_size, token);
  }
  if (!read_payload(copy, token.storage->pool, token, claims_required, why)) return std::nullopt;
  return result;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public functions
// ---------------------------------------------------------------------------------------------

std::string base64url_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  std::uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : in) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out.push_back(base64url_alphabet[(bits >> count) & 0x3f]);
    }
  }
  if (count > 0) out.push_back(base64url_alphabet[(bits << (6 - count)) & 0x3f]);
  return out;
}

std::optional<std::string> base64url_decode(std::string_view in) {
  const std::size_t size = base64url_decoded_size(in.size());
  if (size == std::string_view::npos) return std::nullopt;
  std::string out(size, '\0');
  if (!base64url_decode_to(in, out.data())) return std::nullopt;
  return out;
}

std::optional<jwk> jwk::parse(const rapidjson::Value& object, std::string* why) {
  error_queue_cleaner cleaner;
  if (!object.IsObject()) return fail(why, "the JWK is not a JSON object");
  jwk key;
  if (!optional_string(object, "kty", &key.kty) || key.kty.empty())
    return fail(why, "the JWK has no kty");
  if (!optional_string(object, "kid", &key.kid)) return fail(why, "the JWK has an invalid kid");
  if (!optional_string(object, "alg", &key.alg)) return fail(why, "the JWK has an invalid alg");
  if (!usable_for_signatures(object, why)) return std::nullopt;
  if (key.kty == "RSA") {
    key.key = rsa_public_key(object, why);
  } else if (key.kty == "EC") {
    key.key = ec_public_key(object, &key.crv, why);
  } else {
    return fail(why, "the JWK type is not supported");
  }
  if (!key.key) return std::nullopt;
  return key;
}

const jwk* key_set::find(std::string_view kid) const noexcept {
  if (kid.empty()) return nullptr;
  for (const auto& key : keys) {
    if (key.kid == kid) return &key;
  }
  return nullptr;
}

std::optional<key_set> key_set::parse(std::string_view json, std::string* why) {
  if (json.size() > max_key_set_size) return fail(why, "the key set is larger than 150000 bytes");
  rapidjson::Document doc;
  if (!parse_json(doc, json) || !doc.IsObject())
    return fail(why, "the key set is not a JSON object");
  const rapidjson::Value* keys = member(doc, "keys");
  if (!keys || !keys->IsArray()) return fail(why, "the key set has no keys array");
  key_set set;
  for (const auto& object : keys->GetArray()) {
    if (auto key = jwk::parse(object, nullptr)) set.keys.push_back(std::move(*key));
  }
  return set;
}

std::optional<jwt> jwt::decode(std::string_view token, std::string* why) {
  return decode_compact(token, true, why);
}

std::optional<jwt> jwt::decode_jws(std::string_view token, std::string* why) {
  return decode_compact(token, false, why);
}

namespace {
std::string invalid_algorithm(std::string_view alg) {
  std::string name = quotable(alg);
  return name.empty() ? "the signing method is invalid" : "signing method " + name + " is invalid";
}
}  // namespace

std::optional<std::string> keyless_refusal(const jwt& token) {
  const jws_algorithm* alg = find_algorithm(token.alg);
  if (!alg) return invalid_algorithm(token.alg);
  if (token.signature.empty()) return "the token has no signature";
  if (alg->kind == family::ec && token.signature.size() != 2 * alg->coordinate)
    return "the " + std::string(alg->name) + " signature has the wrong length";
  return std::nullopt;
}

bool verify_signature(const jwt& token, const jwk& key, std::string* why) {
  error_queue_cleaner cleaner;
  const jws_algorithm* alg = find_algorithm(token.alg);
  if (!alg) return refuse(why, invalid_algorithm(token.alg));
  if (!key.key) return refuse(why, "the key is missing");
  if (!key_fits(*alg, key, why)) return false;
  if (token.signature.empty()) return refuse(why, "the token has no signature");
  std::string_view signature = token.signature;
  std::string der;  // ECDSA: the raw R || S as the DER that EVP verifies
  if (alg->kind == family::ec) {
    if (signature.size() != 2 * alg->coordinate)
      return refuse(why, "the " + std::string(alg->name) + " signature has the wrong length");
    der = ecdsa_der(token.signature);
    signature = der;
  }
  if (!digest_verify(key.key.get(), *alg, signature, token.signing_input))
    return refuse(why, "the token's signature is invalid");
  return true;
}

std::optional<std::string> check_claims(const jwt& token, const claim_rules& rules) {
  return check_claims(token, rules, rules.now);
}

std::optional<std::string> check_claims(const jwt& token, const claim_rules& rules,
                                        std::chrono::system_clock::time_point at) {
  const rapidjson::Value& claims = token.claims;
  if (!claims.IsObject()) return std::string(reason::not_an_object);
  const registered_claims c = find_registered_claims(claims);
  if (!rules.issuer.empty() && !(c.iss && c.iss->IsString() && text_of(*c.iss) == rules.issuer))
    return std::string(reason::no_issuer);
  if (!rules.audiences.empty()) {
    // AWS evaluates aud when the token has one, and client_id (Cognito access tokens) only
    // when it does not.
    const rapidjson::Value* aud = c.aud ? c.aud : c.client_id;
    if (!aud || !any_string_in(*aud, rules.audiences)) return std::string(reason::no_audience);
  }
  if (!rules.token_use.empty() &&
      !(c.token_use && c.token_use->IsString() && text_of(*c.token_use) == rules.token_use))
    return std::string(reason::no_token_use);

  const double now = std::chrono::duration<double>(at.time_since_epoch()).count();
  const auto leeway = static_cast<double>(rules.leeway.count());
  if (!c.exp || !c.exp->IsNumber()) return std::string(reason::no_expiry);
  if (c.exp->GetDouble() <= now - leeway) return std::string(reason::expired);
  if (c.nbf) {
    if (!c.nbf->IsNumber()) return std::string(reason::bad_not_before);
    if (c.nbf->GetDouble() > now + leeway) return std::string(reason::not_yet_valid);
  }
  if (c.iat) {
    if (!c.iat->IsNumber()) return std::string(reason::bad_issued_at);
    if (c.iat->GetDouble() > now + leeway) return std::string(reason::issued_in_future);
  }

  if (!rules.scopes.empty()) {
    bool granted = false;
    for_each_scope(claims, [&](std::string_view scope) {
      granted = granted ||
                std::find(rules.scopes.begin(), rules.scopes.end(), scope) != rules.scopes.end();
    });
    if (!granted) return std::string(reason::no_scope);
  }
  return std::nullopt;
}

std::vector<std::string> token_scopes(const jwt& token) {
  std::vector<std::string> scopes;
  for_each_scope(token.claims, [&](std::string_view scope) { scopes.emplace_back(scope); });
  return scopes;
}

}  // namespace gatehouse::auth
