#pragma once

// Comma-separated files as spreadsheets and AWS's consoles write them: fields quoted with " or '
// (a doubled quote inside stands for one, quotes may hold commas and line breaks), CRLF or LF,
// an optional byte-order mark, unquoted fields trimmed, blank lines skipped.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::util {

struct csv_record {
  std::size_t line = 0;  // where the record starts, 1 = the first line
  std::vector<std::string> fields;
};

/// Splits `text` into records of fields; syntax problems are appended to `errors` as
/// "line N: …", and the records are still returned as far as they could be read.
std::vector<csv_record> split_csv(std::string_view text, std::vector<std::string>& errors);

}  // namespace gatehouse::util
