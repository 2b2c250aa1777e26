// Printing an export: JSON as AWS's exporter prints it (Jackson's DefaultPrettyPrinter: objects
// one member a line, "key" : value, arrays inline, "{ }" and "[ ]" when empty, '/' and non-ASCII
// unescaped), and YAML through yaml-cpp's emitter.

#include "spec/export.hpp"

#include <yaml-cpp/emitter.h>
#include <yaml-cpp/emittermanip.h>

#include <algorithm>
#include <cctype>

namespace gatehouse::spec {

namespace {
void quoted(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  out.push_back('"');
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 15]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void indent(std::string& out, int level) {
  out.push_back('\n');
  out.append(static_cast<std::size_t>(level) * 2, ' ');
}

// `level` counts the objects around the value: arrays are inline and add none (Jackson's
// FixedSpaceIndenter).
void print(std::string& out, const json& v, int level) {
  if (v.IsObject()) {
    if (v.MemberCount() == 0) return void(out += "{ }");
    out.push_back('{');
    bool first = true;
    for (const auto& m : v.GetObject()) {
      if (!first) out.push_back(',');
      first = false;
      indent(out, level + 1);
      quoted(out, view(m.name));
      out += " : ";
      print(out, m.value, level + 1);
    }
    indent(out, level);
    out.push_back('}');
  } else if (v.IsArray()) {
    if (v.Empty()) return void(out += "[ ]");
    out += "[ ";
    bool first = true;
    for (const auto& e : v.GetArray()) {
      if (!first) out += ", ";
      first = false;
      print(out, e, level);
    }
    out += " ]";
  } else if (v.IsString()) {
    quoted(out, view(v));
  } else {
    out += json_text(v);  // numbers, booleans, null
  }
}

// Keys that a YAML 1.1 reader would not read back as the same text: numbers, booleans, nulls.
bool needs_quotes(std::string_view key) {
  if (key.empty()) return true;
  static constexpr std::string_view words[] = {"y",   "n",    "yes",   "no",   "on",
                                               "off", "true", "false", "null", "~"};
  std::string lower(key);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (std::find(std::begin(words), std::end(words), lower) != std::end(words)) return true;
  const char c = key.front();
  return std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.';
}

void emit(YAML::Emitter& e, const json& v) {
  // Empty ones inline ("content: {}"), as a block has nothing to hold.
  if (v.IsObject() && v.ObjectEmpty())
    return void(e << YAML::Flow << YAML::BeginMap << YAML::EndMap);
  if (v.IsArray() && v.Empty()) return void(e << YAML::Flow << YAML::BeginSeq << YAML::EndSeq);
  if (v.IsObject()) {
    e << YAML::BeginMap;
    for (const auto& m : v.GetObject()) {
      const std::string key(view(m.name));
      e << YAML::Key;
      if (needs_quotes(key)) e << YAML::DoubleQuoted;
      e << key << YAML::Value;
      emit(e, m.value);
    }
    e << YAML::EndMap;
  } else if (v.IsArray()) {
    e << YAML::BeginSeq;
    for (const auto& x : v.GetArray()) emit(e, x);
    e << YAML::EndSeq;
  } else if (v.IsString()) {
    e << YAML::DoubleQuoted << std::string(view(v));
  } else if (v.IsNull()) {
    e << YAML::Null;
  } else {
    e << json_text(v);  // numbers and booleans, plain
  }
}
}  // namespace

std::string print_json(const json& v) {
  std::string out;
  print(out, v, 0);
  return out;
}

std::string print_yaml(const json& v) {
  YAML::Emitter e;
  e.SetIndent(2);
  e << YAML::BeginDoc;
  emit(e, v);
  std::string out = e.c_str();
  out.push_back('\n');
  return out;
}

}  // namespace gatehouse::spec
