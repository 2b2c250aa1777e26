#include "store/redis/redis_open.hpp"

#include "net/tls_context.hpp"
#include "store/redis/redis_error.hpp"
#include "util/as_tuple.hpp"

#include <asio/ip/address.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <random>
#include <string>

namespace gatehouse::redis {

namespace {
using asio::ip::tcp;
constexpr auto use_tuple = util::as_tuple(asio::use_awaitable);
constexpr std::size_t read_buffer_size = 16 * 1024;

double jitter() {
  thread_local std::minstd_rand rng(std::random_device{}());
  return std::uniform_real_distribution<double>(0.75, 1.25)(rng);
}

// Ends the connect timeout when open_transport() returns, however it returns.
struct connecting_scope {
  transport& t;
  explicit connecting_scope(transport& tr) : t(tr) { t.connecting = true; }
  ~connecting_scope() {
    t.connecting = false;
    t.connect_timer.cancel();
  }
};
}  // namespace

transport::transport(const asio::any_io_executor& strand, std::size_t max_reply_bytes)
    : socket(strand),
      resolver(strand),
      connect_timer(strand),
      reader(max_reply_bytes),
      in(read_buffer_size) {}

void transport::close() noexcept {
  asio::error_code ec;
  closed = true;
  resolver.cancel();
  connect_timer.cancel();
  socket.close(ec);
}

asio::awaitable<std::error_code> open_transport(std::shared_ptr<transport> t,
                                                const connection_settings& s) {
  if (t->closed) co_return make_error_code(errc::closed);
  const connecting_scope scope(*t);
  t->connect_timer.expires_after(s.connect_timeout);
  // The handler keeps the transport until the timer fires or the scope cancels it.
  t->connect_timer.async_wait([t](asio::error_code ec) {
    if (ec || !t->connecting) return;
    t->timed_out = true;
    t->close();
  });
  // Every wait ends early when the transport is closed: by the connect timeout, or its owner.
  const auto gone = [&]() -> std::optional<std::error_code> {
    if (t->timed_out) return make_error_code(errc::connect_timeout);
    if (t->closed) return make_error_code(errc::closed);
    return std::nullopt;
  };

  std::vector<tcp::endpoint> endpoints;
  asio::error_code aec;
  const auto address = asio::ip::make_address(s.where.host, aec);
  if (!aec) {
    endpoints.emplace_back(address, s.where.port);
  } else {
    char port[8];
    auto [end, pec] = std::to_chars(port, port + sizeof port, s.where.port);
    auto [rec, results] =
        co_await t->resolver.async_resolve(s.where.host, std::string(port, end), use_tuple);
    if (auto g = gone()) co_return *g;
    if (rec) co_return make_error_code(errc::connect_failed);
    for (const auto& r : results) endpoints.push_back(r.endpoint());
  }
  asio::error_code last = asio::error::host_not_found;
  for (const auto& ep : endpoints) {
    asio::error_code ignored;
    if (t->socket.is_open()) t->socket.close(ignored);
    auto [cec] = co_await t->socket.async_connect(ep, use_tuple);
    if (auto g = gone()) co_return *g;
    last = cec;
    if (!cec) break;
  }
  if (last) co_return make_error_code(errc::connect_failed);
  asio::error_code ignored;
  t->socket.set_option(tcp::no_delay(true), ignored);

  if (s.tls) {
    t->tls.emplace(t->socket, *s.tls);
    net::prepare_client_tls(t->tls->native_handle(), s.where.host, s.verify);
    auto [hec] = co_await t->tls->async_handshake(asio::ssl::stream_base::client, use_tuple);
    if (auto g = gone()) co_return *g;
    if (hec) co_return make_error_code(errc::tls_failed);
  }

  // AUTH and SELECT go first and alone: a call sent behind a SELECT that fails would run on
  // database 0.
  std::string hello;
  std::vector<errc> expect;
  if (!s.where.password.empty()) {
    const command auth = s.where.user.empty() ? command{"AUTH", s.where.password}
                                              : command{"AUTH", s.where.user, s.where.password};
    hello.append(auth.bytes());
    expect.push_back(errc::auth_failed);
  }
  if (s.where.db != 0) {
    char db[16];
    auto [end, dec] = std::to_chars(db, db + sizeof db, s.where.db);
    hello.append(command{"SELECT", std::string_view(db, end)}.bytes());
    expect.push_back(errc::select_failed);
  }
  if (expect.empty()) co_return std::error_code{};
  auto [wec, written] = co_await t->with_stream(
      [&](auto& stream) { return asio::async_write(stream, asio::buffer(hello), use_tuple); });
  if (auto g = gone()) co_return *g;
  if (wec) co_return make_error_code(errc::connection_lost);
  value v;
  for (std::size_t i = 0; i < expect.size();) {
    const auto st = t->reader.next(v);
    if (st == reply_reader::status::reply) {
      if (v.is_error()) co_return make_error_code(expect[i]);
      ++i;
      continue;
    }
    if (st != reply_reader::status::need_more) co_return make_error_code(errc::protocol_error);
    auto [rec, n] = co_await t->with_stream(
        [&](auto& stream) { return stream.async_read_some(asio::buffer(t->in), use_tuple); });
    if (auto g = gone()) co_return *g;
    if (rec) co_return make_error_code(errc::connection_lost);
    t->reader.feed(t->in.data(), n);
  }
  co_return std::error_code{};
}

std::chrono::milliseconds backoff_wait(const connection_settings& s, unsigned failures) {
  if (failures == 0) return std::chrono::milliseconds::zero();
  const double factor = static_cast<double>(std::uint64_t(1) << std::min(failures - 1, 20u));
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::min(std::chrono::duration<double, std::milli>(s.backoff) * factor,
               std::chrono::duration<double, std::milli>(s.backoff_max)) *
      jitter());
}

}  // namespace gatehouse::redis
