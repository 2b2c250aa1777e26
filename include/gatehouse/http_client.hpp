#pragma once

#include <gatehouse/client_certificate.hpp>
#include <gatehouse/config.hpp>
#include <gatehouse/http.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/dispatch.hpp>
#include <asio/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>

namespace gatehouse {

/// Why an http_client call failed. Each value has its own message (see client_category()).
enum class client_errc {
  bad_url = 1,           ///< not http://host[:port][/path] or https://…
  resolve_failed,        ///< the host name does not resolve
  connect_refused,       ///< nothing listens at the address
  connect_failed,        ///< unreachable, or another error while connecting
  connect_timeout,       ///< no connection within connect_timeout
  tls_handshake_failed,  ///< the TLS handshake failed (protocol, or the server refused us)
  certificate_rejected,  ///< the server's certificate did not verify (chain, dates or name)
  connection_reset,      ///< closed or reset before the whole response arrived
  timed_out,             ///< no complete response within the request's timeout
  bad_response,          ///< the server's answer is not a valid HTTP/1.x response
  response_too_large,    ///< the response head or body is over the client's limits
  client_closed,         ///< the client was closed, or the call cancelled, while it waited
};
const std::error_category& client_category() noexcept;
std::error_code make_error_code(client_errc e) noexcept;

/// Settings of an http_client.
struct http_client_options {
  /// Connections open to one upstream (scheme, host, port, certificate) at most; further
  /// requests wait for one to come free, within their timeout.
  std::size_t max_connections_per_upstream = 512;
  std::chrono::milliseconds connect_timeout{10'000};  ///< TCP connect plus TLS handshake
  std::chrono::milliseconds timeout{29'000};          ///< a whole call, unless the request says
  std::chrono::milliseconds idle_timeout{50'000};     ///< idle pooled connections close after it
  std::size_t max_response_head_bytes = 64 * 1024;    ///< status line and header fields
  std::size_t max_response_body_bytes = 10 * 1024 * 1024;  ///< AWS's 10 MB payload limit
  /// CA certificates (PEM file) that HTTPS servers must chain to; empty: the system trust store.
  std::string ca_file;
  /// More trusted CA certificates given in memory (PEM), added to the above.
  std::string ca_pem;
};

/// AWS credentials for signing: an access key, or temporary ones with a session token.
struct aws_credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  ///< temporary credentials only; sent as X-Amz-Security-Token
};

/// Sign a request with AWS Signature Version 4 (AWS4-HMAC-SHA256) before it is sent.
struct aws_signing {
  aws_credentials credentials;
  std::string region;   ///< "us-east-1", …
  std::string service;  ///< the scope's service: "execute-api", "lambda", "sqs", …
  /// Leave the body out of the signature (x-amz-content-sha256: UNSIGNED-PAYLOAD is sent).
  bool unsigned_payload = false;
  /// The signing time (X-Amz-Date); the default (the epoch) means now. For tests.
  std::chrono::system_clock::time_point time{};
};

/// A request for http_client. The client sets Host and Content-Length itself; a Host field in
/// `headers` replaces the URL's authority as the Host value sent (the connection still goes to
/// the URL's host and port), e.g. to reach a virtual host by IP address.
struct client_request {
  std::string method = "GET";
  std::string url;  ///< http://host[:port]/path?query or https://… (IPv6 as [::1])
  header_map headers;
  std::string body;
  std::chrono::milliseconds timeout{0};     ///< whole call; 0: the client's default
  client_certificate certificate;           ///< presented to an HTTPS server that asks for one
  bool insecure_skip_verification = false;  ///< AWS's tlsConfig.insecureSkipVerification
  /// SigV4-sign what is sent: method, path and query, Host, every field of `headers` and the
  /// body. Authorization, X-Amz-Date (and X-Amz-Security-Token) are added; fields of those
  /// names in `headers` are replaced.
  std::optional<aws_signing> sign;
};

namespace detail {
class client_core;

/// gatehouse's std::error_code as the error code of an Asio completion. On Boost.Asio a
/// std::system_category code would stay apart from Boost's system category (so that
/// `ec == asio::error::operation_aborted` would not hold): those two categories map back.
inline asio::error_code asio_error(const std::error_code& ec) noexcept {
#ifdef GATEHOUSE_ASIO_BOOST
  if (ec.category() == std::system_category())
    return {ec.value(), boost::system::system_category()};
  if (ec.category() == std::generic_category())
    return {ec.value(), boost::system::generic_category()};
#endif
  return ec;
}
}  // namespace detail

/// An asynchronous HTTP/1.1 client with per-upstream keep-alive pools, HTTPS (verification
/// against the system or a given trust store, SNI, client certificates) and timeouts. Its calls
/// are thread-safe; it runs on the given executor and starts no threads of its own (except
/// Asio's resolver thread, for host names that are not IP addresses).
class http_client {
 public:
  explicit http_client(asio::any_io_executor executor, http_client_options options = {});
  /// Closes idle connections; calls in flight end with client_closed (their completions run on
  /// the executor, so destroy the client from it, or once the io_context has stopped).
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Sends a request and reads the whole response. Completion: void(asio::error_code, response)
  /// (std::error_code; boost::system::error_code on Boost.Asio, so that its tokens see an
  /// error); a response with any status (4xx, 5xx included) is a success.
  template <class Token>
  auto async_request(client_request req, Token&& token) {
    return asio::async_initiate<Token, void(asio::error_code, response)>(
        [this](auto handler, client_request r) {
          auto ex = asio::get_associated_executor(handler, executor_);
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          launch(std::move(r), [shared, ex](std::error_code ec, response res) {
            asio::dispatch(ex, [shared, ec, res = std::move(res)]() mutable {
              std::move (*shared)(detail::asio_error(ec), std::move(res));
            });
          });
        },
        token, std::move(req));
  }

  /// Closes idle pooled connections now.
  void close_idle();
  /// Connections open now, idle or busy, to every upstream.
  std::size_t connection_count() const noexcept;

  /// For the library: the implementation the integrations share.
  const std::shared_ptr<detail::client_core>& core() const noexcept { return core_; }

 private:
  // std::function needs a copyable target, so the handler is held behind a shared_ptr.
  void launch(client_request req, std::function<void(std::error_code, response)> done);

  asio::any_io_executor executor_;
  std::shared_ptr<detail::client_core> core_;
};

}  // namespace gatehouse

template <>
struct std::is_error_code_enum<gatehouse::client_errc> : std::true_type {};
