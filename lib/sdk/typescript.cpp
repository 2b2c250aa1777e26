// The TypeScript SDK: the JavaScript SDK's client with types: an interface or type per model
// (JSON Schema draft 4), a parameters type per method, bodies and results typed by the method's
// models. Compiles with tsc --strict.

#include "sdk/js_common.hpp"
#include "sdk/sdk_model.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fmt/format.h>

#include <map>
#include <set>

namespace gatehouse::sdk {

namespace {

using json = rapidjson::Value;

// Deeper schemas are typed `unknown` (models come from API documents: bounded, not trusted).
constexpr int max_depth = 32;

// Names the generated file declares or uses as types: a model of such a name gets "Model".
const std::set<std::string, std::less<>> reserved_types{"ApigClient",   "ApigClientConfig",
                                                        "ApigFetch",    "ApigRequest",
                                                        "ApigResponse", "AdditionalParams",
                                                        "ParamValue",   "ApiError",
                                                        "Params",       "Operation",
                                                        "Settings",     "Invoker",
                                                        "Array",        "ArrayBuffer",
                                                        "BufferSource", "Date",
                                                        "Error",        "Function",
                                                        "Map",          "Object",
                                                        "Promise",      "Readonly",
                                                        "Record",       "RequestInit",
                                                        "Response",     "Set",
                                                        "String",       "SubtleCrypto",
                                                        "TextEncoder",  "URL",
                                                        "Uint8Array"};

struct context {
  std::map<std::string, std::string, std::less<>> type_names;  // model → TypeScript name
};

// A JSON value as compact text (enum literals).
std::string compact(const json& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

std::string doc_comment(std::string_view text, std::string_view indent) {
  std::string body;
  for (char c : text) {
    if (c == '\r') continue;
    if (c == '/' && !body.empty() && body.back() == '*') body += '\\';  // "*/" would end it
    body += c;
    if (c == '\n') body.append(indent).append(" * ");
  }
  return fmt::format("{}/** {} */\n", indent, body);
}

std::string_view string_member(const json& s, const char* name) {
  auto it = s.FindMember(name);
  if (it == s.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

const json* member(const json& s, const char* name) {
  auto it = s.FindMember(name);
  return it == s.MemberEnd() ? nullptr : &it->value;
}

std::string join(const std::vector<std::string>& parts, std::string_view by) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += by;
    out += p;
  }
  return out;
}

std::string type_of(const json& s, const context& ctx, int depth, const std::string& indent);

std::string parenthesized(std::string t) {
  return t.find(" | ") != std::string::npos || t.find(" & ") != std::string::npos ? "(" + t + ")"
                                                                                  : t;
}

// The members of an object schema, between braces.
std::string object_type(const json& s, const context& ctx, int depth, const std::string& indent) {
  const std::string inner = indent + "  ";
  std::set<std::string, std::less<>> required;
  if (const json* r = member(s, "required"); r && r->IsArray())
    for (const auto& name : r->GetArray())
      if (name.IsString()) required.emplace(name.GetString(), name.GetStringLength());
  std::string body;
  std::vector<std::string> member_types;
  bool optional_member = false;
  if (const json* props = member(s, "properties"); props && props->IsObject()) {
    for (const auto& p : props->GetObject()) {
      const std::string_view name(p.name.GetString(), p.name.GetStringLength());
      const bool is_required = required.contains(name);
      const std::string t = type_of(p.value, ctx, depth + 1, inner);
      if (p.value.IsObject()) {
        if (auto d = string_member(p.value, "description"); !d.empty())
          body += doc_comment(d, inner);
      }
      body +=
          fmt::format("{}{}{}: {};\n", inner, js::property_name(name), is_required ? "" : "?", t);
      member_types.push_back(t);
      optional_member = optional_member || !is_required;
    }
  }
  // additionalProperties: an index signature, which must admit the named members' types too.
  if (const json* extra = member(s, "additionalProperties");
      extra && (extra->IsObject() || (extra->IsBool() && extra->GetBool()))) {
    std::string t = extra->IsObject() ? type_of(*extra, ctx, depth + 1, inner) : "unknown";
    std::set<std::string> seen{t};
    for (const auto& m : member_types) {
      if (t == "unknown") break;
      if (m == "unknown" || m.find('\n') != std::string::npos)
        t = "unknown";  // said plainly rather than as a long union
      else if (seen.insert(m).second)
        t += " | " + m;
    }
    if (optional_member && t != "unknown") t += " | undefined";
    body += fmt::format("{}[key: string]: {};\n", inner, t);
  }
  if (body.empty()) {
    const json* extra = member(s, "additionalProperties");
    return extra && extra->IsBool() && !extra->GetBool() ? "Record<string, never>"
                                                         : "{ [key: string]: unknown }";
  }
  return "{\n" + body + indent + "}";
}

std::string simple_type(std::string_view type, const json& s, const context& ctx, int depth,
                        const std::string& indent) {
  if (type == "string") return "string";
  if (type == "integer" || type == "number") return "number";
  if (type == "boolean") return "boolean";
  if (type == "null") return "null";
  if (type == "array") {
    const json* items = member(s, "items");
    if (items && items->IsObject()) return "Array<" + type_of(*items, ctx, depth + 1, indent) + ">";
    return "unknown[]";
  }
  if (type == "object") return object_type(s, ctx, depth, indent);
  return "unknown";
}

std::string type_of(const json& s, const context& ctx, int depth, const std::string& indent) {
  if (depth > max_depth || !s.IsObject()) return "unknown";
  if (auto ref = string_member(s, "$ref"); !ref.empty()) {
    constexpr std::string_view prefix = "#/definitions/";
    if (!ref.starts_with(prefix)) return "unknown";
    auto it = ctx.type_names.find(ref.substr(prefix.size()));
    return it == ctx.type_names.end() ? "unknown" : it->second;
  }
  if (const json* e = member(s, "enum"); e && e->IsArray() && !e->Empty()) {
    std::vector<std::string> literals;
    for (const auto& v : e->GetArray()) {
      if (v.IsObject() || v.IsArray()) return "unknown";
      literals.push_back(compact(v));
    }
    return join(literals, " | ");
  }
  for (const char* combiner : {"allOf", "anyOf", "oneOf"}) {
    const json* parts = member(s, combiner);
    if (!parts || !parts->IsArray() || parts->Empty()) continue;
    std::vector<std::string> types;
    for (const auto& p : parts->GetArray())
      types.push_back(parenthesized(type_of(p, ctx, depth + 1, indent)));
    return join(types, std::string_view(combiner) == "allOf" ? " & " : " | ");
  }
  const json* type = member(s, "type");
  if (type && type->IsString())
    return simple_type({type->GetString(), type->GetStringLength()}, s, ctx, depth, indent);
  if (type && type->IsArray()) {
    std::vector<std::string> types;
    for (const auto& t : type->GetArray())
      if (t.IsString())
        types.push_back(parenthesized(
            simple_type({t.GetString(), t.GetStringLength()}, s, ctx, depth, indent)));
    return types.empty() ? "unknown" : join(types, " | ");
  }
  if (member(s, "properties") || member(s, "additionalProperties"))
    return object_type(s, ctx, depth, indent);
  if (member(s, "items")) return simple_type("array", s, ctx, depth, indent);
  return "unknown";
}

// A model's TypeScript name: its name with the first letter upper case (no keyword is), letters,
// digits and _ only; "Model" added to a name the file declares otherwise or a taken one.
std::string type_name(std::string_view model, const std::set<std::string, std::less<>>& taken) {
  std::string name;
  for (char c : model)
    if (js::is_identifier(std::string(1, c)) || (c >= '0' && c <= '9')) name += c;
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) name = "Model" + name;
  if (name[0] >= 'a' && name[0] <= 'z') name[0] = static_cast<char>(name[0] - 'a' + 'A');
  if (reserved_types.contains(name) || taken.contains(name)) {
    std::string base = name + "Model";
    name = base;
    for (int n = 2; reserved_types.contains(name) || taken.contains(name); ++n)
      name = base + std::to_string(n);
  }
  return name;
}

std::string params_type_name(const operation& op) { return pascal_case(op.words) + "Params"; }

bool has_params(const operation& op) {
  return !op.path_parameters.empty() || !op.query_parameters.empty() ||
         !op.header_parameters.empty();
}

bool params_required(const operation& op) {
  for (const auto& p : op.path_parameters)
    if (p.name != op.greedy_parameter) return true;
  for (const auto& p : op.query_parameters)
    if (p.required) return true;
  for (const auto& p : op.header_parameters)
    if (p.required) return true;
  return false;
}

// interface PetsPetIdGetParams { petId: string | number; type?: … }: a name in two places once.
std::string params_interface(const operation& op) {
  std::string out = fmt::format("/** The parameters of {} ({} {}). */\nexport interface {} {{\n",
                                op.name, op.http_method, op.path, params_type_name(op));
  std::set<std::string, std::less<>> seen;
  auto add = [&](const parameter& p, bool required, std::string_view type) {
    if (!seen.insert(p.name).second) return;
    out += fmt::format("  {}{}: {};\n", js::property_name(p.name), required ? "" : "?", type);
  };
  for (const auto& p : op.path_parameters) add(p, p.name != op.greedy_parameter, "string | number");
  for (const auto& p : op.query_parameters)
    add(p, p.required, "ParamValue | readonly ParamValue[]");
  for (const auto& p : op.header_parameters) add(p, p.required, "ParamValue");
  return out + "}\n\n";
}

std::string model_type(const context& ctx, std::string_view model) {
  if (model.empty()) return {};
  auto it = ctx.type_names.find(model);
  return it == ctx.type_names.end() ? "unknown" : it->second;
}

std::string client_code(const api& a, const context& ctx, std::string& types_section) {
  std::string out = js::runtime(true);
  out += fmt::format("\nconst INVOKE_URL = {};\nconst REGION = {};\n\n",
                     js::string_literal(a.invoke_url), js::string_literal(a.region));

  // The models.
  if (!a.models.empty()) out += "// The API's models.\n\n";
  for (const auto& m : a.models) {
    rapidjson::Document schema;
    schema.Parse(m.schema.data(), m.schema.size());
    const std::string& name = ctx.type_names.at(m.name);
    types_section += fmt::format("- `{}`: the model {}\n", name, m.name);
    if (!schema.HasParseError() && schema.IsObject()) {
      if (auto d = string_member(schema, "description"); !d.empty())
        out += doc_comment(m.name + ": " + std::string(d), "");
    }
    const std::string t =
        schema.HasParseError() ? std::string("unknown") : type_of(schema, ctx, 0, "");
    if (t.starts_with("{\n"))
      out += fmt::format("export interface {} {}\n\n", name, t);
    else
      out += fmt::format("export type {} = {};\n\n", name, t);
  }

  // Each method's parameters and its signature.
  std::string signatures;
  for (const auto& op : a.operations) {
    std::string params = "params?: Record<string, never> | null";
    if (has_params(op)) {
      out += params_interface(op);
      params = params_required(op) ? "params: " + params_type_name(op)
                                   : "params?: " + params_type_name(op) + " | null";
    }
    const std::string body = op.body_model.empty()
                                 ? "body?: unknown"
                                 : "body?: " + model_type(ctx, op.body_model) + " | null";
    const std::string result = op.response_model.empty()
                                   ? "ApigResponse"
                                   : "ApigResponse<" + model_type(ctx, op.response_model) + ">";
    signatures += fmt::format(
        "  /** {} */\n  {}({}, {},\n    additionalParams?: AdditionalParams | null): "
        "Promise<{}>;\n",
        js::summary(op), js::property_name(op.name), params, body, result);
  }
  out +=
      "/** A client of the API: a method per resource and verb. */\nexport interface ApigClient "
      "{\n" +
      signatures +
      "  /** Any method and path under the invoke URL; the path is sent as given. */\n"
      "  invokeApi(method: string, path: string, body?: unknown,\n"
      "            additionalParams?: AdditionalParams | null): Promise<ApigResponse>;\n"
      "}\n\n";

  out +=
      "export const apigClientFactory = {\n"
      "  newClient(config?: ApigClientConfig | null): ApigClient {\n"
      "    const invoker = makeInvoker(INVOKE_URL, REGION, config);\n"
      "    return {\n";
  for (const auto& op : a.operations) {
    const std::string result =
        op.response_model.empty()
            ? ""
            : " as Promise<ApigResponse<" + model_type(ctx, op.response_model) + ">>";
    out += fmt::format(
        "      {}(params, body, additionalParams) {{\n"
        "        return invoker.call({},\n"
        "          params, body, additionalParams){};\n"
        "      }},\n",
        js::property_name(op.name), js::operation_literal(op), result);
  }
  out +=
      "      invokeApi: invoker.invokeApi,\n"
      "    };\n"
      "  },\n"
      "  // Rejections for answers outside 2xx: error.response = {data, status, statusText, ...}.\n"
      "  ApiError,\n"
      "};\n\n"
      "export default apigClientFactory;\n";
  return out;
}

std::string package_json(const api& a) {
  return fmt::format(
      "{{\n"
      "  \"name\": \"{}\",\n"
      "  \"version\": \"{}\",\n"
      "  \"type\": \"module\",\n"
      "  \"main\": \"dist/apigClient.js\",\n"
      "  \"types\": \"dist/apigClient.d.ts\",\n"
      "  \"exports\": {{\n"
      "    \".\": {{\n"
      "      \"types\": \"./dist/apigClient.d.ts\",\n"
      "      \"import\": \"./dist/apigClient.js\"\n"
      "    }}\n"
      "  }},\n"
      "  \"scripts\": {{ \"build\": \"tsc\" }},\n"
      "  \"devDependencies\": {{ \"typescript\": \"^5.9.3\" }},\n"
      "  \"engines\": {{ \"node\": \">=18\" }},\n"
      "  \"private\": true\n"
      "}}\n",
      js::package_name(a), js::package_version(a));
}

constexpr const char* tsconfig =
    "{\n"
    "  \"compilerOptions\": {\n"
    "    \"target\": \"ES2022\",\n"
    "    \"module\": \"NodeNext\",\n"
    "    \"moduleResolution\": \"NodeNext\",\n"
    "    \"lib\": [\"ES2022\", \"DOM\"],\n"
    "    \"strict\": true,\n"
    "    \"declaration\": true,\n"
    "    \"outDir\": \"dist\"\n"
    "  },\n"
    "  \"files\": [\"apigClient.ts\"]\n"
    "}\n";

}  // namespace

sdk_files generate_typescript(const api& a) {
  context ctx;
  std::set<std::string, std::less<>> taken;
  for (const auto& op : a.operations)
    if (has_params(op)) taken.insert(params_type_name(op));
  for (const auto& m : a.models) {
    std::string name = type_name(m.name, taken);
    taken.insert(name);
    ctx.type_names.emplace(m.name, std::move(name));
  }
  std::string types_section;
  sdk_files files;
  files["apigClient.ts"] = js::banner(a) + client_code(a, ctx, types_section);
  files["package.json"] = package_json(a);
  files["tsconfig.json"] = tsconfig;
  std::string readme = js::readme(a, true);
  readme +=
      "\n## Types\n\n"
      "`apigClient.ts` exports `ApigClient` (the client), `ApigClientConfig`, `AdditionalParams`, "
      "`ApigResponse<T>` (a result; `data: T`), `ApiError`, a `…Params` interface per method "
      "with parameters and a type per model (JSON Schema draft 4: objects as interfaces, enums "
      "as unions of literals, anything it cannot say as `unknown`)";
  readme += types_section.empty() ? ".\n" : ":\n\n" + types_section;
  files["README.md"] = std::move(readme);
  return files;
}

}  // namespace gatehouse::sdk
