// JSONPath over RapidJSON documents, and parsing JSON with a nesting bound.

#include "transform/vtl/json_path.hpp"
#include "util/json_parse.hpp"

#include "transform/vtl/value.hpp"
#include "util/json_ref.hpp"

#include <charconv>
#include <cstdint>
#include <string>

namespace gatehouse::transform::vtl {

namespace {

using matches = std::vector<const rapidjson::Value*>;

void children(const rapidjson::Value& v, matches& out) {
  if (v.IsArray()) {
    for (const auto& e : v.GetArray()) out.push_back(&e);
  } else if (v.IsObject()) {
    for (const auto& m : v.GetObject()) out.push_back(&m.value);
  }
}

// `v` and everything below it, in document order (depth bounded by parse_json).
void descendants(const rapidjson::Value& v, matches& out, int depth) {
  out.push_back(&v);
  if (depth > max_value_depth) return;
  if (v.IsArray()) {
    for (const auto& e : v.GetArray()) descendants(e, out, depth + 1);
  } else if (v.IsObject()) {
    for (const auto& m : v.GetObject()) descendants(m.value, out, depth + 1);
  }
}

void member(const matches& in, std::string_view name, matches& out) {
  for (const rapidjson::Value* v : in) {
    if (!v->IsObject()) continue;
    const auto it = v->FindMember(rapidjson::Value(util::json_ref(name)));
    if (it != v->MemberEnd()) out.push_back(&it->value);
  }
}

bool parse_int(std::string_view s, std::int64_t& n) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return false;
  const auto res = std::from_chars(s.data(), s.data() + s.size(), n);
  return res.ec == std::errc{} && res.ptr == s.data() + s.size();
}

void element(const matches& in, std::int64_t index, matches& out) {
  for (const rapidjson::Value* v : in) {
    if (!v->IsArray()) continue;
    const auto size = static_cast<std::int64_t>(v->Size());
    const std::int64_t i = index < 0 ? size + index : index;
    if (i >= 0 && i < size) out.push_back(&(*v)[static_cast<rapidjson::SizeType>(i)]);
  }
}

// The inside of [...]: names, indices, a slice or '*'.
bool bracket(std::string_view inside, const matches& in, matches& out, bool& definite) {
  while (!inside.empty() && inside.front() == ' ') inside.remove_prefix(1);
  while (!inside.empty() && inside.back() == ' ') inside.remove_suffix(1);
  if (inside == "*") {
    definite = false;
    for (const rapidjson::Value* v : in) children(*v, out);
    return true;
  }
  if (inside.empty() || inside.front() == '?' || inside.front() == '(') return false;
  if (inside.front() == '\'' || inside.front() == '"') {
    std::size_t count = 0;
    while (!inside.empty()) {
      const char quote = inside.front();
      if (quote != '\'' && quote != '"') return false;
      const std::size_t close = inside.find(quote, 1);
      if (close == std::string_view::npos) return false;
      member(in, inside.substr(1, close - 1), out);
      ++count;
      inside.remove_prefix(close + 1);
      while (!inside.empty() && inside.front() == ' ') inside.remove_prefix(1);
      if (inside.empty()) break;
      if (inside.front() != ',') return false;
      inside.remove_prefix(1);
      while (!inside.empty() && inside.front() == ' ') inside.remove_prefix(1);
    }
    if (count > 1) definite = false;
    return true;
  }
  if (const std::size_t colon = inside.find(':'); colon != std::string_view::npos) {
    definite = false;
    std::int64_t start = 0, end = INT64_MAX;
    const std::string_view a = inside.substr(0, colon), b = inside.substr(colon + 1);
    if (a.find_first_not_of(' ') != std::string_view::npos && !parse_int(a, start)) return false;
    if (b.find_first_not_of(' ') != std::string_view::npos && !parse_int(b, end)) return false;
    for (const rapidjson::Value* v : in) {
      if (!v->IsArray()) continue;
      const auto size = static_cast<std::int64_t>(v->Size());
      std::int64_t from =
          start < 0 ? std::max<std::int64_t>(0, size + start) : std::min(start, size);
      std::int64_t to = end < 0 ? std::max<std::int64_t>(0, size + end) : std::min(end, size);
      for (std::int64_t i = from; i < to; ++i)
        out.push_back(&(*v)[static_cast<rapidjson::SizeType>(i)]);
    }
    return true;
  }
  std::size_t count = 0;
  while (!inside.empty()) {
    const std::size_t comma = inside.find(',');
    std::int64_t index = 0;
    if (!parse_int(inside.substr(0, comma), index)) return false;
    element(in, index, out);
    ++count;
    if (comma == std::string_view::npos) break;
    inside.remove_prefix(comma + 1);
  }
  if (count > 1) definite = false;
  return true;
}

bool name_char(char c) { return c != '.' && c != '[' && c != ' '; }

}  // namespace

bool parse_json(std::string_view text, rapidjson::Document& doc) {
  return static_cast<bool>(util::parse_json(doc, text, static_cast<unsigned>(max_value_depth)));
}

bool select_json_path(std::string_view path, const rapidjson::Value& root, json_path_result& out) {
  out.definite = true;
  out.matches.clear();
  while (!path.empty() && path.front() == ' ') path.remove_prefix(1);
  while (!path.empty() && path.back() == ' ') path.remove_suffix(1);
  std::string owned;
  if (path.empty() || path.front() != '$') {
    owned = path.empty() || path.front() == '[' || path.front() == '.' ? "$" : "$.";
    owned += path;
    path = owned;
  }
  matches current{&root}, next;
  std::size_t i = 1;
  while (i < path.size()) {
    next.clear();
    bool deep = false;
    if (path[i] == '.') {
      ++i;
      if (i < path.size() && path[i] == '.') {
        deep = true;
        out.definite = false;
        ++i;
        matches all;
        for (const rapidjson::Value* v : current) descendants(*v, all, 0);
        current.swap(all);
      }
      if (i >= path.size()) return false;
      if (path[i] == '[') {
        if (!deep) return false;
        continue;  // "..[…]": the bracket applies to every descendant
      }
      if (path[i] == '*') {
        out.definite = false;
        ++i;
        for (const rapidjson::Value* v : current) children(*v, next);
      } else {
        const std::size_t start = i;
        while (i < path.size() && name_char(path[i])) ++i;
        if (i == start) return false;
        member(current, path.substr(start, i - start), next);
      }
    } else if (path[i] == '[') {
      // The matching ']' outside quotes.
      std::size_t j = i + 1;
      char quote = 0;
      for (; j < path.size(); ++j) {
        if (quote) {
          if (path[j] == quote) quote = 0;
        } else if (path[j] == '\'' || path[j] == '"') {
          quote = path[j];
        } else if (path[j] == ']') {
          break;
        }
      }
      if (j >= path.size()) return false;
      if (!bracket(path.substr(i + 1, j - i - 1), current, next, out.definite)) return false;
      i = j + 1;
    } else {
      return false;
    }
    current.swap(next);
  }
  out.matches = std::move(current);
  return true;
}

}  // namespace gatehouse::transform::vtl
