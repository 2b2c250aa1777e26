#pragma once

#include <gatehouse/client_certificate.hpp>
#include <gatehouse/config.hpp>
#include <gatehouse/http.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/associated_allocator.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/dispatch.hpp>
#include <asio/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

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
  std::string ca_file{};
  /// More trusted CA certificates given in memory (PEM), added to the above.
  std::string ca_pem{};
};

/// AWS credentials for signing: an access key, or temporary ones with a session token.
struct aws_credentials {
  std::string access_key_id{};
  std::string secret_access_key{};
  std::string session_token{};  ///< temporary credentials only; sent as X-Amz-Security-Token
};

/// Sign a request with AWS Signature Version 4 (AWS4-HMAC-SHA256) before it is sent.
struct aws_signing {
  aws_credentials credentials{};
  std::string region{};   ///< "us-east-1", …
  std::string service{};  ///< the scope's service: "execute-api", "lambda", "sqs", …
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
  std::string url{};  ///< http://host[:port]/path?query or https://… (IPv6 as [::1])
  header_map headers{};
  std::string body{};
  std::chrono::milliseconds timeout{0};     ///< whole call; 0: the client's default
  client_certificate certificate{};         ///< presented to an HTTPS server that asks for one
  bool insecure_skip_verification = false;  ///< AWS's tlsConfig.insecureSkipVerification
  /// SigV4-sign what is sent: method, path and query, Host, every field of `headers` and the
  /// body. Authorization, X-Amz-Date (and X-Amz-Security-Token) are added; fields of those
  /// names in `headers` are replaced.
  std::optional<aws_signing> sign{};
};

namespace detail {
class client_core;
struct access;  // the library's own way to what the public types keep private

/// A move-only, type-erased completion callback, called at most once. Its memory comes from an
/// allocator (a completion handler's associated one) and goes back to it before the call.
template <class... Args>
class callback {
 public:
  callback() = default;
  template <class F>
  explicit callback(F f) : callback(std::move(f), std::allocator<void>()) {}
  template <class F, class Allocator>
  callback(F f, const Allocator& allocator) {
    using traits =
        typename std::allocator_traits<Allocator>::template rebind_traits<model<F, Allocator>>;
    typename traits::allocator_type a(allocator);
    auto* p = traits::allocate(a, 1);
    try {
      ::new (static_cast<void*>(p)) model<F, Allocator>(std::move(f), allocator);
    } catch (...) {
      traits::deallocate(a, p, 1);
      throw;
    }
    self_.reset(p);
  }
  explicit operator bool() const noexcept { return self_ != nullptr; }
  void operator()(Args... args) { self_.release()->call(std::move(args)...); }

 private:
  struct concept_t {
    virtual ~concept_t() = default;
    virtual void call(Args...) = 0;       // frees the memory, then calls
    virtual void destroy() noexcept = 0;  // frees the memory without a call
  };
  template <class F, class Allocator>
  struct model final : concept_t {
    model(F fn, const Allocator& a) : f(std::move(fn)), allocator(a) {}
    void call(Args... args) override {
      F fn = std::move(f);
      destroy();
      std::move(fn)(std::move(args)...);
    }
    void destroy() noexcept override {
      using traits = typename std::allocator_traits<Allocator>::template rebind_traits<model>;
      typename traits::allocator_type a(allocator);
      this->~model();
      traits::deallocate(a, this, 1);
    }
    F f;
    Allocator allocator;
  };
  struct release {
    void operator()(concept_t* c) const noexcept { c->destroy(); }
  };
  std::unique_ptr<concept_t, release> self_;
};

/// A callback that completes `handler` with (error, response) on its associated executor
/// (`fallback` when it has none), its memory from the handler's associated allocator.
template <class Handler, class Executor>
callback<asio::error_code, response> completion(Handler& handler, const Executor& fallback) {
  auto ex = asio::get_associated_executor(handler, fallback);
  auto allocator = asio::get_associated_allocator(handler);
  return callback<asio::error_code, response>(
      [h = std::move(handler), ex](asio::error_code ec, response res) mutable {
        asio::dispatch(ex, [h = std::move(h), ec, res = std::move(res)]() mutable {
          std::move(h)(ec, std::move(res));
        });
      },
      allocator);
}

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

/// The library's side of an operation that its completion handler's cancellation slot can stop.
class cancellable;
/// What gatehouse's operations put in their completion handler's cancellation slot: it hands a
/// cancellation on to the operation, from any thread and at any time; once the operation has
/// completed, it does nothing.
class cancel_forward {
 public:
  explicit cancel_forward(std::weak_ptr<cancellable> op) noexcept : op_(std::move(op)) {}
  void operator()(asio::cancellation_type type) const noexcept;

 private:
  std::weak_ptr<cancellable> op_;
};
/// When `handler` has a cancellation slot: the operation state `make()` gives, with a
/// cancel_forward to it in the slot. Otherwise null (an operation nobody can cancel needs none).
template <class Handler, class Make>
std::shared_ptr<cancellable> connect_cancellation(const Handler& handler, Make&& make) {
  auto slot = asio::get_associated_cancellation_slot(handler);
  if (!slot.is_connected()) return nullptr;
  std::shared_ptr<cancellable> op = std::forward<Make>(make)();
  slot.template emplace<cancel_forward>(op);
  return op;
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
  ///
  /// Cancellation (the completion handler's associated cancellation slot: bind_cancellation_slot,
  /// awaitable operators such as `||`): terminal and partial cancellation end the call at once
  /// with asio::error::operation_aborted, from any thread, at any time before it completed (a
  /// cancellation after that does nothing). A call waiting for a free pooled connection gives
  /// up its wait; one under way closes its connection, which does not go back to the pool (the
  /// server may or may not have received the request). A total cancellation alone is ignored:
  /// the call cannot promise to have had no effect. The handler's associated allocator holds
  /// the completion while the call runs.
  template <class Token>
  auto async_request(client_request req, Token&& token) {
    return asio::async_initiate<Token, void(asio::error_code, response)>(
        [this](auto handler, client_request r) {
          auto op = detail::connect_cancellation(handler, [this] { return new_call_state(); });
          launch(std::move(r), detail::completion(handler, executor_), std::move(op));
        },
        token, std::move(req));
  }

  /// Closes idle pooled connections now.
  void close_idle();
  /// Connections open now, idle or busy, to every upstream.
  std::size_t connection_count() const noexcept;

 private:
  friend struct detail::access;
  /// For the library: the implementation the integrations share.
  const std::shared_ptr<detail::client_core>& core() const noexcept { return core_; }

  std::shared_ptr<detail::cancellable> new_call_state() const;
  void launch(client_request req, detail::callback<asio::error_code, response> done,
              std::shared_ptr<detail::cancellable> op);

  asio::any_io_executor executor_{};
  std::shared_ptr<detail::client_core> core_{};
};

}  // namespace gatehouse

template <>
struct std::is_error_code_enum<gatehouse::client_errc> : std::true_type {};
