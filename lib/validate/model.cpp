#include "validate/model.hpp"

#include <gatehouse/config_error.hpp>

#include <rapidjson/document.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/pointer.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <map>
#include <set>

// The models use RapidJSON's own regex engine (linear time, no recursion: a client's string
// cannot make a pattern check slow or overflow the stack), fed through rewrite_pattern().
static_assert(RAPIDJSON_SCHEMA_USE_INTERNALREGEX, "models need RapidJSON's linear-time regex");

namespace gatehouse::validate {

namespace {
using json = rapidjson::Value;

std::atomic<std::uint64_t> next_model_id{1};

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

bool regex_compiles(const std::string& pattern) {
  rapidjson::internal::Regex re(pattern.c_str());
  return re.IsValid();
}
}  // namespace

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
  rapidjson::Document doc;                                   // the schema, patterns rewritten
  std::map<std::string, const model*, std::less<>> by_name;  // the models it $refs
};

namespace {
using validator_type = rapidjson::GenericSchemaValidator<rapidjson::SchemaDocument>;

// RapidJSON's regex engine keeps its match state in the compiled pattern, so a compiled schema
// with patterns cannot be shared between threads: each thread compiles the models it checks
// (once) and keeps a validator for each. Ids are never reused, so entries of models that are
// gone are never found again; the cache starts over past a few dozen.
struct thread_schema {
  std::unique_ptr<rapidjson::SchemaDocument> schema;
  std::unique_ptr<validator_type> validator;
};
struct thread_entry {
  std::uint64_t id;
  std::unique_ptr<thread_schema> state;
};
thread_local std::vector<thread_entry> thread_schemas;
}  // namespace

namespace {
// Resolves "$ref"s to other models (this thread's compilation of them) while a schema compiles.
class model_provider final : public rapidjson::IRemoteSchemaDocumentProvider {
 public:
  explicit model_provider(const std::map<std::string, const model*, std::less<>>& models)
      : models_(models) {}
  const rapidjson::SchemaDocument* GetRemoteDocument(const char* uri,
                                                     rapidjson::SizeType length) override {
    auto it = models_.find(model_name_of({uri, length}));
    // RapidJSON 1.1.0 passes the URI one character short (HandleRefSchema's `i - 1`); the
    // string it points into is the whole $ref, NUL-terminated, so the last character is there.
    if (it == models_.end() && uri[length] != '\0' && uri[length] != '#')
      it = models_.find(model_name_of({uri, length + 1}));
    return it == models_.end() ? nullptr : &it->second->thread_state().schema;
  }

 private:
  const std::map<std::string, const model*, std::less<>>& models_;
};

// Walks a schema: rewrites patterns for the matcher and collects the models it refers to.
// Values that are data, not schemas (enum, default, examples), are left alone.
void prepare(json& v, rapidjson::Document::AllocatorType& alloc, const std::string& model_name,
             std::set<std::string, std::less<>>& refs) {
  auto fail = [&](const std::string& what) {
    throw config_error(fmt::format("model '{}': {}", model_name, what));
  };
  auto rewritten = [&](std::string_view pattern) {
    std::string out, why;
    if (!rewrite_pattern(pattern, out, &why) || !regex_compiles(out))
      fail(fmt::format("pattern \"{}\" cannot be used{}{}", pattern, why.empty() ? "" : ": ",
                       why.empty() ? std::string("(unsupported syntax)") : why));
    return out;
  };
  if (v.IsArray()) {
    for (auto& e : v.GetArray()) prepare(e, alloc, model_name, refs);
    return;
  }
  if (!v.IsObject()) return;
  for (auto& m : v.GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (key == "enum" || key == "default" || key == "examples" || key == "example") continue;
    if (key == "pattern" && m.value.IsString()) {
      auto out = rewritten({m.value.GetString(), m.value.GetStringLength()});
      m.value.SetString(out.data(), static_cast<rapidjson::SizeType>(out.size()), alloc);
      continue;
    }
    if (key == "$ref" && m.value.IsString()) {
      std::string_view ref(m.value.GetString(), m.value.GetStringLength());
      if (ref.starts_with("#")) continue;
      auto name = model_name_of(ref);
      if (name.empty())
        fail(
            fmt::format("$ref \"{}\" is neither local (#/…) nor another model "
                        "(https://apigateway.amazonaws.com/restapis/{{api}}/models/{{name}})",
                        ref));
      refs.emplace(name);
      continue;
    }
    if (key == "patternProperties" && m.value.IsObject()) {
      for (auto& p : m.value.GetObject()) {
        auto out = rewritten({p.name.GetString(), p.name.GetStringLength()});
        p.name.SetString(out.data(), static_cast<rapidjson::SizeType>(out.size()), alloc);
        prepare(p.value, alloc, model_name, refs);
      }
      continue;
    }
    prepare(m.value, alloc, model_name, refs);
  }
}
}  // namespace

model::model(std::string name, std::string_view schema, const model_lookup& lookup)
    : name_(std::move(name)),
      id_(next_model_id.fetch_add(1, std::memory_order_relaxed)),
      compiled_(std::make_unique<compiled>()) {
  auto& doc = compiled_->doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(schema.data(), schema.size());
  if (doc.HasParseError()) {
    throw config_error(fmt::format("model '{}': the schema is not JSON: {} (at offset {})", name_,
                                   rapidjson::GetParseError_En(doc.GetParseError()),
                                   doc.GetErrorOffset()));
  }
  if (!doc.IsObject())
    throw config_error(fmt::format("model '{}': the schema is not an object", name_));
  std::set<std::string, std::less<>> refs;
  prepare(doc, doc.GetAllocator(), name_, refs);
  for (const auto& r : refs) {
    auto m = lookup ? lookup(r) : nullptr;
    if (!m) throw config_error(fmt::format("model '{}': $ref to unknown model '{}'", name_, r));
    compiled_->by_name.emplace(r, m.get());
    references_.push_back(std::move(m));
  }
}

model::thread_view model::thread_state() const {
  for (auto& e : thread_schemas)
    if (e.id == id_) return {*e.state->schema, *e.state->validator};
  auto state = std::make_unique<thread_schema>();
  model_provider provider(compiled_->by_name);  // may compile referenced models first
  state->schema = std::make_unique<rapidjson::SchemaDocument>(compiled_->doc, &provider);
  state->validator = std::make_unique<validator_type>(*state->schema);
  thread_view view{*state->schema, *state->validator};
  thread_schemas.push_back({id_, std::move(state)});
  return view;
}

model::~model() = default;

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

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// What the failing keyword says about the instance, in the words of the validator AWS uses
// (json-schema-validator): "object has missing required properties ([\"price\"])", …
std::string describe(std::string_view keyword, const json* schema, const json* instance) {
  const json* value = nullptr;
  if (schema && schema->IsObject()) {
    auto it = schema->FindMember(
        rapidjson::StringRef(keyword.data(), static_cast<rapidjson::SizeType>(keyword.size())));
    if (it != schema->MemberEnd()) value = &it->value;
  }
  auto flag = [&](const char* name) {
    if (!schema || !schema->IsObject()) return false;
    auto it = schema->FindMember(name);
    return it != schema->MemberEnd() && it->value.IsBool() && it->value.GetBool();
  };
  if (!value || !instance)
    return fmt::format("instance failed to match the schema's \"{}\" keyword", keyword);
  if (keyword == "required" && value->IsArray() && instance->IsObject()) {
    std::string missing;
    for (const auto& r : value->GetArray()) {
      if (!r.IsString() || instance->HasMember(r)) continue;
      if (!missing.empty()) missing.push_back(',');
      missing.append(to_json(r));
    }
    return fmt::format("object has missing required properties ([{}])", missing);
  }
  if (keyword == "enum")
    return fmt::format("instance value ({}) not found in enum (possible values: {})",
                       to_json(*instance), to_json(*value));
  if (keyword == "type") {
    std::string allowed = value->IsArray() ? to_json(*value) : "[" + to_json(*value) + "]";
    return fmt::format("instance type ({}) does not match any allowed primitive type (allowed: {})",
                       type_name(*instance), allowed);
  }
  if (keyword == "minimum") {
    if (flag("exclusiveMinimum"))
      return fmt::format("numeric instance is not strictly greater than the required minimum {}",
                         number_text(*value));
    return fmt::format(
        "numeric instance is lower than the required minimum (minimum: {}, found: {})",
        number_text(*value), number_text(*instance));
  }
  if (keyword == "maximum") {
    if (flag("exclusiveMaximum"))
      return fmt::format("numeric instance is not strictly lower than the required maximum {}",
                         number_text(*value));
    return fmt::format(
        "numeric instance is greater than the required maximum (maximum: {}, found: {})",
        number_text(*value), number_text(*instance));
  }
  if (keyword == "multipleOf")
    return fmt::format("remainder of division is not zero ({} / {})", number_text(*instance),
                       number_text(*value));
  if ((keyword == "minLength" || keyword == "maxLength") && instance->IsString()) {
    std::string_view s(instance->GetString(), instance->GetStringLength());
    if (keyword == "minLength")
      return fmt::format("string {} is too short (length: {}, required minimum: {})",
                         to_json(*instance), utf8_length(s), number_text(*value));
    return fmt::format("string {} is too long (length: {}, maximum allowed: {})",
                       to_json(*instance), utf8_length(s), number_text(*value));
  }
  if (keyword == "pattern")
    return fmt::format("ECMA 262 regex {} does not match input string {}", to_json(*value),
                       to_json(*instance));
  if (keyword == "minItems" && instance->IsArray())
    return fmt::format(
        "array is too short: must have at least {} elements but instance has {} "
        "elements",
        number_text(*value), instance->Size());
  if (keyword == "maxItems" && instance->IsArray())
    return fmt::format(
        "array is too long: must have at most {} elements but instance has {} "
        "elements",
        number_text(*value), instance->Size());
  if (keyword == "uniqueItems") return "array must not contain duplicate elements";
  if (keyword == "minProperties" && instance->IsObject())
    return fmt::format("object has too few properties (found {}, required: {})",
                       instance->MemberCount(), number_text(*value));
  if (keyword == "maxProperties" && instance->IsObject())
    return fmt::format("object has too many properties (found {}, maximum allowed: {})",
                       instance->MemberCount(), number_text(*value));
  if (keyword == "additionalProperties" && instance->IsObject() && schema) {
    // The properties neither listed nor matched by a patternProperties entry.
    std::string extra;
    auto props = schema->FindMember("properties");
    auto patterns = schema->FindMember("patternProperties");
    for (const auto& m : instance->GetObject()) {
      if (props != schema->MemberEnd() && props->value.IsObject() && props->value.HasMember(m.name))
        continue;
      bool matched = false;
      if (patterns != schema->MemberEnd() && patterns->value.IsObject()) {
        for (const auto& p : patterns->value.GetObject()) {
          rapidjson::internal::Regex re(p.name.GetString());
          if (re.IsValid() && re.Search(m.name.GetString())) matched = true;
        }
      }
      if (matched) continue;
      if (!extra.empty()) extra.push_back(',');
      extra.append(to_json(m.name));
    }
    return fmt::format("object instance has properties which are not allowed by the schema: [{}]",
                       extra);
  }
  if (keyword == "anyOf" || keyword == "oneOf")
    return fmt::format("instance failed to match {} of the required schemas",
                       keyword == "anyOf" ? "at least one" : "exactly one");
  if (keyword == "allOf") return "instance failed to match all required schemas";
  if (keyword == "not") return "instance matched a schema which it should not have";
  return fmt::format("instance failed to match the schema's \"{}\" keyword", keyword);
}
}  // namespace

const rapidjson::Value* model::locate_schema(const rapidjson::Pointer& at,
                                             std::string_view keyword) const {
  // The pointer is into whichever model's document the failing schema came from: this one's,
  // or one it $refs.
  const json* found = at.Get(compiled_->doc);
  auto has_keyword = [&](const json* v) {
    return v && v->IsObject() &&
           v->HasMember(rapidjson::StringRef(keyword.data(),
                                             static_cast<rapidjson::SizeType>(keyword.size())));
  };
  if (has_keyword(found)) return found;
  for (const auto& [name, other] : compiled_->by_name)
    if (const json* v = other->locate_schema(at, keyword); has_keyword(v)) return v;
  return found;
}

const rapidjson::Value* model::schema_at(const rapidjson::Pointer& instance_path,
                                         std::string_view keyword) const {
  // RapidJSON reports schemas reached through another model's $ref as "#": find the schema by
  // walking from the root along the instance's path instead (properties, patternProperties,
  // additionalProperties, items; $refs followed), for the failure message only.
  const json* at = &compiled_->doc;
  const model* owner = this;
  auto follow_refs = [&] {
    for (int hops = 0; hops < 16 && at && at->IsObject(); ++hops) {
      auto ref = at->FindMember("$ref");
      if (ref == at->MemberEnd() || !ref->value.IsString()) return;
      std::string_view target(ref->value.GetString(), ref->value.GetStringLength());
      auto hash = target.find('#');
      if (hash != 0) {
        auto it = owner->compiled_->by_name.find(model_name_of(target));
        if (it == owner->compiled_->by_name.end()) return;
        owner = it->second;
      }
      const json* root = &owner->compiled_->doc;
      at = hash == std::string_view::npos
               ? root
               : rapidjson::Pointer(target.data() + hash + 1,
                                    static_cast<rapidjson::SizeType>(target.size() - hash - 1))
                     .Get(*root);
    }
  };
  follow_refs();
  for (std::size_t i = 0; i < instance_path.GetTokenCount() && at && at->IsObject(); ++i) {
    const auto& token = instance_path.GetTokens()[i];
    const json* next = nullptr;
    if (token.index != rapidjson::kPointerInvalidIndex) {
      if (auto items = at->FindMember("items"); items != at->MemberEnd() && items->value.IsObject())
        next = &items->value;
    }
    if (!next) {
      auto props = at->FindMember("properties");
      if (props != at->MemberEnd() && props->value.IsObject()) {
        auto m = props->value.FindMember(rapidjson::StringRef(token.name, token.length));
        if (m != props->value.MemberEnd()) next = &m->value;
      }
    }
    if (!next) {
      auto extra = at->FindMember("additionalProperties");
      if (extra != at->MemberEnd() && extra->value.IsObject()) next = &extra->value;
    }
    at = next;
    follow_refs();
  }
  (void)keyword;
  return at;
}

bool model::check(std::string_view body, std::string* errors) const {
  if (thread_schemas.size() >= 64) thread_schemas.clear();  // only here: nothing is in use
  auto& validator = thread_state().validator;
  validator.Reset();
  rapidjson::MemoryStream ms(body.data(), body.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(ms);
  rapidjson::Reader reader;
  constexpr unsigned flags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  const bool parsed = static_cast<bool>(reader.Parse<flags>(in, validator));
  if (parsed && validator.IsValid()) return true;
  if (!errors) return false;
  if (validator.IsValid()) {  // the body is not JSON
    *errors = fmt::format("[Invalid JSON: {} (at offset {})]",
                          rapidjson::GetParseError_En(reader.GetParseErrorCode()),
                          reader.GetErrorOffset());
    return false;
  }
  // Describe the failure from the instance and the schema keyword that refused it (a failure
  // path: the body is parsed again as a document).
  const std::string_view keyword = validator.GetInvalidSchemaKeyword();
  rapidjson::Document instance_doc;
  instance_doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  const json* instance = nullptr;
  if (!instance_doc.HasParseError()) {
    const auto& at = validator.GetInvalidDocumentPointer();
    instance = at.Get(instance_doc);
    // additionalProperties names the offending member; its message is about the object.
    if (keyword == "additionalProperties" && instance && !instance->IsObject() &&
        at.GetTokenCount() > 0)
      instance = rapidjson::Pointer(at.GetTokens(), at.GetTokenCount() - 1).Get(instance_doc);
  }
  const json* schema = locate_schema(validator.GetInvalidSchemaPointer(), keyword);
  if (!schema || !schema->IsObject() ||
      !schema->HasMember(
          rapidjson::StringRef(keyword.data(), static_cast<rapidjson::SizeType>(keyword.size()))))
    schema = schema_at(validator.GetInvalidDocumentPointer(), keyword);
  // (Built in place: "[" + text + "]" trips GCC 12's -Wrestrict false positive.)
  errors->assign(1, '[');
  errors->append(describe(keyword, schema, instance));
  errors->push_back(']');
  return false;
}

}  // namespace gatehouse::validate
