#pragma once

// What the Redis client's tests share: an io_context run by a few threads (as a gateway runs
// it), and a blocking call for the test's own thread.

#include "store/redis/redis_client.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

namespace test {

namespace redis = gatehouse::redis;

/// An io_context run by `n` threads until destroyed. Destroy the clients first: then the
/// io_context must run out of work by itself (nothing of theirs left waiting).
class io_threads {
 public:
  explicit io_threads(int n) : io_(n), work_(io_.get_executor()) {
    for (int i = 0; i < n; ++i)
      threads_.emplace_back([this] {
        io_.run();
        ++finished_;
      });
  }
  ~io_threads() {
    work_.reset();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (finished_ < static_cast<int>(threads_.size()) &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const bool drained = finished_ == static_cast<int>(threads_.size());
    io_.stop();
    for (auto& t : threads_) t.join();
    CHECK(drained);  // a closed client leaves nothing behind
  }
  asio::any_io_executor executor() { return io_.get_executor(); }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  std::atomic<int> finished_{0};
};

/// Calls and waits (from a thread that does not run the io_context).
inline redis::result call(redis::client& c, redis::command cmd,
                          std::chrono::milliseconds timeout = {}) {
  std::promise<redis::result> p;
  auto f = p.get_future();
  c.async_exec(std::move(cmd), timeout, [&p](asio::error_code ec, redis::value v) {
    p.set_value({ec, std::move(v)});
  });
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  return f.get();
}

}  // namespace test
