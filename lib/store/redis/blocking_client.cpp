#include "store/redis/blocking_client.hpp"

#include <asio/co_spawn.hpp>

#include <exception>
#include <optional>

namespace gatehouse::redis {

blocking_client::blocking_client(client_options options)
    : client_(std::make_unique<client>(io_.get_executor(), std::move(options))) {}

blocking_client::~blocking_client() {
  std::lock_guard lock(mutex_);
  client_.reset();  // fails what waits; the handlers it posts run below
  io_.restart();
  io_.poll();
}

template <class Op>
auto blocking_client::run(Op op) {
  using value_type = typename decltype(op())::value_type;
  std::lock_guard lock(mutex_);
  std::optional<value_type> out;
  std::exception_ptr failure;
  asio::co_spawn(io_, op(), [&](std::exception_ptr e, value_type v) {
    failure = e;
    out.emplace(std::move(v));
  });
  // Every call ends by its deadline, so this loop ends; run_one returns 0 only when io_ has
  // no work left (then it is restarted).
  io_.restart();
  while (!out)
    if (io_.run_one() == 0) io_.restart();
  if (failure) std::rethrow_exception(failure);
  return std::move(*out);
}

namespace {
// A connection that was idle when Redis went away fails the next call sent on it.
bool stale_connection(const result& r) noexcept {
  return r.error == errc::connection_lost || r.error == errc::not_connected;
}
}  // namespace

result blocking_client::call(command cmd, bool idempotent) {
  command again = idempotent ? cmd.copy() : command{};
  auto r =
      run([&]() -> asio::awaitable<result> { co_return co_await client_->exec(std::move(cmd)); });
  if (!idempotent || !stale_connection(r)) return r;
  return run(
      [&]() -> asio::awaitable<result> { co_return co_await client_->exec(std::move(again)); });
}

std::vector<result> blocking_client::call_all(std::vector<command> cmds) {
  std::vector<result> results(cmds.size());
  std::lock_guard lock(mutex_);
  // All started before any reply is awaited: they leave together.
  std::size_t left = cmds.size();
  for (std::size_t i = 0; i < cmds.size(); ++i)
    asio::co_spawn(
        io_,
        [this, &results, i, c = std::move(cmds[i])]() mutable -> asio::awaitable<void> {
          results[i] = co_await client_->exec(std::move(c));
        },
        [&left](std::exception_ptr) { --left; });
  io_.restart();
  while (left > 0)
    if (io_.run_one() == 0) io_.restart();
  return results;
}

result blocking_client::eval(const script& s, std::span<const std::string_view> keys,
                             std::span<const std::string_view> args, bool idempotent) {
  auto r =
      run([&]() -> asio::awaitable<result> { co_return co_await client_->eval(s, keys, args); });
  if (!idempotent || !stale_connection(r)) return r;
  return run([&]() -> asio::awaitable<result> { co_return co_await client_->eval(s, keys, args); });
}

}  // namespace gatehouse::redis
