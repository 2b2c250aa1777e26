#pragma once

// Calls that wait for their reply, for the store's record calls: a redis::client of its own on
// a private io_context that the calling thread runs until the call completes (no thread of
// its own; one caller at a time). A host thread that makes a record call from within its
// io_context waits one round trip and cannot deadlock, whatever runs the host's io_context.

#include "store/redis/redis_client.hpp"

#include <asio/io_context.hpp>

#include <mutex>
#include <span>
#include <string_view>
#include <vector>

namespace gatehouse::redis {

class blocking_client {
 public:
  explicit blocking_client(client_options options);
  ~blocking_client();
  blocking_client(const blocking_client&) = delete;
  blocking_client& operator=(const blocking_client&) = delete;

  /// One command. A command that may safely run twice (`idempotent`) is sent once more when
  /// the connection it went out on turned out to be lost (Redis restarted since the last call).
  result call(command cmd, bool idempotent = true);
  /// Several commands, pipelined; a result per command, in order.
  std::vector<result> call_all(std::vector<command> cmds);
  /// A script (EVALSHA, loaded on NOSCRIPT); sent once more as call() says.
  result eval(const script& s, std::span<const std::string_view> keys,
              std::span<const std::string_view> args, bool idempotent = true);

  statistics stats() const noexcept { return client_->stats(); }

 private:
  template <class Op>
  auto run(Op op);

  std::mutex mutex_;  // one caller runs io_ at a time
  asio::io_context io_{1};
  std::unique_ptr<client> client_;
};

}  // namespace gatehouse::redis
