#include "integration/proxy_response.hpp"

#include "util/json_text.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <fmt/format.h>

#include <array>

namespace gatehouse {

namespace {
// RFC 9110 token characters, as a table: this runs for every header of every result.
constexpr auto token_chars = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

bool valid_field_name(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!token_chars[c]) return false;
  return true;
}
bool valid_field_value(std::string_view s) noexcept {
  for (unsigned char c : s)
    if ((c < 32 && c != '\t') || c == 127) return false;
  return true;
}

// Headers a proxy integration may not set; AWS renames them x-amzn-Remapped-<name>.
constexpr std::array<std::string_view, 4> remapped = {"Connection", "Content-Length", "Date",
                                                      "Server"};
}  // namespace

namespace detail {

bool to_response(proxy_result&& r, payload_format format, response& out, std::string& why) {
  if (r.status_code < 100 || r.status_code > 599) {
    why = fmt::format("statusCode {} is not an HTTP status", r.status_code);
    return false;
  }
  out.status = r.status_code;
  out.headers.reserve(r.headers.size() + r.cookies.size() + 2);  // + Content-Type, request id
  bool has_type = false;
  for (auto& f : r.headers) {
    if (!valid_field_name(f.name) || !valid_field_value(f.value)) {
      why = fmt::format("header '{}' is not a valid HTTP field", f.name);
      return false;
    }
    if (iequals(f.name, "transfer-encoding")) continue;
    if (iequals(f.name, "content-type")) has_type = true;
    bool remap = false;
    if (f.name.size() >= 4 && f.name.size() <= 14)  // the lengths of the remapped names
      for (auto name : remapped) remap = remap || iequals(f.name, name);
    if (remap)
      out.headers.add("x-amzn-Remapped-" + f.name, std::move(f.value));
    else
      out.headers.add(std::move(f.name), std::move(f.value));
  }
  for (auto& c : r.cookies) {
    if (!valid_field_value(c)) {
      why = "a cookie is not a valid Set-Cookie value";
      return false;
    }
    out.headers.add("Set-Cookie", std::move(c));
  }
  // API Gateway answers application/json when the integration names no content type.
  if (!has_type) out.headers.add("Content-Type", "application/json");
  if (r.is_base64_encoded) {
    if (!util::base64_decode(r.body, out.body)) {
      why = "isBase64Encoded is true but the body is not base64";
      return false;
    }
  } else {
    out.body = std::move(r.body);
  }
  (void)format;
  return true;
}

}  // namespace detail

std::optional<proxy_result> proxy_result::from_json(std::string_view json, payload_format format,
                                                    std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<proxy_result> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  rapidjson::Document doc;
  // Iterative: a result nested a million levels deep must not exhaust the stack.
  doc.Parse<rapidjson::kParseStopWhenDoneFlag | rapidjson::kParseIterativeFlag>(json.data(),
                                                                                json.size());
  if (doc.HasParseError())
    return fail(fmt::format("not JSON ({} at offset {})",
                            rapidjson::GetParseError_En(doc.GetParseError()),
                            doc.GetErrorOffset()));

  const bool v2 = format == payload_format::v2;
  // HTTP API 2.0: valid JSON without a statusCode is taken as the body of a 200 answer.
  if (v2 && (!doc.IsObject() || !doc.HasMember("statusCode"))) {
    proxy_result r;
    r.headers.add("Content-Type", "application/json");
    r.body = std::string(json);
    return r;
  }
  if (!doc.IsObject()) return fail("the result is not a JSON object");
  if (doc.HasMember("errorMessage")) return fail("the function returned an error object");

  proxy_result r;
  const rapidjson::Value* multi = nullptr;  // multiValueHeaders win over headers, in any order
  if (!v2 && doc.HasMember("multiValueHeaders") && doc["multiValueHeaders"].IsObject())
    multi = &doc["multiValueHeaders"];
  for (auto& m : doc.GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    auto& v = m.value;
    if (key == "statusCode") {
      if (!v.IsInt()) return fail("statusCode is not an integer");
      r.status_code = v.GetInt();
    } else if (key == "headers") {
      if (v.IsNull()) continue;
      if (!v.IsObject()) return fail("headers is not an object");
      for (auto& h : v.GetObject()) {
        std::string name(h.name.GetString(), h.name.GetStringLength());
        if (multi && multi->HasMember(h.name)) continue;
        if (h.value.IsString())
          r.headers.add(name, std::string(h.value.GetString(), h.value.GetStringLength()));
        else if (h.value.IsBool())
          r.headers.add(name, h.value.GetBool() ? "true" : "false");
        else if (v2 && h.value.IsNumber())
          r.headers.add(name, h.value.IsInt64() ? std::to_string(h.value.GetInt64())
                                                : std::to_string(h.value.GetDouble()));
        else
          return fail(fmt::format("header '{}' is not a string", name));
      }
    } else if (key == "multiValueHeaders" && !v2) {
      if (v.IsNull()) continue;
      if (!v.IsObject()) return fail("multiValueHeaders is not an object");
      for (auto& h : v.GetObject()) {
        std::string name(h.name.GetString(), h.name.GetStringLength());
        if (!h.value.IsArray())
          return fail(fmt::format("multiValueHeaders '{}' is not a list", name));
        for (auto& item : h.value.GetArray()) {
          if (item.IsString())
            r.headers.add(name, std::string(item.GetString(), item.GetStringLength()));
          else if (item.IsBool())
            r.headers.add(name, item.GetBool() ? "true" : "false");
          else
            return fail(fmt::format("multiValueHeaders '{}' holds a non-string", name));
        }
      }
    } else if (key == "cookies" && v2) {
      if (v.IsNull()) continue;
      if (!v.IsArray()) return fail("cookies is not a list");
      for (auto& c : v.GetArray()) {
        if (!c.IsString()) return fail("a cookie is not a string");
        r.cookies.emplace_back(c.GetString(), c.GetStringLength());
      }
    } else if (key == "body") {
      if (v.IsNull()) continue;
      if (!v.IsString()) return fail("body is not a string");
      r.body.assign(v.GetString(), v.GetStringLength());
    } else if (key == "isBase64Encoded") {
      if (!v.IsBool()) return fail("isBase64Encoded is not a boolean");
      r.is_base64_encoded = v.GetBool();
    } else {
      return fail(fmt::format("unknown field '{}'", key));
    }
  }
  return r;
}

}  // namespace gatehouse
