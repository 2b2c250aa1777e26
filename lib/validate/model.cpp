#include "validate/model.hpp"

#include "util/json_parse.hpp"
#include "validate/schema.hpp"

#include <gatehouse/config_error.hpp>

#include <rapidjson/document.h>

#include <fmt/format.h>

#include <map>

namespace gatehouse::validate {

bool rewrite_pattern(std::string_view p, std::string& out, std::string* why) {
  auto fail = [&](std::string reason) {
    if (why) *why = std::move(reason);
    return false;
  };
  out.clear();
  out.reserve(p.size() + 16);
  bool in_class = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') {
      if (i + 1 >= p.size()) return fail("it ends with a lone backslash");
      const char e = p[++i];
      const char* cls = nullptr;
      const char* inside = nullptr;
      switch (e) {
        case 'd':
          cls = "[0-9]", inside = "0-9";
          break;
        case 'D':
          cls = "[^0-9]";
          break;
        case 'w':
          cls = "[0-9A-Za-z_]", inside = "0-9A-Za-z_";
          break;
        case 'W':
          cls = "[^0-9A-Za-z_]";
          break;
        case 's':
          cls = "[ \\t\\n\\r\\f\\v]", inside = " \\t\\n\\r\\f\\v";
          break;
        case 'S':
          cls = "[^ \\t\\n\\r\\f\\v]";
          break;
        case '/':
          out.push_back('/');
          continue;
        case '-':
          if (in_class) return fail("\\- inside a character class (put '-' first or last)");
          out.push_back('-');
          continue;
        case 'b':
        case 'B':
          if (!in_class) return fail("word boundaries (\\b, \\B) are not supported");
          out.append("\\b");
          continue;
        default:
          if (e >= '1' && e <= '9') return fail("backreferences are not supported");
          out.push_back('\\');
          out.push_back(e);
          continue;
      }
      if (in_class) {
        if (!inside) return fail(fmt::format("\\{} inside a character class is not supported", e));
        out.append(inside);
      } else {
        out.append(cls);
      }
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out.push_back(c);
      continue;
    }
    if (c == '[') {
      in_class = true;
      out.push_back(c);
      if (i + 1 < p.size() && p[i + 1] == '^') out.push_back(p[++i]);
      if (i + 1 < p.size() && p[i + 1] == ']') out.push_back(p[++i]);  // "[]…]": a literal ]
      continue;
    }
    if (c == '(' && i + 1 < p.size() && p[i + 1] == '?') {
      if (i + 2 < p.size() && p[i + 2] == ':') {
        out.push_back('(');
        i += 2;
        continue;
      }
      return fail("lookaround and named groups are not supported");
    }
    if (c == '?' && i > 0 && !out.empty() &&
        (p[i - 1] == '*' || p[i - 1] == '+' || p[i - 1] == '?' || p[i - 1] == '}') &&
        !(i >= 2 && p[i - 2] == '\\')) {
      continue;  // lazy quantifier: matches the same strings as the greedy one
    }
    out.push_back(c);
  }
  if (in_class) return fail("a character class is not closed");
  return true;
}

// ---------------------------------------------------------------------------------------------

struct model::compiled {
  rapidjson::Document doc;                                   // the schema as written
  std::map<std::string, const model*, std::less<>> by_name;  // the models it $refs
  std::unique_ptr<schema_graph> graph;
};

model::model(std::string name, std::string_view schema)
    : name_(std::move(name)), compiled_(std::make_unique<compiled>()) {
  auto& doc = compiled_->doc;
  if (auto parsed = util::parse_json(doc, schema); !parsed) {
    throw config_error(fmt::format("model '{}': the schema is not JSON: {} (at offset {})", name_,
                                   parsed.message(), parsed.offset));
  }
  if (!doc.IsObject())
    throw config_error(fmt::format("model '{}': the schema is not an object", name_));
}

model::model(std::string name, std::string_view schema, const model_lookup& lookup)
    : model(std::move(name), schema) {
  keep_references_ = true;
  compile(lookup);
}

void model::compile(const model_lookup& lookup) {
  // Other models are found as $refs reach them; their documents join this model's graph, so a
  // cycle of $refs between models is just a cycle in the graph.
  auto other_document = [&](std::string_view model_name) -> const json* {
    if (auto it = compiled_->by_name.find(model_name); it != compiled_->by_name.end())
      return &it->second->compiled_->doc;
    auto m = lookup ? lookup(model_name) : nullptr;
    if (!m) return nullptr;
    compiled_->by_name.emplace(std::string(model_name), m.get());
    if (keep_references_) references_.push_back(m);
    return &m->compiled_->doc;
  };
  compiled_->graph = std::make_unique<schema_graph>(compiled_->doc, name_, other_document);
}

model::~model() = default;

bool model::check(std::string_view body, std::string* errors) const {
  // Small bodies parse into space on the stack, without allocating.
  using pool = rapidjson::MemoryPoolAllocator<>;
  char value_space[4096];
  char parse_space[1024];
  pool values(value_space, sizeof value_space);
  pool parse_stack(parse_space, sizeof parse_space);
  rapidjson::GenericDocument<rapidjson::UTF8<>, pool, pool> instance(
      &values, sizeof parse_space / 2, &parse_stack);
  auto parsed = util::parse_json<rapidjson::kParseValidateEncodingFlag>(instance, body);
  if (!parsed) {
    if (errors)
      *errors = fmt::format("[Invalid JSON: {} (at offset {})]", parsed.message(), parsed.offset);
    return false;
  }
  // Work in proportion to the body: a few schema visits per byte are more than any schema
  // without pathological combinations needs (each value is visited once per schema that applies
  // to it), and no schema can make the check take longer.
  const std::size_t budget = 8 * (body.size() + 64);
  schema_failure failure;
  if (compiled_->graph->check(instance, budget, errors ? &failure : nullptr)) return true;
  if (errors) {
    // (Built in place: "[" + text + "]" trips GCC 12's -Wrestrict false positive.)
    errors->assign(1, '[');
    errors->append(describe(failure));
    errors->push_back(']');
  }
  return false;
}

}  // namespace gatehouse::validate
