#pragma once

// The values a template computes with, and the arena of one evaluation that owns them. A value
// is trivially copyable: strings are views (into the template, the request, a parsed JSON
// document or the arena), lists and maps point into the arena, JSON objects and arrays into a
// document the evaluation parsed. Nothing outlives the evaluation.

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::transform::vtl {

struct list_data;
struct map_data;
struct loop_state;

enum class value_kind : std::uint8_t {
  null,
  boolean,
  integer,
  real,
  string,
  list,   // a list the template made, or one JSONPath selected several values into
  map,    // a map the template made ({…}, $input.params())
  json,   // a JSON object or array of the body or of $util.parseJson (read-only)
  input,  // $input
  util,   // $util
  loop,   // $foreach
};

struct value {
  value_kind kind = value_kind::null;
  union {
    bool boolean;
    std::int64_t integer;
    double real;
    list_data* list;
    map_data* map;
    const rapidjson::Value* json;
    const loop_state* loop;
  };
  std::string_view text;  // for strings

  value() : integer(0) {}
  static value of_bool(bool b) {
    value v;
    v.kind = value_kind::boolean;
    v.boolean = b;
    return v;
  }
  static value of_int(std::int64_t i) {
    value v;
    v.kind = value_kind::integer;
    v.integer = i;
    return v;
  }
  static value of_real(double d) {
    value v;
    v.kind = value_kind::real;
    v.real = d;
    return v;
  }
  static value of_string(std::string_view s) {
    value v;
    v.kind = value_kind::string;
    v.text = s;
    return v;
  }
  static value of_list(list_data* l) {
    value v;
    v.kind = value_kind::list;
    v.list = l;
    return v;
  }
  static value of_map(map_data* m) {
    value v;
    v.kind = value_kind::map;
    v.map = m;
    return v;
  }
  static value of_kind(value_kind k) {
    value v;
    v.kind = k;
    return v;
  }

  bool is_null() const { return kind == value_kind::null; }
  bool is_number() const { return kind == value_kind::integer || kind == value_kind::real; }
  bool is_string() const { return kind == value_kind::string; }
  double as_double() const { return kind == value_kind::integer ? double(integer) : real; }
  bool is_json_object() const { return kind == value_kind::json && json->IsObject(); }
  bool is_json_array() const { return kind == value_kind::json && json->IsArray(); }
};

struct list_data {
  std::vector<value> items;
};

/// Insertion-ordered, as Java's LinkedHashMap; keys are strings (other keys are rendered).
struct map_data {
  std::vector<std::pair<std::string_view, value>> entries;
  const value* find(std::string_view key) const {
    for (const auto& [k, v] : entries)
      if (k == key) return &v;
    return nullptr;
  }
  value* find(std::string_view key) {
    for (auto& [k, v] : entries)
      if (k == key) return &v;
    return nullptr;
  }
};

/// An active #foreach, as $foreach sees it.
struct loop_state {
  std::size_t index = 0;  // 0-based
  std::size_t size = 0;
};

/// Owns what one evaluation makes. Counts the bytes of strings so a template cannot grow
/// memory without bound.
class arena {
 public:
  std::string_view keep(std::string&& s) {
    bytes_ += s.size();
    return strings_.emplace_back(std::move(s));
  }
  std::string_view keep(std::string_view s) { return keep(std::string(s)); }
  list_data* new_list() { return &lists_.emplace_back(); }
  map_data* new_map() { return &maps_.emplace_back(); }
  rapidjson::Document& new_document() { return documents_.emplace_back(); }
  std::size_t string_bytes() const { return bytes_; }

 private:
  std::deque<std::string> strings_;
  std::deque<list_data> lists_;
  std::deque<map_data> maps_;
  std::deque<rapidjson::Document> documents_;
  std::size_t bytes_ = 0;
};

/// Nesting deeper than this (JSON documents, collections) is not followed; JSON text nested
/// deeper is treated as not JSON.
constexpr int max_value_depth = 512;

/// A JSON value as a template value: scalars become scalars, objects and arrays stay views.
value from_json(const rapidjson::Value& j);

/// Appends what Java's toString() gives: 5, 2.5, true, text, [1, 2], {a=1, b=x}. null: "null".
void render(const value& v, std::string& out, int depth = 0);
/// Appends a double as Java's Double.toString does: 5.0, 249.99, 1.0E10, 1.0E-4.
void append_java_double(std::string& out, double d);
/// Appends `v` as JSON text (compact; doubles as Java prints them).
void append_json(std::string& out, const rapidjson::Value& v, int depth = 0);
/// Appends a template value as JSON text (lists, maps, strings quoted, null as null).
void append_json(std::string& out, const value& v, int depth = 0);

/// #if's test (Velocity 1.7): null and false are false, anything else is true.
bool truthy(const value& v);
/// Velocity's ==: numbers by value, same kinds by value, otherwise by their toString().
bool equal(const value& a, const value& b);
/// Velocity's <, >, …: numbers only (anything else compares false). -1, 0, 1; 2 when unordered.
int compare(const value& a, const value& b);

/// The number of elements of a list, JSON array/object or map; -1 for anything else.
std::int64_t collection_size(const value& v);

}  // namespace gatehouse::transform::vtl
