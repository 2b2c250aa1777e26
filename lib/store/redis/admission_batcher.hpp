#pragma once

// Admissions gathered into batches: while `max_in_flight` admission calls are under way, the
// requests that come wait in a queue and leave together in the next call (at most `max_batch`
// each). At low load each request goes alone and at once; under load one call carries many,
// and Redis reads and writes a bucket they share once per call rather than once per request.
// Each request is still admitted all or nothing, in order, on Redis's clock.

#include "store/redis/redis_client.hpp"

#include <gatehouse/http_client.hpp>  // detail::callback
#include <gatehouse/store.hpp>

#include <asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

namespace gatehouse::redis {

class admission_batcher : public std::enable_shared_from_this<admission_batcher> {
 public:
  /// Called once with the verdict, or with the error of the call that carried it; on any
  /// thread (the caller dispatches to its own executor).
  using done_fn = detail::callback<std::error_code, admission_result>;

  /// A request waits at most `timeout` in all: queued, then in its call.
  admission_batcher(asio::any_io_executor executor, std::shared_ptr<client> c, std::string prefix,
                    std::size_t max_in_flight, std::size_t max_batch,
                    std::chrono::milliseconds timeout);

  /// Admits `a` (which must stay valid until `done` is called). Any thread.
  void admit(const admission& a, done_fn done);

  /// Calls sent and requests they carried, since made (any thread).
  std::uint64_t calls() const noexcept;
  std::uint64_t requests() const noexcept;

 private:
  struct waiter {
    const admission* a;
    done_fn done;
    clock::time_point since;  // when it came
  };
  // Under mutex_: the next batch from the queue, when a call may start.
  std::vector<waiter> take_locked();
  void start(std::vector<waiter> batch);
  static asio::awaitable<void> run(std::shared_ptr<admission_batcher> self,
                                   std::vector<waiter> batch);

  asio::any_io_executor executor_;
  std::shared_ptr<client> client_;
  const std::string prefix_;
  const std::size_t max_in_flight_, max_batch_;
  const std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  std::deque<waiter> queue_;
  std::size_t in_flight_ = 0;
  std::atomic<std::uint64_t> calls_{0}, requests_{0};
};

}  // namespace gatehouse::redis
