// Security schemes → AWS's method authorization, and authorizers → gatehouse's Authorizers.
//   - an apiKey scheme named x-api-key (no authorizer) in a requirement: apiKeyRequired;
//   - a scheme with x-amazon-apigateway-authorizer: an authorizer named after the scheme (made
//     even when no method uses it, as AWS does); TOKEN and REQUEST ones are the host's C++
//     authorizers, else their Lambda functions invoked at the host's Lambda endpoint;
//     COGNITO_USER_POOLS ones gatehouse's JWT authorizer over the pool's keys;
//   - x-amazon-apigateway-authtype awsSigv4: IAM authorization.
// The document's `security` applies to operations without their own (AWS's recorded behaviour,
// whatever its guide says); a requirement naming no known scheme is ignored.

#include "spec/build.hpp"
#include "spec/import.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace gatehouse::spec {

namespace {
std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}
bool iequal(std::string_view a, std::string_view b) { return upper(a) == upper(b); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

void read_security_schemes(reader& r) {
  const json* schemes = r.oas3
                            ? object_member(object_member(&r.root, "components"), "securitySchemes")
                            : object_member(&r.root, "securityDefinitions");
  if (!schemes) return;
  for (const auto& entry : schemes->GetObject()) {
    r.spend(1);
    const std::string name(view(entry.name));
    const json* s = r.resolve(&entry.value);
    if (!s || !s->IsObject()) continue;
    const auto auth_type = scalar_member(s, "x-amazon-apigateway-authtype").value_or("");
    const json* ext = object_member(s, "x-amazon-apigateway-authorizer");
    if (ext) {
      authorizer_model a;
      a.name = name;
      a.auth_type = auth_type;
      a.type = upper(scalar_member(ext, "type").value_or("token"));
      if (a.type != "TOKEN" && a.type != "REQUEST" && a.type != "COGNITO_USER_POOLS") {
        r.warn(fmt::format("Unsupported authorizer type '{}' of security definition '{}'", a.type,
                           name));
        r.schemes[name] = scheme_kind::ignored;
        continue;
      }
      a.authorizer_uri = scalar_member(ext, "authorizerUri").value_or("");
      a.authorizer_credentials = scalar_member(ext, "authorizerCredentials").value_or("");
      a.identity_validation_expression =
          scalar_member(ext, "identityValidationExpression").value_or("");
      if (auto problem = pattern_problem(a.identity_validation_expression); !problem.empty())
        throw config_error(fmt::format(
            "Unable to create authorizer '{}': identityValidationExpression is {}", name, problem));
      if (const json* ttl = member(ext, "authorizerResultTtlInSeconds"))
        if (auto n = integer_of(*ttl))
          a.result_ttl_seconds = static_cast<int>(std::clamp<std::int64_t>(*n, -1, 1'000'000));
      a.provider_arns = string_list(member(ext, "providerARNs"));
      if (auto source = scalar_member(ext, "identitySource")) {
        a.identity_source = *source;
      } else if (a.type != "REQUEST") {
        // TOKEN and Cognito authorizers read the scheme's own header by default.
        const auto in = scalar_member(s, "in").value_or("header");
        a.identity_source =
            fmt::format("method.request.{}.{}", in == "query" ? "querystring" : "header",
                        scalar_member(s, "name").value_or("Authorization"));
      }
      r.api.authorizers.push_back(std::move(a));
      r.schemes[name] = scheme_kind::authorizer;
    } else if (iequal(auth_type, "awsSigv4")) {
      r.schemes[name] = scheme_kind::iam;
    } else if (scalar_member(s, "type").value_or("") == "apiKey" &&
               iequal(scalar_member(s, "name").value_or(""), "x-api-key")) {
      r.schemes[name] = scheme_kind::api_key;
    } else {
      r.schemes[name] = scheme_kind::ignored;  // oauth2, basic, … mean nothing to AWS
    }
  }
}

void apply_security(reader& r, const json& operation, method_model& m) {
  if (const json* auth = object_member(&operation, "x-amazon-apigateway-auth"))
    if (iequal(scalar_member(auth, "type").value_or(""), "aws_iam"))
      m.authorization_type = "AWS_IAM";
  const json* security = member(operation, "security");
  if (!security) security = member(r.root, "security");
  if (!security || !security->IsArray()) return;
  for (const auto& requirement : security->GetArray()) {
    if (!requirement.IsObject()) continue;
    r.spend(requirement.MemberCount() + 1);
    for (const auto& entry : requirement.GetObject()) {
      const auto name = view(entry.name);
      auto kind = r.schemes.find(name);
      if (kind == r.schemes.end()) continue;  // AWS ignores schemes it does not know
      switch (kind->second) {
        case scheme_kind::api_key:
          m.api_key_required = true;
          break;
        case scheme_kind::iam:
          if (m.authorization_type == "NONE") m.authorization_type = "AWS_IAM";
          break;
        case scheme_kind::authorizer: {
          if (m.authorization_type != "NONE") break;
          auto a = std::find_if(r.api.authorizers.begin(), r.api.authorizers.end(),
                                [&](const authorizer_model& x) { return x.name == name; });
          m.authorization_type = a->type == "COGNITO_USER_POOLS" ? a->type : "CUSTOM";
          m.authorizer = name;
          // Scopes are Cognito's (authorizationScopes); AWS keeps none for Lambda authorizers.
          if (a->type == "COGNITO_USER_POOLS") m.authorization_scopes = string_list(&entry.value);
          break;
        }
        case scheme_kind::ignored:
          break;
      }
    }
  }
}

namespace {
// arn:aws:cognito-idp:{region}:{account}:userpool/{poolId} → the pool's region and id.
bool parse_user_pool(std::string_view arn, std::string& region, std::string& pool) {
  std::string_view fields[6];
  for (int i = 0; i < 5; ++i) {
    auto colon = arn.find(':');
    if (colon == std::string_view::npos) return false;
    fields[i] = arn.substr(0, colon);
    arn.remove_prefix(colon + 1);
  }
  if (fields[0] != "arn" || fields[2] != "cognito-idp" || !arn.starts_with("userpool/"))
    return false;
  region = fields[3];
  pool = arn.substr(9);
  return !region.empty() && !pool.empty();
}

Authorizer cognito(const authorizer_model& a, const openapi_options& o) {
  if (a.provider_arns.empty()) throw config_error("providerARNs must list a user pool");
  std::string region, pool;
  if (!parse_user_pool(a.provider_arns.front(), region, pool))
    throw config_error(fmt::format("'{}' is not a user pool ARN", a.provider_arns.front()));
  jwt_options j;
  j.name = a.name;
  j.issuer = fmt::format("https://cognito-idp.{}.amazonaws.com/{}", region, pool);
  auto keys = o.jwks.find(pool);
  if (keys == o.jwks.end()) keys = o.jwks.find(j.issuer);
  if (keys == o.jwks.end())
    j.jwks_url = j.issuer + "/.well-known/jwks.json";
  else if (keys->second.starts_with("https://"))
    j.jwks_url = keys->second;
  else
    j.jwks = keys->second;
  if (!a.identity_source.empty()) j.identity_source = a.identity_source;
  return Authorizer::jwt(std::move(j));
}

authorizer_options custom_options(const authorizer_model& a) {
  authorizer_options opts;
  opts.name = a.name;
  opts.type = a.type == "REQUEST" ? authorizer_type::request : authorizer_type::token;
  std::string_view sources = a.identity_source;
  while (!sources.empty()) {
    auto comma = sources.find(',');
    auto one = trim(sources.substr(0, comma));
    if (!one.empty()) opts.identity_sources.emplace_back(one);
    if (comma == std::string_view::npos) break;
    sources.remove_prefix(comma + 1);
  }
  opts.validation_expression = a.identity_validation_expression;
  opts.result_ttl = std::chrono::seconds(std::clamp(a.result_ttl_seconds.value_or(300), 0, 3600));
  return opts;
}
}  // namespace

std::map<std::string, Authorizer, std::less<>> make_authorizers(const rest_api_model& api,
                                                                const openapi_options& o,
                                                                build_report& report) {
  std::map<std::string, Authorizer, std::less<>> out;
  for (const auto& a : api.authorizers) {
    try {
      if (auto bound = o.authorizers.find(a.name); bound != o.authorizers.end()) {
        out.emplace(a.name, bound->second);
      } else if (a.type == "COGNITO_USER_POOLS") {
        out.emplace(a.name, cognito(a, o));
      } else if (auto h = o.authorizer_handlers.find(a.name); h != o.authorizer_handlers.end()) {
        out.emplace(a.name, Authorizer(custom_options(a), h->second));
      } else if (auto f = lambda_authorizer_function(a.authorizer_uri, o)) {
        out.emplace(a.name, Authorizer::lambda(custom_options(a), *f));
      } else {
        // Nobody answers for it: requests that reach it get 500, as AWS answers when the
        // authorizer's Lambda function cannot be called.
        report.unbound_authorizers.push_back(a.name);
        std::string name = a.name;
        out.emplace(
            a.name,
            Authorizer(custom_options(a), [name](const authorizer_request&) -> authorizer_result {
              throw std::runtime_error("authorizer '" + name + "' is not bound");
            }));
      }
    } catch (const config_error& e) {
      throw config_error(fmt::format("Unable to create authorizer '{}': {}", a.name, e.what()));
    }
  }
  return out;
}

}  // namespace gatehouse::spec
