#pragma once

// A JSON Schema (draft 4, as AWS's models) compiled into a graph of nodes, and the check of a
// parsed instance against it. The check walks the instance once per node that applies to each
// value, never recursing deeper than the instance (whose depth util::parse_json bounds), and
// stops at a budget of work proportional to the body's size, so that no schema and no body can
// make it take more than linear time. The graph is immutable once made: checks on many threads
// share it.

#include <rapidjson/document.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::validate {

using json = rapidjson::Value;

/// A `pattern` (or a patternProperties name), already rewritten for RapidJSON's linear-time
/// matcher (rewrite_pattern). That matcher keeps its state in the compiled pattern, so each
/// thread compiles the patterns it runs, once.
class schema_pattern {
 public:
  explicit schema_pattern(std::string rewritten);
  /// Whether the pattern matches somewhere in `s` (NUL-terminated: a string's \u0000 ends it).
  bool search(const char* s) const;

 private:
  std::string source_;
  std::uint64_t id_;  // never reused: names this pattern in the threads' caches
};

/// One schema object, its keywords compiled.
struct schema_node {
  enum type_bit : unsigned {
    t_null = 1,
    t_boolean = 2,
    t_object = 4,
    t_array = 8,
    t_number = 16,
    t_string = 32,
    t_integer = 64
  };
  struct property {
    std::string_view name;
    const schema_node* schema;
  };
  struct pattern_property {
    const schema_pattern* pattern;
    const schema_node* schema;
  };
  struct dependency {
    std::string_view name;
    const schema_node* schema = nullptr;  // a schema dependency, or
    const json* names = nullptr;          // the members the name requires (an array of strings)
  };

  const json* raw = nullptr;          // the schema object, for messages
  const schema_node* ref = nullptr;   // "$ref": then the other keywords are not used
  unsigned types = 0;                 // 0: any
  const json* enum_values = nullptr;  // an array
  // numbers
  const json* minimum = nullptr;
  const json* maximum = nullptr;
  bool exclusive_minimum = false;
  bool exclusive_maximum = false;
  std::optional<double> multiple_of;
  // strings
  std::optional<std::uint64_t> min_length, max_length;
  const schema_pattern* pattern = nullptr;
  // arrays
  const schema_node* items = nullptr;           // one schema for every element, or
  std::vector<const schema_node*> tuple_items;  // one per position ("items": [ … ])
  bool tuple = false;
  bool additional_items_allowed = true;
  const schema_node* additional_items = nullptr;
  std::optional<std::uint64_t> min_items, max_items;
  bool unique_items = false;
  // objects
  std::vector<property> properties;  // sorted by name
  std::vector<pattern_property> pattern_properties;
  bool additional_properties_allowed = true;
  const schema_node* additional_properties = nullptr;
  const json* required = nullptr;  // an array of strings
  std::optional<std::uint64_t> min_properties, max_properties;
  std::vector<dependency> dependencies;
  // combinations
  std::vector<const schema_node*> all_of, any_of, one_of;
  const schema_node* not_schema = nullptr;
};

/// Where a check failed: the schema, its keyword and the value it refused.
struct schema_failure {
  const schema_node* schema = nullptr;
  std::string_view keyword;
  const json* instance = nullptr;
  bool over_budget = false;  // the check gave up: too much work for the body's size
};

/// The nodes of one model's schema and of the schemas it reaches in other models' documents.
class schema_graph {
 public:
  /// Finds the document of another model by name (for "$ref"s to other models); null if none.
  using document_lookup = std::function<const json*(std::string_view model_name)>;

  /// Compiles `root` (a schema object). Throws config_error naming `model_name` for a $ref that
  /// leads nowhere or only to itself, a pattern the matcher cannot run, or an unknown type.
  schema_graph(const json& root, std::string model_name, const document_lookup& other_documents);
  schema_graph(const schema_graph&) = delete;
  schema_graph& operator=(const schema_graph&) = delete;

  const schema_node& root() const noexcept { return *root_; }

  /// Checks `instance`, doing at most `budget` node visits. True when the schema accepts it;
  /// otherwise false, with the first failure in `failure` when given.
  bool check(const json& instance, std::size_t budget, schema_failure* failure) const;

 private:
  struct builder;
  std::deque<schema_node> nodes_;
  std::deque<schema_pattern> patterns_;
  const schema_node* root_ = nullptr;
};

/// AWS's validator's words for a failure ("object has missing required properties
/// ([\"price\"])"), as $context.error.validationErrorString shows them inside [ ].
std::string describe(const schema_failure& failure);

}  // namespace gatehouse::validate
