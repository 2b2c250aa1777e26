#pragma once

// Test support: a small, controllable HTTP/1.1 backend (plain or TLS, optionally requiring a
// client certificate) on its own io_context and thread, and a blocking HTTP/1.1 client that
// reads Content-Length, chunked and close-delimited responses.
//
// The backend listens on 127.0.0.1:0 (or [::1]:0) and answers by path prefix:
//   /echo…        200, text/plain: describes the request it got (see parse_echo)
//   /big/N        N bytes of pattern_bytes(N), with Content-Length
//   /chunked/N    the same bytes with Transfer-Encoding: chunked, in several chunks
//   /status/C     status C with Date, Server, Connection: keep-alive, Set-Cookie twice,
//                 X-Backend: status, Content-Type and a short body (none for 1xx/204/304);
//                 3xx also get Location: /elsewhere
//   /slow/MS      waits MS milliseconds (a timer: other requests go on), then answers as /echo
//   /bighead/N    200 with a header field X-Big of N bytes
//   /until-close/N  N bytes of pattern_bytes(N) with neither Content-Length nor chunked: the
//                 body ends when the backend closes the connection
//   /interim      "100 Continue" and "103 Early Hints" first, then 200 as /echo
//   /bye          200 "bye" with Connection: close, then closes
//   /close-after  200 as /echo with keep-alive, then closes the connection 100 ms later
//   /garbage      writes "this is not http\r\n\r\n" and closes
//   /close        closes without answering
//   /reset        closes with SO_LINGER 0 (the peer sees a reset)
//   anything else 404
// HEAD requests get the head that GET would get, without the body.

#include <gatehouse/http.hpp>
#include <gatehouse/tls.hpp>

#include "harness.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace test {

/// Deterministic, non-repeating-looking bytes: what /big/N and /chunked/N answer.
std::string pattern_bytes(std::size_t n);
/// FNV-1a 64-bit hash of `data`, as 16 lowercase hex digits.
std::string fnv1a_hex(std::string_view data);

/// The "message" of a gateway response's JSON body; nullopt when it is not such a body.
std::optional<std::string> json_message(const std::string& body);

/// What the backend received in one request (what /echo describes).
struct echoed {
  std::string method;
  std::string target;  ///< path and query as received
  gatehouse::header_map headers;
  std::size_t body_size = 0;
  std::string body_hash;  ///< fnv1a_hex(body)
  std::string body;       ///< the whole body when it is at most 64 KiB, else empty
};

/// Parses the body /echo answers with; nullopt when it is not one.
std::optional<echoed> parse_echo(std::string_view text);

struct backend_options {
  /// The loopback address to listen on: "127.0.0.1" or "::1".
  std::string host = "127.0.0.1";
  bool tls = false;
  /// The server certificate in TLS mode; empty: a fresh gatehouse::tls::self_signed().
  gatehouse::tls::config certificate;
  /// TLS mode: when set, clients must present a certificate that verifies against this PEM
  /// (verify_peer | verify_fail_if_no_peer_cert); others fail the handshake.
  std::string trusted_client_pem;
};

/// The backend. Counters and the request log are thread-safe.
class backend {
 public:
  explicit backend(backend_options options = {});
  ~backend();
  backend(const backend&) = delete;
  backend& operator=(const backend&) = delete;

  unsigned short port() const noexcept;
  /// "127.0.0.1:PORT" (or "[::1]:PORT"), what a stage variable `backend` holds.
  std::string address() const;
  /// "http://" or "https://", address(), then `path`.
  std::string url(std::string_view path = "") const;
  /// The server certificate (PEM) in TLS mode.
  const std::string& certificate_pem() const noexcept;

  std::size_t connections_accepted() const noexcept;
  std::size_t open_connections() const noexcept;
  /// Requests received whole (counted before they are answered).
  std::size_t requests() const noexcept;
  /// TLS handshakes that failed (client refused our certificate, or presented none/a bad one).
  std::size_t handshake_failures() const noexcept;
  /// Server names (SNI) the TLS clients asked for, "" for none, in order.
  std::vector<std::string> server_names() const;
  /// Every request received, in order.
  std::vector<echoed> received() const;
  std::optional<echoed> last_request() const;

  /// Waits until `pred` holds, polling; false when `timeout` passed first.
  template <class Pred>
  static bool wait_for(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      sleep_a_little();
    }
    return true;
  }

  struct state;

 private:
  static void sleep_a_little();
  std::shared_ptr<state> state_;
};

/// A port on 127.0.0.1 where nothing listens (bound and released again).
unsigned short unused_port();

/// A port on 127.0.0.1 where connecting hangs: a listener that never accepts, its accept queue
/// (backlog 0) already filled by a connection of its own, so the kernel drops further SYNs.
class blackhole {
 public:
  blackhole();
  ~blackhole();
  blackhole(const blackhole&) = delete;
  blackhole& operator=(const blackhole&) = delete;
  unsigned short port() const noexcept { return port_; }

 private:
  int listener_ = -1;
  std::vector<int> fillers_;
  unsigned short port_ = 0;
};

/// A request's bytes: request line, Host (unless given), the fields, Content-Length when there
/// is a body or the method is POST/PUT/PATCH, and the body.
std::string request_text(std::string_view method, std::string_view target,
                         const std::vector<std::pair<std::string, std::string>>& headers = {},
                         std::string_view body = {}, std::string_view host = "127.0.0.1");

/// A blocking HTTP/1.1 client connection on 127.0.0.1 that understands Content-Length, chunked
/// and close-delimited bodies. Every wait is bounded by the timeout.
class http_conn {
 public:
  explicit http_conn(unsigned short port,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~http_conn();
  http_conn(const http_conn&) = delete;
  http_conn& operator=(const http_conn&) = delete;

  bool send(std::string_view bytes);
  /// Reads one response; nullopt on timeout, a malformed response or a close before its end.
  std::optional<reply> read(bool head_only = false);
  /// Sends a request and reads its response.
  std::optional<reply> exchange(std::string_view request, bool head_only = false) {
    if (!send(request)) return std::nullopt;
    return read(head_only);
  }

 private:
  bool fill();
  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buf_;
};

/// One request on a fresh connection.
std::optional<reply> fetch(unsigned short port, std::string_view request,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace test
