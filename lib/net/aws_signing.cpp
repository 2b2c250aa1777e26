#include "net/aws_signing.hpp"

#include "auth/sigv4.hpp"

#include <chrono>
#include <vector>

namespace gatehouse::detail {

namespace {
namespace sigv4 = auth::sigv4;

void append_block(const void* context, std::string& out) {
  out.append(*static_cast<const std::string*>(context));
}

struct line {
  std::string_view text;  // "Name: value", without CRLF
  sigv4::header_field field;
};

// The fields of a head block ("Name: value\r\n" each) as written.
std::vector<line> split_fields(std::string_view block) {
  std::vector<line> out;
  while (!block.empty()) {
    auto end = block.find("\r\n");
    std::string_view text = block.substr(0, end);
    block.remove_prefix(end == std::string_view::npos ? block.size() : end + 2);
    auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    out.push_back({text, {text.substr(0, colon), text.substr(colon + 1)}});
  }
  return out;
}
}  // namespace

std::string signed_head_fields(const aws_signing& signing, std::string_view method,
                               std::string_view authority, std::string_view target,
                               head_writer fields, std::string_view body) {
  std::string written;
  if (fields.write) fields.write(fields.context, written);
  const std::vector<line> lines = split_fields(written);

  std::vector<sigv4::header_field> headers;
  headers.reserve(lines.size() + 1);
  headers.push_back({"Host", authority});
  // X-Amzn-Trace-Id is sent but not signed, as AWS's SDKs leave it: tracers may rewrite it.
  for (const auto& l : lines)
    if (!iequals(l.field.name, "x-amzn-trace-id")) headers.push_back(l.field);

  auto [path, query] = sigv4::split_target(target);
  if (path.empty()) path = "/";  // what client_core sends for an empty path
  sigv4::signing_params params;
  params.creds = {signing.credentials.access_key_id, signing.credentials.secret_access_key,
                  signing.credentials.session_token};
  params.region = signing.region;
  params.service = signing.service;
  if (signing.time.time_since_epoch().count() != 0) params.time = signing.time;
  params.unsigned_payload = signing.unsigned_payload;
  const auto sig = sigv4::sign({method, path, query, headers, body}, params);

  // The fields as written, less those the signer replaces (sign() leaves the same ones out).
  std::string out;
  out.reserve(written.size() + sig.authorization.size() + sig.security_token.size() + 160);
  for (const auto& l : lines) {
    const auto name = l.field.name;
    if (iequals(name, "authorization") || iequals(name, "x-amz-date")) continue;
    if (!sig.security_token.empty() && iequals(name, "x-amz-security-token")) continue;
    if (!sig.content_sha256.empty() && iequals(name, "x-amz-content-sha256")) continue;
    out.append(l.text).append("\r\n");
  }
  out.append("Authorization: ").append(sig.authorization).append("\r\n");
  out.append("X-Amz-Date: ").append(sig.amz_date).append("\r\n");
  if (!sig.security_token.empty())
    out.append("X-Amz-Security-Token: ").append(sig.security_token).append("\r\n");
  if (!sig.content_sha256.empty())
    out.append("X-Amz-Content-Sha256: ").append(sig.content_sha256).append("\r\n");
  return out;
}

head_writer verbatim_fields(const std::string& block) noexcept { return {&block, &append_block}; }

}  // namespace gatehouse::detail
