// JWT authorizers end to end: tokens minted by the npm package `jose` (tests/cross/mint_jwt.mjs)
// and by the test itself, keys served as a JWKS by a small HTTPS server on loopback that the
// gateway trusts through gateway_options::upstream, and the answers AWS's HTTP API JWT
// authorizer gives: 200 with the claims in the event, 401 with WWW-Authenticate, 403 for
// missing scopes, 500 when the keys cannot be had. Key rotation and the refetch rate limit,
// and a JWKS given in code.
//
// Part of the `tls` program (the file name has "tls" in it), which CI also runs against the
// OpenSSL build: the crypto here is portable EVP code.
//
// The jose cases need `node` on PATH and tests/cross/node_modules/jose (scripts/install-deps);
// without them they WARN and skip.

#include "backend.hpp"
#include "harness.hpp"
#include "jwks_server.hpp"

#include <gatehouse/gatehouse.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using gatehouse::Authorizer;
using gatehouse::jwt_options;
using gatehouse::payload_format;
using gatehouse::proxy_event;
using gatehouse::proxy_result;
using test::jwks_server;

const std::string issuer = "https://issuer.gatehouse.test/pool-1";
const std::string audience = "gatehouse-tests";

const std::string unauthorized = R"(401 UnauthorizedException {"message":"Unauthorized"})";
const std::string authorizer_failure =
    R"(500 AuthorizerFailureException {"message":"Internal server error"})";

std::string invalid_token(std::string_view description) {
  return R"(Bearer scope="" error="invalid_token" error_description=")" + std::string(description) +
         "\"";
}

long long now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// --- base64url and JSON helpers ---------------------------------------------------------------

std::string b64url(std::string_view in) {
  static constexpr char table[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v =
        (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    out += table[v >> 18 & 63], out += table[v >> 12 & 63], out += table[v >> 6 & 63],
        out += table[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16;
    out += table[v >> 18 & 63], out += table[v >> 12 & 63];
  } else if (i + 2 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += table[v >> 18 & 63], out += table[v >> 12 & 63], out += table[v >> 6 & 63];
  }
  return out;
}

std::string b64url_decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0) break;
    acc = acc << 6 | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>(acc >> bits & 0xff));
    }
  }
  return out;
}

// The JSON text of the value at `pointer` ("<missing>" when none).
std::string json_at(const std::string& json, const char* pointer) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) return "<not JSON>";
  const rapidjson::Value* v = rapidjson::Pointer(pointer).Get(doc);
  if (!v) return "<missing>";
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v->Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

// The three parts of a compact JWS.
std::vector<std::string> parts_of(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    auto dot = token.find('.', start);
    parts.push_back(
        token.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

// The token with its payload replaced by `claims_json` (the signature kept).
std::string with_payload(const std::string& token, std::string_view claims_json) {
  auto p = parts_of(token);
  return p[0] + "." + b64url(claims_json) + "." + p[2];
}

// The token with one character in the middle of its signature changed.
std::string with_bad_signature(const std::string& token) {
  auto p = parts_of(token);
  auto& sig = p[2];
  auto i = sig.size() / 2;
  sig[i] = sig[i] == 'A' ? 'B' : 'A';
  return p[0] + "." + p[1] + "." + sig;
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

// --- Tokens minted by jose --------------------------------------------------------------------

struct jose_output {
  std::string jwks;                           // every key of the spec
  std::map<std::string, std::string> keys;    // kid → public JWK (JSON text)
  std::map<std::string, std::string> tokens;  // name → compact JWS
  std::string jwks_of(std::initializer_list<std::string> kids) const {
    std::string out = R"({"keys":[)";
    bool first = true;
    for (const auto& k : kids) {
      if (!first) out.push_back(',');
      out.append(keys.at(k));
      first = false;
    }
    return out + "]}";
  }
  const std::string& token(const std::string& name) const { return tokens.at(name); }
};

std::string cross_dir() { return std::string(GATEHOUSE_SOURCE_DIR) + "/tests/cross"; }

// Why jose cannot be used here, or "" when it can.
std::string jose_missing() {
  int status = 0;
  test::shell("command -v node >/dev/null 2>&1", &status);
  if (status != 0) return "node is not on PATH";
  if (!std::filesystem::exists(cross_dir() + "/node_modules/jose/package.json"))
    return cross_dir() + "/node_modules/jose is missing (run scripts/install-deps)";
  return {};
}

// Runs mint_jwt.mjs over `spec`; nullopt (after a WARN) when node or jose is missing. A failing
// script fails the test.
std::optional<jose_output> mint_with_jose(const std::string& spec) {
  if (auto why = jose_missing(); !why.empty()) {
    WARN("skipping the jose cross-check: " << why);
    return std::nullopt;
  }
  char path[] = "/tmp/gatehouse-jwt-spec-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  {
    std::ofstream out(path);
    out << spec;
  }
  int status = 0;
  auto output = test::shell("node '" + cross_dir() + "/mint_jwt.mjs' '" + path + "' 2>&1", &status);
  std::remove(path);
  INFO("mint_jwt.mjs said: " << output);
  REQUIRE(status == 0);
  rapidjson::Document doc;
  doc.Parse(output.data(), output.size());
  REQUIRE_FALSE(doc.HasParseError());
  jose_output result;
  auto text = [](const rapidjson::Value& v) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    return std::string(buf.GetString(), buf.GetSize());
  };
  result.jwks = text(doc["jwks"]);
  for (auto& m : doc["keys"].GetObject()) result.keys[m.name.GetString()] = text(m.value);
  for (auto& m : doc["tokens"].GetObject()) result.tokens[m.name.GetString()] = m.value.GetString();
  return result;
}

// A claims object (JSON text) with iss, aud, sub, iat and exp (from now) set, plus `extra`
// members (JSON text without braces, may be empty).
std::string claims(std::string_view sub, std::string_view extra = {}, long long exp_in = 600,
                   std::string_view iss = issuer, std::string_view aud = audience) {
  auto now = now_seconds();
  std::string out = R"({"iss":")" + std::string(iss) + R"(","sub":")" + std::string(sub) + "\"";
  if (!aud.empty()) out += R"(,"aud":")" + std::string(aud) + "\"";
  out += ",\"iat\":" + std::to_string(now - 5);
  if (exp_in != 0) out += ",\"exp\":" + std::to_string(now + exp_in);
  if (!extra.empty()) out += "," + std::string(extra);
  return out + "}";
}

// One token of a mint_jwt.mjs spec.
std::string token_spec(std::string_view name, std::string_view key, std::string_view claims_json,
                       std::string_view as = "signed", std::string_view kid = {}) {
  std::string out = R"({"name":")" + std::string(name) + R"(","key":")" + std::string(key) +
                    R"(","as":")" + std::string(as) + R"(","claims":)" + std::string(claims_json);
  if (!kid.empty()) out += R"(,"kid":")" + std::string(kid) + "\"";
  return out + "}";
}

// --- Tokens minted here (portable EVP code, BoringSSL and OpenSSL 3) --------------------------

template <class T, void (*F)(T*)>
struct deleter {
  void operator()(T* p) const noexcept { F(p); }
};
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;

void ensure(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("minting: ") + what);
}

// Reads DER elements in sequence.
struct der_reader {
  std::string_view in;
  bool next(unsigned char& tag, std::string_view& content) {
    if (in.size() < 2) return false;
    tag = static_cast<unsigned char>(in[0]);
    std::size_t length = static_cast<unsigned char>(in[1]);
    std::size_t at = 2;
    if (length & 0x80) {
      std::size_t n = length & 0x7f;
      if (n == 0 || n > 4 || in.size() < 2 + n) return false;
      length = 0;
      for (std::size_t i = 0; i < n; ++i)
        length = length << 8 | static_cast<unsigned char>(in[2 + i]);
      at += n;
    }
    if (in.size() - at < length) return false;
    content = in.substr(at, length);
    in.remove_prefix(at + length);
    return true;
  }
};

std::string strip_zeros(std::string_view integer) {
  while (integer.size() > 1 && integer.front() == '\0') integer.remove_prefix(1);
  return std::string(integer);
}

// A key of the test's own, with its public JWK.
struct own_key {
  std::shared_ptr<EVP_PKEY> key;
  std::string kid, alg, jwk;
};

std::string spki_der(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(key, &der);
  ensure(n > 0, "i2d_PUBKEY");
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

// The BIT STRING of a SubjectPublicKeyInfo, without its unused-bits byte.
std::string spki_key_bits(EVP_PKEY* key) {
  auto der = spki_der(key);
  der_reader outer{der};
  unsigned char tag;
  std::string_view spki, algorithm, bits;
  ensure(outer.next(tag, spki) && tag == 0x30, "SPKI");
  der_reader inner{spki};
  ensure(inner.next(tag, algorithm) && tag == 0x30, "algorithm");
  ensure(inner.next(tag, bits) && tag == 0x03 && !bits.empty(), "bit string");
  return std::string(bits.substr(1));
}

own_key generate(std::string kid, bool rsa) {
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_id(rsa ? EVP_PKEY_RSA : EVP_PKEY_EC, nullptr));
  ensure(ctx && EVP_PKEY_keygen_init(ctx.get()) == 1, "keygen init");
  if (rsa)
    ensure(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 2048) == 1, "bits");
  else
    ensure(EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx.get(), NID_X9_62_prime256v1) == 1, "curve");
  EVP_PKEY* raw = nullptr;
  ensure(EVP_PKEY_keygen(ctx.get(), &raw) == 1, "keygen");
  own_key k{
      std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free), std::move(kid), rsa ? "RS256" : "ES256", {}};
  auto bits = spki_key_bits(raw);
  if (rsa) {
    der_reader r{bits};
    unsigned char tag;
    std::string_view seq, n, e;
    ensure(r.next(tag, seq) && tag == 0x30, "RSAPublicKey");
    der_reader fields{seq};
    ensure(fields.next(tag, n) && tag == 0x02 && fields.next(tag, e) && tag == 0x02, "n, e");
    k.jwk = R"({"kty":"RSA","use":"sig","alg":"RS256","kid":")" + k.kid + R"(","n":")" +
            b64url(strip_zeros(n)) + R"(","e":")" + b64url(strip_zeros(e)) + "\"}";
  } else {
    ensure(bits.size() == 65 && bits[0] == '\x04', "uncompressed P-256 point");
    k.jwk = R"({"kty":"EC","use":"sig","alg":"ES256","crv":"P-256","kid":")" + k.kid +
            R"(","x":")" + b64url(bits.substr(1, 32)) + R"(","y":")" + b64url(bits.substr(33, 32)) +
            "\"}";
  }
  return k;
}

std::string jwks_of(std::initializer_list<const own_key*> keys) {
  std::string out = R"({"keys":[)";
  bool first = true;
  for (const auto* k : keys) {
    if (!first) out.push_back(',');
    out += k->jwk;
    first = false;
  }
  return out + "]}";
}

// header.payload.signature, signed with `key` (kid in the header: `kid`, or the key's own).
std::string sign(const own_key& key, std::string_view claims_json, std::string kid = {}) {
  if (kid.empty()) kid = key.kid;
  std::string header = R"({"alg":")" + key.alg + R"(","typ":"JWT","kid":")" + kid + "\"}";
  std::string input = b64url(header) + "." + b64url(claims_json);
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  ensure(ctx && EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.key.get()) == 1,
         "sign init");
  std::size_t size = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  ensure(EVP_DigestSign(ctx.get(), nullptr, &size, in, input.size()) == 1, "sign size");
  std::string signature(size, '\0');
  ensure(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, in,
                        input.size()) == 1,
         "sign");
  signature.resize(size);
  if (key.alg == "ES256") {  // DER ECDSA-Sig-Value → R||S
    der_reader outer{signature};
    unsigned char tag;
    std::string_view seq, r, s;
    ensure(outer.next(tag, seq) && tag == 0x30, "ECDSA-Sig-Value");
    der_reader fields{seq};
    ensure(fields.next(tag, r) && fields.next(tag, s), "r, s");
    auto pad = [](std::string v) {
      v = strip_zeros(v);
      return std::string(32 - std::min<std::size_t>(32, v.size()), '\0') + v;
    };
    signature = pad(std::string(r)) + pad(std::string(s));
  }
  return input + "." + b64url(signature);
}

// --- The gateway side -------------------------------------------------------------------------

// What integrations saw: the event JSON and the authorizer context's principal and scopes.
struct seen {
  std::string principal_id;
  std::vector<std::string> scopes;
  std::string claims_json;
  std::string json;
};

class recorder {
 public:
  gatehouse::integration integration(payload_format format) {
    return gatehouse::function(
        [this](const proxy_event& ev) {
          auto a = ev.context().authorizer;
          seen s{std::string(a.principal_id),
                 {a.scopes.begin(), a.scopes.end()},
                 std::string(a.claims_json),
                 ev.to_json()};
          std::lock_guard lock(mutex_);
          last_ = std::move(s);
          return proxy_result{.body = "ok"};
        },
        {.format = format});
  }
  seen last() const {
    std::lock_guard lock(mutex_);
    return last_;
  }

 private:
  mutable std::mutex mutex_;
  seen last_;
};

// GET /v1 and GET /v2 (recorded, payload format 1.0 and 2.0), GET /scoped (needs pets:write),
// all behind `auth`.
gatehouse::Stage jwt_stage(const Authorizer& auth, recorder& rec) {
  gatehouse::Router api({.name = "jwt-api", .id = "jwt0000001"});
  api.route("GET", "/v1", rec.integration(payload_format::v1), {.authorizer = auth});
  api.route("GET", "/v2", rec.integration(payload_format::v2), {.authorizer = auth});
  api.route("GET", "/scoped", gatehouse::mock({.body = "scoped"}),
            {.authorizer = auth, .authorization_scopes = {"pets:write", "admin"}});
  return gatehouse::Stage("prod", api.deploy());
}

gatehouse::gateway_options trusting(const std::string& ca_pem) {
  gatehouse::gateway_options o;
  o.upstream.ca_pem = ca_pem;
  return o;
}

jwt_options options_for(std::string jwks_url, std::chrono::seconds refetch = 0s) {
  jwt_options o;
  o.issuer = issuer;
  o.audiences = {audience, "another-client"};
  o.jwks_url = std::move(jwks_url);
  o.refetch_interval = refetch;
  return o;
}

// Status, x-amzn-ErrorType and body.
std::string summary(const test::reply& r) {
  if (r.status == 0) return "<no reply>";
  auto type = r.headers.get("x-amzn-ErrorType");
  return std::to_string(r.status) + " " + std::string(type.value_or("-")) + " " + r.body;
}

class client {
 public:
  explicit client(unsigned short port) : raw_(port, 10s) {}
  test::reply get(std::string_view target, std::string_view authorization = {},
                  bool with_header = true) {
    std::string r = "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (with_header) r += "Authorization: " + std::string(authorization) + "\r\n";
    raw_.send(r + "\r\n");
    auto reply = raw_.read_reply();
    return reply ? std::move(*reply) : test::reply{};
  }
  std::string call(std::string_view target, std::string_view token) {
    return summary(get(target, "Bearer " + std::string(token)));
  }
  // The WWW-Authenticate header of a call, "<none>" without one.
  std::string challenge(std::string_view target, std::string_view token) {
    auto r = get(target, "Bearer " + std::string(token));
    return std::string(r.headers.get("WWW-Authenticate").value_or("<none>"));
  }

 private:
  test::raw_client raw_;
};

}  // namespace

// --- Tokens from jose over a JWKS fetched over HTTPS ------------------------------------------

TEST_CASE(
    "jwt: RS256 and ES256 tokens minted by jose are accepted, their claims reach v1 and "
    "v2 events",
    "[jwt][authorizer]") {
  auto minted = mint_with_jose(
      R"({"keys":[{"kid":"rsa-1","alg":"RS256"},{"kid":"ec-1","alg":"ES256"}],"tokens":[)" +
      token_spec("rs", "rsa-1",
                 claims("alice", R"("scope":"pets:read openid","email":"alice@example.com",)"
                                 R"("level":7,"admin":true,"groups":["a","b"])")) +
      "," +
      token_spec("es", "ec-1",
                 claims("bob", R"("scp":["pets:write"])", 600, issuer, "another-client")) +
      "," +
      token_spec("client-id", "rsa-1",
                 claims("carol", R"("client_id":"gatehouse-tests","token_use":"access")", 600,
                        issuer, "")) +
      "]}");
  if (!minted) return;
  jwks_server keys(minted->jwks);
  recorder rec;
  auto auth = Authorizer::jwt(options_for(keys.url()));
  test::running_gateway gw(trusting(keys.certificate_pem()));
  client c(gw.serve_plain(jwt_stage(auth, rec)));

  // RS256, payload format 1.0: claims as strings under requestContext.authorizer.claims.
  REQUIRE(c.call("/prod/v1", minted->token("rs")) == "200 - ok");
  auto e = rec.last();
  CHECK(e.principal_id == "alice");
  CHECK(json_at(e.json, "/requestContext/authorizer/claims/sub") == R"("alice")");
  CHECK(json_at(e.json, "/requestContext/authorizer/claims/iss") == "\"" + issuer + "\"");
  CHECK(json_at(e.json, "/requestContext/authorizer/claims/email") == R"("alice@example.com")");
  CHECK(json_at(e.json, "/requestContext/authorizer/claims/scope") == R"("pets:read openid")");
  CHECK(json_at(e.json, "/requestContext/authorizer/claims/level") == R"("7")");
  CHECK(json_at(e.json, "/requestContext/authorizer/claims/admin") == R"("true")");
  CHECK(json_at(e.json, "/requestContext/authorizer/claims/exp").starts_with("\""));

  // The same token, payload format 2.0: typed claims and the scopes under authorizer.jwt.
  REQUIRE(c.call("/prod/v2", minted->token("rs")) == "200 - ok");
  e = rec.last();
  CHECK(json_at(e.json, "/requestContext/authorizer/jwt/claims/sub") == R"("alice")");
  CHECK(json_at(e.json, "/requestContext/authorizer/jwt/claims/level") == "7");
  CHECK(json_at(e.json, "/requestContext/authorizer/jwt/claims/groups") == R"(["a","b"])");
  CHECK(json_at(e.json, "/requestContext/authorizer/jwt/scopes") == R"(["pets:read","openid"])");
  CHECK(e.scopes == std::vector<std::string>{"pets:read", "openid"});

  // ES256, scopes from `scp`; the token without "Bearer " and with a lowercase one.
  auto r = c.get("/prod/v2", minted->token("es"));
  REQUIRE(summary(r) == "200 - ok");
  e = rec.last();
  CHECK(e.principal_id == "bob");
  CHECK(json_at(e.json, "/requestContext/authorizer/jwt/claims/sub") == R"("bob")");
  CHECK(json_at(e.json, "/requestContext/authorizer/jwt/scopes") == R"(["pets:write"])");
  CHECK(summary(c.get("/prod/v1", "bearer " + minted->token("es"))) == "200 - ok");

  // client_id instead of aud (a Cognito access token).
  CHECK(c.call("/prod/v1", minted->token("client-id")) == "200 - ok");
  CHECK(rec.last().principal_id == "carol");

  // Method scopes: any one of them is enough; none of them → 403.
  CHECK(c.call("/prod/scoped", minted->token("es")) == "200 - scoped");
  auto denied = c.get("/prod/scoped", "Bearer " + minted->token("rs"));
  CHECK(denied.status == 403);
  CHECK(denied.body == R"({"message":"Forbidden"})");
  CHECK(std::string(denied.headers.get("WWW-Authenticate").value_or("<none>"))
            .starts_with(R"(Bearer scope="pets:write admin" error="insufficient_scope")"));

  // The key set was fetched once, and kept.
  CHECK(keys.fetches() == 1);
}

TEST_CASE(
    "jwt: tampered, expired, foreign and algorithm-confused tokens get 401 with "
    "WWW-Authenticate",
    "[jwt][authorizer]") {
  const auto now = now_seconds();
  auto minted = mint_with_jose(
      R"({"keys":[{"kid":"rsa-1","alg":"RS256"},{"kid":"ec-1","alg":"ES256"},)"
      R"({"kid":"stranger","alg":"RS256"}],"tokens":[)" +
      token_spec("ok", "rsa-1", claims("alice")) + "," +
      token_spec("ok-es", "ec-1", claims("alice")) + "," +
      token_spec("expired", "rsa-1",
                 R"({"iss":")" + issuer + R"(","aud":")" + audience + R"(","sub":"alice","iat":)" +
                     std::to_string(now - 7200) + R"(,"exp":)" + std::to_string(now - 3600) + "}") +
      "," +
      token_spec("not-yet", "rsa-1", claims("alice", "\"nbf\":" + std::to_string(now + 3600))) +
      "," + token_spec("no-exp", "rsa-1", claims("alice", {}, 0)) + "," +
      token_spec("wrong-iss", "rsa-1", claims("alice", {}, 600, "https://evil.example")) + "," +
      token_spec("wrong-aud", "rsa-1", claims("alice", {}, 600, issuer, "someone-else")) + "," +
      token_spec("none", "rsa-1", claims("alice"), "none") + "," +
      token_spec("hs256", "rsa-1", claims("alice"), "hs256-public") + "," +
      token_spec("unknown-kid", "stranger", claims("alice")) + "," +
      token_spec("impostor", "stranger", claims("alice"), "signed", "rsa-1") + "]}");
  if (!minted) return;
  // The issuer publishes rsa-1 and ec-1, not the stranger's key.
  jwks_server keys(minted->jwks_of({"rsa-1", "ec-1"}));
  recorder rec;
  auto auth = Authorizer::jwt(options_for(keys.url(), 30s));
  test::running_gateway gw(trusting(keys.certificate_pem()));
  client c(gw.serve_plain(jwt_stage(auth, rec)));

  const auto& ok = minted->token("ok");
  REQUIRE(c.call("/prod/v1", ok) == "200 - ok");
  REQUIRE(c.call("/prod/v1", minted->token("ok-es")) == "200 - ok");

  auto refused = [&](const std::string& token, std::string_view description) {
    INFO("token: " << token);
    auto r = c.get("/prod/v1", "Bearer " + token);
    CHECK(summary(r) == unauthorized);
    CHECK(std::string(r.headers.get("WWW-Authenticate").value_or("<none>")) ==
          invalid_token(description));
  };

  // A payload changed after signing: sub alice → mallory.
  auto payload = b64url_decode(parts_of(ok)[1]);
  REQUIRE(payload.find("\"alice\"") != std::string::npos);
  refused(with_payload(ok, replace_all(payload, "\"alice\"", "\"mallory\"")),
          "the token's signature is invalid");
  // Any change at all, even one the claim checks would not mind.
  refused(with_payload(ok, replace_all(payload, "\"iat\"", "\"iat0\"")),
          "the token's signature is invalid");
  refused(with_bad_signature(ok), "the token's signature is invalid");
  refused(with_bad_signature(minted->token("ok-es")), "the token's signature is invalid");
  refused(minted->token("impostor"), "the token's signature is invalid");
  // The ES256 token's header on the RS256 token: the algorithm does not fit the key.
  {
    auto es = parts_of(minted->token("ok-es"));
    auto rs = parts_of(ok);
    auto r = c.get("/prod/v1", "Bearer " + es[0] + "." + rs[1] + "." + rs[2]);
    CHECK(summary(r) == unauthorized);
  }

  refused(minted->token("expired"), "the token has expired");
  refused(minted->token("not-yet"), "the token is not valid yet");
  refused(minted->token("no-exp"), "the token does not have a valid exp claim");
  refused(minted->token("wrong-iss"), "the token does not have a valid issuer");
  refused(minted->token("wrong-aud"), "the token does not have a valid audience");
  refused(minted->token("none"), "signing method none is invalid");
  refused(minted->token("hs256"), "signing method HS256 is invalid");
  refused(minted->token("unknown-kid"), "the token's kid does not name a key of the issuer");

  // Not a JWT at all, and no token: 401 too.
  {
    auto r = c.get("/prod/v1", "Bearer not.a.jwt");
    CHECK(summary(r) == unauthorized);
    CHECK(std::string(r.headers.get("WWW-Authenticate").value_or("<none>"))
              .starts_with(R"(Bearer scope="" error="invalid_token" error_description=")"));
    CHECK(summary(c.get("/prod/v1", "", false)) == unauthorized);
    CHECK(summary(c.get("/prod/v1", "Bearer ")) == unauthorized);
  }
  // The stranger's kid is not there after the first fetch: within refetch_interval (30 s),
  // unknown kids do not make the gateway fetch again.
  CHECK(keys.fetches() == 1);
  // And the good token still passes.
  CHECK(c.call("/prod/v1", ok) == "200 - ok");
}

TEST_CASE(
    "jwt: key rotation: a new kid is accepted after a refetch, at most once per refetch "
    "interval",
    "[jwt][authorizer]") {
  auto minted = mint_with_jose(
      R"({"keys":[{"kid":"key-a","alg":"RS256"},{"kid":"key-b","alg":"ES256"},)"
      R"({"kid":"key-c","alg":"RS256"}],"tokens":[)" +
      token_spec("a", "key-a", claims("alice")) + "," + token_spec("b", "key-b", claims("bob")) +
      "," + token_spec("c", "key-c", claims("carol")) + "]}");
  if (!minted) return;
  const auto& a = minted->token("a");
  const auto& b = minted->token("b");
  const auto& c_token = minted->token("c");

  SECTION("refetch interval 1 s") {
    jwks_server keys(minted->jwks_of({"key-a"}));
    recorder rec;
    auto o = options_for(keys.url(), 1s);
    o.verified_ttl = 0s;  // every request checks its token against the keys of the moment
    auto auth = Authorizer::jwt(o);
    test::running_gateway gw(trusting(keys.certificate_pem()));
    client c(gw.serve_plain(jwt_stage(auth, rec)));

    CHECK(c.call("/prod/v1", a) == "200 - ok");
    CHECK(keys.fetches() == 1);
    // The issuer rotates to key-b.
    keys.set(minted->jwks_of({"key-b"}));
    // Within the interval of the last fetch: no refetch, key-b unknown, key-a still good.
    CHECK(c.call("/prod/v1", b) == unauthorized);
    CHECK(c.call("/prod/v1", a) == "200 - ok");
    CHECK(keys.fetches() == 1);
    std::this_thread::sleep_for(1100ms);
    // Past it: the unknown kid makes the gateway fetch again, and key-b passes.
    CHECK(c.call("/prod/v1", b) == "200 - ok");
    CHECK(rec.last().principal_id == "bob");
    CHECK(keys.fetches() == 2);
    // key-a is gone with the old set; unknown kids within the interval fetch nothing.
    CHECK(c.call("/prod/v1", a) == unauthorized);
    for (int i = 0; i < 5; ++i) CHECK(c.call("/prod/v1", c_token) == unauthorized);
    CHECK(keys.fetches() == 2);
    CHECK(c.call("/prod/v1", b) == "200 - ok");
    CHECK(keys.fetches() == 2);
  }
  SECTION("refetch interval 0: an unknown kid refetches at once") {
    jwks_server keys(minted->jwks_of({"key-a"}));
    recorder rec;
    auto auth = Authorizer::jwt(options_for(keys.url(), 0s));
    test::running_gateway gw(trusting(keys.certificate_pem()));
    client c(gw.serve_plain(jwt_stage(auth, rec)));

    CHECK(c.call("/prod/v1", a) == "200 - ok");
    CHECK(keys.fetches() == 1);
    keys.set(minted->jwks_of({"key-a", "key-b"}));
    CHECK(c.call("/prod/v1", b) == "200 - ok");
    CHECK(keys.fetches() == 2);
    // Known kids need no fetch.
    CHECK(c.call("/prod/v1", a) == "200 - ok");
    CHECK(c.call("/prod/v1", b) == "200 - ok");
    CHECK(keys.fetches() == 2);
    // An unknown kid fetches each time (nothing holds it back).
    CHECK(c.call("/prod/v1", c_token) == unauthorized);
    CHECK(keys.fetches() == 3);
    // A refetch that fails keeps the keys the gateway has: known kids pass, unknown ones are
    // still 401 (not 500).
    keys.set(R"({"message":"broken"})", 500);
    CHECK(c.call("/prod/v1", c_token) == unauthorized);
    CHECK(keys.fetches() == 4);
    CHECK(c.call("/prod/v1", a) == "200 - ok");
    CHECK(c.call("/prod/v1", b) == "200 - ok");
  }
}

// --- Key sources that fail, and keys given in code (tokens minted here) ----------------------

TEST_CASE("jwt: a JWKS that cannot be fetched gives 500 AUTHORIZER_FAILURE until it can",
          "[jwt][authorizer]") {
  auto key = generate("own-rsa", true);
  auto token = sign(key, claims("dora"));
  recorder rec;
  // A failed fetch is tried again only after its backoff (here 50 ms, not doubled with a
  // refetch interval of 0): each step waits it out.
  auto quick_backoff = [](jwt_options o) {
    o.fetch_backoff = 50ms;
    return o;
  };
  auto past_backoff = [] { std::this_thread::sleep_for(120ms); };

  SECTION("nothing listens at first; then a server the gateway does not trust; then its own") {
    auto port = test::unused_port();
    std::string url = "https://127.0.0.1:" + std::to_string(port) + "/jwks.json";
    auto cert = gatehouse::tls::self_signed({"localhost", "127.0.0.1"});
    auto auth = Authorizer::jwt(quick_backoff(options_for(url, 0s)));
    test::running_gateway gw(trusting(cert.certificate_chain_pem));
    client c(gw.serve_plain(jwt_stage(auth, rec)));
    auto r = c.get("/prod/v1", "Bearer " + token);
    CHECK(summary(r) == authorizer_failure);
    CHECK(r.headers.get("Content-Type") == "application/json");
    CHECK(c.call("/prod/v1", token) == authorizer_failure);
    {
      // Another certificate than the trusted one: the handshake fails, nothing is fetched.
      jwks_server untrusted(jwks_of({&key}), port);
      past_backoff();
      CHECK(c.call("/prod/v1", token) == authorizer_failure);
      CHECK(untrusted.connections() == 1);
      CHECK(untrusted.fetches() == 0);
    }
    // The real one comes up: once the backoff has passed, no failure is remembered.
    jwks_server keys(jwks_of({&key}), port, cert);
    past_backoff();
    CHECK(c.call("/prod/v1", token) == "200 - ok");
    CHECK(rec.last().principal_id == "dora");
    CHECK(c.call("/prod/v1", token) == "200 - ok");
    CHECK(keys.fetches() == 1);
  }
  SECTION("the server answers an error, then garbage, then the keys") {
    jwks_server keys("", 0);
    keys.set(R"({"message":"down for maintenance"})", 503);
    auto auth = Authorizer::jwt(quick_backoff(options_for(keys.url(), 0s)));
    test::running_gateway gw(trusting(keys.certificate_pem()));
    client c(gw.serve_plain(jwt_stage(auth, rec)));
    CHECK(c.call("/prod/v1", token) == authorizer_failure);
    keys.set("this is not JSON");
    past_backoff();
    CHECK(c.call("/prod/v1", token) == authorizer_failure);
    keys.set(R"({"keys":[]})");
    past_backoff();
    CHECK(c.call("/prod/v1", token) == authorizer_failure);
    keys.set(jwks_of({&key}));
    past_backoff();
    CHECK(c.call("/prod/v1", token) == "200 - ok");
    CHECK(rec.last().principal_id == "dora");
    CHECK(keys.fetches() == 4);
    // A request without a token needs no keys: 401, not 500.
    CHECK(summary(c.get("/prod/v1", "", false)) == unauthorized);
  }
}

TEST_CASE("jwt: a JWKS given in code verifies the test's own RS256 and ES256 tokens",
          "[jwt][authorizer]") {
  auto rsa = generate("code-rsa", true);
  auto ec = generate("code-ec", false);
  auto other = generate("code-rsa", true);  // same kid, another key
  jwt_options o;
  o.issuer = issuer;
  o.audiences = {audience};
  o.jwks = jwks_of({&rsa, &ec});
  auto auth = Authorizer::jwt(o);
  recorder rec;
  test::running_gateway gw;  // no trust store needed: nothing is fetched
  client c(gw.serve_plain(jwt_stage(auth, rec)));

  CHECK(c.call("/prod/v1", sign(rsa, claims("erin"))) == "200 - ok");
  CHECK(rec.last().principal_id == "erin");
  CHECK(c.call("/prod/v2", sign(ec, claims("frank", R"("scope":"admin")"))) == "200 - ok");
  CHECK(rec.last().scopes == std::vector<std::string>{"admin"});
  CHECK(c.call("/prod/scoped", sign(ec, claims("frank", R"("scope":"admin")"))) == "200 - scoped");
  CHECK(c.challenge("/prod/v1", sign(other, claims("erin"))) ==
        invalid_token("the token's signature is invalid"));
  CHECK(c.challenge("/prod/v1", sign(rsa, claims("erin"), "code-missing")) ==
        invalid_token("the token's kid does not name a key of the issuer"));
  CHECK(c.challenge("/prod/v1", sign(rsa, claims("erin", {}, -600))) ==
        invalid_token("the token has expired"));
  // Within the leeway (60 s) an expired token still passes.
  CHECK(c.call("/prod/v1", sign(rsa, claims("erin", {}, -30))) == "200 - ok");

  // Options that cannot work.
  auto bad = [&](auto change) {
    jwt_options x = o;
    change(x);
    return x;
  };
  CHECK_THROWS_AS(Authorizer::jwt(bad([](jwt_options& x) { x.issuer.clear(); })),
                  gatehouse::config_error);
  CHECK_THROWS_AS(Authorizer::jwt(bad([](jwt_options& x) { x.jwks = R"({"keys":[]})"; })),
                  gatehouse::config_error);
  CHECK_THROWS_AS(Authorizer::jwt(bad([](jwt_options& x) { x.jwks = "not json"; })),
                  gatehouse::config_error);
  CHECK_THROWS_AS(
      Authorizer::jwt(bad([](jwt_options& x) { x.jwks_url = "https://127.0.0.1:1/jwks"; })),
      gatehouse::config_error);  // both a URL and a key set
  CHECK_THROWS_AS(Authorizer::jwt(bad([](jwt_options& x) {
                    x.jwks.clear();
                    x.jwks_url = "http://127.0.0.1:1/jwks.json";  // not https
                  })),
                  gatehouse::config_error);
  CHECK_THROWS_AS(Authorizer::jwt(bad([](jwt_options& x) { x.token_use = "refresh"; })),
                  gatehouse::config_error);
  CHECK_THROWS_AS(Authorizer::jwt(bad([](jwt_options& x) { x.audiences.assign(51, "aud"); })),
                  gatehouse::config_error);
  // Scopes on a method need a JWT authorizer.
  gatehouse::Authorizer custom({}, [](const gatehouse::authorizer_request&) {
    return gatehouse::authorizer_result::allow("x");
  });
  gatehouse::Router api;
  CHECK_THROWS_AS(api.route("GET", "/x", gatehouse::mock({}),
                            {.authorizer = custom, .authorization_scopes = {"a"}}),
                  gatehouse::config_error);
  CHECK_THROWS_AS(api.route("GET", "/y", gatehouse::mock({}), {.authorization_scopes = {"a"}}),
                  gatehouse::config_error);
}

TEST_CASE("jwt: concurrent first requests share one JWKS fetch", "[jwt][authorizer]") {
  auto key = generate("shared-rsa", false);
  jwks_server keys(jwks_of({&key}));
  keys.set_delay(150ms);
  recorder rec;
  auto auth = Authorizer::jwt(options_for(keys.url(), 0s));
  test::running_gateway gw(trusting(keys.certificate_pem()), 4);
  auto port = gw.serve_plain(jwt_stage(auth, rec));
  constexpr int n = 8;
  std::vector<std::string> tokens;
  for (int i = 0; i < n; ++i) tokens.push_back(sign(key, claims("user-" + std::to_string(i))));
  std::vector<std::unique_ptr<client>> clients;
  for (int i = 0; i < n; ++i) clients.push_back(std::make_unique<client>(port));
  std::vector<std::string> answers(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] { answers[i] = clients[i]->call("/prod/v1", tokens[i]); });
  for (auto& t : threads) t.join();
  for (int i = 0; i < n; ++i) {
    INFO("request " << i);
    CHECK(answers[i] == "200 - ok");
  }
  CHECK(keys.fetches() == 1);
}

TEST_CASE("jwt: identity source in the query string, token_use and iat", "[jwt][authorizer]") {
  auto key = generate("q-ec", false);
  jwt_options o;
  o.issuer = issuer;
  o.audiences = {audience};
  o.token_use = "access";
  o.identity_source = "$request.querystring.access_token";
  o.jwks = jwks_of({&key});
  recorder rec;
  test::running_gateway gw;
  client c(gw.serve_plain(jwt_stage(Authorizer::jwt(o), rec)));
  auto get = [&](const std::string& token) {
    return summary(c.get("/prod/v1?access_token=" + token, "", false));
  };
  auto challenge = [&](const std::string& token) {
    auto r = c.get("/prod/v1?access_token=" + token, "", false);
    return std::string(r.headers.get("WWW-Authenticate").value_or("<none>"));
  };

  CHECK(get(sign(key, claims("gina", R"("token_use":"access")"))) == "200 - ok");
  CHECK(rec.last().principal_id == "gina");
  // In the Authorization header it is not where this authorizer looks.
  CHECK(summary(
            c.get("/prod/v1", "Bearer " + sign(key, claims("gina", R"("token_use":"access")")))) ==
        unauthorized);
  CHECK(challenge(sign(key, claims("gina", R"("token_use":"id")"))) ==
        invalid_token("the token does not have a valid token_use"));
  CHECK(challenge(sign(key, claims("gina"))) ==
        invalid_token("the token does not have a valid token_use"));
  // iat an hour ahead (beyond the 60 s leeway): issued in the future.
  auto future_iat = R"({"iss":")" + issuer + R"(","aud":")" + audience +
                    R"(","sub":"gina","token_use":"access","iat":)" +
                    std::to_string(now_seconds() + 3600) + R"(,"exp":)" +
                    std::to_string(now_seconds() + 7200) + "}";
  CHECK(challenge(sign(key, future_iat)) == invalid_token("the token was issued in the future"));
}

TEST_CASE("jwt: a JWKS older than jwks_max_age is fetched again; slow and oversized ones fail",
          "[jwt][authorizer]") {
  auto key_a = generate("age-a", false);
  auto key_b = generate("age-b", false);
  recorder rec;

  SECTION("max age 1 s: the keys are refreshed, and a key the issuer dropped stops working") {
    jwks_server keys(jwks_of({&key_a}));
    auto o = options_for(keys.url(), 0s);
    o.jwks_max_age = 1s;
    o.verified_ttl = 0s;
    test::running_gateway gw(trusting(keys.certificate_pem()));
    client c(gw.serve_plain(jwt_stage(Authorizer::jwt(o), rec)));
    CHECK(c.call("/prod/v1", sign(key_a, claims("a"))) == "200 - ok");
    CHECK(c.call("/prod/v1", sign(key_a, claims("a"))) == "200 - ok");
    CHECK(keys.fetches() == 1);
    keys.set(jwks_of({&key_b}));
    std::this_thread::sleep_for(1100ms);
    CHECK(c.call("/prod/v1", sign(key_a, claims("a"))) == unauthorized);
    CHECK(keys.fetches() == 2);
    CHECK(c.call("/prod/v1", sign(key_b, claims("b"))) == "200 - ok");
    CHECK(keys.fetches() == 2);
  }
  SECTION("a server slower than fetch_timeout: 500 within about the timeout") {
    jwks_server keys(jwks_of({&key_a}));
    keys.set_delay(3000ms);
    auto o = options_for(keys.url(), 0s);
    o.fetch_timeout = 200ms;
    test::running_gateway gw(trusting(keys.certificate_pem()));
    client c(gw.serve_plain(jwt_stage(Authorizer::jwt(o), rec)));
    auto start = std::chrono::steady_clock::now();
    CHECK(c.call("/prod/v1", sign(key_a, claims("a"))) == authorizer_failure);
    CHECK(std::chrono::steady_clock::now() - start < 1500ms);
  }
  SECTION("a key set over 150,000 bytes: 500") {
    std::string big =
        R"({"keys":[)" + key_a.jwk + R"(],"padding":")" + std::string(150'001, 'x') + "\"}";
    jwks_server keys(big);
    auto o = options_for(keys.url(), 0s);
    o.fetch_backoff = 50ms;
    test::running_gateway gw(trusting(keys.certificate_pem()));
    client c(gw.serve_plain(jwt_stage(Authorizer::jwt(o), rec)));
    CHECK(c.call("/prod/v1", sign(key_a, claims("a"))) == authorizer_failure);
    keys.set(jwks_of({&key_a}));
    std::this_thread::sleep_for(120ms);  // past the failure's backoff
    CHECK(c.call("/prod/v1", sign(key_a, claims("a"))) == "200 - ok");
  }
}

TEST_CASE(
    "jwt: a verified token is remembered for verified_ttl, never past its exp nor its "
    "key; flush_cache forgets it",
    "[jwt][authorizer]") {
  auto key_a = generate("mem-a", false);
  auto key_b = generate("mem-b", false);
  recorder rec;

  SECTION("forgotten when its key leaves the key set, and when flushed") {
    jwks_server keys(jwks_of({&key_a}));
    auto auth = Authorizer::jwt(options_for(keys.url(), 0s));  // verified_ttl: 300 s
    test::running_gateway gw(trusting(keys.certificate_pem()));
    client c(gw.serve_plain(jwt_stage(auth, rec)));
    auto seen_before = sign(key_a, claims("a", R"("n":1)"));
    CHECK(c.call("/prod/v1", seen_before) == "200 - ok");
    keys.set(jwks_of({&key_b}));
    // The first token of the new key makes the gateway refetch; from then on mem-a is unknown.
    auto b_token = sign(key_b, claims("b", R"("scope":"pets:read")"));
    CHECK(c.call("/prod/v1", b_token) == "200 - ok");
    CHECK(keys.fetches() == 2);
    CHECK(c.call("/prod/v1", sign(key_a, claims("a", R"("n":2)"))) == unauthorized);
    // The token verified before the rotation goes with its key (a revocation).
    CHECK(c.challenge("/prod/v1", seen_before) ==
          invalid_token("the token's kid does not name a key of the issuer"));
    // flush_cache() forgets remembered tokens: the next use verifies again (and passes).
    CHECK(c.call("/prod/v1", b_token) == "200 - ok");
    auth.flush_cache();
    // Remembered tokens still need the method's scopes.
    CHECK(summary(c.get("/prod/scoped", "Bearer " + b_token)).starts_with("403 "));
    CHECK(c.call("/prod/v1", b_token) == "200 - ok");
  }
  SECTION("never past exp") {
    jwt_options o;
    o.issuer = issuer;
    o.audiences = {audience};
    o.jwks = jwks_of({&key_a});
    o.leeway = 0s;
    auto auth = Authorizer::jwt(o);
    test::running_gateway gw;
    client c(gw.serve_plain(jwt_stage(auth, rec)));
    const auto exp = now_seconds() + 2;
    auto token = sign(key_a, R"({"iss":")" + issuer + R"(","aud":")" + audience +
                                 R"(","sub":"short","exp":)" + std::to_string(exp) + "}");
    CHECK(c.call("/prod/v1", token) == "200 - ok");
    CHECK(c.call("/prod/v1", token) == "200 - ok");
    std::this_thread::sleep_until(std::chrono::system_clock::time_point(std::chrono::seconds(exp)) +
                                  150ms);
    CHECK(c.challenge("/prod/v1", token) == invalid_token("the token has expired"));
  }
}
