#include "usage/api_key_csv.hpp"
#include "util/text.hpp"

#include "util/csv.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <unordered_map>

namespace gatehouse::usage {

namespace {
std::optional<bool> parse_bool(std::string_view s) {
  auto l = util::ascii_lower(s);
  if (l.empty() || l == "true") return true;
  if (l == "false") return false;
  return std::nullopt;
}
}  // namespace

bool valid_key_value(std::string_view v, std::size_t min) noexcept {
  return v.size() >= min && v.size() <= 128 && std::all_of(v.begin(), v.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c));
         });
}

csv_key_file parse_key_csv(std::string_view text) {
  csv_key_file file;
  auto records = util::split_csv(text, file.errors);
  if (records.empty()) {
    file.errors.push_back("line 1: no header row (Name,Key,Description,Enabled,UsagePlanIds)");
    return file;
  }
  int col_name = -1, col_key = -1, col_description = -1, col_enabled = -1, col_plans = -1;
  const auto& header = records.front();
  for (std::size_t c = 0; c < header.fields.size(); ++c) {
    auto h = util::ascii_lower(util::trim_blanks(header.fields[c]));
    int* col = h == "name"           ? &col_name
               : h == "key"          ? &col_key
               : h == "description"  ? &col_description
               : h == "enabled"      ? &col_enabled
               : h == "usageplanids" ? &col_plans
                                     : nullptr;
    if (!col) continue;  // unknown columns are ignored, as AWS does
    if (*col >= 0)
      file.errors.push_back(fmt::format("line {}: column '{}' appears twice", header.line, h));
    *col = static_cast<int>(c);
  }
  if (col_name < 0 || col_key < 0) {
    file.errors.push_back(
        fmt::format("line {}: the header row needs the columns Name and Key (found: {})",
                    header.line, fmt::join(header.fields, ",")));
    return file;
  }

  auto field = [](const util::csv_record& r, int col) -> std::string_view {
    return col >= 0 && static_cast<std::size_t>(col) < r.fields.size()
               ? std::string_view(r.fields[col])
               : std::string_view{};
  };
  std::unordered_map<std::string_view, std::size_t> seen;  // key → first line
  for (std::size_t i = 1; i < records.size(); ++i) {
    const auto& r = records[i];
    csv_key_row row;
    row.line = r.line;
    row.name = std::string(field(r, col_name));
    row.key = std::string(field(r, col_key));
    row.description = std::string(field(r, col_description));
    std::vector<std::string> problems;
    if (r.fields.size() > header.fields.size())
      problems.push_back(
          fmt::format("{} fields where the header has {}", r.fields.size(), header.fields.size()));
    if (row.name.empty()) problems.push_back("no Name");
    if (row.name.size() > 1024) problems.push_back("a Name longer than 1024 characters");
    if (row.key.empty())
      problems.push_back("no Key");
    else if (!valid_key_value(row.key, 30))
      problems.push_back("the Key must be 30 to 128 letters and digits");
    if (auto e = parse_bool(field(r, col_enabled)))
      row.enabled = *e;
    else
      problems.push_back(fmt::format("Enabled is '{}' (use true or false)", field(r, col_enabled)));
    std::string_view plans = field(r, col_plans);
    while (!plans.empty()) {
      auto comma = plans.find(',');
      auto id = util::trim_blanks(plans.substr(0, comma));
      plans = comma == std::string_view::npos ? std::string_view{} : plans.substr(comma + 1);
      if (!id.empty()) row.plan_ids.emplace_back(id);
    }
    if (!row.key.empty()) {
      auto [at, fresh] = seen.emplace(field(r, col_key), r.line);
      if (!fresh) problems.push_back(fmt::format("the same Key as line {}", at->second));
    }
    if (!problems.empty())
      file.errors.push_back(fmt::format("line {}: {}", r.line, fmt::join(problems, "; ")));
    else
      file.rows.push_back(std::move(row));
  }
  std::sort(file.errors.begin(), file.errors.end(), [](const std::string& a, const std::string& b) {
    auto num = [](const std::string& s) { return std::stoul(s.substr(5)); };
    return num(a) < num(b);
  });
  return file;
}

}  // namespace gatehouse::usage
