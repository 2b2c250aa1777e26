#include "pipeline/gateway_responses.hpp"

#include "util/json_text.hpp"

#include <gatehouse/gateway_response.hpp>

#include <array>

namespace gatehouse {

namespace {
struct type_info {
  response_type type;
  std::string_view name;
  int status;
  std::string_view error_type;
  std::string_view message;
};

// AWS's defaults (AWS-SEMANTICS.md §4). Messages marked UNCONFIRMED there are our choice.
constexpr std::array<type_info, 21> types = {{
    {response_type::access_denied, "ACCESS_DENIED", 403, "AccessDeniedException",
     "User is not authorized to access this resource"},
    {response_type::api_configuration_error, "API_CONFIGURATION_ERROR", 500,
     "ApiConfigurationException", "Internal server error"},
    {response_type::authorizer_configuration_error, "AUTHORIZER_CONFIGURATION_ERROR", 500,
     "AuthorizerConfigurationException", ""},
    {response_type::authorizer_failure, "AUTHORIZER_FAILURE", 500, "AuthorizerFailureException",
     "Internal server error"},
    {response_type::bad_request_parameters, "BAD_REQUEST_PARAMETERS", 400, "BadRequestException",
     "Bad Request"},
    {response_type::bad_request_body, "BAD_REQUEST_BODY", 400, "BadRequestException",
     "Invalid request body"},
    {response_type::default_4xx, "DEFAULT_4XX", 0, "", "Bad Request"},
    {response_type::default_5xx, "DEFAULT_5XX", 0, "InternalServerErrorException",
     "Internal server error"},
    {response_type::expired_token, "EXPIRED_TOKEN", 403, "ExpiredTokenException",
     "The security token included in the request is expired"},
    {response_type::integration_failure, "INTEGRATION_FAILURE", 504, "InternalServerErrorException",
     "Network error communicating with endpoint"},
    {response_type::integration_timeout, "INTEGRATION_TIMEOUT", 504, "InternalServerErrorException",
     "Endpoint request timed out"},
    {response_type::invalid_api_key, "INVALID_API_KEY", 403, "ForbiddenException", "Forbidden"},
    {response_type::invalid_signature, "INVALID_SIGNATURE", 403, "InvalidSignatureException",
     "The request signature we calculated does not match the signature you provided. Check your "
     "AWS Secret Access Key and signing method."},
    {response_type::missing_authentication_token, "MISSING_AUTHENTICATION_TOKEN", 403,
     "MissingAuthenticationTokenException", "Missing Authentication Token"},
    {response_type::quota_exceeded, "QUOTA_EXCEEDED", 429, "LimitExceededException",
     "Limit Exceeded"},
    // UNCONFIRMED body text; third-party reports say "Request Too Long".
    {response_type::request_too_large, "REQUEST_TOO_LARGE", 413, "RequestTooLargeException",
     "Request Too Long"},
    {response_type::resource_not_found, "RESOURCE_NOT_FOUND", 404, "ResourceNotFoundException",
     "Not Found"},
    {response_type::throttled, "THROTTLED", 429, "TooManyRequestsException", "Too Many Requests"},
    {response_type::unauthorized, "UNAUTHORIZED", 401, "UnauthorizedException", "Unauthorized"},
    {response_type::unsupported_media_type, "UNSUPPORTED_MEDIA_TYPE", 415, "BadRequestException",
     "Unsupported Media Type"},
    {response_type::waf_filtered, "WAF_FILTERED", 403, "WafFilteredException", "Forbidden"},
}};

const type_info& info(response_type t) noexcept { return types[static_cast<std::size_t>(t)]; }
}  // namespace

std::string_view to_string(response_type type) noexcept { return info(type).name; }
int default_status(response_type type) noexcept { return info(type).status; }
std::string_view error_type_header(response_type type) noexcept { return info(type).error_type; }
std::string_view default_message(response_type type) noexcept { return info(type).message; }

std::optional<response_type> response_type_from_string(std::string_view name) noexcept {
  for (const auto& t : types)
    if (t.name == name) return t.type;
  return std::nullopt;
}

namespace detail {

namespace {
struct render_context {
  const gateway_error& err;
  std::string_view message;
  const exchange* ex;
};

// Gateway-response templates are plain substitution, not VTL (AWS-SEMANTICS.md §4).
std::string substitute(std::string_view tmpl, const render_context& c) {
  std::string out;
  out.reserve(tmpl.size() + c.message.size());
  for (std::size_t i = 0; i < tmpl.size();) {
    auto take = [&](std::string_view key) {
      if (tmpl.compare(i, key.size(), key) != 0) return false;
      i += key.size();
      return true;
    };
    if (tmpl[i] != '$') {
      out.push_back(tmpl[i++]);
    } else if (take("$context.error.messageString")) {
      util::append_json_string(out, c.message);
    } else if (take("$context.error.message")) {
      // Unescaped, as AWS gives it (templates that quote it use …messageString), but UTF-8.
      util::append_valid_utf8(out, c.message);
    } else if (take("$context.error.validationErrorString")) {
      // Escaped for a JSON string, as AWS gives it: templates write "…String" in quotes.
      std::string quoted;
      util::append_json_string(quoted, c.err.validation_errors);
      out.append(std::string_view(quoted).substr(1, quoted.size() - 2));
    } else if (take("$context.error.responseType")) {
      out.append(to_string(c.err.type));
    } else if (take("$context.requestId")) {
      if (c.ex) out.append(c.ex->id());
    } else if (take("$context.stage")) {
      if (c.ex && c.ex->stage) out.append(c.ex->stage->name);
    } else if (take("$stageVariables.")) {
      std::size_t start = i;
      while (i < tmpl.size() &&
             (std::isalnum(static_cast<unsigned char>(tmpl[i])) || tmpl[i] == '_'))
        ++i;
      if (c.ex && c.ex->stage) {
        auto& vars = c.ex->stage->variables;
        if (auto it = vars.find(tmpl.substr(start, i - start)); it != vars.end())
          out.append(it->second);
      }
    } else {
      out.push_back(tmpl[i++]);
    }
  }
  return out;
}

const gateway_response* find_override(response_type type, int status, const exchange* ex) {
  if (!ex || !ex->stage || type == response_type::request_too_large) return nullptr;
  const auto& overrides = ex->stage->deployment->responses;
  if (overrides.empty()) return nullptr;
  if (auto it = overrides.find(type); it != overrides.end()) return &it->second;
  auto fallback = status >= 500 ? response_type::default_5xx : response_type::default_4xx;
  if (auto it = overrides.find(fallback); it != overrides.end()) return &it->second;
  return nullptr;
}
}  // namespace

response render_gateway_error(const gateway_error& err, const exchange* ex) {
  const auto& t = info(err.type);
  response res;
  res.status = err.status != 0 ? err.status : (t.status != 0 ? t.status : 500);
  std::string_view message = err.message.empty() ? t.message : std::string_view{err.message};
  render_context ctx{err, message, ex};

  if (const auto* o = find_override(err.type, res.status, ex)) {
    if (o->status) res.status = *o->status;
    res.headers.add("Content-Type", o->content_type);
    for (const auto& f : o->headers) res.headers.add(f.name, substitute(f.value, ctx));
    res.body = o->body ? substitute(*o->body, ctx)
                       : substitute("{\"message\":$context.error.messageString}", ctx);
  } else {
    res.headers.add("Content-Type", "application/json");
    // AWS spells ACCESS_DENIED's key "Message" and sends null for authorizer config errors.
    res.body = err.type == response_type::access_denied ? "{\"Message\":" : "{\"message\":";
    if (err.type == response_type::authorizer_configuration_error && err.message.empty())
      res.body.append("null");
    else
      util::append_json_string(res.body, message);
    res.body.push_back('}');
  }
  const std::string_view error_type = err.error_type.empty() ? t.error_type : err.error_type;
  if (!error_type.empty()) res.headers.add("x-amzn-ErrorType", std::string(error_type));
  if (!err.www_authenticate.empty()) res.headers.add("WWW-Authenticate", err.www_authenticate);
  if (err.retry_after.count() >= 0)
    res.headers.add("Retry-After", std::to_string(err.retry_after.count()));
  return res;
}

}  // namespace detail
}  // namespace gatehouse
