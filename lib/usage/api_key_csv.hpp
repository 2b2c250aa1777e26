#pragma once

// AWS's API key import file: a header row naming the columns (Name and Key required;
// Description, Enabled, UsagePlanIds optional; any order and case; others ignored), then one
// key per row. Fields may be quoted with " or ' (a doubled quote inside stands for one).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::usage {

struct csv_key_row {
  std::size_t line = 0;  // where the row starts, 1 = the header
  std::string name;
  std::string key;
  std::string description;
  bool enabled = true;
  std::vector<std::string> plan_ids;
};

struct csv_key_file {
  std::vector<csv_key_row> rows;
  std::vector<std::string> errors;  // "line 3: …", in line order
};

/// Parses and checks the file's syntax and fields (plan ids are checked by the caller).
csv_key_file parse_key_csv(std::string_view text);

/// True for 20–128 (or `min`–128) ASCII letters and digits, as AWS requires of key values.
bool valid_key_value(std::string_view value, std::size_t min = 20) noexcept;

}  // namespace gatehouse::usage
