// The Redis client's round trips per second against a running redis-server, one io_context
// thread: calls one at a time (each waits for its reply) and with several in flight, which the
// client pipelines into shared writes; INCR and a small EVALSHA.
//
//   bench_redis_client redis://127.0.0.1:6379 [seconds per row, default 3]
//
// Pin it and redis-server to different cores (taskset) for steady numbers.

#include "store/redis/redis_client.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace redis = gatehouse::redis;
using namespace std::chrono_literals;

namespace {
const redis::script admit_like(
    "local n = redis.call('INCR', KEYS[1]) if n > tonumber(ARGV[1]) then return 0 end return n");

struct row_result {
  double per_second;
  double calls_per_write;
  std::uint64_t failures;
};

row_result run_row(const std::string& url, int in_flight, bool script,
                   std::chrono::milliseconds length) {
  asio::io_context io(1);
  redis::client c(io.get_executor(), {.url = url, .connections = 1, .timeout = 1000ms});
  bool stop = false;
  std::uint64_t calls = 0;
  int running = 1;
  // Warm up: connected, script loaded. (The client's connection always waits to read: the
  // io_context never runs out of work, so it runs until the coroutines are done.)
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        const std::array<std::string_view, 1> keys{"bench:n"};
        const std::array<std::string_view, 1> args{"1000000000000"};
        co_await c.eval(admit_like, keys, args);
        --running;
      },
      asio::detached);
  while (running > 0) io.run_one();
  const auto before = c.stats();
  running = in_flight;
  for (int i = 0; i < in_flight; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          const std::array<std::string_view, 1> keys{"bench:n"};
          const std::array<std::string_view, 1> args{"1000000000000"};
          while (!stop) {
            if (script) {
              co_await c.eval(admit_like, keys, args);
            } else {
              redis::command cmd{"INCR", "bench:n"};
              co_await c.exec(std::move(cmd));
            }
            ++calls;
          }
          --running;
        },
        asio::detached);
  }
  asio::steady_timer timer(io, length);
  timer.async_wait([&](asio::error_code) { stop = true; });
  const auto start = std::chrono::steady_clock::now();
  while (running > 0) io.run_one();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto after = c.stats();
  return {calls / secs,
          double(after.round_trips - before.round_trips) / double(after.writes - before.writes),
          after.failures - before.failures};
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_redis_client redis://HOST:PORT [seconds per row]\n");
    return 2;
  }
  const std::string url = argv[1];
  const auto length = std::chrono::milliseconds(argc > 2 ? std::atoi(argv[2]) * 1000 : 3000);
  fmt::print("{:<10} {:>9} {:>14} {:>15} {:>9}\n", "command", "in flight", "calls/s",
             "calls per write", "failures");
  for (bool script : {false, true}) {
    for (int in_flight : {1, 4, 16, 64}) {
      const auto r = run_row(url, in_flight, script, length);
      fmt::print("{:<10} {:>9} {:>14.0f} {:>15.1f} {:>9}\n", script ? "EVALSHA" : "INCR", in_flight,
                 r.per_second, r.calls_per_write, r.failures);
    }
  }
  return 0;
}
