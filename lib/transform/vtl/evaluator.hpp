#pragma once

// The state of one evaluation, shared by the evaluator (evaluator.cpp) and the
// methods that values answer (methods.cpp).

#include "transform/vtl/ast.hpp"
#include "transform/vtl/mapping_template.hpp"
#include "transform/vtl/value.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::transform::vtl {

struct eval_state {
  eval_state(const template_data& tpl, const template_environment& env, template_result& result)
      : tpl(tpl), env(env), result(result), slots(tpl.slot_count) {}

  const template_data& tpl;
  const template_environment& env;
  template_result& result;
  arena mem;
  std::vector<value> slots;        // the template's variables
  std::vector<loop_state*> loops;  // active #foreach loops, innermost last
  std::string scratch;             // for template_environment::context
  std::size_t steps = 0;
  bool stopped = false;   // #stop, or a limit: render nothing more
  bool breaking = false;  // #break: leave the innermost loop

  // The body as JSON, parsed at most once, on first use.
  enum class body_state : std::uint8_t { unparsed, json, not_json } body = body_state::unparsed;
  const rapidjson::Value* body_root = nullptr;
  value params;  // $input.params(), built on first use

  /// Counts one unit of work; false (and stops) once a limit is passed.
  bool step() {
    if (++steps > mapping_template::max_steps ||
        mem.string_bytes() > mapping_template::max_string_bytes) {
      hit_limit();
      return false;
    }
    return !stopped;
  }
  void hit_limit() {
    stopped = true;
    result.limit_exceeded = true;
  }
  /// Keeps a string made during evaluation; the view lives as long as the
  /// evaluation.
  value make_string(std::string&& s) { return value::of_string(mem.keep(std::move(s))); }
};

/// `target.name`: a map's entry, a JSON object's member, $foreach's
/// hasNext/index/count/…
value get_property(eval_state& st, const value& target, std::string_view name);
/// `target[index]`: a list's element (from 0), a map's or JSON object's entry.
value get_index(eval_state& st, const value& target, const value& index);
/// `target.name(args)`: Java's String, List and Map methods the templates use.
value call_method(eval_state& st, const value& target, std::string_view name,
                  std::span<const value> args);
/// $input.json / .path / .params and $util.* (in evaluator.cpp).
value call_builtin(eval_state& st, const value& target, std::string_view name,
                   std::span<const value> args);
/// $stageVariables as a map (for .keySet(), .get(), iteration).
value stage_variables_map(eval_state& st);
/// Renders `v` as Java's toString would; null as "null".
std::string_view as_text(eval_state& st, const value& v);

}  // namespace gatehouse::transform::vtl
