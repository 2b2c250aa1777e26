#pragma once

// The syntax tree of a parsed mapping template. Built once by the parser, read (never written)
// by every evaluation, from any thread.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::transform::vtl {

struct expr;
struct node;
using expr_ptr = std::unique_ptr<expr>;
using block = std::vector<node>;

/// What a reference starts from: a template variable or one of AWS's built-in objects.
enum class root_kind : std::uint8_t {
  variable,         // $name (a slot of the evaluation)
  input,            // $input
  context,          // $context
  util,             // $util
  stage_variables,  // $stageVariables
  foreach_loop,     // $foreach (the innermost loop)
  velocity_count,   // $velocityCount (the innermost loop's count)
};

/// One step after the root: `.name`, `.name(args)` or `[index]`.
struct segment {
  enum class kind : std::uint8_t { property, method, index };
  kind type = kind::property;
  std::string name;            // property or method name
  std::vector<expr_ptr> args;  // method arguments; for an index, the one index expression
};

/// `$root.seg…`, `${…}` or `$!…`.
struct reference {
  root_kind root = root_kind::variable;
  bool quiet = false;        // $!x: renders "" when null
  std::uint32_t slot = 0;    // for root_kind::variable
  std::uint32_t offset = 0;  // where the '$' is in the source
  std::string name;          // the root's name
  std::vector<segment> segments;
  std::string_view source;  // the reference as written, rendered when its value is null
};

enum class expr_kind : std::uint8_t {
  string,        // 'text' or "text" without references
  interpolated,  // "text with $refs"
  integer,
  real,
  boolean,
  null,
  list,   // [a, b]
  range,  // [a..b]
  map,    // {k: v}: items hold key, value, key, value, …
  ref,
  negate,       // -x
  logical_not,  // !x, not x
  binary,
};

enum class binary_op : std::uint8_t {
  logical_or,
  logical_and,
  eq,
  ne,
  lt,
  gt,
  le,
  ge,
  add,
  sub,
  mul,
  div,
  mod
};

struct expr {
  expr_kind kind = expr_kind::null;
  binary_op op = binary_op::eq;
  bool boolean = false;
  std::int64_t integer = 0;
  double real = 0;
  std::string text;             // string literal
  block parts;                  // interpolated string
  std::vector<expr_ptr> items;  // list, range (2), map (pairs), unary (1), binary (2)
  std::unique_ptr<reference> ref;
};

enum class node_kind : std::uint8_t { text, ref, set, if_chain, foreach, break_loop, stop };

struct node {
  node_kind kind = node_kind::text;
  std::uint32_t offset = 0;
  std::string text;                                  // text
  std::unique_ptr<reference> ref;                    // ref; set's target; foreach's variable
  expr_ptr value;                                    // set's value; foreach's collection
  std::vector<std::pair<expr_ptr, block>> branches;  // if/elseif (condition) … else (null)
  block body;                                        // foreach
};

/// A parsed template: what mapping_template shares between copies and threads.
struct template_data {
  std::string name;
  std::string source;  // references' `source` views point in here
  block root;
  std::uint32_t slot_count = 0;
};

/// Parses `data.source` into `data.root`; throws config_error with line and column.
void parse_template(template_data& data);

}  // namespace gatehouse::transform::vtl
