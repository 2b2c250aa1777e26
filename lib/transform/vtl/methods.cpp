// What values answer: properties, indexing, and the Java String/List/Map methods that
// mapping templates call. Lengths and indices count bytes of UTF-8 (Java counts UTF-16 units:
// the same for ASCII).

#include "transform/vtl/evaluator.hpp"
#include "util/json_ref.hpp"
#include "util/regex.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <string>

namespace gatehouse::transform::vtl {

namespace {

// Regular expressions run on std::regex's breadth-first matcher (util/regex.hpp), whose time
// grows with the subject's length times the pattern's, times the subject's length again for a
// search: a client's string is the subject, so both are bounded (longer ones give null).
constexpr std::size_t max_regex_subject = 1024;
constexpr std::size_t max_regex_pattern = 256;

// A string being built may not outgrow what the evaluation may still keep: replacing every
// match of a short text by a long one multiplies lengths. Past it, the evaluation stops.
bool within_budget(eval_state& st, const std::string& building) {
  if (st.mem.string_bytes() + building.size() <= mapping_template::max_string_bytes) return true;
  st.hit_limit();
  return false;
}

bool int_arg(std::span<const value> args, std::size_t i, std::int64_t& out) {
  if (i >= args.size() || args[i].kind != value_kind::integer) return false;
  out = args[i].integer;
  return true;
}

// A pattern without regex syntax (after Java's `\x` escapes of punctuation) as its literal text.
bool literal_pattern(std::string_view pattern, std::string& literal) {
  literal.clear();
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      if (i + 1 >= pattern.size()) return false;
      const char next = pattern[++i];
      if ((next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') ||
          (next >= '0' && next <= '9'))
        return false;
      literal += next;
    } else if (std::string_view("^$.|?*+()[]{}").find(c) != std::string_view::npos) {
      return false;
    } else {
      literal += c;
    }
  }
  return !literal.empty();
}

// Java's replacement text: `\x` is x, `$0` the match; other groups only through std::regex.
std::string literal_replacement(std::string_view replacement, std::string_view match) {
  std::string out;
  for (std::size_t i = 0; i < replacement.size(); ++i) {
    if (replacement[i] == '\\' && i + 1 < replacement.size()) {
      out += replacement[++i];
    } else if (replacement[i] == '$' && i + 1 < replacement.size() && replacement[i + 1] == '0') {
      out += match;
      ++i;
    } else {
      out += replacement[i];
    }
  }
  return out;
}

// Java's replacement syntax in ECMAScript's: `\x` → x (a `$` doubled), `$n` kept.
std::string ecmascript_format(std::string_view replacement) {
  std::string out;
  for (std::size_t i = 0; i < replacement.size(); ++i) {
    if (replacement[i] == '\\' && i + 1 < replacement.size()) {
      const char c = replacement[++i];
      out += c;
      if (c == '$') out += '$';
    } else {
      out += replacement[i];
    }
  }
  return out;
}

value replace_all(eval_state& st, std::string_view s, std::string_view pattern,
                  std::string_view replacement, bool first_only) {
  std::string literal;
  if (literal_pattern(pattern, literal)) {
    const std::string with = literal_replacement(replacement, literal);
    std::string out;
    std::size_t from = 0;
    for (std::size_t at = s.find(literal); at != std::string_view::npos;
         at = s.find(literal, from)) {
      out.append(s.substr(from, at - from));
      out += with;
      from = at + literal.size();
      if (!within_budget(st, out)) return value{};
      if (first_only) break;
    }
    out.append(s.substr(from));
    return st.make_string(std::move(out));
  }
  if (s.size() > max_regex_subject || pattern.size() > max_regex_pattern) return value{};
  try {
    const std::regex re(pattern.begin(), pattern.end(), util::safe_regex_flags);
    std::string out;
    const auto flags =
        first_only ? std::regex_constants::format_first_only : std::regex_constants::format_default;
    std::regex_replace(std::back_inserter(out), s.begin(), s.end(), re,
                       ecmascript_format(replacement), flags);
    return st.make_string(std::move(out));
  } catch (const std::exception&) {
    return value{};
  }
}

value split(eval_state& st, std::string_view s, std::string_view pattern) {
  list_data* list = st.mem.new_list();
  std::string literal;
  if (literal_pattern(pattern, literal)) {
    std::size_t from = 0;
    for (std::size_t at = s.find(literal); at != std::string_view::npos;
         at = s.find(literal, from)) {
      if (!st.step()) break;
      list->items.push_back(value::of_string(s.substr(from, at - from)));
      from = at + literal.size();
    }
    list->items.push_back(value::of_string(s.substr(from)));
  } else {
    if (s.size() > max_regex_subject || pattern.size() > max_regex_pattern) return value{};
    try {
      const std::regex re(pattern.begin(), pattern.end(), util::safe_regex_flags);
      std::size_t from = 0;
      for (auto it = std::cregex_iterator(s.data(), s.data() + s.size(), re);
           it != std::cregex_iterator(); ++it) {
        const auto at = static_cast<std::size_t>(it->position(0));
        if (it->length(0) == 0) continue;
        list->items.push_back(value::of_string(s.substr(from, at - from)));
        from = at + static_cast<std::size_t>(it->length(0));
      }
      list->items.push_back(value::of_string(s.substr(from)));
    } catch (const std::exception&) {
      return value{};
    }
  }
  // Java drops trailing empty strings (all of them, when the input is not itself empty).
  while (list->items.size() > 1 && list->items.back().text.empty()) list->items.pop_back();
  if (!s.empty() && list->items.size() == 1 && list->items[0].text.empty()) list->items.clear();
  return value::of_list(list);
}

bool regex_matches(std::string_view s, std::string_view pattern, bool& result) {
  if (s.size() > max_regex_subject || pattern.size() > max_regex_pattern) return false;
  try {
    result = std::regex_match(s.begin(), s.end(),
                              std::regex(pattern.begin(), pattern.end(), util::safe_regex_flags));
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

std::string_view trim(std::string_view s) {  // Java's trim(): every char <= ' '
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= ' ') s.remove_prefix(1);
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ') s.remove_suffix(1);
  return s;
}

value string_method(eval_state& st, std::string_view s, std::string_view name,
                    std::span<const value> args) {
  const auto text_arg = [&](std::size_t i) { return as_text(st, args[i]); };
  const auto size = static_cast<std::int64_t>(s.size());
  if (args.empty()) {
    if (name == "length") return value::of_int(size);
    if (name == "isEmpty") return value::of_bool(s.empty());
    if (name == "trim") return value::of_string(trim(s));
    if (name == "toLowerCase" || name == "toUpperCase") {
      std::string out(s);
      const bool lower = name == "toLowerCase";
      for (char& c : out) {
        if (lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (!lower && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      }
      return st.make_string(std::move(out));
    }
    return value{};
  }
  for (const value& a : args)
    if (a.is_null()) return value{};  // Java would throw; Velocity renders the reference as written
  if (name == "substring") {
    std::int64_t begin = 0, end = size;
    if (!int_arg(args, 0, begin) || (args.size() > 1 && !int_arg(args, 1, end))) return value{};
    if (begin < 0 || end > size || begin > end) return value{};
    return value::of_string(
        s.substr(static_cast<std::size_t>(begin), static_cast<std::size_t>(end - begin)));
  }
  if (name == "charAt") {
    std::int64_t i = 0;
    if (!int_arg(args, 0, i) || i < 0 || i >= size) return value{};
    return value::of_string(s.substr(static_cast<std::size_t>(i), 1));
  }
  if (args.size() == 1) {
    const std::string_view a = text_arg(0);
    if (name == "contains") return value::of_bool(s.find(a) != std::string_view::npos);
    if (name == "startsWith") return value::of_bool(s.starts_with(a));
    if (name == "endsWith") return value::of_bool(s.ends_with(a));
    if (name == "equals") return value::of_bool(args[0].is_string() && s == a);
    if (name == "equalsIgnoreCase")
      return value::of_bool(std::equal(s.begin(), s.end(), a.begin(), a.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
      }));
    if (name == "indexOf") {
      const auto at = s.find(a);
      return value::of_int(at == std::string_view::npos ? -1 : static_cast<std::int64_t>(at));
    }
    if (name == "lastIndexOf") {
      const auto at = s.rfind(a);
      return value::of_int(at == std::string_view::npos ? -1 : static_cast<std::int64_t>(at));
    }
    if (name == "concat") {
      std::string out(s);
      out += a;
      return st.make_string(std::move(out));
    }
    if (name == "split") return split(st, s, a);
    if (name == "matches") {
      bool result = false;
      return regex_matches(s, a, result) ? value::of_bool(result) : value{};
    }
    return value{};
  }
  if (args.size() == 2) {
    const std::string_view a = text_arg(0), b = text_arg(1);
    if (name == "replaceAll") return replace_all(st, s, a, b, false);
    if (name == "replaceFirst") return replace_all(st, s, a, b, true);
    if (name == "replace") {  // literal, every occurrence
      if (a.empty()) return value::of_string(s);
      std::string out;
      std::size_t from = 0;
      for (std::size_t at = s.find(a); at != std::string_view::npos; at = s.find(a, from)) {
        out.append(s.substr(from, at - from));
        out += b;
        from = at + a.size();
        if (!within_budget(st, out)) return value{};
      }
      out.append(s.substr(from));
      return st.make_string(std::move(out));
    }
  }
  return value{};
}

// An element of a list or JSON array, or null.
value element_at(const value& target, std::int64_t i) {
  if (i < 0) return value{};
  const auto index = static_cast<std::size_t>(i);
  if (target.kind == value_kind::list)
    return index < target.list->items.size() ? target.list->items[index] : value{};
  if (target.is_json_array())
    return index < target.json->Size()
               ? from_json((*target.json)[static_cast<rapidjson::SizeType>(index)])
               : value{};
  return value{};
}

value entry_of(eval_state& st, const value& target, std::string_view key, bool& found) {
  found = false;
  if (target.kind == value_kind::map) {
    if (const value* v = target.map->find(key)) {
      found = true;
      return *v;
    }
  } else if (target.is_json_object()) {
    const auto it = target.json->FindMember(rapidjson::Value(util::json_ref(key)));
    if (it != target.json->MemberEnd()) {
      found = true;
      return from_json(it->value);
    }
  }
  (void)st;
  return value{};
}

value collection_method(eval_state& st, const value& target, std::string_view name,
                        std::span<const value> args) {
  const bool is_map = target.kind == value_kind::map || target.is_json_object();
  if (name == "size" && args.empty()) return value::of_int(collection_size(target));
  if (name == "isEmpty" && args.empty()) return value::of_bool(collection_size(target) == 0);
  if (!is_map) {
    if (name == "get" && args.size() == 1)
      return args[0].kind == value_kind::integer ? element_at(target, args[0].integer) : value{};
    if (name == "contains" && args.size() == 1) {
      for (std::int64_t i = 0, n = collection_size(target); i < n; ++i)
        if (equal(element_at(target, i), args[0])) return value::of_bool(true);
      return value::of_bool(false);
    }
    if (name == "add" && args.size() == 1 && target.kind == value_kind::list) {
      target.list->items.push_back(args[0]);
      return value::of_bool(true);
    }
    return value{};
  }
  if ((name == "get" || name == "containsKey") && args.size() == 1) {
    bool found = false;
    const value v = args[0].is_null() ? value{} : entry_of(st, target, as_text(st, args[0]), found);
    return name == "get" ? v : value::of_bool(found);
  }
  if ((name == "keySet" || name == "values" || name == "entrySet") && args.empty()) {
    list_data* list = st.mem.new_list();
    const auto add = [&](std::string_view k, const value& v) {
      if (name == "keySet") {
        list->items.push_back(value::of_string(k));
      } else if (name == "values") {
        list->items.push_back(v);
      } else {
        map_data* entry = st.mem.new_map();
        entry->entries.emplace_back("key", value::of_string(k));
        entry->entries.emplace_back("value", v);
        list->items.push_back(value::of_map(entry));
      }
    };
    if (target.kind == value_kind::map) {
      for (const auto& [k, v] : target.map->entries) add(k, v);
    } else {
      for (const auto& m : target.json->GetObject())
        add({m.name.GetString(), m.name.GetStringLength()}, from_json(m.value));
    }
    return value::of_list(list);
  }
  if (name == "put" && args.size() == 2 && target.kind == value_kind::map && !args[0].is_null()) {
    const std::string_view k = as_text(st, args[0]);
    if (value* existing = target.map->find(k)) {
      const value previous = *existing;
      *existing = args[1];
      return previous;
    }
    target.map->entries.emplace_back(k, args[1]);
    return value{};
  }
  if (name == "containsValue" && args.size() == 1) {
    const value values = collection_method(st, target, "values", {});
    for (const value& v : values.list->items)
      if (equal(v, args[0])) return value::of_bool(true);
    return value::of_bool(false);
  }
  return value{};
}

}  // namespace

value get_property(eval_state& st, const value& target, std::string_view name) {
  switch (target.kind) {
    case value_kind::map:
    case value_kind::json: {
      if (target.is_json_array()) return value{};
      bool found = false;
      return entry_of(st, target, name, found);
    }
    case value_kind::loop: {
      const loop_state& l = *target.loop;
      if (name == "hasNext") return value::of_bool(l.index + 1 < l.size);
      if (name == "index") return value::of_int(static_cast<std::int64_t>(l.index));
      if (name == "count") return value::of_int(static_cast<std::int64_t>(l.index + 1));
      if (name == "first") return value::of_bool(l.index == 0);
      if (name == "last") return value::of_bool(l.index + 1 == l.size);
      return value{};
    }
    case value_kind::input:
      if (name == "body") return value::of_string(st.env.body());
      return value{};
    case value_kind::string:
      if (name == "empty") return value::of_bool(target.text.empty());
      return value{};
    case value_kind::list:
      if (name == "empty") return value::of_bool(target.list->items.empty());
      return value{};
    default:
      return value{};
  }
}

value get_index(eval_state& st, const value& target, const value& index) {
  if (index.is_null()) return value{};
  if (target.kind == value_kind::list || target.is_json_array())
    return index.kind == value_kind::integer ? element_at(target, index.integer) : value{};
  if (target.kind == value_kind::map || target.is_json_object()) {
    bool found = false;
    return entry_of(st, target, as_text(st, index), found);
  }
  return value{};
}

value call_method(eval_state& st, const value& target, std::string_view name,
                  std::span<const value> args) {
  if (!st.step()) return value{};
  switch (target.kind) {
    case value_kind::input:
    case value_kind::util:
      return call_builtin(st, target, name, args);
    case value_kind::loop:
      if (args.empty() && name.starts_with("get") &&
          name.size() > 3) {  // getIndex(), getCount(), …
        std::string property(name.substr(3));
        property[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(property[0])));
        return get_property(st, target, property);
      }
      if (args.empty() && (name == "hasNext" || name == "isFirst" || name == "isLast"))
        return get_property(st, target,
                            name == "hasNext"   ? "hasNext"
                            : name == "isFirst" ? "first"
                                                : "last");
      return value{};
    default:
      break;
  }
  if (args.empty() && name == "toString") return value::of_string(as_text(st, target));
  if (args.size() == 1 && name == "equals" && !target.is_string())
    return value::of_bool(equal(target, args[0]));
  switch (target.kind) {
    case value_kind::string:
      return string_method(st, target.text, name, args);
    case value_kind::list:
    case value_kind::map:
    case value_kind::json:
      return collection_method(st, target, name, args);
    case value_kind::integer:
    case value_kind::real:
      if (!args.empty()) return value{};
      if (name == "intValue" || name == "longValue") {
        if (target.kind == value_kind::integer) return target;
        if (!(target.real > -9.2e18 && target.real < 9.2e18)) return value{};
        return value::of_int(static_cast<std::int64_t>(target.real));
      }
      if (name == "doubleValue") return value::of_real(target.as_double());
      return value{};
    case value_kind::boolean:
      if (args.empty() && name == "booleanValue") return target;
      return value{};
    default:
      return value{};
  }
}

}  // namespace gatehouse::transform::vtl
