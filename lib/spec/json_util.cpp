#include "spec/json_util.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>

namespace gatehouse::spec {

std::optional<std::string> scalar_text(const json& v) {
  if (v.IsString()) return std::string(view(v));
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsNumber()) return json_text(v);
  return std::nullopt;
}

bool truthy(const json* v) {
  if (!v) return false;
  if (v->IsBool()) return v->GetBool();
  if (!v->IsString()) return false;
  const auto s = view(*v);
  return s.size() == 4 && (s[0] == 't' || s[0] == 'T') && (s[1] == 'r' || s[1] == 'R') &&
         (s[2] == 'u' || s[2] == 'U') && (s[3] == 'e' || s[3] == 'E');
}

std::optional<std::int64_t> integer_of(const json& v) {
  if (v.IsInt64()) return v.GetInt64();
  if (v.IsDouble()) {
    const double d = v.GetDouble();
    if (d >= -9e18 && d <= 9e18 && d == static_cast<double>(static_cast<std::int64_t>(d)))
      return static_cast<std::int64_t>(d);
    return std::nullopt;
  }
  if (!v.IsString()) return std::nullopt;
  const auto s = view(v);
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return out;
}

std::vector<std::string> string_list(const json* v) {
  std::vector<std::string> out;
  if (v && v->IsArray()) {
    for (const auto& e : v->GetArray())
      if (auto t = scalar_text(e)) out.push_back(std::move(*t));
  } else if (v && v->IsString()) {
    out.emplace_back(view(*v));
  }
  return out;
}

std::string json_text(const json& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace gatehouse::spec
