#include "integration/aws_endpoint.hpp"

#include "auth/sigv4.hpp"
#include "net/aws_signing.hpp"
#include "net/url.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace gatehouse::detail {

namespace {
bool visible(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

bool lower_name(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}
}  // namespace

void check_aws_signing(const aws_signing& signing, std::string_view what) {
  if (!lower_name(signing.region))
    throw config_error(fmt::format("{}: region '{}' is not a region name such as us-east-1", what,
                                   signing.region));
  if (!lower_name(signing.service))
    throw config_error(fmt::format("{}: service '{}' is not a signing name such as lambda or sqs",
                                   what, signing.service));
  const auto& c = signing.credentials;
  if (c.access_key_id.empty() || !visible(c.access_key_id) ||
      c.access_key_id.find_first_of("/,=") != std::string::npos)
    throw config_error(fmt::format(
        "{}: credentials.access_key_id must be set, without spaces, '/', ',' or '='", what));
  if (c.secret_access_key.empty() || !visible(c.secret_access_key))
    throw config_error(
        fmt::format("{}: credentials.secret_access_key must be set, without spaces", what));
  if (!visible(c.session_token))
    throw config_error(
        fmt::format("{}: credentials.session_token holds spaces or control characters", what));
}

std::string checked_aws_endpoint(std::string_view endpoint, std::string_view what) {
  std::string why;
  auto parts = net::parse_url(endpoint, &why);
  if (!parts)
    throw config_error(fmt::format("{}: endpoint '{}' is not a URL: {}", what, endpoint, why));
  if (!parts->target.empty() && parts->target != "/")
    throw config_error(fmt::format(
        "{}: endpoint '{}' must be scheme://host[:port], without a path or query", what, endpoint));
  if (endpoint.back() == '/') endpoint.remove_suffix(1);
  return std::string(endpoint);
}

namespace {
// Lambda's own limits: names, partial and full ARNs (with a qualifier), and qualifiers.
bool function_name_chars(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == ':' || c == '.' || c == '$';
  });
}
}  // namespace

std::string lambda_invocation_url(const lambda_options& o, std::string_view what) {
  if (o.function_name.empty() || o.function_name.size() > 170 ||
      !function_name_chars(o.function_name))
    throw config_error(fmt::format(
        "{}: function_name must be a function name or ARN (1 to 170 of A-Z a-z 0-9 - _ : . $)",
        what));
  if (o.qualifier.size() > 128 || !function_name_chars(o.qualifier) ||
      o.qualifier.find(':') != std::string::npos)
    throw config_error(
        fmt::format("{}: qualifier '{}' is not a version or alias name", what, o.qualifier));
  check_aws_signing({o.credentials, o.region, "lambda"}, what);
  std::string url = checked_aws_endpoint(
      o.endpoint.empty() ? fmt::format("https://lambda.{}.amazonaws.com", o.region) : o.endpoint,
      what);
  url.append("/2015-03-31/functions/");
  url.append(auth::sigv4::uri_encode(o.function_name));
  url.append("/invocations");
  if (!o.qualifier.empty()) url.append("?Qualifier=").append(o.qualifier);
  return url;
}

void check_integration_timeout(std::chrono::milliseconds timeout, std::string_view what) {
  if (timeout < std::chrono::milliseconds(50) || timeout > std::chrono::milliseconds(29'000))
    throw config_error(
        fmt::format("{}: timeout {} ms is outside 50 ms to 29,000 ms", what, timeout.count()));
}

asio::awaitable<std::error_code> signed_call(client_core& client, const aws_signing& signing,
                                             const upstream_address& to, std::string_view method,
                                             std::string_view target, head_writer fields,
                                             std::string_view body, const call_options& options,
                                             response& out,
                                             std::unique_ptr<wire::body_source>* stream) {
  const std::string signed_fields =
      signed_head_fields(signing, method, to.authority, target, fields, body);
  co_return co_await client.call(to, method, target, verbatim_fields(signed_fields), body, options,
                                 out, stream);
}

}  // namespace gatehouse::detail
