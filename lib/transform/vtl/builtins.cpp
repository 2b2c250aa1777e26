// AWS's built-in objects: $input (the body through JSONPath, the parameters)
// and $util.

#include "transform/vtl/evaluator.hpp"
#include "transform/vtl/json_path.hpp"
#include "transform/vtl/util_functions.hpp"

#include <string>
#include <utility>
#include <vector>

namespace gatehouse::transform::vtl {

namespace {

// ------------------------------------------------------------------------
// $input and the body

void ensure_body(eval_state& st) {
  if (st.body != eval_state::body_state::unparsed) return;
  std::string_view text = st.env.body();
  const bool blank = text.find_first_not_of(" \t\r\n") == std::string_view::npos;
  rapidjson::Document& doc = st.mem.new_document();
  // An empty body reads as {} (what AWS's templates see for a GET).
  if (parse_json(blank ? std::string_view("{}") : text, doc)) {
    st.body = eval_state::body_state::json;
    st.body_root = &doc;
  } else {
    st.body = eval_state::body_state::not_json;
  }
}

bool is_root_path(std::string_view path) {
  while (!path.empty() && path.front() == ' ') path.remove_prefix(1);
  while (!path.empty() && path.back() == ' ') path.remove_suffix(1);
  return path == "$" || path.empty();
}

value input_json(eval_state& st, std::string_view path) {
  ensure_body(st);
  std::string out;
  if (st.body == eval_state::body_state::not_json) {
    // A body that is not JSON: '$' is the body as a JSON string, anything else
    // selects nothing.
    if (!is_root_path(path)) return value::of_string("\"\"");
    append_json(out, value::of_string(st.env.body()));
    return st.make_string(std::move(out));
  }
  json_path_result selected;
  if (!select_json_path(path, *st.body_root, selected)) return value::of_string("\"\"");
  if (selected.definite) {
    if (selected.matches.empty()) return value::of_string("\"\"");
    append_json(out, *selected.matches.front());
  } else {
    out += '[';
    for (std::size_t i = 0; i < selected.matches.size(); ++i) {
      if (i) out += ',';
      append_json(out, *selected.matches[i]);
    }
    out += ']';
  }
  return st.make_string(std::move(out));
}

value input_path(eval_state& st, std::string_view path) {
  ensure_body(st);
  if (st.body == eval_state::body_state::not_json)
    return is_root_path(path) ? value::of_string(st.env.body()) : value{};
  json_path_result selected;
  if (!select_json_path(path, *st.body_root, selected)) return value{};
  if (selected.definite)
    return selected.matches.empty() ? value{} : from_json(*selected.matches.front());
  list_data* list = st.mem.new_list();
  list->items.reserve(selected.matches.size());
  for (const rapidjson::Value* m : selected.matches) list->items.push_back(from_json(*m));
  return value::of_list(list);
}

map_data* pairs_map(eval_state& st,
                    const std::vector<std::pair<std::string_view, std::string_view>>& pairs) {
  map_data* m = st.mem.new_map();
  for (const auto& [k, v] : pairs) {
    if (value* existing = m->find(k)) {
      *existing = value::of_string(v);
    } else {
      m->entries.emplace_back(k, value::of_string(v));
    }
  }
  return m;
}

value input_params(eval_state& st) {
  if (st.params.kind == value_kind::map) return st.params;
  map_data* all = st.mem.new_map();
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  constexpr std::pair<param_kind, std::string_view> kinds[] = {
      {param_kind::path, "path"},
      {param_kind::querystring, "querystring"},
      {param_kind::header, "header"}};
  for (const auto& [kind, name] : kinds) {
    pairs.clear();
    st.env.params(kind, pairs);
    all->entries.emplace_back(name, value::of_map(pairs_map(st, pairs)));
  }
  st.params = value::of_map(all);
  return st.params;
}

}  // namespace

value stage_variables_map(eval_state& st) {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  st.env.stage_variables(pairs);
  return value::of_map(pairs_map(st, pairs));
}

namespace {

value call_util(eval_state& st, std::string_view name, std::span<const value> args) {
  if (args.size() != 1 || args[0].is_null()) return value{};
  const std::string_view in = as_text(st, args[0]);
  std::string out;
  if (name == "escapeJavaScript") {
    escape_javascript(in, out);
  } else if (name == "parseJson") {
    rapidjson::Document& doc = st.mem.new_document();
    if (!parse_json(in, doc)) return value{};
    return from_json(doc);
  } else if (name == "urlEncode") {
    url_encode(in, out);
  } else if (name == "urlDecode") {
    if (!url_decode(in, out)) return value{};
  } else if (name == "base64Encode") {
    base64_encode(in, out);
  } else if (name == "base64Decode") {
    if (!base64_decode(in, out)) return value{};
  } else {
    return value{};
  }
  return st.make_string(std::move(out));
}

}  // namespace

value call_builtin(eval_state& st, const value& target, std::string_view name,
                   std::span<const value> args) {
  if (target.kind == value_kind::util) return call_util(st, name, args);
  // $input
  if (name == "json" || name == "path") {
    if (args.size() != 1 || args[0].is_null()) return value{};
    const std::string_view path = as_text(st, args[0]);
    return name == "json" ? input_json(st, path) : input_path(st, path);
  }
  if (name == "params") {
    if (args.empty()) return input_params(st);
    if (args.size() != 1 || args[0].is_null()) return value{};
    const auto v = st.env.param(as_text(st, args[0]));
    return value::of_string(v ? *v : std::string_view{});
  }
  return value{};
}

}  // namespace gatehouse::transform::vtl
