#pragma once

// RFC 6455 framing: an incremental decoder fed arbitrary chunks of bytes that yields complete
// messages and control frames, and an encoder for server (unmasked) and client (masked) frames.

#include "websocket/utf8.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace gatehouse::websocket {

/// Frame opcodes (RFC 6455 §5.2).
enum class opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

/// Close status codes (RFC 6455 §7.4.1) that gatehouse sends or reports.
namespace close_code {
inline constexpr std::uint16_t normal = 1000;            ///< normal closure
inline constexpr std::uint16_t going_away = 1001;        ///< idle timeout, duration, shutdown
inline constexpr std::uint16_t protocol_error = 1002;    ///< a frame broke RFC 6455
inline constexpr std::uint16_t unsupported_data = 1003;  ///< a kind of data not accepted
inline constexpr std::uint16_t no_status = 1005;         ///< reported only: close without a code
inline constexpr std::uint16_t abnormal = 1006;          ///< reported only: no close frame at all
inline constexpr std::uint16_t invalid_payload = 1007;   ///< text that is not UTF-8
inline constexpr std::uint16_t policy_violation = 1008;  ///< e.g. the outgoing queue overflowed
inline constexpr std::uint16_t message_too_big = 1009;   ///< over the frame or message limit
inline constexpr std::uint16_t internal_error = 1011;    ///< the server failed
}  // namespace close_code

/// True for a status code a peer may put in a close frame: 1000–1003, 1007–1014 (1012–1014 are
/// registered with IANA and sent by real servers), 3000–4999.
bool is_valid_close_code(std::uint16_t code) noexcept;

/// Which end of the connection a decoder or encoder works for.
enum class role : std::uint8_t {
  server,  ///< receives masked frames, sends unmasked ones
  client,  ///< receives unmasked frames, sends masked ones
};

/// Limits and rules of a frame_decoder.
struct decoder_options {
  role side = role::server;                    ///< server: every frame received must be masked
  std::size_t max_frame_bytes = 32 * 1024;     ///< payload of one frame (AWS: 32 KB), else 1009
  std::size_t max_message_bytes = 128 * 1024;  ///< payload of a message (AWS: 128 KB), else 1009
  bool reject_non_minimal_lengths = false;     ///< 1002 for e.g. a 16-bit length under 126
};

/// What frame_decoder::decode found.
enum class decode_event : std::uint8_t {
  need_more,  ///< all input consumed, nothing complete yet
  text,       ///< a complete, valid UTF-8 text message: payload()
  binary,     ///< a complete binary message: payload()
  ping,       ///< a ping frame: payload() (≤ 125 bytes)
  pong,       ///< a pong frame: payload()
  close,      ///< a valid close frame: close_status(), close_reason()
  error,      ///< the peer broke the protocol: error_code(), error_reason(); the decoder stops
};

/// One step of decoding: the event and how many input bytes it consumed.
struct decode_step {
  decode_event event;
  std::size_t consumed;
};

/// An incremental RFC 6455 frame decoder. Feed it bytes as they arrive, in chunks of any size;
/// it reassembles fragmented messages (control frames may come in between), unmasks, validates
/// text as UTF-8 across fragments and enforces the limits. A single-frame message whose bytes
/// are all in one input is unmasked in place and returned as a view into that input (no copy);
/// any other message is copied once into the decoder's message buffer.
class frame_decoder {
 public:
  /// A decoder with the given rules and limits.
  explicit frame_decoder(const decoder_options& options = {}) noexcept : options_(options) {}

  /// Consumes bytes from `input` (which it may unmask in place) until one event is complete or
  /// the input is used up. Call again with the rest (`input.subspan(consumed)`). After `error`
  /// every call returns `error` again and consumes nothing.
  decode_step decode(std::span<char> input);

  /// The payload of the last text, binary, ping or pong event: valid until the next decode()
  /// call or until the input it was decoded from changes.
  std::string_view payload() const noexcept { return payload_; }
  /// The status code of the last close event: close_code::no_status when the frame had none.
  std::uint16_t close_status() const noexcept { return close_status_; }
  /// The reason of the last close event (UTF-8, may be empty); valid as payload().
  std::string_view close_reason() const noexcept { return close_reason_; }
  /// After `error`: the close code to fail the connection with (1002, 1007 or 1009).
  std::uint16_t error_code() const noexcept { return error_code_; }
  /// After `error`: what was wrong, in a few words (fits in a close frame).
  std::string_view error_reason() const noexcept { return error_reason_; }
  /// True while a fragmented message has started but not finished.
  bool message_in_progress() const noexcept { return message_opcode_ != opcode::continuation; }
  /// Gives back the message buffer's memory when no message is in progress (for idle sessions).
  void release_memory() noexcept;

 private:
  enum class stage : std::uint8_t { header, payload, failed };

  decode_step fail(std::uint16_t code, const char* reason, std::size_t consumed) noexcept;
  /// Validates the first two header bytes; 0 when they are acceptable, else a close code.
  std::uint16_t check_first_bytes() noexcept;
  /// Validates the complete header (length, limits); 0 or a close code.
  std::uint16_t check_header() noexcept;
  /// Finishes a frame whose payload is complete; the event to report (need_more for a
  /// non-final fragment).
  decode_event finish_frame(std::string_view payload) noexcept;
  decode_event finish_close(std::string_view payload) noexcept;

  decoder_options options_;
  stage stage_ = stage::header;
  std::array<std::uint8_t, 14> header_{};  ///< header bytes collected so far
  std::uint8_t header_size_ = 0;           ///< bytes in header_
  std::uint8_t header_needed_ = 2;         ///< bytes the header has in total (once known)
  opcode frame_opcode_ = opcode::continuation;
  opcode message_opcode_ = opcode::continuation;  ///< text/binary while a message is open
  bool fin_ = false;
  bool masked_ = false;
  bool delivered_ = false;  ///< message_ holds a message already reported: clear it first
  std::array<std::uint8_t, 4> mask_{};
  std::uint8_t mask_offset_ = 0;  ///< position in mask_ of the next payload byte
  std::uint64_t frame_size_ = 0;
  std::uint64_t frame_remaining_ = 0;
  utf8_validator utf8_;
  std::uint16_t close_status_ = 0;
  std::uint16_t error_code_ = 0;
  std::uint8_t control_size_ = 0;
  std::array<char, 125> control_{};  ///< payload of the control frame being read
  std::string message_;              ///< the message being reassembled (when not zero-copy)
  std::string_view payload_;
  std::string_view close_reason_;
  const char* error_reason_ = "";
};

/// Unmasks (or masks) `size` bytes in place with `key`, starting at position `offset` of the key;
/// eight bytes at a time.
void apply_mask(char* data, std::size_t size, const std::array<std::uint8_t, 4>& key,
                std::size_t offset = 0) noexcept;

/// The largest frame header: 2 bytes, a 64-bit length and a masking key.
inline constexpr std::size_t max_frame_header_bytes = 14;

/// Writes the header of a frame with `payload_size` bytes into `out`; returns its size. With a
/// `mask` the header says masked and carries the key (client frames; the caller masks the payload).
std::size_t encode_frame_header(std::span<std::uint8_t, max_frame_header_bytes> out, opcode op,
                                std::uint64_t payload_size, bool fin = true,
                                const std::array<std::uint8_t, 4>* mask = nullptr) noexcept;

/// Appends one complete frame to `out`: unmasked (server) without `mask`, masked with it.
void append_frame(std::string& out, opcode op, std::string_view payload, bool fin = true,
                  const std::array<std::uint8_t, 4>* mask = nullptr);

/// Appends a message as frames of at most `max_frame_payload` bytes each (one frame when it
/// fits; an empty message is one empty frame).
void append_message(std::string& out, opcode op, std::string_view payload,
                    std::size_t max_frame_payload,
                    const std::array<std::uint8_t, 4>* mask = nullptr);

/// The payload of a close frame: `code` big-endian, then `reason` cut to the 123 bytes a control
/// frame leaves, at a UTF-8 boundary.
std::string close_payload(std::uint16_t code, std::string_view reason);

}  // namespace gatehouse::websocket
