#include "validate/schema.hpp"

#include "util/hash.hpp"
#include "util/json_ref.hpp"
#include "validate/model.hpp"

#include <gatehouse/config_error.hpp>

#include <rapidjson/internal/regex.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <unordered_map>

namespace gatehouse::validate {

namespace {
std::string_view sv(const json& v) { return {v.GetString(), v.GetStringLength()}; }

std::string to_json(const json& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

// "https://apigateway.amazonaws.com/restapis/{id}/models/{name}" (or any URI ending so) → name.
std::string_view model_name_of(std::string_view uri) {
  auto hash = uri.find('#');
  if (hash != std::string_view::npos) uri = uri.substr(0, hash);
  auto at = uri.rfind("/models/");
  if (at == std::string_view::npos) return {};
  return uri.substr(at + 8);
}

std::atomic<std::uint64_t> next_pattern_id{1};

// This thread's compilations of the patterns it has run. Ids are never reused, so the entries of
// patterns that are gone are never found again; the cache starts over past a few hundred.
using regex = rapidjson::internal::Regex;
thread_local std::unordered_map<std::uint64_t, std::unique_ptr<regex>> thread_patterns;
}  // namespace

schema_pattern::schema_pattern(std::string rewritten)
    : source_(std::move(rewritten)), id_(next_pattern_id.fetch_add(1, std::memory_order_relaxed)) {}

bool schema_pattern::search(const char* s) const {
  auto it = thread_patterns.find(id_);
  if (it == thread_patterns.end()) {
    if (thread_patterns.size() >= 512) thread_patterns.clear();
    it = thread_patterns.emplace(id_, std::make_unique<regex>(source_.c_str())).first;
  }
  return it->second->IsValid() && it->second->Search(s);
}

// ---------------------------------------------------------------------------------------------
// Compiling
// ---------------------------------------------------------------------------------------------

struct schema_graph::builder {
  schema_graph& graph;
  const std::string& model_name;
  const document_lookup& other_documents;
  std::unordered_map<const json*, schema_node*> made;           // each schema object compiles once
  std::vector<std::pair<schema_node*, std::string_view>> refs;  // nodes with a $ref, and it

  [[noreturn]] void fail(const std::string& what) const {
    throw config_error(fmt::format("model '{}': {}", model_name, what));
  }

  static std::optional<std::uint64_t> count(const json& s, const char* name) {
    auto it = s.FindMember(name);
    if (it == s.MemberEnd() || !it->value.IsNumber()) return std::nullopt;
    if (it->value.IsUint64()) return it->value.GetUint64();
    const double d = it->value.GetDouble();
    if (d < 0) return 0;
    return static_cast<std::uint64_t>(std::min(d, 1.8e19));
  }
  static bool flag(const json& s, const char* name) {
    auto it = s.FindMember(name);
    return it != s.MemberEnd() && it->value.IsBool() && it->value.GetBool();
  }

  unsigned type_bits(const json& t) const {
    auto one = [&](const json& name) -> unsigned {
      if (!name.IsString()) fail("\"type\" holds something other than type names");
      const auto n = sv(name);
      if (n == "null") return schema_node::t_null;
      if (n == "boolean") return schema_node::t_boolean;
      if (n == "object") return schema_node::t_object;
      if (n == "array") return schema_node::t_array;
      if (n == "number") return schema_node::t_number;
      if (n == "string") return schema_node::t_string;
      if (n == "integer") return schema_node::t_integer;
      fail(fmt::format("unknown type \"{}\"", n));
    };
    if (!t.IsArray()) return one(t);
    unsigned bits = 0;
    for (const auto& e : t.GetArray()) bits |= one(e);
    return bits;
  }

  // An ECMA 262 pattern, rewritten for the matcher and tried once here.
  const schema_pattern* pattern(const json& p) {
    std::string out, why;
    if (!rewrite_pattern(sv(p), out, &why) || !regex(out.c_str()).IsValid())
      fail(fmt::format("pattern \"{}\" cannot be used{}{}", sv(p), why.empty() ? "" : ": ",
                       why.empty() ? std::string("(unsupported syntax)") : why));
    return &graph.patterns_.emplace_back(std::move(out));
  }

  const schema_node* node(const json& s, const json& document) {
    if (auto it = made.find(&s); it != made.end()) return it->second;
    schema_node& n = graph.nodes_.emplace_back();
    made.emplace(&s, &n);
    n.raw = &s;
    if (!s.IsObject()) return &n;  // draft 4 schemas are objects; anything else takes any value

    if (auto ref = s.FindMember("$ref"); ref != s.MemberEnd() && ref->value.IsString()) {
      n.ref = resolve(sv(ref->value), document);
      refs.emplace_back(&n, sv(ref->value));
      return &n;  // draft 4: the other keywords beside a $ref are not used
    }
    auto member = [&](const char* name) -> const json* {
      auto it = s.FindMember(name);
      return it == s.MemberEnd() ? nullptr : &it->value;
    };
    auto list = [&](const char* name, std::vector<const schema_node*>& out) {
      if (const json* v = member(name); v && v->IsArray())
        for (const auto& e : v->GetArray()) out.push_back(node(e, document));
    };

    if (const json* t = member("type")) n.types = type_bits(*t);
    if (const json* e = member("enum"); e && e->IsArray()) n.enum_values = e;
    if (const json* m = member("minimum"); m && m->IsNumber()) n.minimum = m;
    if (const json* m = member("maximum"); m && m->IsNumber()) n.maximum = m;
    n.exclusive_minimum = flag(s, "exclusiveMinimum");
    n.exclusive_maximum = flag(s, "exclusiveMaximum");
    if (const json* m = member("multipleOf"); m && m->IsNumber() && m->GetDouble() > 0)
      n.multiple_of = m->GetDouble();
    n.min_length = count(s, "minLength");
    n.max_length = count(s, "maxLength");
    if (const json* p = member("pattern"); p && p->IsString()) n.pattern = pattern(*p);

    if (const json* items = member("items")) {
      if (items->IsArray()) {
        n.tuple = true;
        for (const auto& e : items->GetArray()) n.tuple_items.push_back(node(e, document));
      } else if (items->IsObject()) {
        n.items = node(*items, document);
      }
    }
    if (const json* a = member("additionalItems")) {
      if (a->IsBool()) n.additional_items_allowed = a->GetBool();
      if (a->IsObject()) n.additional_items = node(*a, document);
    }
    n.min_items = count(s, "minItems");
    n.max_items = count(s, "maxItems");
    n.unique_items = flag(s, "uniqueItems");

    if (const json* props = member("properties"); props && props->IsObject()) {
      for (const auto& p : props->GetObject())
        n.properties.push_back({sv(p.name), node(p.value, document)});
      std::sort(n.properties.begin(), n.properties.end(),
                [](const auto& a, const auto& b) { return a.name < b.name; });
    }
    if (const json* pp = member("patternProperties"); pp && pp->IsObject())
      for (const auto& p : pp->GetObject())
        n.pattern_properties.push_back({pattern(p.name), node(p.value, document)});
    if (const json* a = member("additionalProperties")) {
      if (a->IsBool()) n.additional_properties_allowed = a->GetBool();
      if (a->IsObject()) n.additional_properties = node(*a, document);
    }
    if (const json* r = member("required"); r && r->IsArray()) n.required = r;
    n.min_properties = count(s, "minProperties");
    n.max_properties = count(s, "maxProperties");
    if (const json* deps = member("dependencies"); deps && deps->IsObject()) {
      for (const auto& d : deps->GetObject()) {
        schema_node::dependency dep{sv(d.name)};
        if (d.value.IsArray()) dep.names = &d.value;
        if (d.value.IsObject()) dep.schema = node(d.value, document);
        if (dep.names || dep.schema) n.dependencies.push_back(dep);
      }
    }
    list("allOf", n.all_of);
    list("anyOf", n.any_of);
    list("oneOf", n.one_of);
    if (const json* no = member("not"); no && no->IsObject()) n.not_schema = node(*no, document);
    return &n;
  }

  // "#/definitions/x" in this document, or another model: ".../models/Pet[#/…]".
  const schema_node* resolve(std::string_view ref, const json& document) {
    const json* target_document = &document;
    auto hash = ref.find('#');
    if (hash != 0) {
      auto name = model_name_of(ref);
      if (name.empty())
        fail(
            fmt::format("$ref \"{}\" is neither local (#/…) nor another model "
                        "(https://apigateway.amazonaws.com/restapis/{{api}}/models/{{name}})",
                        ref));
      target_document = other_documents ? other_documents(name) : nullptr;
      if (!target_document) fail(fmt::format("$ref to unknown model '{}'", name));
    }
    const json* target = target_document;
    if (hash != std::string_view::npos && hash + 1 < ref.size()) {
      rapidjson::Pointer pointer(ref.data() + hash,
                                 static_cast<rapidjson::SizeType>(ref.size() - hash));
      target = pointer.IsValid() ? pointer.Get(*target_document) : nullptr;
      if (!target) fail(fmt::format("$ref \"{}\" leads nowhere", ref));
    }
    return node(*target, *target_document);
  }

  // A $ref to a $ref is followed at once, so that checks take one step; one that comes back
  // to itself would never end.
  void flatten_refs() {
    for (auto& [n, text] : refs) {
      const schema_node* to = n->ref;
      for (std::size_t hops = 0; to->ref; ++hops) {
        if (hops > graph.nodes_.size()) fail(fmt::format("$ref \"{}\" leads only to itself", text));
        to = to->ref;
      }
      n->ref = to;
    }
  }

  // allOf, anyOf, oneOf, not and schema dependencies apply a schema to the same value: a cycle
  // of them would check one value without end.
  void refuse_endless_combinations() {
    enum : char { unseen, open, done };
    std::unordered_map<const schema_node*, char> state;
    std::vector<std::pair<const schema_node*, std::size_t>> stack;
    auto same_value_edges = [](const schema_node* n) {
      std::vector<const schema_node*> out(n->all_of.begin(), n->all_of.end());
      out.insert(out.end(), n->any_of.begin(), n->any_of.end());
      out.insert(out.end(), n->one_of.begin(), n->one_of.end());
      if (n->not_schema) out.push_back(n->not_schema);
      for (const auto& d : n->dependencies)
        if (d.schema) out.push_back(d.schema);
      for (auto& o : out)
        if (o->ref) o = o->ref;
      return out;
    };
    for (const auto& start : graph.nodes_) {
      if (state[&start] != unseen) continue;
      // Depth first, without recursion: (node, index of the next edge to follow).
      std::vector<std::vector<const schema_node*>> edges;
      stack.assign(1, {&start, 0});
      edges.assign(1, same_value_edges(&start));
      state[&start] = open;
      while (!stack.empty()) {
        auto& [n, next] = stack.back();
        if (next == edges.back().size()) {
          state[n] = done;
          stack.pop_back();
          edges.pop_back();
          continue;
        }
        const schema_node* to = edges.back()[next++];
        char& s = state[to];
        if (s == open)
          fail(
              "a schema applies itself to the same value through allOf, anyOf, oneOf, not or "
              "dependencies: checking it would never end");
        if (s == done) continue;
        s = open;
        stack.emplace_back(to, 0);
        edges.push_back(same_value_edges(to));
      }
    }
  }
};

schema_graph::schema_graph(const json& root, std::string model_name,
                           const document_lookup& other_documents) {
  builder b{*this, model_name, other_documents, {}, {}};
  root_ = b.node(root, root);
  b.flatten_refs();
  b.refuse_endless_combinations();
  if (root_->ref) root_ = root_->ref;
}

// ---------------------------------------------------------------------------------------------
// Checking
// ---------------------------------------------------------------------------------------------

namespace {

unsigned type_of(const json& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return schema_node::t_null;
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return schema_node::t_boolean;
    case rapidjson::kObjectType:
      return schema_node::t_object;
    case rapidjson::kArrayType:
      return schema_node::t_array;
    case rapidjson::kStringType:
      return schema_node::t_string;
    case rapidjson::kNumberType:
      break;
  }
  return v.IsInt64() || v.IsUint64() ? schema_node::t_number | schema_node::t_integer
                                     : schema_node::t_number;
}

// <0, 0, >0 as a is below, equal to or above b (both numbers).
int compare_numbers(const json& a, const json& b) {
  if (a.IsInt64() && b.IsInt64()) {
    auto x = a.GetInt64(), y = b.GetInt64();
    return x < y ? -1 : x > y;
  }
  if (a.IsUint64() && b.IsUint64()) {
    auto x = a.GetUint64(), y = b.GetUint64();
    return x < y ? -1 : x > y;
  }
  const double x = a.GetDouble(), y = b.GetDouble();
  return x < y ? -1 : x > y;
}

bool multiple_of(const json& v, double divisor) {
  if (v.IsInt64() && divisor == std::floor(divisor) && divisor < 9.2e18)
    return v.GetInt64() % static_cast<std::int64_t>(divisor) == 0;
  if (v.IsUint64() && divisor == std::floor(divisor) && divisor < 1.8e19)
    return v.GetUint64() % static_cast<std::uint64_t>(divisor) == 0;
  const double q = v.GetDouble() / divisor;
  if (!std::isfinite(q)) return false;
  // Decimal multiples (0.3 of 0.1) are not exact in binary: allow the rounding of one division.
  return std::fabs(q - std::round(q)) <= 1e-9 * std::max(1.0, std::fabs(q));
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Members sorted by name: objects compare, and duplicates are found, in n log n.
std::vector<const json::Member*> sorted_members(const json& o) {
  std::vector<const json::Member*> out;
  out.reserve(o.MemberCount());
  for (const auto& m : o.GetObject()) out.push_back(&m);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return sv(a->name) < sv(b->name); });
  return out;
}

// JSON Schema's equality: numbers by value (1 equals 1.0), objects whatever their order.
bool equal_values(const json& a, const json& b) {
  if (a.IsNumber() && b.IsNumber()) return compare_numbers(a, b) == 0;
  if (a.GetType() != b.GetType()) return false;
  switch (a.GetType()) {
    case rapidjson::kStringType:
      return sv(a) == sv(b);
    case rapidjson::kArrayType: {
      if (a.Size() != b.Size()) return false;
      for (rapidjson::SizeType i = 0; i < a.Size(); ++i)
        if (!equal_values(a[i], b[i])) return false;
      return true;
    }
    case rapidjson::kObjectType: {
      if (a.MemberCount() != b.MemberCount()) return false;
      auto x = sorted_members(a), y = sorted_members(b);
      for (std::size_t i = 0; i < x.size(); ++i)
        if (sv(x[i]->name) != sv(y[i]->name) || !equal_values(x[i]->value, y[i]->value))
          return false;
      return true;
    }
    default:
      return true;  // null, true, false: the type says it all
  }
}

// A hash that equal_values agrees with, under the process's seed (clients cannot prepare
// collisions). Each value hashed takes one from `budget`: nested arrays with uniqueItems hash
// their elements again at every level.
std::uint64_t hash_value(const json& v, std::size_t& budget) {
  if (budget == 0) return 0;
  --budget;
  auto mix = [](std::uint64_t h, std::uint64_t x) {
    h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
  };
  switch (v.GetType()) {
    case rapidjson::kStringType:
      return mix(1, util::seeded_hash(sv(v)));
    case rapidjson::kNumberType: {
      double d = v.GetDouble();
      if (d == 0) d = 0;  // -0 equals 0
      std::uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      return mix(2, util::seeded_hash({reinterpret_cast<const char*>(&bits), sizeof bits}));
    }
    case rapidjson::kArrayType: {
      std::uint64_t h = 3;
      for (const auto& e : v.GetArray()) h = mix(h, hash_value(e, budget));
      return h;
    }
    case rapidjson::kObjectType: {
      std::uint64_t sum = 0;  // order-free
      for (const auto& m : v.GetObject())
        sum += mix(util::seeded_hash(sv(m.name)), hash_value(m.value, budget));
      return mix(4, sum);
    }
    default:
      return 5 + v.GetType();
  }
}

// Whether two elements are equal (false, with budget 0, when the budget ran out).
bool has_duplicates(const json& array, std::size_t& budget) {
  std::vector<std::pair<std::uint64_t, const json*>> hashed;
  hashed.reserve(array.Size());
  for (const auto& e : array.GetArray()) hashed.emplace_back(hash_value(e, budget), &e);
  if (budget == 0) return false;
  std::sort(hashed.begin(), hashed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < hashed.size(); ++i)
    for (std::size_t j = i + 1; j < hashed.size() && hashed[j].first == hashed[i].first; ++j)
      if (equal_values(*hashed[i].second, *hashed[j].second)) return true;
  return false;
}

class checker {
 public:
  checker(std::size_t budget, schema_failure* failure) : budget_(budget), failure_(failure) {}
  bool over_budget() const noexcept { return over_budget_; }

  // `quiet`: inside allOf/anyOf/oneOf/not, where only the outcome counts.
  bool check(const schema_node& node, const json& v, bool quiet) {
    if (budget_ == 0) {
      over_budget_ = true;
      return false;
    }
    --budget_;
    const schema_node& s = node.ref ? *node.ref : node;
    if (s.types && !(s.types & type_of(v))) return fail(s, "type", v, quiet);
    switch (v.GetType()) {
      case rapidjson::kNumberType:
        if (!check_number(s, v, quiet)) return false;
        break;
      case rapidjson::kStringType:
        if (!check_string(s, v, quiet)) return false;
        break;
      case rapidjson::kArrayType:
        if (!check_array(s, v, quiet)) return false;
        break;
      case rapidjson::kObjectType:
        if (!check_object(s, v, quiet)) return false;
        break;
      default:
        break;
    }
    if (s.enum_values) {
      bool found = false;
      for (const auto& e : s.enum_values->GetArray())
        if ((found = equal_values(v, e))) break;
      if (!found) return fail(s, "enum", v, quiet);
    }
    for (const schema_node* sub : s.all_of)
      if (!branch(*sub, v)) return over_budget_ ? false : fail(s, "allOf", v, quiet);
    if (!s.any_of.empty()) {
      bool any = false;
      for (const schema_node* sub : s.any_of) {
        if ((any = branch(*sub, v))) break;
        if (over_budget_) return false;
      }
      if (!any) return fail(s, "anyOf", v, quiet);
    }
    if (!s.one_of.empty()) {
      int passed = 0;
      for (const schema_node* sub : s.one_of) {
        passed += branch(*sub, v);
        if (over_budget_) return false;
        if (passed > 1) break;
      }
      if (passed != 1) return fail(s, "oneOf", v, quiet);
    }
    if (s.not_schema) {
      const bool matched = branch(*s.not_schema, v);
      if (over_budget_) return false;
      if (matched) return fail(s, "not", v, quiet);
    }
    return true;
  }

 private:
  bool branch(const schema_node& sub, const json& v) { return check(sub, v, true); }

  bool fail(const schema_node& s, std::string_view keyword, const json& v, bool quiet) {
    if (!quiet && failure_ && !failure_->schema) {
      failure_->schema = &s;
      failure_->keyword = keyword;
      failure_->instance = &v;
    }
    return false;
  }

  bool check_number(const schema_node& s, const json& v, bool quiet) {
    if (s.minimum) {
      const int c = compare_numbers(v, *s.minimum);
      if (c < 0 || (c == 0 && s.exclusive_minimum)) return fail(s, "minimum", v, quiet);
    }
    if (s.maximum) {
      const int c = compare_numbers(v, *s.maximum);
      if (c > 0 || (c == 0 && s.exclusive_maximum)) return fail(s, "maximum", v, quiet);
    }
    if (s.multiple_of && !multiple_of(v, *s.multiple_of)) return fail(s, "multipleOf", v, quiet);
    return true;
  }

  bool check_string(const schema_node& s, const json& v, bool quiet) {
    if (s.min_length || s.max_length) {
      const std::size_t n = code_points(sv(v));
      if (s.min_length && n < *s.min_length) return fail(s, "minLength", v, quiet);
      if (s.max_length && n > *s.max_length) return fail(s, "maxLength", v, quiet);
    }
    if (s.pattern && !s.pattern->search(v.GetString())) return fail(s, "pattern", v, quiet);
    return true;
  }

  bool check_array(const schema_node& s, const json& v, bool quiet) {
    const rapidjson::SizeType size = v.Size();
    for (rapidjson::SizeType i = 0; i < size; ++i) {
      const schema_node* sub = s.items;
      if (s.tuple) {
        if (i < s.tuple_items.size()) {
          sub = s.tuple_items[i];
        } else if (!s.additional_items_allowed) {
          return fail(s, "additionalItems", v, quiet);
        } else {
          sub = s.additional_items;
        }
      }
      if (sub && !check(*sub, v[i], quiet)) return false;
    }
    if (s.min_items && size < *s.min_items) return fail(s, "minItems", v, quiet);
    if (s.max_items && size > *s.max_items) return fail(s, "maxItems", v, quiet);
    if (s.unique_items && size > 1) {
      const bool duplicates = has_duplicates(v, budget_);
      if (budget_ == 0) {
        over_budget_ = true;
        return false;
      }
      if (duplicates) return fail(s, "uniqueItems", v, quiet);
    }
    return true;
  }

  bool check_object(const schema_node& s, const json& v, bool quiet) {
    const bool any_member_rules = !s.properties.empty() || !s.pattern_properties.empty() ||
                                  !s.additional_properties_allowed || s.additional_properties;
    if (any_member_rules) {
      for (const auto& m : v.GetObject()) {
        const std::string_view name = sv(m.name);
        bool matched = false;
        auto it = std::lower_bound(s.properties.begin(), s.properties.end(), name,
                                   [](const auto& p, std::string_view n) { return p.name < n; });
        if (it != s.properties.end() && it->name == name) {
          matched = true;
          if (!check(*it->schema, m.value, quiet)) return false;
        }
        for (const auto& pp : s.pattern_properties) {
          if (!pp.pattern->search(m.name.GetString())) continue;
          matched = true;
          if (!check(*pp.schema, m.value, quiet)) return false;
        }
        if (matched) continue;
        if (!s.additional_properties_allowed) return fail(s, "additionalProperties", v, quiet);
        if (s.additional_properties && !check(*s.additional_properties, m.value, quiet))
          return false;
      }
    }
    if (s.required)
      for (const auto& r : s.required->GetArray())
        if (r.IsString() && !v.HasMember(r)) return fail(s, "required", v, quiet);
    const rapidjson::SizeType count = v.MemberCount();
    if (s.min_properties && count < *s.min_properties) return fail(s, "minProperties", v, quiet);
    if (s.max_properties && count > *s.max_properties) return fail(s, "maxProperties", v, quiet);
    for (const auto& d : s.dependencies) {
      if (!v.HasMember(util::json_ref(d.name))) continue;
      if (d.schema && !check(*d.schema, v, quiet)) return false;
      if (d.names)
        for (const auto& r : d.names->GetArray())
          if (r.IsString() && !v.HasMember(r)) return fail(s, "dependencies", v, quiet);
    }
    return true;
  }

  std::size_t budget_;
  schema_failure* failure_;
  bool over_budget_ = false;
};
}  // namespace

bool schema_graph::check(const json& instance, std::size_t budget, schema_failure* failure) const {
  checker c(budget, failure);
  if (c.check(*root_, instance, false)) return true;
  if (failure && c.over_budget()) *failure = schema_failure{root_, {}, &instance, true};
  return false;
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

namespace {
std::string type_name(const json& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "boolean";
  if (v.IsObject()) return "object";
  if (v.IsArray()) return "array";
  if (v.IsString()) return "string";
  if (v.IsInt64() || v.IsUint64()) return "integer";
  return "number";
}

std::string number_text(const json& v) {
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsNumber()) return to_json(v);
  return "?";
}
}  // namespace

// In the words of the validator AWS uses (json-schema-validator).
std::string describe(const schema_failure& f) {
  if (f.over_budget) return "the body is too complex to check against the model";
  const schema_node& s = *f.schema;
  const json& v = *f.instance;
  const std::string_view keyword = f.keyword;
  auto value_of = [&](const char* name) -> const json* {
    auto it = s.raw->FindMember(name);
    return it == s.raw->MemberEnd() ? nullptr : &it->value;
  };
  if (keyword == "type") {
    const json& t = *value_of("type");
    std::string allowed = t.IsArray() ? to_json(t) : fmt::format("[{}]", to_json(t));
    return fmt::format("instance type ({}) does not match any allowed primitive type (allowed: {})",
                       type_name(v), allowed);
  }
  if (keyword == "enum")
    return fmt::format("instance value ({}) not found in enum (possible values: {})", to_json(v),
                       to_json(*s.enum_values));
  if (keyword == "minimum") {
    if (s.exclusive_minimum)
      return fmt::format("numeric instance is not strictly greater than the required minimum {}",
                         number_text(*s.minimum));
    return fmt::format(
        "numeric instance is lower than the required minimum (minimum: {}, found: {})",
        number_text(*s.minimum), number_text(v));
  }
  if (keyword == "maximum") {
    if (s.exclusive_maximum)
      return fmt::format("numeric instance is not strictly lower than the required maximum {}",
                         number_text(*s.maximum));
    return fmt::format(
        "numeric instance is greater than the required maximum (maximum: {}, found: {})",
        number_text(*s.maximum), number_text(v));
  }
  if (keyword == "multipleOf")
    return fmt::format("remainder of division is not zero ({} / {})", number_text(v),
                       number_text(*value_of("multipleOf")));
  if (keyword == "minLength")
    return fmt::format("string {} is too short (length: {}, required minimum: {})", to_json(v),
                       code_points(sv(v)), number_text(*value_of("minLength")));
  if (keyword == "maxLength")
    return fmt::format("string {} is too long (length: {}, maximum allowed: {})", to_json(v),
                       code_points(sv(v)), number_text(*value_of("maxLength")));
  if (keyword == "pattern")
    return fmt::format("ECMA 262 regex {} does not match input string {}",
                       to_json(*value_of("pattern")), to_json(v));
  if (keyword == "minItems")
    return fmt::format(
        "array is too short: must have at least {} elements but instance has {} elements",
        number_text(*value_of("minItems")), v.Size());
  if (keyword == "maxItems")
    return fmt::format(
        "array is too long: must have at most {} elements but instance has {} elements",
        number_text(*value_of("maxItems")), v.Size());
  if (keyword == "additionalItems")
    return fmt::format("array must not contain more than {} elements but instance has {} elements",
                       s.tuple_items.size(), v.Size());
  if (keyword == "uniqueItems") return "array must not contain duplicate elements";
  if (keyword == "minProperties")
    return fmt::format("object has too few properties (found {}, required: {})", v.MemberCount(),
                       number_text(*value_of("minProperties")));
  if (keyword == "maxProperties")
    return fmt::format("object has too many properties (found {}, maximum allowed: {})",
                       v.MemberCount(), number_text(*value_of("maxProperties")));
  if (keyword == "required") {
    std::string missing;
    for (const auto& r : s.required->GetArray()) {
      if (!r.IsString() || v.HasMember(r)) continue;
      if (!missing.empty()) missing.push_back(',');
      missing.append(to_json(r));
    }
    return fmt::format("object has missing required properties ([{}])", missing);
  }
  if (keyword == "additionalProperties") {
    // The members neither listed nor matched by a patternProperties entry.
    std::string extra;
    for (const auto& m : v.GetObject()) {
      const std::string_view name = sv(m.name);
      bool listed = std::binary_search(
          s.properties.begin(), s.properties.end(), schema_node::property{name, nullptr},
          [](const auto& a, const auto& b) { return a.name < b.name; });
      for (const auto& pp : s.pattern_properties)
        listed = listed || pp.pattern->search(m.name.GetString());
      if (listed) continue;
      if (!extra.empty()) extra.push_back(',');
      extra.append(to_json(m.name));
    }
    return fmt::format("object instance has properties which are not allowed by the schema: [{}]",
                       extra);
  }
  if (keyword == "dependencies") return "property dependencies are not satisfied";
  if (keyword == "anyOf" || keyword == "oneOf")
    return fmt::format("instance failed to match {} of the required schemas",
                       keyword == "anyOf" ? "at least one" : "exactly one");
  if (keyword == "allOf") return "instance failed to match all required schemas";
  if (keyword == "not") return "instance matched a schema which it should not have";
  return fmt::format("instance failed to match the schema's \"{}\" keyword", keyword);
}

}  // namespace gatehouse::validate
