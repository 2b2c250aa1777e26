#include "spec/document.hpp"

#include "util/json_parse.hpp"
#include "util/json_text.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

namespace gatehouse::spec {

void read_document(std::string_view text, rapidjson::Document& doc) {
  // AWS answers every document it cannot read with these words alone; the reason follows them
  // here, for the person who has to fix the document.
  auto invalid = [](std::string_view why) {
    throw config_error(fmt::format("Invalid OpenAPI input. ({})", why));
  };
  if (text.size() > max_document_bytes)
    invalid(fmt::format("the document is larger than {} bytes, AWS's limit", max_document_bytes));
  // A UTF-8 byte order mark is allowed before either form.
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  if (!util::valid_utf8(text)) invalid("the document is not UTF-8 text");
  auto first = text.find_first_not_of(" \t\r\n");
  std::string json_error;
  if (first != std::string_view::npos && (text[first] == '{' || text[first] == '[')) {
    auto parsed = util::parse_json<rapidjson::kParseValidateEncodingFlag>(doc, text);
    if (parsed) {
      if (!doc.IsObject()) invalid("the document is not an object");
      return;
    }
    json_error = fmt::format("JSON at offset {}: {}", parsed.offset, parsed.message());
  }
  // Not JSON: YAML (of which JSON is nearly a subset, so a broken JSON document is reported as
  // JSON, the form it was meant to be in).
  std::string why;
  if (!yaml_to_json(text, doc, &why)) invalid(json_error.empty() ? "YAML " + why : json_error);
  if (!doc.IsObject()) invalid(json_error.empty() ? "the document is not an object" : json_error);
}

}  // namespace gatehouse::spec
