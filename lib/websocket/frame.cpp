#include "websocket/frame.hpp"

#include <algorithm>
#include <cstring>

namespace gatehouse::websocket {

namespace {

bool is_control(opcode op) noexcept { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }

bool is_known_opcode(std::uint8_t op) noexcept { return op <= 0x2 || (op >= 0x8 && op <= 0xA); }

}  // namespace

bool is_valid_close_code(std::uint16_t code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

void apply_mask(char* data, std::size_t size, const std::array<std::uint8_t, 4>& key,
                std::size_t offset) noexcept {
  std::uint8_t pattern[8];
  for (std::size_t i = 0; i < 8; ++i) pattern[i] = key[(offset + i) & 3];
  std::uint64_t word_mask;
  std::memcpy(&word_mask, pattern, 8);
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data + i, 8);
    word ^= word_mask;
    std::memcpy(data + i, &word, 8);
  }
  for (; i < size; ++i) data[i] = static_cast<char>(data[i] ^ pattern[i & 7]);
}

// ---------------------------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------------------------

void frame_decoder::release_memory() noexcept {
  if (message_in_progress()) return;
  payload_ = {};
  std::string().swap(message_);
  delivered_ = false;
}

decode_step frame_decoder::fail(std::uint16_t code, const char* reason,
                                std::size_t consumed) noexcept {
  stage_ = stage::failed;
  error_code_ = code;
  error_reason_ = reason;
  payload_ = {};
  return {decode_event::error, consumed};
}

std::uint16_t frame_decoder::check_first_bytes() noexcept {
  const std::uint8_t b0 = header_[0], b1 = header_[1];
  if (b0 & 0x70) {
    error_reason_ = "reserved bits set without an extension";
    return close_code::protocol_error;
  }
  if (!is_known_opcode(b0 & 0x0F)) {
    error_reason_ = "unknown opcode";
    return close_code::protocol_error;
  }
  fin_ = (b0 & 0x80) != 0;
  frame_opcode_ = static_cast<opcode>(b0 & 0x0F);
  masked_ = (b1 & 0x80) != 0;
  const std::uint8_t length7 = b1 & 0x7F;
  if (options_.side == role::server && !masked_) {
    error_reason_ = "client frame not masked";
    return close_code::protocol_error;
  }
  if (options_.side == role::client && masked_) {
    error_reason_ = "server frame masked";
    return close_code::protocol_error;
  }
  if (is_control(frame_opcode_)) {
    if (!fin_) {
      error_reason_ = "fragmented control frame";
      return close_code::protocol_error;
    }
    if (length7 > 125) {
      error_reason_ = "control frame payload over 125 bytes";
      return close_code::protocol_error;
    }
  } else if (frame_opcode_ == opcode::continuation) {
    if (!message_in_progress()) {
      error_reason_ = "continuation frame without a message";
      return close_code::protocol_error;
    }
  } else if (message_in_progress()) {
    error_reason_ = "new message inside a fragmented message";
    return close_code::protocol_error;
  }
  header_needed_ = static_cast<std::uint8_t>(2 + (length7 == 126 ? 2 : 0) +
                                             (length7 == 127 ? 8 : 0) + (masked_ ? 4 : 0));
  return 0;
}

std::uint16_t frame_decoder::check_header() noexcept {
  const std::uint8_t length7 = header_[1] & 0x7F;
  std::size_t at = 2;
  std::uint64_t length = length7;
  if (length7 == 126) {
    length = (std::uint64_t{header_[2]} << 8) | header_[3];
    at = 4;
    if (options_.reject_non_minimal_lengths && length < 126) {
      error_reason_ = "length not minimally encoded";
      return close_code::protocol_error;
    }
  } else if (length7 == 127) {
    length = 0;
    for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | header_[i];
    at = 10;
    if (length >> 63) {
      error_reason_ = "64-bit length with the top bit set";
      return close_code::protocol_error;
    }
    if (options_.reject_non_minimal_lengths && length <= 0xFFFF) {
      error_reason_ = "length not minimally encoded";
      return close_code::protocol_error;
    }
  }
  if (masked_) std::memcpy(mask_.data(), header_.data() + at, 4);
  if (is_control(frame_opcode_)) {
    if (frame_opcode_ == opcode::close && length == 1) {
      error_reason_ = "close frame with a 1-byte payload";
      return close_code::protocol_error;
    }
  } else {
    if (length > options_.max_frame_bytes) {
      error_reason_ = "frame too big";
      return close_code::message_too_big;
    }
    if (message_.size() + length > options_.max_message_bytes) {
      error_reason_ = "message too big";
      return close_code::message_too_big;
    }
  }
  frame_size_ = frame_remaining_ = length;
  mask_offset_ = 0;
  control_size_ = 0;
  return 0;
}

decode_event frame_decoder::finish_close(std::string_view payload) noexcept {
  if (payload.empty()) {
    close_status_ = close_code::no_status;
    close_reason_ = {};
    return decode_event::close;
  }
  const auto code =
      static_cast<std::uint16_t>((std::uint8_t(payload[0]) << 8) | std::uint8_t(payload[1]));
  if (!is_valid_close_code(code)) {
    fail(close_code::protocol_error, "invalid close code", 0);
    return decode_event::error;
  }
  utf8_validator reason_check;
  const std::string_view reason = payload.substr(2);
  if (!reason_check.feed(reason.data(), reason.size()) || !reason_check.complete()) {
    fail(close_code::invalid_payload, "close reason not UTF-8", 0);
    return decode_event::error;
  }
  close_status_ = code;
  close_reason_ = reason;
  return decode_event::close;
}

decode_event frame_decoder::finish_frame(std::string_view control_payload) noexcept {
  switch (frame_opcode_) {
    case opcode::ping:
      payload_ = control_payload;
      return decode_event::ping;
    case opcode::pong:
      payload_ = control_payload;
      return decode_event::pong;
    case opcode::close:
      return finish_close(control_payload);
    default:
      break;
  }
  if (!fin_) return decode_event::need_more;
  const opcode kind = message_opcode_;
  message_opcode_ = opcode::continuation;
  if (kind == opcode::text && !utf8_.complete()) {
    fail(close_code::invalid_payload, "text message not UTF-8", 0);
    return decode_event::error;
  }
  payload_ = message_;
  delivered_ = true;
  return kind == opcode::text ? decode_event::text : decode_event::binary;
}

decode_step frame_decoder::decode(std::span<char> input) {
  if (stage_ == stage::failed) return {decode_event::error, 0};
  if (delivered_) {
    message_.clear();
    delivered_ = false;
  }
  payload_ = {};
  close_reason_ = {};
  std::size_t pos = 0;
  const std::size_t size = input.size();
  for (;;) {
    if (stage_ == stage::header) {
      while (header_size_ < header_needed_ && pos < size) {
        header_[header_size_++] = static_cast<std::uint8_t>(input[pos++]);
        if (header_size_ == 2) {
          if (const auto code = check_first_bytes()) return fail(code, error_reason_, pos);
        }
      }
      if (header_size_ < header_needed_) return {decode_event::need_more, pos};
      if (const auto code = check_header()) return fail(code, error_reason_, pos);
      header_size_ = 0;
      header_needed_ = 2;
      stage_ = stage::payload;
      if (!is_control(frame_opcode_)) {
        if (frame_opcode_ != opcode::continuation) {
          message_opcode_ = frame_opcode_;
          utf8_.reset();
          // A whole single-frame message in this input: unmask it in place, no copy.
          if (fin_ && frame_size_ <= size - pos) {
            char* data = input.data() + pos;
            const auto length = static_cast<std::size_t>(frame_size_);
            if (masked_) apply_mask(data, length, mask_);
            pos += length;
            stage_ = stage::header;
            message_opcode_ = opcode::continuation;
            if (frame_opcode_ == opcode::text && (!utf8_.feed(data, length) || !utf8_.complete()))
              return fail(close_code::invalid_payload, "text message not UTF-8", pos);
            payload_ = std::string_view(data, length);
            return {frame_opcode_ == opcode::text ? decode_event::text : decode_event::binary, pos};
          }
        }
        message_.reserve(message_.size() + static_cast<std::size_t>(frame_size_));
      }
    }

    // The payload, or the part of it in this input.
    const auto take = static_cast<std::size_t>(
        std::min<std::uint64_t>(frame_remaining_, static_cast<std::uint64_t>(size - pos)));
    const char* source = input.data() + pos;
    if (is_control(frame_opcode_)) {
      char* target = control_.data() + control_size_;
      std::memcpy(target, source, take);
      if (masked_) apply_mask(target, take, mask_, mask_offset_);
      control_size_ = static_cast<std::uint8_t>(control_size_ + take);
    } else if (take > 0) {
      const std::size_t old_size = message_.size();
      message_.append(source, take);
      char* target = message_.data() + old_size;
      if (masked_) apply_mask(target, take, mask_, mask_offset_);
      // Fail fast: invalid text is refused at its first bad byte, not at the end.
      if (message_opcode_ == opcode::text && !utf8_.feed(target, take))
        return fail(close_code::invalid_payload, "text message not UTF-8", pos + take);
    }
    mask_offset_ = static_cast<std::uint8_t>((mask_offset_ + take) & 3);
    frame_remaining_ -= take;
    pos += take;
    if (frame_remaining_ > 0) return {decode_event::need_more, pos};

    stage_ = stage::header;
    const auto event = finish_frame(std::string_view(control_.data(), control_size_));
    if (event == decode_event::error) return {decode_event::error, pos};
    if (event != decode_event::need_more) return {event, pos};
    if (pos == size) return {decode_event::need_more, pos};
  }
}

// ---------------------------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------------------------

std::size_t encode_frame_header(std::span<std::uint8_t, max_frame_header_bytes> out, opcode op,
                                std::uint64_t payload_size, bool fin,
                                const std::array<std::uint8_t, 4>* mask) noexcept {
  out[0] = static_cast<std::uint8_t>((fin ? 0x80 : 0x00) | static_cast<std::uint8_t>(op));
  const std::uint8_t mask_bit = mask ? 0x80 : 0x00;
  std::size_t at;
  if (payload_size < 126) {
    out[1] = static_cast<std::uint8_t>(mask_bit | payload_size);
    at = 2;
  } else if (payload_size <= 0xFFFF) {
    out[1] = mask_bit | 126;
    out[2] = static_cast<std::uint8_t>(payload_size >> 8);
    out[3] = static_cast<std::uint8_t>(payload_size);
    at = 4;
  } else {
    out[1] = mask_bit | 127;
    for (std::size_t i = 0; i < 8; ++i)
      out[2 + i] = static_cast<std::uint8_t>(payload_size >> (8 * (7 - i)));
    at = 10;
  }
  if (mask) {
    std::memcpy(out.data() + at, mask->data(), 4);
    at += 4;
  }
  return at;
}

void append_frame(std::string& out, opcode op, std::string_view payload, bool fin,
                  const std::array<std::uint8_t, 4>* mask) {
  std::array<std::uint8_t, max_frame_header_bytes> header;
  const std::size_t header_size = encode_frame_header(header, op, payload.size(), fin, mask);
  out.append(reinterpret_cast<const char*>(header.data()), header_size);
  const std::size_t at = out.size();
  out.append(payload);
  if (mask) apply_mask(out.data() + at, payload.size(), *mask);
}

void append_message(std::string& out, opcode op, std::string_view payload,
                    std::size_t max_frame_payload, const std::array<std::uint8_t, 4>* mask) {
  if (max_frame_payload == 0 || payload.size() <= max_frame_payload) {
    append_frame(out, op, payload, true, mask);
    return;
  }
  opcode next = op;
  while (!payload.empty()) {
    const std::size_t take = std::min(payload.size(), max_frame_payload);
    append_frame(out, next, payload.substr(0, take), take == payload.size(), mask);
    payload.remove_prefix(take);
    next = opcode::continuation;
  }
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  std::size_t cut = std::min<std::size_t>(reason.size(), 123);
  while (cut > 0 && cut < reason.size() && (std::uint8_t(reason[cut]) & 0xC0) == 0x80) --cut;
  std::string out;
  out.reserve(2 + cut);
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  out.append(reason.substr(0, cut));
  return out;
}

}  // namespace gatehouse::websocket
