#pragma once

// Reading an OpenAPI document: JSON or YAML text into one RapidJSON DOM, within limits that no
// document can get past (size, nesting, YAML aliases that expand), so that what walks the DOM
// afterwards runs on a bounded stack and in bounded memory.

#include <rapidjson/document.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace gatehouse::spec {

/// AWS's limit on an imported definition.
inline constexpr std::size_t max_document_bytes = 6 * 1024 * 1024;
/// What a YAML document may expand to through its aliases: values, and bytes of text.
inline constexpr std::size_t max_yaml_values = 2'000'000;
inline constexpr std::size_t max_yaml_text_bytes = 64 * 1024 * 1024;

/// Parses `text` (JSON, else YAML) into `doc`. Throws config_error with AWS's "Invalid OpenAPI
/// input." when it is neither, is too large, or is not an object at the top.
void read_document(std::string_view text, rapidjson::Document& doc);

/// Converts the first YAML document of `text` into `doc`: plain scalars typed as YAML 1.1 does
/// (SnakeYAML, what AWS's Java importer reads YAML with: true/yes/on, 12, 1.5, null/~), quoted
/// ones as strings, keys always as text, aliases copied. False, with the reason in `why`, for
/// malformed YAML, complex keys, nesting deeper than util::max_json_depth, or aliases that
/// expand past max_yaml_values / max_yaml_text_bytes.
bool yaml_to_json(std::string_view text, rapidjson::Document& doc, std::string* why);

}  // namespace gatehouse::spec
