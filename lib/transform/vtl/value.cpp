// Template values: Java's rendering (toString, Double.toString), JSON text, and Velocity's
// truth, equality and ordering.

#include "transform/vtl/value.hpp"
#include "util/json_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace gatehouse::transform::vtl {

value from_json(const rapidjson::Value& j) {
  switch (j.GetType()) {
    case rapidjson::kNullType:
      return value{};
    case rapidjson::kFalseType:
      return value::of_bool(false);
    case rapidjson::kTrueType:
      return value::of_bool(true);
    case rapidjson::kStringType:
      return value::of_string({j.GetString(), j.GetStringLength()});
    case rapidjson::kNumberType:
      if (j.IsInt64()) return value::of_int(j.GetInt64());
      return value::of_real(j.GetDouble());
    default: {
      value v;
      v.kind = value_kind::json;
      v.json = &j;
      return v;
    }
  }
}

void append_java_double(std::string& out, double d) {
  if (std::isnan(d)) {
    out += "NaN";
    return;
  }
  if (std::isinf(d)) {
    out += d < 0 ? "-Infinity" : "Infinity";
    return;
  }
  if (d == 0) {
    out += std::signbit(d) ? "-0.0" : "0.0";
    return;
  }
  // The shortest digits that read back as `d`, then Java's layout of them.
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<std::size_t>(res.ptr - buf));  // -d.ddde+XX
  const bool negative = sci.front() == '-';
  if (negative) sci.remove_prefix(1);
  const std::size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e))
    if (c != '.') digits += c;
  const int exponent = std::atoi(std::string(sci.substr(e + 1)).c_str());
  if (negative) out += '-';
  if (exponent >= -3 && exponent < 7) {
    if (exponent >= 0) {
      const std::size_t int_len = static_cast<std::size_t>(exponent) + 1;
      if (digits.size() <= int_len) {
        out += digits;
        out.append(int_len - digits.size(), '0');
        out += ".0";
      } else {
        out.append(digits, 0, int_len);
        out += '.';
        out.append(digits, int_len);
      }
    } else {
      out += "0.";
      out.append(static_cast<std::size_t>(-exponent - 1), '0');
      out += digits;
    }
    return;
  }
  out += digits[0];
  out += '.';
  if (digits.size() > 1) {
    out.append(digits, 1);
  } else {
    out += '0';
  }
  out += 'E';
  out += std::to_string(exponent);
}

namespace {

void append_int(std::string& out, std::int64_t i) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, res.ptr);
}

void append_json_number(std::string& out, const rapidjson::Value& v) {
  if (v.IsInt64()) {
    append_int(out, v.GetInt64());
  } else if (v.IsUint64()) {
    out += std::to_string(v.GetUint64());
  } else {
    append_java_double(out, v.GetDouble());
  }
}

// Java's Map/List toString of a JSON object or array.
void render_json(const rapidjson::Value& j, std::string& out, int depth) {
  if (depth > max_value_depth) {
    out += j.IsArray() ? "[...]" : "{...}";
    return;
  }
  if (j.IsArray()) {
    out += '[';
    bool first = true;
    for (const auto& e : j.GetArray()) {
      if (!first) out += ", ";
      first = false;
      render(from_json(e), out, depth + 1);
    }
    out += ']';
  } else {
    out += '{';
    bool first = true;
    for (const auto& m : j.GetObject()) {
      if (!first) out += ", ";
      first = false;
      out.append(m.name.GetString(), m.name.GetStringLength());
      out += '=';
      render(from_json(m.value), out, depth + 1);
    }
    out += '}';
  }
}

}  // namespace

void render(const value& v, std::string& out, int depth) {
  switch (v.kind) {
    case value_kind::null:
      out += "null";
      break;
    case value_kind::boolean:
      out += v.boolean ? "true" : "false";
      break;
    case value_kind::integer:
      append_int(out, v.integer);
      break;
    case value_kind::real:
      append_java_double(out, v.real);
      break;
    case value_kind::string:
      out += v.text;
      break;
    case value_kind::json:
      render_json(*v.json, out, depth);
      break;
    case value_kind::list: {
      if (depth > max_value_depth) {
        out += "[...]";
        break;
      }
      out += '[';
      bool first = true;
      for (const value& e : v.list->items) {
        if (!first) out += ", ";
        first = false;
        render(e, out, depth + 1);
      }
      out += ']';
      break;
    }
    case value_kind::map: {
      if (depth > max_value_depth) {
        out += "{...}";
        break;
      }
      out += '{';
      bool first = true;
      for (const auto& [k, e] : v.map->entries) {
        if (!first) out += ", ";
        first = false;
        out += k;
        out += '=';
        render(e, out, depth + 1);
      }
      out += '}';
      break;
    }
    case value_kind::input:
      out += "$input";
      break;
    case value_kind::util:
      out += "$util";
      break;
    case value_kind::loop:
      out += "$foreach";
      break;
  }
}

void append_json(std::string& out, const rapidjson::Value& v, int depth) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      out += "null";
      break;
    case rapidjson::kFalseType:
      out += "false";
      break;
    case rapidjson::kTrueType:
      out += "true";
      break;
    case rapidjson::kNumberType:
      append_json_number(out, v);
      break;
    case rapidjson::kStringType:
      util::append_json_string(out, {v.GetString(), v.GetStringLength()});
      break;
    case rapidjson::kArrayType: {
      if (depth > max_value_depth) {
        out += "[]";
        break;
      }
      out += '[';
      bool first = true;
      for (const auto& e : v.GetArray()) {
        if (!first) out += ',';
        first = false;
        append_json(out, e, depth + 1);
      }
      out += ']';
      break;
    }
    case rapidjson::kObjectType: {
      if (depth > max_value_depth) {
        out += "{}";
        break;
      }
      out += '{';
      bool first = true;
      for (const auto& m : v.GetObject()) {
        if (!first) out += ',';
        first = false;
        util::append_json_string(out, {m.name.GetString(), m.name.GetStringLength()});
        out += ':';
        append_json(out, m.value, depth + 1);
      }
      out += '}';
      break;
    }
  }
}

void append_json(std::string& out, const value& v, int depth) {
  switch (v.kind) {
    case value_kind::null:
      out += "null";
      break;
    case value_kind::boolean:
    case value_kind::integer:
    case value_kind::real:
      render(v, out, depth);
      break;
    case value_kind::string:
      util::append_json_string(out, v.text);
      break;
    case value_kind::json:
      append_json(out, *v.json, depth);
      break;
    case value_kind::list: {
      out += '[';
      bool first = true;
      for (const value& e : v.list->items) {
        if (!first) out += ',';
        first = false;
        if (depth < max_value_depth) append_json(out, e, depth + 1);
      }
      out += ']';
      break;
    }
    case value_kind::map: {
      out += '{';
      bool first = true;
      for (const auto& [k, e] : v.map->entries) {
        if (!first) out += ',';
        first = false;
        util::append_json_string(out, k);
        out += ':';
        if (depth < max_value_depth) {
          append_json(out, e, depth + 1);
        } else {
          out += "null";
        }
      }
      out += '}';
      break;
    }
    default:
      out += "null";
      break;
  }
}

bool truthy(const value& v) {
  if (v.kind == value_kind::null) return false;
  if (v.kind == value_kind::boolean) return v.boolean;
  return true;
}

bool equal(const value& a, const value& b) {
  if (a.is_null() || b.is_null()) return a.is_null() && b.is_null();
  if (a.is_number() && b.is_number()) {
    if (a.kind == value_kind::integer && b.kind == value_kind::integer)
      return a.integer == b.integer;
    return a.as_double() == b.as_double();
  }
  if (a.kind == value_kind::string && b.kind == value_kind::string) return a.text == b.text;
  if (a.kind == value_kind::boolean && b.kind == value_kind::boolean) return a.boolean == b.boolean;
  if (a.kind == value_kind::json && b.kind == value_kind::json) return *a.json == *b.json;
  std::string left, right;
  render(a, left);
  render(b, right);
  return left == right;
}

int compare(const value& a, const value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.kind == value_kind::integer && b.kind == value_kind::integer)
      return a.integer < b.integer ? -1 : a.integer > b.integer ? 1 : 0;
    const double x = a.as_double(), y = b.as_double();
    if (std::isnan(x) || std::isnan(y)) return 2;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return 2;
}

std::int64_t collection_size(const value& v) {
  switch (v.kind) {
    case value_kind::list:
      return static_cast<std::int64_t>(v.list->items.size());
    case value_kind::map:
      return static_cast<std::int64_t>(v.map->entries.size());
    case value_kind::json:
      return v.json->IsArray() ? static_cast<std::int64_t>(v.json->Size())
                               : static_cast<std::int64_t>(v.json->MemberCount());
    default:
      return -1;
  }
}

}  // namespace gatehouse::transform::vtl
