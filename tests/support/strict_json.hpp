#pragma once

// A strict JSON check for tests: RFC 8259 text whose strings are UTF-8 (RapidJSON with encoding
// validation; its default parse already refuses comments, NaN, trailing commas and raw control
// characters), one value and nothing after it but whitespace.

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <string>
#include <string_view>

namespace test {

/// Why `text` is not strict JSON, or "" when it is; `out` (when given) receives the value.
inline std::string json_error(std::string_view text, rapidjson::Document* out = nullptr) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (doc.HasParseError())
    return std::string(rapidjson::GetParseError_En(doc.GetParseError())) + " at byte " +
           std::to_string(doc.GetErrorOffset());
  if (out) out->Swap(doc);
  return {};
}

/// The value of `text` as a string member `name` of an object ("" when absent).
inline std::string json_member(std::string_view text, const char* name) {
  rapidjson::Document doc;
  if (!json_error(text, &doc).empty() || !doc.IsObject() || !doc.HasMember(name) ||
      !doc[name].IsString())
    return {};
  return {doc[name].GetString(), doc[name].GetStringLength()};
}

}  // namespace test
