#include "websocket/handshake.hpp"

#include "util/json_text.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace gatehouse::websocket {

namespace {

constexpr std::string_view websocket_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// Calls `f(element)` for each non-empty element of the comma-separated lists in every value
/// of header `name`; stops early when `f` returns true and returns true then.
template <class F>
bool any_list_element(const header_map& headers, std::string_view name, F f) {
  for (const auto& field : headers) {
    if (!iequals(field.name, name)) continue;
    std::string_view rest = field.value;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view element = trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      if (!element.empty() && f(element)) return true;
    }
  }
  return false;
}

bool has_token(const header_map& headers, std::string_view name, std::string_view token) {
  return any_list_element(headers, name,
                          [&](std::string_view element) { return iequals(element, token); });
}

bool is_tchar(char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

handshake_result refuse(int status, std::string message) {
  handshake_result result;
  result.status = status;
  result.message = std::move(message);
  return result;
}

}  // namespace

bool wants_upgrade(const request& req) noexcept {
  try {
    return has_token(req.headers, "upgrade", "websocket");
  } catch (...) {
    return false;
  }
}

std::string accept_key(std::string_view key) {
  std::string input;
  input.reserve(key.size() + websocket_guid.size());
  input.append(key).append(websocket_guid);
  std::array<std::uint8_t, SHA_DIGEST_LENGTH> digest;
  SHA1(reinterpret_cast<const std::uint8_t*>(input.data()), input.size(), digest.data());
  return util::base64_encode(
      std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

handshake_result check_upgrade(const request& req) {
  if (req.method != "GET") return refuse(405, "A WebSocket upgrade must use the GET method");
  if (!req.headers.contains("host")) return refuse(400, "Missing Host header");
  if (!has_token(req.headers, "upgrade", "websocket"))
    return refuse(400, "The Upgrade header must be \"websocket\"");
  if (!has_token(req.headers, "connection", "upgrade"))
    return refuse(400, "The Connection header must contain \"Upgrade\"");

  const auto versions = req.headers.get_all("sec-websocket-version");
  if (versions.size() != 1 || trim(versions.front()) != "13")
    return refuse(426, "Unsupported or missing Sec-WebSocket-Version (only 13 is supported)");

  const auto keys = req.headers.get_all("sec-websocket-key");
  if (keys.size() != 1) return refuse(400, "Missing or repeated Sec-WebSocket-Key header");
  const std::string_view key = trim(keys.front());
  std::string nonce;
  if (key.size() != 24 || !util::base64_decode(key, nonce) || nonce.size() != 16)
    return refuse(400, "Sec-WebSocket-Key must be the base64 encoding of 16 bytes");

  handshake_result result;
  bool bad_protocol = false;
  any_list_element(req.headers, "sec-websocket-protocol", [&](std::string_view protocol) {
    if (!std::all_of(protocol.begin(), protocol.end(), is_tchar) ||
        std::find(result.subprotocols.begin(), result.subprotocols.end(), protocol) !=
            result.subprotocols.end()) {
      bad_protocol = true;
      return true;
    }
    result.subprotocols.emplace_back(protocol);
    return false;
  });
  if (bad_protocol) return refuse(400, "Invalid Sec-WebSocket-Protocol header");
  result.accept = accept_key(key);
  return result;
}

response switching_protocols(const handshake_result& result, std::string_view subprotocol) {
  response res;
  res.status = 101;
  res.headers.reserve(4);
  res.headers.add("Upgrade", "websocket");
  res.headers.add("Connection", "Upgrade");
  res.headers.add("Sec-WebSocket-Accept", result.accept);
  if (!subprotocol.empty()) res.headers.add("Sec-WebSocket-Protocol", std::string(subprotocol));
  return res;
}

response refusal(const handshake_result& result) {
  response res;
  res.status = result.status;
  res.headers.add("Content-Type", "application/json");
  if (result.status == 426) res.headers.add("Sec-WebSocket-Version", "13");
  if (result.status == 405) res.headers.add("Allow", "GET");
  res.body = "{\"message\":";
  util::append_json_string(res.body, result.message);
  res.body += '}';
  return res;
}

}  // namespace gatehouse::websocket
