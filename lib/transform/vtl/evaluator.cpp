// Evaluating a parsed template: directives, expressions, references, and AWS's
// built-in objects $input, $context, $stageVariables and $util.

#include "transform/vtl/evaluator.hpp"

#include "util/json_text.hpp"

#include <gatehouse/config_error.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

namespace gatehouse::transform::vtl {

namespace {

// ------------------------------------------------------------------------
// expressions

value eval_expr(eval_state& st, const expr& e);
value eval_reference(eval_state& st, const reference& r);
void eval_block(eval_state& st, const block& b, std::string& out);

// Method arguments, without allocating for the usual few.
struct arguments {
  std::array<value, 4> small;
  std::vector<value> more;
  std::span<const value> view;
  arguments(eval_state& st, const std::vector<expr_ptr>& exprs) {
    if (exprs.size() <= small.size()) {
      for (std::size_t i = 0; i < exprs.size(); ++i) small[i] = eval_expr(st, *exprs[i]);
      view = std::span<const value>(small.data(), exprs.size());
    } else {
      for (const auto& e : exprs) more.push_back(eval_expr(st, *e));
      view = more;
    }
  }
};

value arithmetic(eval_state& st, binary_op op, const value& a, const value& b) {
  if (op == binary_op::add && (a.is_string() || b.is_string()) && !a.is_null() && !b.is_null()) {
    std::string s(as_text(st, a));
    s += as_text(st, b);
    return st.make_string(std::move(s));
  }
  if (!a.is_number() || !b.is_number()) return value{};
  if (a.kind == value_kind::integer && b.kind == value_kind::integer) {
    const std::int64_t x = a.integer, y = b.integer;
    std::int64_t r = 0;
    switch (op) {
      case binary_op::add:
        if (!__builtin_add_overflow(x, y, &r)) return value::of_int(r);
        return value::of_real(double(x) + double(y));
      case binary_op::sub:
        if (!__builtin_sub_overflow(x, y, &r)) return value::of_int(r);
        return value::of_real(double(x) - double(y));
      case binary_op::mul:
        if (!__builtin_mul_overflow(x, y, &r)) return value::of_int(r);
        return value::of_real(double(x) * double(y));
      case binary_op::div:
        if (y == 0) return value{};  // Velocity: division by zero is null
        if (x == std::numeric_limits<std::int64_t>::min() && y == -1)
          return value::of_real(-double(x));
        return value::of_int(x / y);
      case binary_op::mod:
        if (y == 0) return value{};
        if (y == -1) return value::of_int(0);
        return value::of_int(x % y);
      default:
        return value{};
    }
  }
  const double x = a.as_double(), y = b.as_double();
  switch (op) {
    case binary_op::add:
      return value::of_real(x + y);
    case binary_op::sub:
      return value::of_real(x - y);
    case binary_op::mul:
      return value::of_real(x * y);
    case binary_op::div:
      return y == 0 ? value{} : value::of_real(x / y);
    case binary_op::mod:
      return y == 0 ? value{} : value::of_real(std::fmod(x, y));
    default:
      return value{};
  }
}

value eval_binary(eval_state& st, const expr& e) {
  const value a = eval_expr(st, *e.items[0]);
  switch (e.op) {
    case binary_op::logical_or:
      return value::of_bool(truthy(a) || truthy(eval_expr(st, *e.items[1])));
    case binary_op::logical_and:
      return value::of_bool(truthy(a) && truthy(eval_expr(st, *e.items[1])));
    default:
      break;
  }
  const value b = eval_expr(st, *e.items[1]);
  switch (e.op) {
    case binary_op::eq:
      return value::of_bool(equal(a, b));
    case binary_op::ne:
      return value::of_bool(!equal(a, b));
    case binary_op::lt:
      return value::of_bool(compare(a, b) == -1);
    case binary_op::gt:
      return value::of_bool(compare(a, b) == 1);
    case binary_op::le: {
      const int c = compare(a, b);
      return value::of_bool(c == -1 || c == 0);
    }
    case binary_op::ge: {
      const int c = compare(a, b);
      return value::of_bool(c == 1 || c == 0);
    }
    default:
      return arithmetic(st, e.op, a, b);
  }
}

value eval_expr(eval_state& st, const expr& e) {
  if (!st.step()) return value{};
  switch (e.kind) {
    case expr_kind::string:
      return value::of_string(e.text);
    case expr_kind::interpolated: {
      std::string s;
      eval_block(st, e.parts, s);
      return st.make_string(std::move(s));
    }
    case expr_kind::integer:
      return value::of_int(e.integer);
    case expr_kind::real:
      return value::of_real(e.real);
    case expr_kind::boolean:
      return value::of_bool(e.boolean);
    case expr_kind::null:
      return value{};
    case expr_kind::list: {
      list_data* l = st.mem.new_list();
      l->items.reserve(e.items.size());
      for (const auto& item : e.items) l->items.push_back(eval_expr(st, *item));
      return value::of_list(l);
    }
    case expr_kind::range: {
      const value from = eval_expr(st, *e.items[0]), to = eval_expr(st, *e.items[1]);
      if (from.kind != value_kind::integer || to.kind != value_kind::integer) return value{};
      list_data* l = st.mem.new_list();
      const std::int64_t step = from.integer <= to.integer ? 1 : -1;
      for (std::int64_t i = from.integer;; i += step) {
        if (!st.step()) break;
        l->items.push_back(value::of_int(i));
        if (i == to.integer) break;
      }
      return value::of_list(l);
    }
    case expr_kind::map: {
      map_data* m = st.mem.new_map();
      for (std::size_t i = 0; i + 1 < e.items.size(); i += 2) {
        const value k = eval_expr(st, *e.items[i]);
        const value v = eval_expr(st, *e.items[i + 1]);
        const std::string_view key = as_text(st, k);
        if (value* existing = m->find(key)) {
          *existing = v;
        } else {
          m->entries.emplace_back(key, v);
        }
      }
      return value::of_map(m);
    }
    case expr_kind::ref:
      return eval_reference(st, *e.ref);
    case expr_kind::negate: {
      const value v = eval_expr(st, *e.items[0]);
      if (v.kind == value_kind::integer && v.integer != std::numeric_limits<std::int64_t>::min())
        return value::of_int(-v.integer);
      if (v.is_number()) return value::of_real(-v.as_double());
      return value{};
    }
    case expr_kind::logical_not:
      return value::of_bool(!truthy(eval_expr(st, *e.items[0])));
    case expr_kind::binary:
      return eval_binary(st, e);
  }
  return value{};
}

// ------------------------------------------------------------------------
// references

// The name an index or property segment gives a dotted $context/$stageVariables
// name.
bool segment_name(eval_state& st, const segment& seg, std::string_view& name) {
  if (seg.type == segment::kind::property) {
    name = seg.name;
    return true;
  }
  if (seg.type == segment::kind::index) {
    const value k = eval_expr(st, *seg.args[0]);
    if (k.is_null()) return false;
    name = as_text(st, k);
    return true;
  }
  return false;
}

bool is_override(std::string_view name) {
  return name.starts_with("requestOverride.") || name.starts_with("responseOverride.");
}

std::vector<std::pair<std::string, std::string>>* override_list(eval_state& st,
                                                                std::string_view& name) {
  for (const auto& [prefix, list] :
       {std::pair<std::string_view, std::vector<std::pair<std::string, std::string>>*>{
            "requestOverride.header.", &st.result.header_overrides},
        {"responseOverride.header.", &st.result.header_overrides},
        {"requestOverride.querystring.", &st.result.querystring_overrides},
        {"requestOverride.path.", &st.result.path_overrides}}) {
    if (name.starts_with(prefix)) {
      name.remove_prefix(prefix.size());
      return list;
    }
  }
  return nullptr;
}

value context_value(eval_state& st, std::string_view name) {
  if (is_override(name)) {  // what the template itself set
    if (name == "responseOverride.status")
      return st.result.status_override ? value::of_int(*st.result.status_override) : value{};
    if (const auto* list = override_list(st, name))
      for (const auto& [k, v] : *list)
        if (k == name) return value::of_string(v);
    return value{};
  }
  st.scratch.clear();
  if (!st.env.context(name, st.scratch)) return value{};
  return st.make_string(std::string(st.scratch));
}

value apply_segments(eval_state& st, value v, const std::vector<segment>& segments,
                     std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to && !v.is_null(); ++i) {
    const segment& seg = segments[i];
    switch (seg.type) {
      case segment::kind::property:
        v = get_property(st, v, seg.name);
        break;
      case segment::kind::index:
        v = get_index(st, v, eval_expr(st, *seg.args[0]));
        break;
      case segment::kind::method: {
        const arguments args(st, seg.args);
        v = call_method(st, v, seg.name, args.view);
        break;
      }
    }
  }
  return v;
}

// The root's value and the first segment not yet applied.
value eval_root(eval_state& st, const reference& r, std::size_t& next) {
  next = 0;
  switch (r.root) {
    case root_kind::variable:
      return st.slots[r.slot];
    case root_kind::input:
      return value::of_kind(value_kind::input);
    case root_kind::util:
      return value::of_kind(value_kind::util);
    case root_kind::foreach_loop: {
      if (st.loops.empty()) return value{};
      value v = value::of_kind(value_kind::loop);
      v.loop = st.loops.back();
      return v;
    }
    case root_kind::velocity_count:
      return st.loops.empty()
                 ? value{}
                 : value::of_int(static_cast<std::int64_t>(st.loops.back()->index + 1));
    case root_kind::stage_variables: {
      std::string_view name;
      if (!r.segments.empty() && segment_name(st, r.segments[0], name)) {
        next = 1;
        const auto v = st.env.stage_variable(name);
        return v ? value::of_string(*v) : value{};
      }
      return stage_variables_map(st);
    }
    case root_kind::context: {
      std::string dotted;
      std::string_view name;
      while (next < r.segments.size() && segment_name(st, r.segments[next], name)) {
        if (!dotted.empty()) dotted += '.';
        dotted += name;
        ++next;
      }
      return dotted.empty() ? value{} : context_value(st, dotted);
    }
  }
  return value{};
}

value eval_reference(eval_state& st, const reference& r) {
  std::size_t next = 0;
  const value root = eval_root(st, r, next);
  return apply_segments(st, root, r.segments, next, r.segments.size());
}

// ------------------------------------------------------------------------
// directives

void set_override(eval_state& st, std::string_view name, const value& v) {
  if (v.is_null()) return;
  if (name == "responseOverride.status") {
    std::int64_t status = 0;
    if (v.kind == value_kind::integer) {
      status = v.integer;
    } else {
      const std::string_view text = as_text(st, v);
      if (std::from_chars(text.data(), text.data() + text.size(), status).ec != std::errc{}) return;
    }
    if (status >= 100 && status <= 599) st.result.status_override = static_cast<int>(status);
    return;
  }
  auto* list = override_list(st, name);
  if (list == nullptr || name.empty()) return;
  const std::string_view text = as_text(st, v);
  for (auto& [k, existing] : *list) {
    if (k == name) {
      existing.assign(text);
      return;
    }
  }
  list->emplace_back(std::string(name), std::string(text));
}

void eval_set(eval_state& st, const node& n) {
  const reference& target = *n.ref;
  const value v = eval_expr(st, *n.value);
  if (target.root == root_kind::context) {
    std::string dotted;
    std::string_view name;
    for (const segment& seg : target.segments) {
      if (!segment_name(st, seg, name)) return;
      if (!dotted.empty()) dotted += '.';
      dotted += name;
    }
    if (is_override(dotted)) set_override(st, dotted, v);
    return;  // the rest of $context is read-only
  }
  if (target.root != root_kind::variable) return;
  if (target.segments.empty()) {
    if (!v.is_null()) st.slots[target.slot] = v;  // Velocity 1.7 leaves the variable as it was
    return;
  }
  const value base =
      apply_segments(st, st.slots[target.slot], target.segments, 0, target.segments.size() - 1);
  const segment& last = target.segments.back();
  if (last.type == segment::kind::method) return;
  value key = value::of_string(last.name);
  if (last.type == segment::kind::index) key = eval_expr(st, *last.args[0]);
  if (base.kind == value_kind::map) {
    const std::string_view k = as_text(st, key);
    if (value* existing = base.map->find(k)) {
      *existing = v;
    } else {
      base.map->entries.emplace_back(k, v);
    }
  } else if (base.kind == value_kind::list && key.kind == value_kind::integer && key.integer >= 0 &&
             static_cast<std::size_t>(key.integer) < base.list->items.size()) {
    base.list->items[static_cast<std::size_t>(key.integer)] = v;
  }
}

void eval_foreach(eval_state& st, const node& n, std::string& out) {
  const value collection = eval_expr(st, *n.value);
  loop_state loop;
  loop.size =
      collection_size(collection) < 0 ? 0 : static_cast<std::size_t>(collection_size(collection));
  if (loop.size > mapping_template::max_foreach_iterations) {
    loop.size = mapping_template::max_foreach_iterations;  // AWS's limit: the rest is
                                                           // not rendered
    st.result.limit_exceeded = true;
  }
  if (loop.size == 0) return;
  const std::uint32_t slot = n.ref->slot;
  const value saved = st.slots[slot];
  st.loops.push_back(&loop);
  for (std::size_t i = 0; i < loop.size && !st.stopped; ++i) {
    if (!st.step()) break;
    loop.index = i;
    value item;
    switch (collection.kind) {
      case value_kind::list:
        if (i >= collection.list->items.size()) break;
        item = collection.list->items[i];
        break;
      case value_kind::map:
        if (i >= collection.map->entries.size()) break;
        item = collection.map->entries[i].second;
        break;
      default:
        item = collection.json->IsArray()
                   ? from_json((*collection.json)[static_cast<rapidjson::SizeType>(i)])
                   : from_json(
                         (collection.json->MemberBegin() + static_cast<std::ptrdiff_t>(i))->value);
    }
    st.slots[slot] = item;
    eval_block(st, n.body, out);
    if (st.breaking) {
      st.breaking = false;
      break;
    }
  }
  st.loops.pop_back();
  st.slots[slot] = saved;
}

void eval_node(eval_state& st, const node& n, std::string& out) {
  switch (n.kind) {
    case node_kind::text:
      out += n.text;
      break;
    case node_kind::ref: {
      const value v = eval_reference(st, *n.ref);
      if (!v.is_null()) {
        render(v, out);
      } else if (!n.ref->quiet && n.ref->root == root_kind::variable) {
        out += n.ref->source;  // Velocity renders an unset reference as written
      }
      break;
    }
    case node_kind::set:
      eval_set(st, n);
      break;
    case node_kind::if_chain:
      for (const auto& [condition, body] : n.branches) {
        if (!condition || truthy(eval_expr(st, *condition))) {
          eval_block(st, body, out);
          break;
        }
      }
      break;
    case node_kind::foreach:
      eval_foreach(st, n, out);
      break;
    case node_kind::break_loop:
      st.breaking = true;
      break;
    case node_kind::stop:
      st.stopped = true;
      break;
  }
}

void eval_block(eval_state& st, const block& b, std::string& out) {
  for (const node& n : b) {
    if (st.stopped || st.breaking || !st.step()) return;
    eval_node(st, n, out);
    if (out.size() > mapping_template::max_output_bytes) {
      out.resize(mapping_template::max_output_bytes);
      st.hit_limit();
      return;
    }
  }
}

}  // namespace

std::string_view as_text(eval_state& st, const value& v) {
  if (v.kind == value_kind::string) return v.text;
  std::string s;
  render(v, s);
  return st.mem.keep(std::move(s));
}

}  // namespace gatehouse::transform::vtl

namespace gatehouse::transform {

mapping_template::mapping_template(std::shared_ptr<const vtl::template_data> data) noexcept
    : data_(std::move(data)) {}

mapping_template mapping_template::parse(std::string_view text, std::string_view name) {
  auto data = std::make_shared<vtl::template_data>();
  data->name = std::string(name);
  if (text.size() > max_template_bytes)
    throw config_error("mapping template '" + data->name + "': larger than 300 KB (AWS's limit)");
  data->source = std::string(text);
  vtl::parse_template(*data);
  return mapping_template(std::move(data));
}

std::string_view mapping_template::name() const noexcept { return data_->name; }

void mapping_template::evaluate(const template_environment& env, template_result& result) const {
  result.output.clear();
  result.status_override.reset();
  result.header_overrides.clear();
  result.querystring_overrides.clear();
  result.path_overrides.clear();
  result.limit_exceeded = false;
  result.output.reserve(data_->source.size() + env.body().size() / 2 + 64);
  vtl::eval_state st(*data_, env, result);
  vtl::eval_block(st, data_->root, result.output);
  // A template's output is text (a Java string at AWS): client bytes that are not UTF-8
  // ($input.body, $input.params(), $context.identity.userAgent, …) come out as U+FFFD.
  util::make_valid_utf8(result.output);
  // Each byte made U+FFFD takes three: the limit holds for the text as sent, cut before the
  // first character that does not fit whole.
  if (result.output.size() > max_output_bytes) {
    std::size_t cut = max_output_bytes;
    while (cut > 0 && (static_cast<unsigned char>(result.output[cut]) & 0xC0) == 0x80) --cut;
    result.output.resize(cut);
    result.limit_exceeded = true;
  }
}

template_result mapping_template::evaluate(const template_environment& env) const {
  template_result result;
  evaluate(env, result);
  return result;
}

}  // namespace gatehouse::transform
