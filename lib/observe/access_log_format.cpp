#include "observe/access_log_format.hpp"

#include "util/text.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace gatehouse::observe {

namespace {
struct preset {
  std::string_view name;
  log_api api;
  std::string_view text;
};

// The console's formats, verbatim, joined into one line as AWS-SEMANTICS.md §14 gives them (the
// Developer Guide prints them with `\` continuations): [DG:set-up-logging] for REST,
// [DG:http-api-logging] for HTTP APIs, [DG:websocket-api-logging] for WebSocket APIs.
constexpr std::array<preset, 12> presets =
    {
        {
            {"clf", log_api::rest,
             R"($context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] "$context.httpMethod $context.resourcePath $context.protocol" $context.status $context.responseLength $context.requestId $context.extendedRequestId)"},
            {"json", log_api::rest,
             R"({ "requestId":"$context.requestId", "extendedRequestId":"$context.extendedRequestId", "ip": "$context.identity.sourceIp", "caller":"$context.identity.caller", "user":"$context.identity.user", "requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod", "resourcePath":"$context.resourcePath", "status":"$context.status", "protocol":"$context.protocol", "responseLength":"$context.responseLength" })"},
            {"xml", log_api::rest,
             R"(<request id="$context.requestId"> <extendedRequestId>$context.extendedRequestId</extendedRequestId> <ip>$context.identity.sourceIp</ip> <caller>$context.identity.caller</caller> <user>$context.identity.user</user> <requestTime>$context.requestTime</requestTime> <httpMethod>$context.httpMethod</httpMethod> <resourcePath>$context.resourcePath</resourcePath> <status>$context.status</status> <protocol>$context.protocol</protocol> <responseLength>$context.responseLength</responseLength> </request>)"},
            {"csv", log_api::rest,
             R"($context.identity.sourceIp,$context.identity.caller,$context.identity.user,$context.requestTime,$context.httpMethod,$context.resourcePath,$context.protocol,$context.status,$context.responseLength,$context.requestId,$context.extendedRequestId)"},
            {"clf", log_api::http,
             R"($context.identity.sourceIp - - [$context.requestTime] "$context.httpMethod $context.routeKey $context.protocol" $context.status $context.responseLength $context.requestId)"},
            {"json", log_api::http,
             R"({ "requestId":"$context.requestId", "ip": "$context.identity.sourceIp", "requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod","routeKey":"$context.routeKey", "status":"$context.status","protocol":"$context.protocol", "responseLength":"$context.responseLength" })"},
            {"xml", log_api::http,
             R"(<request id="$context.requestId"> <ip>$context.identity.sourceIp</ip> <requestTime>$context.requestTime</requestTime> <httpMethod>$context.httpMethod</httpMethod> <routeKey>$context.routeKey</routeKey> <status>$context.status</status> <protocol>$context.protocol</protocol> <responseLength>$context.responseLength</responseLength> </request>)"},
            {"csv", log_api::http,
             R"($context.identity.sourceIp,$context.requestTime,$context.httpMethod,$context.routeKey,$context.protocol,$context.status,$context.responseLength,$context.requestId)"},
            {"clf", log_api::websocket,
             R"($context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] "$context.eventType $context.routeKey $context.connectionId" $context.status $context.requestId)"},
            {"json", log_api::websocket,
             R"({ "requestId":"$context.requestId", "ip": "$context.identity.sourceIp", "caller":"$context.identity.caller", "user":"$context.identity.user", "requestTime":"$context.requestTime", "eventType":"$context.eventType", "routeKey":"$context.routeKey", "status":"$context.status", "connectionId":"$context.connectionId" })"},
            {"xml", log_api::websocket,
             R"(<request id="$context.requestId"> <ip>$context.identity.sourceIp</ip> <caller>$context.identity.caller</caller> <user>$context.identity.user</user> <requestTime>$context.requestTime</requestTime> <eventType>$context.eventType</eventType> <routeKey>$context.routeKey</routeKey> <status>$context.status</status> <connectionId>$context.connectionId</connectionId> </request>)"},
            {"csv", log_api::websocket,
             R"($context.identity.sourceIp,$context.identity.caller,$context.identity.user,$context.requestTime,$context.eventType,$context.routeKey,$context.connectionId,$context.status,$context.requestId)"},
        }};

constexpr std::string_view api_name(log_api api) noexcept {
  switch (api) {
    case log_api::http:
      return "HTTP APIs";
    case log_api::websocket:
      return "WebSocket APIs";
    case log_api::rest:
      break;
  }
  return "REST APIs";
}

constexpr unsigned api_bit(log_api api) noexcept {
  switch (api) {
    case log_api::http:
      return transform::http_api;
    case log_api::websocket:
      return transform::websocket_api;
    case log_api::rest:
      break;
  }
  return transform::rest_api;
}

constexpr bool name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The variable name after "$context." at `text`: identifier characters, with dots between them
// (so that a sentence's full stop after a variable is text).
std::size_t name_length(std::string_view text) noexcept {
  std::size_t n = 0;
  while (n < text.size()) {
    if (name_char(text[n]))
      ++n;
    else if (text[n] == '.' && n > 0 && n + 1 < text.size() && name_char(text[n + 1]))
      ++n;
    else
      break;
  }
  return n;
}

// Variables whose values the gateway makes itself of letters, digits and "-_/:+. " only: no
// shape of line needs them escaped, so they are copied as they are.
bool safe_variable(transform::context_var v) noexcept {
  using cv = transform::context_var;
  switch (v) {
    case cv::request_id:
    case cv::extended_request_id:
    case cv::request_time:
    case cv::request_time_epoch:
    case cv::protocol:
    case cv::stage:
    case cv::connected_at:
    case cv::connection_id:
    case cv::message_id:
    case cv::event_type:
    case cv::is_canary_request:
    case cv::status:
    case cv::response_length:
    case cv::response_latency:
    case cv::data_processed:
    case cv::integration_latency:
    case cv::integration_latency_of_integration:
    case cv::integration_status:
    case cv::integration_status_of_integration:
    case cv::integration_integration_status:
    case cv::error_response_type:
    case cv::authorizer_latency:
    case cv::authorizer_integration_latency:
    case cv::authenticate_latency:
    case cv::authorize_latency:
    case cv::authorizer_status:
    case cv::authorizer_integration_status:
    case cv::authenticate_status:
    case cv::authorize_status:
      return true;
    default:
      return false;
  }
}

// The shortcut for a piece (see piece_op): only where the value needs no quotes of its own.
piece_op op_of(const format_piece& p, log_escaping escaping) noexcept {
  using cv = transform::context_var;
  const bool as_text = escaping != log_escaping::json || p.in_json_string;
  switch (*p.var) {
    case cv::request_id:
    case cv::extended_request_id:
      return as_text ? piece_op::request_id : piece_op::general;
    case cv::request_time:
      return as_text ? piece_op::request_time : piece_op::general;
    case cv::protocol:
      return as_text ? piece_op::protocol : piece_op::general;
    case cv::status:
      return piece_op::status;  // digits: a JSON number outside a string
    case cv::response_length:
      return piece_op::response_length;
    default:
      return piece_op::general;
  }
}

// The widest value a step's op writes (what fixed_room counts for it).
constexpr std::uint32_t widest(piece_op op) noexcept {
  switch (op) {
    case piece_op::request_id:
      return 36;
    case piece_op::request_time:
      return 32;
    case piece_op::status:
    case piece_op::response_length:
      return 20;  // a 64-bit number's digits
    case piece_op::protocol:
      return 8;
    case piece_op::general:
      return 4;  // "null" or "-" when absent; present values are counted when written
    case piece_op::end:
      break;
  }
  return 0;
}

// Picks each piece's shortcut and makes the steps: a request id or the protocol (fixed width)
// becomes a patch of the literal around it, so that a step ends only at a variable of another
// kind or the line's end.
void make_steps(access_log_format& f) {
  log_step step;
  auto open = [&] { step.literal_at = static_cast<std::uint32_t>(f.literals.size()); };
  open();
  for (std::size_t i = 0; i < f.pieces.size(); ++i) {
    auto& p = f.pieces[i];
    f.literals += p.literal;
    step.literal_size += static_cast<std::uint32_t>(p.literal.size());
    if (!p.var) break;
    p.op = op_of(p, f.escaping);
    p.from_response = *p.var >= transform::first_response_variable;
    const bool fixed = p.op == piece_op::request_id || p.op == piece_op::protocol;
    if (fixed && step.patch_count < log_step::max_patches) {
      step.patches[step.patch_count++] = {step.literal_size, p.op == piece_op::request_id
                                                                 ? patch_kind::request_id
                                                                 : patch_kind::protocol};
      const std::uint32_t width = widest(p.op);
      f.literals.append(width, ' ');
      step.literal_size += width;
      continue;
    }
    step.op = p.op;
    step.piece = static_cast<std::uint32_t>(i);
    f.steps.push_back(step);
    step = {};
    open();
  }
  step.op = piece_op::end;
  step.piece = static_cast<std::uint32_t>(f.pieces.size() - 1);
  f.steps.push_back(step);
  f.literals.append(32, '\0');
  std::uint64_t room = f.literals.size();
  for (const auto& s : f.steps) room += widest(s.op);
  f.fixed_room = static_cast<std::uint32_t>(std::min<std::uint64_t>(room, UINT32_MAX));
}

// Whether the pieces' literals separate the variables by single commas, and nothing else.
bool comma_separated(const std::vector<format_piece>& pieces) {
  if (pieces.size() < 3 || !pieces.front().literal.empty() || !pieces.back().literal.empty())
    return false;
  for (std::size_t i = 1; i + 1 < pieces.size(); ++i)
    if (pieces[i].literal != ",") return false;
  return true;
}

// JSON: marks the variables that sit inside a string literal of the format's own text.
void mark_json_strings(std::vector<format_piece>& pieces) {
  bool in_string = false;
  for (auto& p : pieces) {
    bool escaped = false;
    for (char c : p.literal) {
      if (escaped)
        escaped = false;
      else if (in_string && c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = !in_string;
    }
    p.in_json_string = in_string;
  }
}
}  // namespace

std::optional<std::string_view> access_log_preset(std::string_view name, log_api api) noexcept {
  for (const auto& p : presets)
    if (p.api == api && util::iequals(p.name, name)) return p.text;
  return std::nullopt;
}

access_log_format compile_access_log_format(std::string_view format, log_api api,
                                            std::string_view where) {
  auto bad = [&](std::string_view why) {
    return config_error(fmt::format("{}: access log format: {}", where, why));
  };
  if (auto preset = access_log_preset(format, api)) format = *preset;
  // One line, which may end in a line break (AWS's "\n" at the end): every line gets one.
  if (format.ends_with('\n')) format.remove_suffix(1);
  if (format.ends_with('\r')) format.remove_suffix(1);
  if (format.empty())
    throw bad("empty (give $context variables, or a preset: clf, json, xml or csv)");
  if (format.find_first_of("\r\n") != std::string_view::npos)
    throw bad("a line break before its end (a format is one line)");
  // AWS's limit for HTTP and WebSocket APIs [DG:limits].
  if (api != log_api::rest && format.size() > 3 * 1024)
    throw bad(
        fmt::format("{} characters; {} take at most 3 KB (3072)", format.size(), api_name(api)));

  access_log_format out;
  out.text = std::string(format);
  out.api = api;
  bool has_request_id = false;
  std::string literal;
  for (std::size_t i = 0; i < format.size();) {
    if (format[i] != '$') {
      literal.push_back(format[i++]);
      continue;
    }
    std::string_view rest = format.substr(i + 1);
    if (!rest.starts_with("context.")) {
      for (std::string_view other : {"stageVariables.", "input.", "util.", "request.", "method."})
        if (rest.starts_with(other))
          throw bad(fmt::format("${}…: only $context variables can be logged",
                                other.substr(0, other.size() - 1)));
      literal.push_back(format[i++]);
      continue;
    }
    rest.remove_prefix(8);
    const std::string_view name = rest.substr(0, name_length(rest));
    if (name.empty()) throw bad("'$context.' without a variable name");
    auto ref =
        transform::find_context_variable(name, transform::context_use::access_log, api_bit(api));
    if (!ref) {
      if (transform::find_context_variable(name, transform::context_use::access_log))
        throw bad(fmt::format("$context.{} is not a variable of {}", name, api_name(api)));
      throw bad(fmt::format("unknown variable $context.{}", name));
    }
    has_request_id = has_request_id || ref->var == transform::context_var::request_id ||
                     ref->var == transform::context_var::extended_request_id;
    out.pieces.push_back(
        {std::move(literal), ref->var, std::string(ref->arg), false, safe_variable(ref->var)});
    literal.clear();
    i += 1 + 8 + name.size();
  }
  out.pieces.push_back({std::move(literal), std::nullopt, {}});
  if (!has_request_id)
    throw bad("it must contain $context.requestId or $context.extendedRequestId");

  const auto first = out.text.find_first_not_of(" \t");
  if (out.text[first] == '{') {
    out.escaping = log_escaping::json;
    mark_json_strings(out.pieces);
  } else if (out.text[first] == '<') {
    out.escaping = log_escaping::xml;
  } else if (comma_separated(out.pieces)) {
    out.escaping = log_escaping::csv;
  }
  make_steps(out);
  return out;
}

}  // namespace gatehouse::observe
