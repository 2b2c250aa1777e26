#include "transform/http_api_mapping.hpp"

#include "routing/route_table.hpp"
#include "transform/parameter_mapping.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <charconv>

namespace gatehouse::transform {

using gatehouse::detail::exchange;

namespace {
using piece = http_api_rule::piece;

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

// "text $request.header.x more ${context.requestId}" → pieces.
std::vector<piece> parse_value(std::string_view v, bool response, const std::string& where) {
  std::vector<piece> out;
  std::string text;
  auto flush = [&] {
    if (!text.empty()) out.push_back({piece::from::text, std::move(text)}), text.clear();
  };
  for (std::size_t i = 0; i < v.size();) {
    if (v[i] != '$') {
      text.push_back(v[i++]);
      continue;
    }
    std::size_t start = i + 1, end;
    std::string_view ref;
    if (start < v.size() && v[start] == '{') {
      end = v.find('}', start);
      if (end == std::string_view::npos) throw config_error(where + ": an unclosed ${");
      ref = v.substr(start + 1, end - start - 1);
      i = end + 1;
    } else {
      end = start;
      while (end < v.size() && name_char(v[end])) ++end;
      ref = v.substr(start, end - start);
      i = end;
    }
    flush();
    auto take = [&](std::string_view prefix, piece::from kind) {
      if (!ref.starts_with(prefix) || ref.size() == prefix.size()) return false;
      out.push_back({kind, std::string(ref.substr(prefix.size()))});
      return true;
    };
    if (ref == "request.path") {
      out.push_back({piece::from::request_path, {}});
    } else if (take("request.header.", piece::from::request_header) ||
               take("request.querystring.", piece::from::request_querystring) ||
               take("request.path.", piece::from::request_path_parameter) ||
               take("context.", piece::from::context) ||
               take("stageVariables.", piece::from::stage_variable)) {
    } else if (response && take("response.header.", piece::from::response_header)) {
    } else {
      throw config_error(fmt::format(
          "{}: unknown reference ${} (use $request.header|querystring|path.NAME, $request.path, "
          "{}$context.NAME or $stageVariables.NAME)",
          where, ref, response ? "$response.header.NAME, " : ""));
    }
  }
  flush();
  return out;
}

http_api_rule parse_rule(std::string_view key, std::string_view value, bool response,
                         std::string_view what) {
  const std::string where = fmt::format("{}: parameter mapping '{}'", what, key);
  http_api_rule r;
  auto colon = key.find(':');
  if (colon == std::string_view::npos)
    throw config_error(where + ": the key is overwrite:, append: or remove: and a target");
  auto op = key.substr(0, colon);
  auto target = key.substr(colon + 1);
  if (op == "overwrite")
    r.action = http_api_rule::op::overwrite;
  else if (op == "append")
    r.action = http_api_rule::op::append;
  else if (op == "remove")
    r.action = http_api_rule::op::remove;
  else
    throw config_error(where + ": the action must be overwrite, append or remove");
  if (target.starts_with("header.") && target.size() > 7) {
    r.target = http_api_rule::part::header;
    r.name = target.substr(7);
  } else if (!response && target.starts_with("querystring.") && target.size() > 12) {
    r.target = http_api_rule::part::querystring;
    r.name = target.substr(12);
  } else if (!response && target == "path") {
    r.target = http_api_rule::part::path;
    if (r.action != http_api_rule::op::overwrite)
      throw config_error(where + ": the path can only be overwritten");
  } else if (response && target == "statuscode") {
    r.target = http_api_rule::part::statuscode;
    if (r.action != http_api_rule::op::overwrite)
      throw config_error(where + ": the status code can only be overwritten");
  } else {
    throw config_error(where + (response ? ": the target must be header.NAME or statuscode"
                                         : ": the target must be header.NAME, querystring.NAME "
                                           "or path"));
  }
  if (r.action != http_api_rule::op::remove) r.value = parse_value(value, response, where);
  return r;
}

std::string evaluate(const std::vector<piece>& value, const exchange& ex, const response* res) {
  std::string out;
  for (const auto& p : value) {
    switch (p.kind) {
      case piece::from::text:
        out.append(p.s);
        break;
      case piece::from::request_header:
        out.append(ex.req.headers.get(p.s).value_or(""));
        break;
      case piece::from::request_querystring:
        for (const auto& [k, v] : routing::parse_query(ex.query))
          if (k == p.s) {
            out.append(v);
            break;
          }
        break;
      case piece::from::request_path_parameter:
        out.append(ex.path_param(p.s).value_or(""));
        break;
      case piece::from::request_path:
        out.append(ex.path);
        break;
      case piece::from::response_header:
        if (res) out.append(res->headers.get(p.s).value_or(""));
        break;
      case piece::from::context:
        if (auto v = context_value(ex, p.s)) out.append(*v);
        break;
      case piece::from::stage_variable:
        if (auto it = ex.stage->variables.find(p.s); it != ex.stage->variables.end())
          out.append(it->second);
        break;
    }
  }
  return out;
}

void apply_header(header_map& headers, const http_api_rule& r, std::string value) {
  switch (r.action) {
    case http_api_rule::op::overwrite:
      headers.set(r.name, std::move(value));
      break;
    case http_api_rule::op::append:
      if (auto old = headers.get(r.name))
        headers.set(r.name, std::string(*old) + "," + value);
      else
        headers.add(r.name, std::move(value));
      break;
    case http_api_rule::op::remove:
      headers.erase(r.name);
      break;
  }
}

std::string encode_query(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}
}  // namespace

std::vector<http_api_rule> compile_request_mapping(
    const std::vector<std::pair<std::string, std::string>>& pairs, std::string_view what) {
  std::vector<http_api_rule> out;
  for (const auto& [k, v] : pairs) out.push_back(parse_rule(k, v, false, what));
  return out;
}

std::vector<http_api_response_rules> compile_response_mapping(
    const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>&
        by_status,
    std::string_view what) {
  std::vector<http_api_response_rules> out;
  for (const auto& [status, pairs] : by_status) {
    int code = 0;
    auto [end, ec] = std::from_chars(status.data(), status.data() + status.size(), code);
    if (ec != std::errc() || end != status.data() + status.size() || code < 100 || code > 599)
      throw config_error(
          fmt::format("{}: response mapping for '{}': not a status code", what, status));
    http_api_response_rules r{status, {}};
    for (const auto& [k, v] : pairs) r.rules.push_back(parse_rule(k, v, true, what));
    out.push_back(std::move(r));
  }
  return out;
}

void apply_request_mapping(const std::vector<http_api_rule>& rules, exchange& ex) {
  if (rules.empty()) return;
  // Query changes work on the decoded parameters, then the query is encoded again.
  std::vector<std::pair<std::string, std::string>> query;
  bool query_changed = false;
  for (const auto& r : rules) {
    std::string value = evaluate(r.value, ex, nullptr);
    switch (r.target) {
      case http_api_rule::part::header:
        apply_header(ex.req.headers, r, std::move(value));
        break;
      case http_api_rule::part::querystring:
        if (!query_changed) query = routing::parse_query(ex.query), query_changed = true;
        if (r.action != http_api_rule::op::append)
          std::erase_if(query, [&](const auto& kv) { return kv.first == r.name; });
        if (r.action != http_api_rule::op::remove) query.emplace_back(r.name, std::move(value));
        break;
      case http_api_rule::part::path:
        ex.mapped_path = value.starts_with('/') ? std::move(value) : "/" + value;
        ex.path_mapped = true;
        break;
      case http_api_rule::part::statuscode:
        break;
    }
  }
  if (query_changed) {
    ex.mapped_query.clear();
    for (const auto& [k, v] : query) {
      if (!ex.mapped_query.empty()) ex.mapped_query.push_back('&');
      ex.mapped_query.append(encode_query(k)).append("=").append(encode_query(v));
    }
    ex.query_mapped = true;
  }
}

void apply_response_mapping(const std::vector<http_api_response_rules>& rules, const exchange& ex,
                            response& res) {
  const std::string status = std::to_string(res.status);
  for (const auto& group : rules) {
    if (group.status != status) continue;
    for (const auto& r : group.rules) {
      std::string value = evaluate(r.value, ex, &res);
      if (r.target == http_api_rule::part::statuscode) {
        int code = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), code);
        if (ec == std::errc() && end == value.data() + value.size() && code >= 100 && code <= 599)
          res.status = code;
      } else {
        apply_header(res.headers, r, std::move(value));
      }
    }
  }
}

}  // namespace gatehouse::transform
