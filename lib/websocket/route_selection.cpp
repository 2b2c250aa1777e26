#include "websocket/route_selection.hpp"

#include "util/json_parse.hpp"
#include "util/json_ref.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>

namespace gatehouse::websocket {

namespace {
// Stringifies the value at a dotted JSON path ("" when missing), as AWS's selection.
std::string json_path_value(const rapidjson::Value& root, std::string_view path) {
  const rapidjson::Value* v = &root;
  while (!path.empty()) {
    auto dot = path.find('.');
    auto name = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    if (!v->IsObject()) return {};
    auto it = v->FindMember(rapidjson::Value(util::json_ref(name)));
    if (it == v->MemberEnd()) return {};
    v = &it->value;
  }
  if (v->IsString()) return std::string(v->GetString(), v->GetStringLength());
  if (v->IsNull() || v->IsObject() || v->IsArray()) return {};
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  v->Accept(w);
  return std::string(out.GetString(), out.GetSize());
}

// The route key a message selects by the API's expression; nullopt when it is not JSON (or
// not an object, which selects nothing either). Small messages parse without allocating.
std::optional<std::string> select_route(std::string_view expression, std::string_view body) {
  std::size_t first = 0;
  while (first < body.size() &&
         (body[first] == ' ' || body[first] == '\t' || body[first] == '\n' || body[first] == '\r'))
    ++first;
  if (first == body.size() || body[first] != '{') return std::nullopt;
  using pool = rapidjson::MemoryPoolAllocator<>;
  char value_space[4096];
  char parse_space[1024];
  pool values(value_space, sizeof value_space);
  pool parse_stack(parse_space, sizeof parse_space);
  rapidjson::GenericDocument<rapidjson::UTF8<>, pool, pool> doc(&values, sizeof parse_space / 2,
                                                                &parse_stack);
  if (!util::parse_json(doc, body)) return std::nullopt;
  constexpr std::string_view prefix = "$request.body.";
  if (expression.starts_with(prefix)) return json_path_value(doc, expression.substr(prefix.size()));
  std::string out;
  while (!expression.empty()) {
    auto open = expression.find("${request.body.");
    if (open == std::string_view::npos) {
      out.append(expression);
      break;
    }
    out.append(expression.substr(0, open));
    auto close = expression.find('}', open);
    if (close == std::string_view::npos) {
      out.append(expression.substr(open));
      break;
    }
    auto start = open + 15;
    out += json_path_value(doc, expression.substr(start, close - start));
    expression.remove_prefix(close + 1);
  }
  return out;
}

}  // namespace

const detail::websocket_route* route_for(const detail::websocket_api_state& api, message_kind kind,
                                         std::string_view body, std::string& key) {
  const detail::websocket_route* route = nullptr;
  if (kind == message_kind::text) {
    if (auto selected = select_route(api.options.route_selection_expression, body)) {
      key = std::move(*selected);
      if (key != "$connect" && key != "$disconnect" && key != "$default") route = api.find(key);
    }
  }
  if (!route) {
    key = "$default";
    route = api.find(key);
  }
  return route;
}

}  // namespace gatehouse::websocket
