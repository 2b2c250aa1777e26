// Fuzz target: bytes from a client into the server-side WebSocket frame decoder, split at
// fuzzer-chosen points as reads split them. Nothing a client sends may crash the decoder, make it
// read out of bounds, consume more than it was given, or yield anything the protocol forbids.

#include "websocket/frame.hpp"
#include "websocket/utf8.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gatehouse::websocket;
  // The first byte chooses the chunk size, so the fuzzer explores split points too.
  const std::size_t chunk = size > 0 ? (data[0] % 64) + 1 : 1;
  std::string input(reinterpret_cast<const char*>(data), size);
  if (!input.empty()) input.erase(0, 1);

  const decoder_options options{.max_frame_bytes = 1024, .max_message_bytes = 4096};
  frame_decoder decoder(options);
  bool failed = false;
  for (std::size_t at = 0; at < input.size(); at += chunk) {
    std::span<char> piece(input.data() + at, std::min(chunk, input.size() - at));
    while (!piece.empty()) {
      const decode_step step = decoder.decode(piece);
      check(step.consumed <= piece.size());
      piece = piece.subspan(step.consumed);
      switch (step.event) {
        case decode_event::need_more:
          check(piece.empty());
          break;
        case decode_event::text: {
          utf8_validator utf8;
          check(utf8.feed(decoder.payload().data(), decoder.payload().size()) && utf8.complete());
          check(decoder.payload().size() <= options.max_message_bytes);
          break;
        }
        case decode_event::binary:
          check(decoder.payload().size() <= options.max_message_bytes);
          break;
        case decode_event::ping:
        case decode_event::pong:
          check(decoder.payload().size() <= 125);
          break;
        case decode_event::close: {
          const auto code = decoder.close_status();
          check(code == close_code::no_status || is_valid_close_code(code));
          check(decoder.close_reason().size() <= 123);
          utf8_validator utf8;
          check(utf8.feed(decoder.close_reason().data(), decoder.close_reason().size()) &&
                utf8.complete());
          break;
        }
        case decode_event::error: {
          const auto code = decoder.error_code();
          check(code == close_code::protocol_error || code == close_code::invalid_payload ||
                code == close_code::message_too_big);
          check(!decoder.error_reason().empty() && decoder.error_reason().size() <= 123);
          failed = true;
          break;
        }
      }
      if (failed) break;
    }
    if (failed) break;
  }
  if (failed) {  // a failed decoder stays failed and consumes nothing
    std::string more = "\x81\x80\x00\x00\x00\x00";
    const decode_step step = decoder.decode(more);
    check(step.event == decode_event::error && step.consumed == 0);
  }
  decoder.release_memory();
  return 0;
}
