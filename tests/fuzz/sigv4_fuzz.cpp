// Fuzz target: a request as a client signs it, written as AWS's SigV4 test suite writes one
// ("METHOD target HTTP/1.1", then "Name:value" lines, a line starting with a blank continuing
// the previous value, an empty line, then the body). The verifier parses its Authorization
// header or presigned query parameters and checks it, as of the suite's date, against the
// suite's key. Nothing may crash, hang or read out of bounds; an answer is one of AWS's.
//
// Then the request, without the fields the signer owns, is signed and presigned with that key
// and verified again: what gatehouse signs, gatehouse must accept.

#include "auth/sigv4.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace {
namespace sigv4 = gatehouse::auth::sigv4;

void check(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "sigv4_fuzz: %s\n", what);
  std::abort();
}

constexpr std::string_view access_key = "AKIDEXAMPLE";
constexpr std::string_view secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
// 20150830T123600Z, the suite's date.
const sigv4::time_point suite_time{std::chrono::seconds(1440938160)};

const sigv4::verifier& verifier() {
  static const sigv4::verifier v(
      {.region = "us-east-1", .service = "service", .key_cache_capacity = 64},
      [](std::string_view id) -> std::optional<std::string> {
        if (id == access_key) return std::string(secret_key);
        return std::nullopt;
      });
  return v;
}

struct request_text {
  std::string_view method, path, query, body;
  std::vector<std::string> names;
  std::vector<std::string> values;  // continuation lines joined in, as "\r\n" obs-folds
  std::vector<sigv4::header_field> fields;

  void make_fields() {
    fields.clear();
    for (std::size_t i = 0; i < names.size(); ++i) fields.push_back({names[i], values[i]});
  }
  sigv4::signed_request view() const { return {method, path, query, fields, body}; }
};

request_text parse(std::string_view text) {
  request_text r;
  auto next_line = [&text] {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    return line;
  };
  std::string_view line = next_line();
  const std::size_t space = line.find(' ');
  r.method = line.substr(0, space);
  std::string_view target = space == std::string_view::npos ? "" : line.substr(space + 1);
  if (const std::size_t last = target.rfind(' '); last != std::string_view::npos)
    target = target.substr(0, last);
  std::tie(r.path, r.query) = sigv4::split_target(target);
  while (!text.empty()) {
    line = next_line();
    if (line.empty()) break;
    if ((line[0] == ' ' || line[0] == '\t') && !r.values.empty()) {
      r.values.back().append("\r\n").append(line);
      continue;
    }
    const std::size_t colon = line.find(':');
    r.names.emplace_back(line.substr(0, colon));
    r.values.emplace_back(colon == std::string_view::npos ? "" : line.substr(colon + 1));
  }
  r.body = text;
  r.make_fields();
  return r;
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    return lower(x) == lower(y);
  });
}

bool token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool owned_by_signer(std::string_view name) {
  for (std::string_view owned :
       {"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"})
    if (iequals(name, owned)) return true;
  return false;
}

/// The request without the fields the signer owns (their values are its to set).
request_text unsigned_copy(const request_text& r) {
  request_text u = r;
  u.names.clear();
  u.values.clear();
  for (std::size_t i = 0; i < r.names.size(); ++i) {
    if (owned_by_signer(r.names[i])) continue;
    u.names.push_back(r.names[i]);
    u.values.push_back(r.values[i]);
  }
  u.make_fields();
  return u;
}

/// A request that HTTP could carry and that a client would sign: a method and header names
/// that are tokens, a Host, no X-Amz-* parameter in the query.
bool signable(const request_text& r) {
  if (!token(r.method) || r.path.empty() || r.path.front() != '/') return false;
  if (gatehouse::util::percent_decode(r.query, true).find("X-Amz-") != std::string::npos)
    return false;
  bool host = false;
  for (const auto& name : r.names) {
    if (!token(name)) return false;
    host = host || iequals(name, "host");
  }
  return host;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  request_text r = parse(input);

  const sigv4::verification v = verifier().verify(r.view(), suite_time);
  const int status = sigv4::status_of(v.result);
  check(v.ok() ? status == 200 : (status == 403 || status == 400), "status");
  check(v.ok() == v.message.empty(), "a refusal has a message, and only a refusal");
  check(v.ok() == sigv4::error_type(v.result).empty(), "error type");

  const request_text u = unsigned_copy(r);
  if (!signable(u)) return 0;
  const sigv4::signing_params params{.creds = {access_key, secret_key},
                                     .region = "us-east-1",
                                     .service = "service",
                                     .time = suite_time};
  const sigv4::signature_fields signed_fields = sigv4::sign(u.view(), params);
  request_text s = u;
  for (const auto& [name, value] : signed_fields.fields()) {
    s.names.push_back(name);
    s.values.push_back(value);
  }
  s.make_fields();
  const sigv4::verification again = verifier().verify(s.view(), suite_time);
  if (!again.ok()) std::fprintf(stderr, "%s\n", again.message.c_str());
  check(again.ok(), "a request gatehouse signed is refused");

  const sigv4::presigned url = sigv4::presign(u.view(), {.signing = params});
  request_text p = u;
  p.query = url.query;
  p.make_fields();
  const sigv4::verification presigned = verifier().verify(p.view(), suite_time);
  if (!presigned.ok()) std::fprintf(stderr, "%s\n", presigned.message.c_str());
  check(presigned.ok() && presigned.presigned, "a request gatehouse presigned is refused");
  return 0;
}
