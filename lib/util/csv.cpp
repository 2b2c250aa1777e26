#include "util/csv.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace gatehouse::util {

std::vector<csv_record> split_csv(std::string_view text, std::vector<std::string>& errors) {
  std::vector<csv_record> out;
  std::size_t line = 1, i = 0;
  if (text.starts_with("\xEF\xBB\xBF")) i = 3;  // a byte-order mark, as spreadsheets write
  while (i < text.size()) {
    csv_record r{line, {}};
    std::string field;
    bool done = false;
    while (!done) {
      // One field.
      while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
      field.clear();
      if (i < text.size() && (text[i] == '"' || text[i] == '\'')) {
        const char q = text[i++];
        bool closed = false;
        while (i < text.size()) {
          if (text[i] == q) {
            if (i + 1 < text.size() && text[i + 1] == q) {
              field.push_back(q);
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          if (text[i] == '\n') ++line;
          field.push_back(text[i++]);
        }
        if (!closed) errors.push_back(fmt::format("line {}: a quoted field is not closed", r.line));
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
        if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          errors.push_back(fmt::format("line {}: text after a closing quote", line));
          while (i < text.size() && text[i] != ',' && text[i] != '\n') ++i;
        }
      } else {
        std::size_t start = i;
        while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') ++i;
        field = std::string(trim_blanks(text.substr(start, i - start)));
      }
      r.fields.push_back(std::move(field));
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < text.size() && text[i] == '\r') ++i;
      if (i < text.size() && text[i] == '\n') ++i;
      ++line;
      done = true;
    }
    bool blank = std::all_of(r.fields.begin(), r.fields.end(),
                             [](const std::string& f) { return f.empty(); });
    if (!blank) out.push_back(std::move(r));
  }
  return out;
}

}  // namespace gatehouse::util
