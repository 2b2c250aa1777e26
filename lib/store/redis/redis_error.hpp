#pragma once

// Why a Redis call failed. Each value has its own message (category "gatehouse.redis").

#include <system_error>
#include <type_traits>

namespace gatehouse::redis {

enum class errc {
  timed_out = 1,    ///< no reply within the call's deadline (the reply, if it comes, is dropped)
  connection_lost,  ///< the connection closed or failed while the call waited for its reply
  not_connected,    ///< no connection: the last attempt failed and the next waits out a backoff
  connect_failed,   ///< the host did not resolve, refused the connection or did not answer
  connect_timeout,  ///< no connection (TCP, TLS, AUTH, SELECT) within the connect timeout
  tls_failed,       ///< the TLS handshake failed, or the server's certificate did not verify
  auth_failed,      ///< the server refused AUTH (or asked for it, with none configured)
  select_failed,    ///< the server refused SELECT of the URL's database
  protocol_error,   ///< the server sent what is not Redis's protocol, or a reply nobody asked for
  reply_too_large,  ///< a reply over max_reply_bytes (the connection is reset)
  circuit_open,     ///< the circuit breaker is open: the call was not sent
  error_reply,      ///< the server answered with an error (the value holds its message)
  bad_command,      ///< a command without arguments: not sent
  closed,           ///< the client was closed
};

const std::error_category& category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

/// Failures that say the server is unreachable or unwell (for the circuit breaker): not an error
/// reply (a healthy server's answer), not a refused or bad command, not the client's closing.
bool is_outage(const std::error_code& ec) noexcept;

}  // namespace gatehouse::redis

template <>
struct std::is_error_code_enum<gatehouse::redis::errc> : std::true_type {};
