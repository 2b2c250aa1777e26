#pragma once

// Incremental UTF-8 validation for WebSocket text messages, which may arrive split anywhere,
// even inside a code point, across frames and reads (RFC 6455 §8.1, RFC 3629 §4).

#include <cstddef>
#include <cstdint>

namespace gatehouse::websocket {

/// Validates UTF-8 fed in pieces; rejects overlongs, surrogates and code points past U+10FFFF
/// at the first byte that makes the text invalid (fail fast).
class utf8_validator {
 public:
  /// Feeds the next `size` bytes; false as soon as they cannot be part of valid UTF-8.
  bool feed(const char* data, std::size_t size) noexcept;
  /// True when the bytes fed so far end on a code point boundary.
  bool complete() const noexcept { return remaining_ == 0; }
  /// Forgets everything fed so far.
  void reset() noexcept { remaining_ = 0; }

 private:
  std::uint8_t remaining_ = 0;  ///< continuation bytes still expected
  std::uint8_t low_ = 0x80;     ///< smallest allowed next continuation byte
  std::uint8_t high_ = 0xBF;    ///< largest allowed next continuation byte
};

}  // namespace gatehouse::websocket
