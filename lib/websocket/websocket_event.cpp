// websocket_event: what a WebSocket route's C++ handler gets, and its JSON as AWS's Lambda
// proxy event for WebSocket APIs.

#include "routing/route_table.hpp"
#include "util/json_text.hpp"
#include "util/time_text.hpp"
#include "websocket/api_host.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/websocket_api.hpp>

#include <fmt/format.h>

namespace gatehouse {

namespace {
std::string_view event_type_name(websocket_event_type t) {
  switch (t) {
    case websocket_event_type::connect:
      return "CONNECT";
    case websocket_event_type::disconnect:
      return "DISCONNECT";
    case websocket_event_type::message:
      break;
  }
  return "MESSAGE";
}
}  // namespace

std::optional<std::string_view> websocket_event::header(std::string_view name) const noexcept {
  if (!upgrade) return std::nullopt;
  return upgrade->headers.get(name);
}

std::optional<std::string> websocket_event::query(std::string_view name) const {
  if (!upgrade) return std::nullopt;
  auto q = std::string_view(upgrade->target);
  auto mark = q.find('?');
  if (mark == std::string_view::npos) return std::nullopt;
  std::optional<std::string> found;
  for (auto& [k, v] : routing::parse_query(q.substr(mark + 1)))
    if (k == name) found = v;
  return found;
}

ConnectionManager websocket_event::connections() const {
  if (!stage_state_)
    throw config_error("websocket_event::connections(): the event is not one of a mounted stage");
  return ConnectionManager(
      std::const_pointer_cast<detail::websocket_stage_state>(stage_state_->shared_from_this()));
}

std::string websocket_event::to_json() const {
  std::string out = "{\"requestContext\":{\"routeKey\":";
  util::append_json_string(out, route_key);
  if (event_type == websocket_event_type::message) {
    out += ",\"messageId\":";
    util::append_json_string(out, message_id);
  }
  out += ",\"eventType\":\"";
  out += event_type_name(event_type);
  out += "\",\"extendedRequestId\":";
  util::append_json_string(out, request_id);
  out += ",\"requestTime\":";
  util::append_json_string(out, util::clf_time(std::chrono::system_clock::time_point(
                                    std::chrono::milliseconds(request_time_epoch))));
  out += ",\"messageDirection\":\"IN\",\"stage\":";
  util::append_json_string(out, stage);
  out +=
      fmt::format(",\"connectedAt\":{},\"requestTimeEpoch\":{}", connected_at, request_time_epoch);
  out += ",\"identity\":{\"sourceIp\":";
  util::append_json_string(out, source_ip);
  out += ",\"userAgent\":";
  util::append_json_string(out, user_agent);
  out += "},\"requestId\":";
  util::append_json_string(out, request_id);
  out += ",\"domainName\":";
  util::append_json_string(out, domain_name);
  out += ",\"connectionId\":";
  util::append_json_string(out, connection_id);
  out += ",\"apiId\":";
  util::append_json_string(out, api_id);
  if (!authorizer_json.empty()) {
    out += ",\"authorizer\":";
    out += authorizer_json;
  }
  if (event_type == websocket_event_type::disconnect) {
    out +=
        fmt::format(",\"disconnectStatusCode\":{},\"disconnectReason\":", disconnect_status_code);
    util::append_json_string(out, disconnect_reason);
  }
  out += '}';
  if (upgrade) {
    out += ",\"headers\":{";
    bool first = true;
    for (const auto& f : upgrade->headers) {
      if (!first) out += ',';
      first = false;
      util::append_json_string(out, f.name);
      out += ':';
      util::append_json_string(out, f.value);
    }
    out += '}';
    auto q = std::string_view(upgrade->target);
    auto mark = q.find('?');
    if (mark != std::string_view::npos) {
      out += ",\"queryStringParameters\":{";
      first = true;
      for (auto& [k, v] : routing::parse_query(q.substr(mark + 1))) {
        if (!first) out += ',';
        first = false;
        util::append_json_string(out, k);
        out += ':';
        util::append_json_string(out, v);
      }
      out += '}';
    }
  }
  if (event_type == websocket_event_type::message) {
    out += ",\"body\":";
    util::append_json_string(out, is_binary ? util::base64_encode(body) : std::string(body));
    out += is_binary ? ",\"isBase64Encoded\":true" : ",\"isBase64Encoded\":false";
  } else {
    out += ",\"isBase64Encoded\":false";
  }
  out += '}';
  return out;
}

}  // namespace gatehouse
