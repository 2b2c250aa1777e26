#pragma once

// The WebSocket opening handshake (RFC 6455 §4.2): whether an HTTP request is a valid upgrade,
// the Sec-WebSocket-Accept key, and the 101 Switching Protocols response or the refusal.

#include <gatehouse/http.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::websocket {

/// The outcome of checking an upgrade request: accepted (status 101) or refused with a status
/// (400, 405, 426) and a message saying why.
struct handshake_result {
  int status = 101;                       ///< 101 when the upgrade is valid
  std::string message;                    ///< why it was refused (empty when accepted)
  std::string accept;                     ///< Sec-WebSocket-Accept for the response
  std::vector<std::string> subprotocols;  ///< Sec-WebSocket-Protocol offers, in order

  /// True when the request is a valid upgrade.
  bool ok() const noexcept { return status == 101; }
};

/// True when the request asks for a WebSocket upgrade at all (an `Upgrade` header naming
/// `websocket`), valid or not: such a request goes to check_upgrade, not to the HTTP routes.
bool wants_upgrade(const request& req) noexcept;

/// Checks a request against RFC 6455 §4.2.1: GET, Host, `Upgrade: websocket`, `Connection`
/// with the `upgrade` token, `Sec-WebSocket-Version: 13` (else 426), a `Sec-WebSocket-Key` of
/// 16 base64-encoded bytes, well-formed `Sec-WebSocket-Protocol` tokens.
handshake_result check_upgrade(const request& req);

/// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), the Sec-WebSocket-Accept value.
std::string accept_key(std::string_view key);

/// The 101 Switching Protocols response of an accepted upgrade; `subprotocol`, when not empty,
/// must be one of `result.subprotocols`.
response switching_protocols(const handshake_result& result, std::string_view subprotocol = {});

/// The response refusing an upgrade: its status, `{"message": …}` as body, and for 426
/// `Sec-WebSocket-Version: 13` (405 adds `Allow: GET`).
response refusal(const handshake_result& result);

}  // namespace gatehouse::websocket
