// The public face of the HTTP client: URL parsing, the error category, and calls spawned on a
// strand of the client's executor.

#include "net/aws_signing.hpp"
#include "net/cancellation.hpp"
#include "net/client_core.hpp"
#include "net/serial_executor.hpp"
#include "net/url.hpp"

#include <gatehouse/http_client.hpp>

#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/strand.hpp>

namespace gatehouse {

namespace {
class client_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "gatehouse.http_client"; }
  std::string message(int e) const override {
    switch (static_cast<client_errc>(e)) {
      case client_errc::bad_url:
        return "the URL is not a valid http:// or https:// URL";
      case client_errc::resolve_failed:
        return "the host name does not resolve";
      case client_errc::connect_refused:
        return "connection refused";
      case client_errc::connect_failed:
        return "cannot connect to the host";
      case client_errc::connect_timeout:
        return "no connection within the connect timeout";
      case client_errc::tls_handshake_failed:
        return "the TLS handshake failed";
      case client_errc::certificate_rejected:
        return "the server's certificate did not verify";
      case client_errc::connection_reset:
        return "the connection closed before the whole response arrived";
      case client_errc::timed_out:
        return "no complete response within the timeout";
      case client_errc::bad_response:
        return "the server's answer is not a valid HTTP/1.x response";
      case client_errc::response_too_large:
        return "the response is over the client's size limits";
      case client_errc::client_closed:
        return "the client was closed or the call cancelled";
    }
    return "unknown http client error";
  }
};

// Writes a client_request's header fields, minus those the client owns.
void write_fields(const void* ctx, std::string& out) {
  const auto& headers = *static_cast<const header_map*>(ctx);
  for (const auto& f : headers) {
    if (iequals(f.name, "host") || iequals(f.name, "content-length") ||
        iequals(f.name, "transfer-encoding") || iequals(f.name, "connection"))
      continue;
    out.append(f.name).append(": ").append(f.value).append("\r\n");
  }
}

bool safe_field(std::string_view s) noexcept {
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}
}  // namespace

const std::error_category& client_category() noexcept {
  static const client_error_category category;
  return category;
}

std::error_code make_error_code(client_errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

http_client::http_client(asio::any_io_executor executor, http_client_options options)
    : executor_(std::move(executor)),
      core_(std::make_shared<detail::client_core>(executor_, std::move(options))) {}

http_client::~http_client() { core_->abort_all(); }

void http_client::close_idle() { core_->close_idle(); }

std::size_t http_client::connection_count() const noexcept { return core_->connection_count(); }

namespace detail {
namespace {
// A host's call: cancelling it cancels what the call waits on (the wait for a pooled
// connection, or the connection's I/O, which then closes).
struct call_state final : cancellable {
  using cancellable::cancellable;
  asio::cancellation_signal signal;
  void stop() override { signal.emit(asio::cancellation_type::terminal); }
};
}  // namespace
}  // namespace detail

std::shared_ptr<detail::cancellable> http_client::new_call_state() const {
  return std::make_shared<detail::call_state>(net::serial_executor(executor_));
}

void http_client::launch(client_request req, detail::callback<asio::error_code, response> done,
                         std::shared_ptr<detail::cancellable> op) {
  // Without a cancellation slot the call needs no state of its own.
  std::shared_ptr<detail::call_state> state;
  if (op) {
    state = std::static_pointer_cast<detail::call_state>(std::move(op));
    state->done = std::move(done);
  }
  auto strand = state ? state->strand() : net::serial_executor(executor_);
  asio::co_spawn(
      std::move(strand),
      [core = core_, req = std::move(req), done = std::move(done),
       state = std::move(state)]() mutable -> asio::awaitable<void> {
        if (state && state->cancelled()) co_return;  // before it began
        response res;
        std::error_code ec;
        auto url = net::parse_url(req.url);
        bool valid = url.has_value() && !req.method.empty() && safe_field(req.method) &&
                     req.method.find(' ') == std::string::npos;
        for (const auto& f : req.headers)
          valid = valid && !f.name.empty() && safe_field(f.name) && safe_field(f.value) &&
                  f.name.find(':') == std::string::npos;
        if (!valid) {
          ec = make_error_code(client_errc::bad_url);
        } else {
          // The request's own Host field, when it has one, is the Host sent.
          const auto host = req.headers.get("Host");
          const std::string_view authority = host && !host->empty() ? *host : url->authority;
          detail::upstream_address to{url->tls, url->host, url->port, authority};
          detail::call_options opts;
          opts.timeout = req.timeout.count() > 0 ? req.timeout : core->options().timeout;
          opts.certificate = &req.certificate;
          opts.skip_verification = req.insecure_skip_verification;
          if (state) opts.cancel = state->handle(state->signal);
          detail::head_writer fields{&req.headers, &write_fields};
          std::string signed_fields;
          if (req.sign) {
            signed_fields = detail::signed_head_fields(*req.sign, req.method, authority,
                                                       url->target, fields, req.body);
            fields = detail::verbatim_fields(signed_fields);
          }
          ec = co_await core->call(to, req.method, url->target, fields, req.body, opts, res);
        }
        if (ec) res = {};
        if (state)
          state->complete(detail::asio_error(ec), std::move(res));  // nothing when cancelled first
        else
          done(detail::asio_error(ec), std::move(res));
      },
      asio::detached);
}

}  // namespace gatehouse
