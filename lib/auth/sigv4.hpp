#pragma once

// AWS Signature Version 4 (SigV4, AWS4-HMAC-SHA256) for services other than S3, such as
// execute-api and lambda: the canonical request, string to sign and signing key exactly as AWS
// defines them; a signer for outgoing requests (Authorization header or presigned query
// string); and a verifier for incoming ones that answers in AWS's words. The request is given as
// views (signed_request), independent of the gateway's request type, so the pipeline and the
// HTTP client share this code. Nothing here throws on bad input: failures are results.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::auth::sigv4 {

using time_point = std::chrono::system_clock::time_point;

/// The only algorithm there is: the Authorization scheme and the X-Amz-Algorithm value.
inline constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";
/// The last element of every credential scope.
inline constexpr std::string_view scope_terminator = "aws4_request";
/// The x-amz-content-sha256 value that leaves the body out of the signature.
inline constexpr std::string_view unsigned_payload = "UNSIGNED-PAYLOAD";
/// How far a signature's date may be from the server's clock, either way.
inline constexpr std::chrono::seconds default_clock_skew{300};
/// The longest X-Amz-Expires AWS accepts (7 days).
inline constexpr std::chrono::seconds max_presign_expiry{604800};

// ---------------------------------------------------------------------------------------------
// Hashing (BoringSSL or OpenSSL one-shot functions)
// ---------------------------------------------------------------------------------------------

using digest = std::array<std::uint8_t, 32>;

digest sha256(std::string_view data) noexcept;
digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view data) noexcept;
/// Lowercase hex, as every SigV4 hash and signature is written.
std::string hex(std::span<const std::uint8_t> bytes);
std::string sha256_hex(std::string_view data);

// ---------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------

/// ISO 8601 basic format in UTC, "20150830T123600Z" (X-Amz-Date); sub-seconds are dropped.
std::string format_amz_date(time_point t);
/// Parses exactly "YYYYMMDD'T'HHMMSS'Z'" with a valid calendar date and time in the years 1900
/// to 2199 (a time_point holds no more); else nullopt.
std::optional<time_point> parse_amz_date(std::string_view text) noexcept;
/// Parses a Date header: the ISO 8601 basic format above or IMF-fixdate (RFC 9110,
/// "Sun, 30 Aug 2015 12:36:00 GMT"); else nullopt.
std::optional<time_point> parse_http_date(std::string_view text) noexcept;

// ---------------------------------------------------------------------------------------------
// The request to sign or verify
// ---------------------------------------------------------------------------------------------

/// One header field as sent. A value may hold obs-fold continuation lines ("a\r\n  b").
struct header_field {
  std::string_view name;
  std::string_view value;
};

/// A request as views into the caller's storage, which must outlive every call that takes it.
struct signed_request {
  std::string_view method;                ///< "GET", "POST", … (case kept)
  std::string_view path;                  ///< as sent, percent-encoded, without '?' and query
  std::string_view query;                 ///< as sent, without the '?'; "" when none
  std::span<const header_field> headers;  ///< every field, in order, repeats kept
  std::string_view body;
};

/// Splits an origin-form request target "/path?query" into {path, query}.
std::pair<std::string_view, std::string_view> split_target(std::string_view target) noexcept;

// ---------------------------------------------------------------------------------------------
// Canonical request (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html)
// ---------------------------------------------------------------------------------------------

/// Percent-encodes every byte outside A-Z a-z 0-9 - _ . ~ as %XX (uppercase hex). '%' and '/'
/// are encoded too.
std::string uri_encode(std::string_view in);

/// The canonical URI for a non-S3 service: the path as sent, with "." and ".." segments removed
/// and runs of '/' merged, then each segment URI-encoded again. Since the path is already
/// percent-encoded on the wire, this encodes it twice ("/a%20b" → "/a%2520b"), as AWS does for
/// every service but S3. An empty path is "/"; a trailing '/' is kept.
std::string canonical_uri(std::string_view path);

/// The canonical query string: each parameter's name and value percent-decoded ('+' is a
/// space, as aws4 and curl sign it) and URI-encoded, sorted by name then value, always with '=',
/// repeats kept, empty parameters ("a&&b") dropped. `drop_signature` leaves X-Amz-Signature out,
/// as a presigned URL's signature is computed without it.
std::string canonical_query(std::string_view query, bool drop_signature = false);

/// A header value as the canonical request has it: each line of an obs-folded value trimmed,
/// runs of spaces and tabs inside folded to one space, and the non-empty lines joined by ','.
std::string canonical_header_value(std::string_view value);

/// The payload hash of the canonical request: the request's x-amz-content-sha256 value when it
/// sends one (a hex SHA-256 or UNSIGNED-PAYLOAD, used as sent), else the hex SHA-256 of the body.
std::string payload_hash(const signed_request& request);

/// The canonical request for `signed_headers` (lowercase names, sorted, no repeats). Each signed
/// header is "name:value" with the values of all its fields, trimmed, joined by ',' in order; a
/// signed header the request lacks is "name:". `payload` is the payload hash to use;
/// `drop_signature` as for canonical_query() (verifying a presigned request).
std::string canonical_request(const signed_request& request,
                              std::span<const std::string_view> signed_headers,
                              std::string_view payload, bool drop_signature = false);

/// "20150830/us-east-1/service/aws4_request"; `date` is YYYYMMDD.
std::string credential_scope(std::string_view date, std::string_view region,
                             std::string_view service);

/// "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex SHA-256 of the canonical request>".
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);

/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
digest signing_key(std::string_view secret, std::string_view date, std::string_view region,
                   std::string_view service);

/// The hex HMAC-SHA256 of the string to sign under the signing key.
std::string signature(const digest& key, std::string_view string_to_sign);

// ---------------------------------------------------------------------------------------------
// Signing outgoing requests
// ---------------------------------------------------------------------------------------------

struct credentials {
  std::string_view access_key_id;
  std::string_view secret_access_key;
  std::string_view session_token;  ///< temporary credentials only; "" otherwise
};

struct signing_params {
  credentials creds;
  std::string_view region;
  std::string_view service;
  time_point time = std::chrono::system_clock::now();
  /// Sign X-Amz-Security-Token (most services; post-sts-header-before). When false the token is
  /// sent unsigned, added after signing (post-sts-header-after). Presigning always signs it.
  bool sign_security_token = true;
  /// Leave the body out of the signature: the payload hash is UNSIGNED-PAYLOAD, which is then
  /// also sent as x-amz-content-sha256 (X-Amz-Content-Sha256 when presigning) so that the
  /// server knows.
  bool unsigned_payload = false;
  /// Also send (and sign) x-amz-content-sha256 with the payload hash, as S3-like services want.
  bool add_content_sha256 = false;
};

/// The headers sign() computed. The signer owns Authorization, X-Amz-Date and, when it sets them,
/// X-Amz-Security-Token and x-amz-content-sha256: fields of those names in the input are ignored
/// and must be replaced by these values when the request is sent.
struct signature_fields {
  /// "AWS4-HMAC-SHA256 Credential=AKID/scope, SignedHeaders=a;b, Signature=hex"
  std::string authorization;
  std::string amz_date;           ///< X-Amz-Date
  std::string security_token;     ///< X-Amz-Security-Token to send; "" when none
  std::string content_sha256;     ///< x-amz-content-sha256 to send; "" unless asked for
  std::string canonical_request;  ///< for diagnostics and tests
  std::string string_to_sign;
  std::string signature;

  /// The fields to set on the outgoing request, with their usual spelling.
  std::vector<std::pair<std::string, std::string>> fields() const;
};

/// Signs every header of the request (the caller passes those it wants signed, Host included)
/// plus X-Amz-Date and the others the signer owns.
signature_fields sign(const signed_request& request, const signing_params& params);

struct presign_params {
  signing_params signing;
  std::chrono::seconds expires{900};  ///< X-Amz-Expires (AWS refuses more than 7 days)
};

/// A presigned request: send it with `query` as its query string, and the headers that were
/// signed (usually only Host).
struct presigned {
  std::string query;  ///< the request's own query, then the X-Amz-* parameters and signature
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

/// Presigns a request: X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders and
/// -Security-Token are added to its query and signed with it; the headers given are signed.
presigned presign(const signed_request& request, const presign_params& params);

// ---------------------------------------------------------------------------------------------
// Verifying incoming requests
// ---------------------------------------------------------------------------------------------

/// What verification found. status_of() / error_type() give AWS's HTTP status and
/// x-amzn-ErrorType; the message, which often quotes the request, is in the verification.
enum class outcome {
  ok,
  missing,           ///< no Authorization, no X-Amz-Algorithm: "Missing Authentication Token"
  malformed,         ///< unparsable header or parameters, host not signed, bad date format
  wrong_scope,       ///< the credential scope names another region, service, terminator or date
  out_of_window,     ///< the date is more than the clock skew (5 min) away from now
  presign_expired,   ///< X-Amz-Date + X-Amz-Expires is in the past: "Request has expired"
  unknown_key,       ///< no secret for the access key id
  bad_signature,     ///< the signature does not match
  payload_mismatch,  ///< the signed x-amz-content-sha256 is not the body's hash
};

/// 403 for every refusal but payload_mismatch (400); 200 for ok.
int status_of(outcome o) noexcept;
/// The x-amzn-ErrorType AWS sends: MissingAuthenticationTokenException, …; "" for ok.
std::string_view error_type(outcome o) noexcept;

/// The result of verifier::verify().
struct verification {
  outcome result = outcome::missing;
  /// The client-visible message in AWS's words; "" when ok. For bad_signature it ends, as AWS's
  /// does, with the canonical request and string to sign the server computed.
  std::string message;
  bool presigned = false;         ///< authenticated by query parameters
  std::string access_key_id;      ///< as given, once the credential parsed
  std::string session_token;      ///< X-Amz-Security-Token (header or query), "" when none: the
                                  ///< caller checks that it belongs to the access key
  time_point signed_at{};         ///< the request's date, once it parsed
  std::string canonical_request;  ///< what the server computed, once it got that far
  std::string string_to_sign;

  bool ok() const noexcept { return result == outcome::ok; }
  explicit operator bool() const noexcept { return ok(); }
};

/// Access key id → secret access key; nullopt when the key is unknown. Called once per request
/// that gets as far as the signature, from any thread that calls verify().
using secret_lookup = std::function<std::optional<std::string>(std::string_view access_key_id)>;

struct verifier_options {
  std::string region;                   ///< the scope's region must be this; "" accepts any
  std::string service = "execute-api";  ///< the scope's service must be this; "" accepts any
  std::chrono::seconds clock_skew = default_clock_skew;
  /// Presigned URLs with no x-amz-content-sha256 are signed with the body's hash (aws4, the AWS
  /// SDK for JavaScript) or with UNSIGNED-PAYLOAD (botocore): accept both.
  bool presigned_unsigned_payload = true;
  std::size_t key_cache_capacity = 1024;  ///< signing keys kept; the cache empties when full
};

/// Signing keys per (secret, date, region, service): a key serves a whole day, and deriving one
/// costs four HMACs. Thread-safe.
class signing_key_cache {
 public:
  explicit signing_key_cache(std::size_t capacity = 1024);
  ~signing_key_cache();
  signing_key_cache(const signing_key_cache&) = delete;
  signing_key_cache& operator=(const signing_key_cache&) = delete;

  /// The key, derived on a miss.
  digest get(std::string_view secret, std::string_view date, std::string_view region,
             std::string_view service);
  std::size_t size() const;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

/// Verifies requests signed with an Authorization header or presigned with query parameters,
/// in the order AWS checks them: presence, syntax, signed host, date format, time window,
/// credential scope, access key, signature (compared in constant time), payload hash.
/// verify() may be called from many threads at once.
class verifier {
 public:
  verifier(verifier_options options, secret_lookup lookup);

  /// Verifies `request` as of `now` (whole seconds count). A failure's message is in AWS's words.
  verification verify(const signed_request& request,
                      time_point now = std::chrono::system_clock::now()) const;
  /// As above, with the scope's region ("" accepts any) and the secret lookup given per call
  /// instead of the verifier's own: for callers that serve several regions or credential sets.
  verification verify(const signed_request& request, time_point now, std::string_view region,
                      const secret_lookup& lookup) const;

  const verifier_options& options() const noexcept { return options_; }

 private:
  verifier_options options_;
  secret_lookup lookup_;
  std::unique_ptr<signing_key_cache> keys_;  // behind a pointer: the verifier stays movable
};

}  // namespace gatehouse::auth::sigv4
