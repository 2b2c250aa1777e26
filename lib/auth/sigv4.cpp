#include "auth/sigv4.hpp"
#include "util/text.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <charconv>
#include <mutex>
#include <unordered_map>

namespace gatehouse::auth::sigv4 {
namespace {

using std::chrono::seconds;

constexpr std::string_view hex_lower = "0123456789abcdef";
constexpr std::string_view hex_upper = "0123456789ABCDEF";
/// SHA-256 of nothing: the payload hash of every request without a body.
constexpr std::string_view empty_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// ------------------------------------------------------------------------------- text helpers

bool is_unreserved(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

using util::ascii_lower;
using util::hex_value;
using util::iequals;

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

bool is_sha256_hex(std::string_view s) noexcept {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return hex_value(c) >= 0; });
}

void append_encoded_byte(std::string& out, unsigned char c) {
  if (is_unreserved(c)) {
    out.push_back(static_cast<char>(c));
  } else {
    out.push_back('%');
    out.push_back(hex_upper[c >> 4]);
    out.push_back(hex_upper[c & 15]);
  }
}

void append_encoded(std::string& out, std::string_view in) {
  for (char c : in) append_encoded_byte(out, static_cast<unsigned char>(c));
}

/// Appends a query component as the canonical query has it: decoded, then URI-encoded.
void append_normalized(std::string& out, std::string_view in) {
  util::for_each_percent_decoded(in, true, [&](unsigned char c) { append_encoded_byte(out, c); });
}

/// Calls f(name, value) for each non-empty "name[=value]" parameter of a raw query, in order.
template <class F>
void for_each_param(std::string_view query, F f) {
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view piece = query.substr(start, end - start);
    if (!piece.empty()) {
      const std::size_t eq = piece.find('=');
      f(piece.substr(0, eq),
        eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1));
    }
    start = end + 1;
  }
}

/// The first field called `name` (ASCII case-insensitive), or nullptr.
const header_field* find_header(std::span<const header_field> headers,
                                std::string_view name) noexcept {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return &h;
  }
  return nullptr;
}

// ------------------------------------------------------------------------- canonical pieces

/// Appends the canonical URI (see canonical_uri()). Encoded segments hold no '/', so ".." goes
/// back to the previous '/' of what was written.
void append_canonical_uri(std::string& out, std::string_view path) {
  const std::size_t base = out.size();
  bool trailing_slash = false;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(start, end - start);
    start = end + 1;
    if (segment.empty() || segment == ".") {
      trailing_slash = true;
    } else if (segment == "..") {
      if (out.size() > base) out.resize(out.rfind('/'));
      trailing_slash = true;
    } else {
      out.push_back('/');
      append_encoded(out, segment);
      trailing_slash = false;
    }
  }
  if (out.size() == base || trailing_slash) out.push_back('/');
}

void append_canonical_query(std::string& out, std::string_view query, bool drop_signature) {
  if (query.empty()) return;
  // All normalized names and values in one buffer; entries point into it by offset.
  struct entry {
    std::size_t name, name_size, value, value_size;
  };
  std::string buffer;
  buffer.reserve(query.size() + query.size() / 2);
  std::vector<entry> entries;
  for_each_param(query, [&](std::string_view name, std::string_view value) {
    entry e{};
    e.name = buffer.size();
    append_normalized(buffer, name);
    e.name_size = buffer.size() - e.name;
    if (drop_signature && std::string_view(buffer).substr(e.name) == "X-Amz-Signature") {
      buffer.resize(e.name);
      return;
    }
    e.value = buffer.size();
    append_normalized(buffer, value);
    e.value_size = buffer.size() - e.value;
    entries.push_back(e);
  });
  const std::string_view text(buffer);
  auto name_of = [&](const entry& e) { return text.substr(e.name, e.name_size); };
  auto value_of = [&](const entry& e) { return text.substr(e.value, e.value_size); };
  std::sort(entries.begin(), entries.end(), [&](const entry& a, const entry& b) {
    const int by_name = name_of(a).compare(name_of(b));
    return by_name != 0 ? by_name < 0 : value_of(a) < value_of(b);
  });
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i != 0) out.push_back('&');
    out.append(name_of(entries[i]));
    out.push_back('=');
    out.append(value_of(entries[i]));
  }
}

void append_header_value(std::string& out, std::string_view value) {
  bool first_line = true;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t end = value.find('\n', start);
    if (end == std::string_view::npos) end = value.size();
    std::string_view line = value.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line = util::trim_blanks(line);
    if (line.empty()) continue;
    if (!first_line) out.push_back(',');
    first_line = false;
    bool blank = false;
    for (char c : line) {
      if (is_blank(c)) {
        blank = true;
        continue;
      }
      if (blank) out.push_back(' ');
      blank = false;
      out.push_back(c);
    }
  }
}

/// Lowercase field names to sign, sorted, without repeats.
std::vector<std::string> signed_names(std::span<const header_field> headers) {
  std::vector<std::string> names;
  names.reserve(headers.size());
  for (const auto& h : headers) {
    std::string name = util::ascii_lower(h.name);
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::vector<std::string_view> views_of(const std::vector<std::string>& names) {
  return {names.begin(), names.end()};
}

std::string join(std::span<const std::string_view> names, char separator) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i != 0) out.push_back(separator);
    out.append(names[i]);
  }
  return out;
}

// ------------------------------------------------------------------------------------ dates

constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil {
  std::int64_t year;
  unsigned month, day;
};

constexpr civil civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
  static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
  return m == 2 && leap ? 29 : days[m - 1];
}

/// The value of text[at, at + n) when all digits, else -1.
int digits(std::string_view text, std::size_t at, std::size_t n) noexcept {
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

/// Years a time_point holds with room to spare: it counts nanoseconds in 64 bits (1678 to
/// 2262), and X-Amz-Expires is added to a signature's date.
constexpr int first_year = 1900, last_year = 2199;

std::optional<time_point> make_time(int y, int mo, int d, int h, int mi, int s) noexcept {
  if (y < first_year || y > last_year || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 ||
      mi > 59 || s < 0 || s > 59) {
    return std::nullopt;
  }
  if (static_cast<unsigned>(d) > days_in_month(y, static_cast<unsigned>(mo))) return std::nullopt;
  const std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return time_point(seconds(days * 86400 + h * 3600 + mi * 60 + s));
}

time_point whole_seconds(time_point t) noexcept {
  return time_point(std::chrono::floor<seconds>(t.time_since_epoch()));
}

/// "5 min." as AWS writes the skew in its messages.
std::string skew_text(seconds skew) {
  return skew.count() % 60 == 0 ? fmt::format("{} min.", skew.count() / 60)
                                : fmt::format("{} sec.", skew.count());
}

// -------------------------------------------------------------------------- verifier helpers

// Messages in AWS's words. API Gateway's own, as its responses show them: missing token,
// unknown key, bad signature (with the canonical request and string to sign after it), the
// time window, the missing Authorization parts and "not a valid key=value pair". From S3, whose
// SigV4 checks are the documented ones: "Request has expired", the X-Amz-Expires and "only one
// auth mechanism" messages, the x-amz-content-sha256 mismatch. The scope, credential, algorithm,
// host and date-format messages are AWS's as the scratchstack-aws-signature verifier reproduces
// them. msg_bad_content_sha256 is ours, in S3's style.
constexpr std::string_view msg_missing_token = "Missing Authentication Token";
constexpr std::string_view msg_unknown_key =
    "The security token included in the request is invalid.";
constexpr std::string_view msg_bad_signature =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";
constexpr std::string_view msg_request_expired = "Request has expired";
constexpr std::string_view msg_host_not_signed =
    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.";
constexpr std::string_view msg_two_mechanisms =
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query "
    "string parameter or the Authorization header should be specified";
constexpr std::string_view msg_bad_content_sha256 =
    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value.";
constexpr std::string_view msg_content_sha256_mismatch =
    "The provided 'x-amz-content-sha256' header does not match what was computed.";

/// What the Authorization header or the presigned query parameters say.
struct auth_params {
  bool presigned = false;
  std::string credential, signed_headers, signature, date, session_token, content_sha256;
  bool has_content_sha256 = false;
  bool date_is_http_date = false;  // from a Date header, which may be IMF-fixdate
  std::optional<std::int64_t> expires;
};

/// Why verify() refuses a request.
struct refusal {
  outcome result = outcome::missing;
  std::string message;
};

/// Parses "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…" and finds the date.
/// nullopt + *error (the malformed message) when it is not complete.
std::optional<auth_params> parse_authorization(std::string_view header,
                                               const signed_request& request, std::string* error) {
  auth_params p;
  const std::size_t space = header.find_first_of(" \t");
  const std::string_view scheme = header.substr(0, space);
  const std::string_view rest = space == std::string_view::npos ? "" : header.substr(space + 1);
  bool has_credential = false, has_signed_headers = false, has_signature = false;
  std::size_t start = 0;
  while (start < rest.size()) {
    std::size_t end = rest.find(',', start);
    if (end == std::string_view::npos) end = rest.size();
    const std::string_view pair = util::trim_blanks(rest.substr(start, end - start));
    start = end + 1;
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      *error = fmt::format(
          "'{}' not a valid key=value pair (missing equal-sign) in Authorization header: '{}'.",
          pair, header);
      return std::nullopt;
    }
    const std::string_view key = util::trim_blanks(pair.substr(0, eq));
    const std::string_view value = util::trim_blanks(pair.substr(eq + 1));
    if (key == "Credential") {
      p.credential = value;
      has_credential = true;
    } else if (key == "SignedHeaders") {
      p.signed_headers = value;
      has_signed_headers = true;
    } else if (key == "Signature") {
      p.signature = value;
      has_signature = true;
    }
  }
  bool has_date = true;
  if (const auto* date = find_header(request.headers, "x-amz-date")) {
    p.date = util::trim_blanks(date->value);
  } else if (const auto* http_date = find_header(request.headers, "date")) {
    p.date = util::trim_blanks(http_date->value);
    p.date_is_http_date = true;
  } else {
    has_date = false;
  }
  std::string missing;
  auto require = [&](bool present, std::string_view text) {
    if (present) return;
    missing.append(text);
    missing.push_back(' ');
  };
  require(has_credential, "Authorization header requires 'Credential' parameter.");
  require(has_signature, "Authorization header requires 'Signature' parameter.");
  require(has_signed_headers, "Authorization header requires 'SignedHeaders' parameter.");
  require(has_date,
          "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  if (!missing.empty()) {
    *error = fmt::format("{}Authorization={}", missing, header);
    return std::nullopt;
  }
  if (scheme != algorithm) {
    *error = fmt::format("Unsupported AWS 'algorithm': '{}'.", scheme);
    return std::nullopt;
  }
  if (const auto* token = find_header(request.headers, "x-amz-security-token")) {
    p.session_token = util::trim_blanks(token->value);
  }
  if (const auto* content = find_header(request.headers, "x-amz-content-sha256")) {
    p.content_sha256 = util::trim_blanks(content->value);
    p.has_content_sha256 = true;
  }
  return p;
}

/// Parses the presigned query parameters (the first of each name counts). nullopt + *error (the
/// malformed message) when incomplete; nullopt and an empty *error when X-Amz-Algorithm is not
/// AWS4-HMAC-SHA256, which AWS answers as if the request were not signed at all.
std::optional<auth_params> parse_presigned(const signed_request& request, std::string* error) {
  auth_params p;
  p.presigned = true;
  std::optional<std::string> alg, credential, date, expires, signed_headers, signature, token,
      content;
  for_each_param(request.query, [&](std::string_view name, std::string_view value) {
    if (name.size() < 6) return;
    const std::string decoded = util::percent_decode(name, true);
    std::optional<std::string>* slot = decoded == "X-Amz-Algorithm"        ? &alg
                                       : decoded == "X-Amz-Credential"     ? &credential
                                       : decoded == "X-Amz-Date"           ? &date
                                       : decoded == "X-Amz-Expires"        ? &expires
                                       : decoded == "X-Amz-SignedHeaders"  ? &signed_headers
                                       : decoded == "X-Amz-Signature"      ? &signature
                                       : decoded == "X-Amz-Security-Token" ? &token
                                       : decoded == "X-Amz-Content-Sha256" ? &content
                                                                           : nullptr;
    if (slot != nullptr && !slot->has_value()) *slot = util::percent_decode(value, true);
  });
  error->clear();
  if (alg != algorithm) return std::nullopt;
  std::string missing;
  auto require = [&](const std::optional<std::string>& v, std::string_view name) {
    if (!v) missing += fmt::format("AWS query-string parameters must include '{}'. ", name);
  };
  require(credential, "X-Amz-Credential");
  require(signature, "X-Amz-Signature");
  require(signed_headers, "X-Amz-SignedHeaders");
  require(date, "X-Amz-Date");
  if (!missing.empty()) {
    *error = missing + "Re-examine the query-string parameters.";
    return std::nullopt;
  }
  if (expires) {
    std::int64_t n = 0;
    const char* first = expires->data();
    const char* last = first + expires->size();
    const auto [end, ec] = std::from_chars(first, last, n);
    if (expires->empty() || ec != std::errc() || end != last) {
      *error = "X-Amz-Expires should be a number";
      return std::nullopt;
    }
    if (n < 0) {
      *error = "X-Amz-Expires must be non-negative";
      return std::nullopt;
    }
    if (n > max_presign_expiry.count()) {
      *error =
          "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires "
          "must be less than 604800 seconds";
      return std::nullopt;
    }
    p.expires = n;
  }
  p.credential = std::move(*credential);
  p.signature = std::move(*signature);
  p.signed_headers = std::move(*signed_headers);
  p.date = std::move(*date);
  if (token) p.session_token = std::move(*token);
  if (const auto* header = find_header(request.headers, "x-amz-content-sha256")) {
    p.content_sha256 = util::trim_blanks(header->value);
    p.has_content_sha256 = true;
  } else if (content) {
    p.content_sha256 = std::move(*content);
    p.has_content_sha256 = true;
  }
  return p;
}

/// SignedHeaders as lowercase names, sorted, without repeats or empty names.
std::vector<std::string> parse_signed_headers(std::string_view list) {
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(';', start);
    if (end == std::string_view::npos) end = list.size();
    const std::string_view name = util::trim_blanks(list.substr(start, end - start));
    start = end + 1;
    if (name.empty()) continue;
    std::string lower = util::ascii_lower(name);
    names.push_back(std::move(lower));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

/// Steps 1 and 2: which mechanism signs the request (the Authorization header or the
/// X-Amz-Algorithm parameter, not both) and its parameters; nullopt + *why when none or malformed.
std::optional<auth_params> read_auth(const signed_request& request, refusal* why) {
  const header_field* authorization = find_header(request.headers, "authorization");
  if (authorization != nullptr && util::trim_blanks(authorization->value).empty())
    authorization = nullptr;
  bool query_algorithm = false;
  for_each_param(request.query, [&](std::string_view name, std::string_view) {
    if (!query_algorithm && name.size() >= 15) {
      query_algorithm = util::percent_decode(name, true) == "X-Amz-Algorithm";
    }
  });
  if (authorization == nullptr && !query_algorithm) {
    *why = {outcome::missing, std::string(msg_missing_token)};
    return std::nullopt;
  }
  if (authorization != nullptr && query_algorithm) {
    *why = {outcome::malformed, std::string(msg_two_mechanisms)};
    return std::nullopt;
  }
  std::string error;
  std::optional<auth_params> p =
      authorization != nullptr
          ? parse_authorization(util::trim_blanks(authorization->value), request, &error)
          : parse_presigned(request, &error);
  if (!p) {
    *why = error.empty() ? refusal{outcome::missing, std::string(msg_missing_token)}
                         : refusal{outcome::malformed, std::move(error)};
  }
  return p;
}

/// The rest of the syntax: host must be signed, x-amz-content-sha256 must be a hash or
/// UNSIGNED-PAYLOAD, the date must parse (*signed_at).
std::optional<refusal> check_syntax(const auth_params& p, const std::vector<std::string>& names,
                                    std::optional<time_point>* signed_at) {
  if (!std::binary_search(names.begin(), names.end(), "host")) {
    return refusal{outcome::malformed, std::string(msg_host_not_signed)};
  }
  if (p.has_content_sha256 && p.content_sha256 != unsigned_payload &&
      !is_sha256_hex(p.content_sha256)) {
    return refusal{outcome::malformed, std::string(msg_bad_content_sha256)};
  }
  *signed_at = p.date_is_http_date ? parse_http_date(p.date) : parse_amz_date(p.date);
  if (!*signed_at) {
    return refusal{outcome::malformed,
                   fmt::format("Date must be in ISO-8601 'basic format'. Got '{}'. See "
                               "http://en.wikipedia.org/wiki/ISO_8601",
                               p.date)};
  }
  return std::nullopt;
}

/// Step 3: the date may be `skew` ahead of now; behind, `skew` too, or X-Amz-Expires when
/// presigned with one. AWS compares whole seconds.
std::optional<refusal> check_window(time_point signed_at, std::optional<std::int64_t> expires,
                                    time_point now, seconds skew) {
  const time_point server = whole_seconds(now);
  const std::string date = format_amz_date(signed_at);
  if (signed_at > server + skew) {
    return refusal{
        outcome::out_of_window,
        fmt::format("Signature not yet current: {} is still later than {} ({} + {})", date,
                    format_amz_date(server + skew), format_amz_date(server), skew_text(skew))};
  }
  if (expires) {
    if (server <= signed_at + seconds(*expires)) return std::nullopt;
    return refusal{outcome::presign_expired, std::string(msg_request_expired)};
  }
  if (signed_at >= server - skew) return std::nullopt;
  return refusal{
      outcome::out_of_window,
      fmt::format("Signature expired: {} is now earlier than {} ({} - {})", date,
                  format_amz_date(server - skew), format_amz_date(server), skew_text(skew))};
}

/// Splits "AKID/date/region/service/aws4_request"; false unless exactly five parts.
bool split_credential(std::string_view credential, std::array<std::string_view, 5>* parts) {
  std::size_t count = 0;
  for (;; credential.remove_prefix(credential.find('/') + 1)) {
    const std::size_t slash = credential.find('/');
    if (count < parts->size()) (*parts)[count] = credential.substr(0, slash);
    ++count;
    if (slash == std::string_view::npos) break;
  }
  return count == parts->size();
}

/// Step 4: the scope must be the verifier's region and service, end in aws4_request and carry
/// the date of the request. All that differs is told, in AWS's order.
std::optional<refusal> check_scope(const std::array<std::string_view, 5>& parts,
                                   std::string_view amz_date, std::string_view region,
                                   const verifier_options& options) {
  std::string errors;
  if (!region.empty() && parts[2] != region) {
    errors += fmt::format("Credential should be scoped to a valid region, not '{}'. ", parts[2]);
  }
  if (!options.service.empty() && parts[3] != options.service) {
    errors +=
        fmt::format("Credential should be scoped to correct service: '{}'. ", options.service);
  }
  if (parts[4] != scope_terminator) {
    errors += fmt::format(
        "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'. ",
        parts[4]);
  }
  if (parts[1] != amz_date.substr(0, 8)) {
    errors += fmt::format(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        "HTTP: '{}' != '{}', from '{}'. ",
        parts[1], amz_date.substr(0, 8), amz_date);
  }
  if (errors.empty()) return std::nullopt;
  return refusal{outcome::wrong_scope, std::move(errors)};
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

// ---------------------------------------------------------------------------------- hashing

digest sha256(std::string_view data) noexcept {
  digest out{};
  SHA256(reinterpret_cast<const std::uint8_t*>(data.data()), data.size(), out.data());
  return out;
}

digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view data) noexcept {
  digest out{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), key.size(), reinterpret_cast<const std::uint8_t*>(data.data()),
       data.size(), out.data(), &size);
  return out;
}

std::string hex(std::span<const std::uint8_t> bytes) {
  std::string out(bytes.size() * 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = hex_lower[bytes[i] >> 4];
    out[2 * i + 1] = hex_lower[bytes[i] & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  if (data.empty()) return std::string(empty_sha256);
  return hex(sha256(data));
}

// ------------------------------------------------------------------------------------ dates

std::string format_amz_date(time_point t) {
  const std::int64_t total = std::chrono::floor<seconds>(t.time_since_epoch()).count();
  std::int64_t days = total / 86400;
  std::int64_t rest = total % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  const civil c = civil_from_days(days);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", c.year, c.month, c.day, rest / 3600,
                     rest / 60 % 60, rest % 60);
}

std::optional<time_point> parse_amz_date(std::string_view text) noexcept {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  return make_time(digits(text, 0, 4), digits(text, 4, 2), digits(text, 6, 2), digits(text, 9, 2),
                   digits(text, 11, 2), digits(text, 13, 2));
}

std::optional<time_point> parse_http_date(std::string_view text) noexcept {
  if (auto t = parse_amz_date(text)) return t;
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  static constexpr std::string_view day_names[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::string_view month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  if (std::find(std::begin(day_names), std::end(day_names), text.substr(0, 3)) ==
      std::end(day_names)) {
    return std::nullopt;
  }
  const auto month = std::find(std::begin(month_names), std::end(month_names), text.substr(8, 3));
  if (month == std::end(month_names)) return std::nullopt;
  return make_time(digits(text, 12, 4), static_cast<int>(month - std::begin(month_names)) + 1,
                   digits(text, 5, 2), digits(text, 17, 2), digits(text, 20, 2),
                   digits(text, 23, 2));
}

// -------------------------------------------------------------------------- canonical request

std::pair<std::string_view, std::string_view> split_target(std::string_view target) noexcept {
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

std::string uri_encode(std::string_view in) {
  std::string out;
  out.reserve(in.size() + in.size() / 2);
  append_encoded(out, in);
  return out;
}

std::string canonical_uri(std::string_view path) {
  std::string out;
  out.reserve(path.size() + 8);
  append_canonical_uri(out, path);
  return out;
}

std::string canonical_query(std::string_view query, bool drop_signature) {
  std::string out;
  append_canonical_query(out, query, drop_signature);
  return out;
}

std::string canonical_header_value(std::string_view value) {
  std::string out;
  append_header_value(out, value);
  return out;
}

std::string payload_hash(const signed_request& request) {
  if (const auto* h = find_header(request.headers, "x-amz-content-sha256")) {
    return std::string(util::trim_blanks(h->value));
  }
  return sha256_hex(request.body);
}

std::string canonical_request(const signed_request& request,
                              std::span<const std::string_view> signed_headers,
                              std::string_view payload, bool drop_signature) {
  std::size_t estimate = request.method.size() + 2 * request.path.size() +
                         2 * request.query.size() + payload.size() + 16;
  for (const auto& h : request.headers) estimate += h.name.size() + h.value.size() + 2;
  std::string out;
  out.reserve(estimate);
  out.append(request.method);
  out.push_back('\n');
  append_canonical_uri(out, request.path);
  out.push_back('\n');
  append_canonical_query(out, request.query, drop_signature);
  out.push_back('\n');
  for (const std::string_view name : signed_headers) {
    out.append(name);
    out.push_back(':');
    bool first = true;
    for (const auto& h : request.headers) {
      if (!iequals(h.name, name)) continue;
      if (!first) out.push_back(',');
      first = false;
      append_header_value(out, h.value);
    }
    out.push_back('\n');
  }
  out.push_back('\n');
  for (std::size_t i = 0; i < signed_headers.size(); ++i) {
    if (i != 0) out.push_back(';');
    out.append(signed_headers[i]);
  }
  out.push_back('\n');
  out.append(payload);
  return out;
}

std::string credential_scope(std::string_view date, std::string_view region,
                             std::string_view service) {
  return fmt::format("{}/{}/{}/{}", date, region, service, scope_terminator);
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  const digest hash = sha256(canonical_request);
  std::string out;
  out.reserve(algorithm.size() + amz_date.size() + scope.size() + 67);
  out.append(algorithm).append("\n").append(amz_date).append("\n").append(scope).append("\n");
  out.append(hex(hash));
  return out;
}

digest signing_key(std::string_view secret, std::string_view date, std::string_view region,
                   std::string_view service) {
  std::string k_secret = "AWS4";
  k_secret.append(secret);
  const auto* secret_bytes = reinterpret_cast<const std::uint8_t*>(k_secret.data());
  digest key = hmac_sha256({secret_bytes, k_secret.size()}, date);
  OPENSSL_cleanse(k_secret.data(), k_secret.size());
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, service);
  return hmac_sha256(key, scope_terminator);
}

std::string signature(const digest& key, std::string_view string_to_sign) {
  return hex(hmac_sha256(key, string_to_sign));
}

// ---------------------------------------------------------------------------------- signing

std::vector<std::pair<std::string, std::string>> signature_fields::fields() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("Authorization", authorization);
  out.emplace_back("X-Amz-Date", amz_date);
  if (!security_token.empty()) out.emplace_back("X-Amz-Security-Token", security_token);
  if (!content_sha256.empty()) out.emplace_back("X-Amz-Content-Sha256", content_sha256);
  return out;
}

signature_fields sign(const signed_request& request, const signing_params& params) {
  signature_fields out;
  out.amz_date = format_amz_date(params.time);
  const std::string_view token = params.creds.session_token;
  std::string payload;
  if (params.unsigned_payload) {
    payload = unsigned_payload;
  } else {
    payload = params.add_content_sha256 ? sha256_hex(request.body) : payload_hash(request);
  }
  if (params.unsigned_payload || params.add_content_sha256) out.content_sha256 = payload;
  out.security_token = token;

  // The request's fields, minus those the signer owns, plus the signer's own.
  std::vector<header_field> fields;
  fields.reserve(request.headers.size() + 3);
  for (const auto& h : request.headers) {
    if (iequals(h.name, "authorization") || iequals(h.name, "x-amz-date")) continue;
    if (!token.empty() && iequals(h.name, "x-amz-security-token")) continue;
    if (!out.content_sha256.empty() && iequals(h.name, "x-amz-content-sha256")) continue;
    fields.push_back(h);
  }
  fields.push_back({"x-amz-date", out.amz_date});
  if (!token.empty() && params.sign_security_token)
    fields.push_back({"x-amz-security-token", token});
  if (!out.content_sha256.empty()) fields.push_back({"x-amz-content-sha256", out.content_sha256});

  const std::vector<std::string> names = signed_names(fields);
  const std::vector<std::string_view> name_views = views_of(names);
  signed_request to_sign = request;
  to_sign.headers = fields;
  out.canonical_request = canonical_request(to_sign, name_views, payload);

  const std::string_view date = std::string_view(out.amz_date).substr(0, 8);
  const std::string scope = credential_scope(date, params.region, params.service);
  out.string_to_sign = string_to_sign(out.amz_date, scope, out.canonical_request);
  out.signature =
      signature(signing_key(params.creds.secret_access_key, date, params.region, params.service),
                out.string_to_sign);
  out.authorization =
      fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", algorithm,
                  params.creds.access_key_id, scope, join(name_views, ';'), out.signature);
  return out;
}

presigned presign(const signed_request& request, const presign_params& params) {
  const signing_params& p = params.signing;
  presigned out;
  const std::string amz_date = format_amz_date(p.time);
  const std::string_view date = std::string_view(amz_date).substr(0, 8);
  const std::string scope = credential_scope(date, p.region, p.service);

  std::vector<header_field> fields;
  fields.reserve(request.headers.size());
  for (const auto& h : request.headers) {
    if (iequals(h.name, "authorization") || iequals(h.name, "x-amz-date")) continue;
    fields.push_back(h);
  }
  const std::vector<std::string> names = signed_names(fields);
  const std::vector<std::string_view> name_views = views_of(names);

  std::string payload;
  if (p.unsigned_payload) {
    payload = unsigned_payload;
  } else {
    payload = p.add_content_sha256 ? sha256_hex(request.body) : payload_hash(request);
  }

  out.query = request.query;
  auto add = [&](std::string_view name, std::string_view value) {
    if (!out.query.empty()) out.query.push_back('&');
    out.query.append(name).push_back('=');
    append_encoded(out.query, value);
  };
  add("X-Amz-Algorithm", algorithm);
  if (p.unsigned_payload || p.add_content_sha256) add("X-Amz-Content-Sha256", payload);
  add("X-Amz-Credential", fmt::format("{}/{}", p.creds.access_key_id, scope));
  add("X-Amz-Date", amz_date);
  add("X-Amz-Expires", std::to_string(params.expires.count()));
  if (!p.creds.session_token.empty()) add("X-Amz-Security-Token", p.creds.session_token);
  add("X-Amz-SignedHeaders", join(name_views, ';'));

  signed_request to_sign = request;
  to_sign.query = out.query;
  to_sign.headers = fields;
  out.canonical_request = canonical_request(to_sign, name_views, payload);
  out.string_to_sign = string_to_sign(amz_date, scope, out.canonical_request);
  out.signature = signature(signing_key(p.creds.secret_access_key, date, p.region, p.service),
                            out.string_to_sign);
  out.query.append("&X-Amz-Signature=").append(out.signature);
  return out;
}

// ------------------------------------------------------------------------------ verification

int status_of(outcome o) noexcept {
  switch (o) {
    case outcome::ok:
      return 200;
    case outcome::payload_mismatch:
      return 400;
    default:
      return 403;
  }
}

std::string_view error_type(outcome o) noexcept {
  switch (o) {
    case outcome::ok:
      return "";
    case outcome::missing:
      return "MissingAuthenticationTokenException";
    case outcome::malformed:
      return "IncompleteSignatureException";
    case outcome::unknown_key:
      return "UnrecognizedClientException";
    case outcome::payload_mismatch:
      return "XAmzContentSHA256Mismatch";
    case outcome::wrong_scope:
    case outcome::out_of_window:
    case outcome::presign_expired:
    case outcome::bad_signature:
      return "InvalidSignatureException";
  }
  return "";
}

struct signing_key_cache::state {
  std::mutex mutex;
  std::unordered_map<std::string, digest> keys;
  std::size_t capacity;
};

signing_key_cache::signing_key_cache(std::size_t capacity) : state_(std::make_unique<state>()) {
  state_->capacity = std::max<std::size_t>(capacity, 1);
}

signing_key_cache::~signing_key_cache() {
  for (auto& [name, key] : state_->keys) OPENSSL_cleanse(key.data(), key.size());
}

digest signing_key_cache::get(std::string_view secret, std::string_view date,
                              std::string_view region, std::string_view service) {
  // Each part with its length first, so that no two tuples share a name.
  std::string name;
  name.reserve(secret.size() + date.size() + region.size() + service.size() + 16);
  for (const std::string_view part : {secret, date, region, service}) {
    const auto n = static_cast<std::uint32_t>(part.size());
    name.append(reinterpret_cast<const char*>(&n), sizeof n).append(part);
  }
  {
    std::lock_guard lock(state_->mutex);
    const auto it = state_->keys.find(name);
    if (it != state_->keys.end()) return it->second;
  }
  const digest key = signing_key(secret, date, region, service);
  std::lock_guard lock(state_->mutex);
  if (state_->keys.size() >= state_->capacity) state_->keys.clear();
  state_->keys.emplace(std::move(name), key);
  return key;
}

std::size_t signing_key_cache::size() const {
  std::lock_guard lock(state_->mutex);
  return state_->keys.size();
}

verifier::verifier(verifier_options options, secret_lookup lookup)
    : options_(std::move(options)),
      lookup_(std::move(lookup)),
      keys_(std::make_unique<signing_key_cache>(options_.key_cache_capacity)) {}

verification verifier::verify(const signed_request& request, time_point now) const {
  return verify(request, now, options_.region, lookup_);
}

verification verifier::verify(const signed_request& request, time_point now,
                              std::string_view region, const secret_lookup& lookup) const {
  verification v;
  auto refuse = [&v](refusal r) {
    v.result = r.result;
    v.message = std::move(r.message);
    return std::move(v);
  };
  // 1-2. The mechanism and its parameters, signed host, date format.
  refusal why;
  std::optional<auth_params> p = read_auth(request, &why);
  if (!p) return refuse(std::move(why));
  v.presigned = p->presigned;
  v.session_token = p->session_token;
  const std::vector<std::string> names = parse_signed_headers(p->signed_headers);
  std::optional<time_point> signed_at;
  if (auto r = check_syntax(*p, names, &signed_at)) return refuse(std::move(*r));
  v.signed_at = *signed_at;
  const std::string amz_date = format_amz_date(*signed_at);

  // 3-4. The time window, the credential scope.
  if (auto r = check_window(*signed_at, p->expires, now, options_.clock_skew)) {
    return refuse(std::move(*r));
  }
  std::array<std::string_view, 5> scope_parts;
  if (!split_credential(p->credential, &scope_parts)) {
    return refuse({outcome::malformed,
                   fmt::format("Credential must have exactly 5 slash-delimited elements, e.g. "
                               "keyid/date/region/service/term, got '{}'",
                               p->credential)});
  }
  v.access_key_id = scope_parts[0];
  if (auto r = check_scope(scope_parts, amz_date, region, options_)) {
    return refuse(std::move(*r));
  }

  // 5. The access key, and its signing key for the scope.
  std::optional<std::string> secret = lookup ? lookup(scope_parts[0]) : std::nullopt;
  if (!secret) return refuse({outcome::unknown_key, std::string(msg_unknown_key)});
  const digest key = keys_->get(*secret, scope_parts[1], scope_parts[2], scope_parts[3]);
  OPENSSL_cleanse(secret->data(), secret->size());

  // 6. The signature, over the payload hash the request names or the body's.
  const std::vector<std::string_view> name_views = views_of(names);
  const std::string_view scope = std::string_view(p->credential).substr(scope_parts[0].size() + 1);
  auto matches = [&](std::string_view payload, std::string* creq, std::string* sts) {
    *creq = canonical_request(request, name_views, payload, p->presigned);
    *sts = string_to_sign(amz_date, scope, *creq);
    return constant_time_equal(signature(key, *sts), p->signature);
  };
  const bool names_hash = p->has_content_sha256 && p->content_sha256 != unsigned_payload;
  const std::string body_hash =
      !p->has_content_sha256 || names_hash ? sha256_hex(request.body) : std::string();
  bool good = matches(p->has_content_sha256 ? p->content_sha256 : body_hash, &v.canonical_request,
                      &v.string_to_sign);
  if (!good && p->presigned && !p->has_content_sha256 && options_.presigned_unsigned_payload) {
    std::string creq, sts;  // botocore's presigned URLs; diagnostics keep the body-hash version
    good = matches(unsigned_payload, &creq, &sts);
    if (good) {
      v.canonical_request = std::move(creq);
      v.string_to_sign = std::move(sts);
    }
  }
  if (!good) {
    return refuse({outcome::bad_signature,
                   fmt::format("{}\n\nThe Canonical String for this request should have been\n'{}'"
                               "\n\nThe String-to-Sign should have been\n'{}'\n",
                               msg_bad_signature, v.canonical_request, v.string_to_sign)});
  }

  // 7. A signed body hash must be the body's.
  if (names_hash && !iequals(p->content_sha256, body_hash)) {
    return refuse({outcome::payload_mismatch, std::string(msg_content_sha256_mismatch)});
  }
  v.result = outcome::ok;
  return v;
}

}  // namespace gatehouse::auth::sigv4
