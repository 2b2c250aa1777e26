#pragma once

// The ids and times a WebSocket event carries: request ids, AWS-like connection and message ids,
// epoch milliseconds.

#include <chrono>
#include <cstdint>
#include <string>

namespace gatehouse::websocket {

/// A fresh request id (a UUID), as an event's requestId and x-amzn-RequestId.
std::string request_id();

/// An AWS-like id: 11 random bytes in URL-safe base64, 16 characters (the last '='), written to
/// `out` without allocating.
void random_id(char (&out)[17]);
std::string random_id();

inline std::int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace gatehouse::websocket
