// The RFC 6455 frame codec: the RFC's examples, chunked feeding, every protocol error with its
// close code, fragmentation with interleaved control frames, UTF-8 edge cases, limits.

#include "websocket/frame.hpp"
#include "websocket/utf8.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace gatehouse::websocket;

namespace {

/// One event as the tests compare them.
struct event {
  decode_event kind;
  std::string payload;  // message / control payload, or close reason, or error reason
  std::uint16_t code = 0;

  bool operator==(const event&) const = default;
};

std::ostream& operator<<(std::ostream& os, const event& e) {
  return os << "{" << int(e.kind) << ", \"" << e.payload << "\", " << e.code << "}";
}

/// Feeds `bytes` in chunks of `chunk` bytes (0: all at once); collects the events, stopping
/// after an error.
std::vector<event> decode_all(frame_decoder& decoder, std::string bytes, std::size_t chunk = 0) {
  std::vector<event> events;
  if (chunk == 0) chunk = bytes.size() ? bytes.size() : 1;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    std::span<char> input(bytes.data() + at, std::min(chunk, bytes.size() - at));
    while (!input.empty()) {
      const decode_step step = decoder.decode(input);
      REQUIRE(step.consumed <= input.size());
      input = input.subspan(step.consumed);
      switch (step.event) {
        case decode_event::need_more:
          REQUIRE(input.empty());
          break;
        case decode_event::close:
          events.push_back(
              {step.event, std::string(decoder.close_reason()), decoder.close_status()});
          break;
        case decode_event::error:
          events.push_back({step.event, std::string(decoder.error_reason()), decoder.error_code()});
          return events;
        default:
          events.push_back({step.event, std::string(decoder.payload())});
      }
    }
  }
  return events;
}

std::vector<event> decode_all(std::string bytes, std::size_t chunk = 0,
                              decoder_options options = {}) {
  frame_decoder decoder(options);
  return decode_all(decoder, std::move(bytes), chunk);
}

std::string bytes(std::initializer_list<int> list) {
  std::string out;
  for (int b : list) out.push_back(static_cast<char>(b));
  return out;
}

constexpr std::array<std::uint8_t, 4> key{0x37, 0xfa, 0x21, 0x3d};

/// A masked (client) frame with explicit header bits.
std::string client_frame(int first_byte, std::string_view payload) {
  std::string out;
  out.push_back(static_cast<char>(first_byte));
  std::array<std::uint8_t, max_frame_header_bytes> header;
  const std::size_t size = encode_frame_header(header, opcode::text, payload.size(), true, &key);
  out.append(reinterpret_cast<const char*>(header.data()) + 1, size - 1);
  const std::size_t at = out.size();
  out.append(payload);
  apply_mask(out.data() + at, payload.size(), key);
  return out;
}

std::string masked(opcode op, std::string_view payload, bool fin = true) {
  std::string out;
  append_frame(out, op, payload, fin, &key);
  return out;
}

/// Compares kinds and codes only (error reasons are prose).
void require_error(const std::vector<event>& events, std::uint16_t code) {
  REQUIRE(!events.empty());
  CHECK(events.back().kind == decode_event::error);
  CHECK(events.back().code == code);
}

/// The hex bytes of the RFC example line that starts with `prefix`, from the shared vectors.
std::string rfc_example(std::string_view prefix) {
  std::ifstream in(GATEHOUSE_VECTORS_DIR "/websocket/rfc6455_examples.txt");
  REQUIRE(in);
  std::string line;
  while (std::getline(in, line)) {
    const auto start = line.find_first_not_of(' ');
    if (start == std::string::npos || line.compare(start, prefix.size(), prefix) != 0) continue;
    std::istringstream words(line.substr(start));
    std::string out, word;
    while (words >> word && word.rfind("0x", 0) == 0)
      out.push_back(static_cast<char>(std::stoi(word.substr(2), nullptr, 16)));
    return out;
  }
  FAIL("no example starting with " << prefix);
  return {};
}

}  // namespace

TEST_CASE("frame decoder: RFC 6455 section 5.7 examples, fed whole and byte by byte",
          "[websocket]") {
  const decoder_options client{.side = role::client};
  const std::string single = rfc_example("0x81 0x05");
  const std::string masked_hello = rfc_example("0x81 0x85");
  const std::string fragment1 = rfc_example("0x01 0x03");
  const std::string fragment2 = rfc_example("0x80 0x02");
  const std::string ping = rfc_example("0x89 0x05");
  const std::string pong = rfc_example("0x8a 0x85");
  REQUIRE(single.size() == 7);
  REQUIRE(masked_hello.size() == 11);

  for (std::size_t chunk : {0, 1, 2, 3, 5}) {
    INFO("chunk " << chunk);
    // (a) unmasked text, as a client receives it; (b) masked, as a server receives it.
    CHECK(decode_all(single, chunk, client) == std::vector<event>{{decode_event::text, "Hello"}});
    CHECK(decode_all(masked_hello, chunk) == std::vector<event>{{decode_event::text, "Hello"}});
    // (c) fragmented text.
    CHECK(decode_all(fragment1 + fragment2, chunk, client) ==
          std::vector<event>{{decode_event::text, "Hello"}});
    // (d) unmasked ping (client side), masked pong (server side).
    CHECK(decode_all(ping, chunk, client) == std::vector<event>{{decode_event::ping, "Hello"}});
    CHECK(decode_all(pong, chunk) == std::vector<event>{{decode_event::pong, "Hello"}});
  }
  // The wrong side refuses each: a server must get masked frames, a client unmasked ones.
  require_error(decode_all(single), close_code::protocol_error);
  require_error(decode_all(masked_hello, 0, client), close_code::protocol_error);

  // (e) 256 bytes binary with a 16-bit length; (f) 64 KiB with a 64-bit length.
  std::string payload256(256, '\0'), payload64k(65536, '\0');
  for (std::size_t i = 0; i < payload256.size(); ++i) payload256[i] = static_cast<char>(i);
  for (std::size_t i = 0; i < payload64k.size(); ++i) payload64k[i] = static_cast<char>(i * 7);
  std::string e = bytes({0x82, 0x7E, 0x01, 0x00}) + payload256;
  std::string f = bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}) + payload64k;
  decoder_options big = client;
  big.max_frame_bytes = big.max_message_bytes = 65536;
  CHECK(decode_all(e, 0, big) == std::vector<event>{{decode_event::binary, payload256}});
  CHECK(decode_all(e, 1, big) == std::vector<event>{{decode_event::binary, payload256}});
  CHECK(decode_all(f, 0, big) == std::vector<event>{{decode_event::binary, payload64k}});
  CHECK(decode_all(f, 1000, big) == std::vector<event>{{decode_event::binary, payload64k}});
}

TEST_CASE("frame encoder: reproduces the RFC's frames", "[websocket]") {
  std::string out;
  append_frame(out, opcode::text, "Hello");
  CHECK(out == rfc_example("0x81 0x05"));
  out.clear();
  append_frame(out, opcode::text, "Hello", true, &key);
  CHECK(out == rfc_example("0x81 0x85"));
  out.clear();
  append_frame(out, opcode::pong, "Hello", true, &key);
  CHECK(out == rfc_example("0x8a 0x85"));
  out.clear();
  append_frame(out, opcode::text, "Hel", false);
  append_frame(out, opcode::continuation, "lo");
  CHECK(out == rfc_example("0x01 0x03") + rfc_example("0x80 0x02"));

  std::array<std::uint8_t, max_frame_header_bytes> header;
  CHECK(encode_frame_header(header, opcode::binary, 256) == 4);
  CHECK(std::string(header.begin(), header.begin() + 4) == bytes({0x82, 0x7E, 0x01, 0x00}));
  CHECK(encode_frame_header(header, opcode::binary, 65536) == 10);
  CHECK(std::string(header.begin(), header.begin() + 10) ==
        bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
  CHECK(encode_frame_header(header, opcode::binary, 65535, true, &key) == 8);
  // "the server closing with 1000 and no reason"
  out.clear();
  append_frame(out, opcode::close, close_payload(1000, ""));
  CHECK(out == bytes({0x88, 0x02, 0x03, 0xe8}));
}

TEST_CASE("frame encoder: fragmentation and close payloads", "[websocket]") {
  std::string message(1000, 'x');
  for (std::size_t i = 0; i < message.size(); ++i) message[i] = static_cast<char>('a' + i % 26);
  std::string out;
  append_message(out, opcode::text, message, 300, &key);
  // 4 frames: 300, 300, 300 bytes with a 2+2+4 byte header, 100 with a 2+4 byte one.
  CHECK(out.size() == 1000 + 3 * 8 + 6);
  CHECK(std::uint8_t(out[0]) == 0x01);  // text, not final
  CHECK(decode_all(out, 7) == std::vector<event>{{decode_event::text, message}});
  out.clear();
  append_message(out, opcode::binary, "", 300);
  CHECK(out == bytes({0x82, 0x00}));

  CHECK(close_payload(1001, "bye") == bytes({0x03, 0xe9}) + "bye");
  // Cut to 123 bytes at a code point boundary: 61 × "é" (2 bytes) = 122 bytes fit, not 62.
  std::string long_reason;
  for (int i = 0; i < 70; ++i) long_reason += "\xc3\xa9";
  const std::string payload = close_payload(1000, long_reason);
  CHECK(payload.size() == 2 + 122);
  utf8_validator check;
  CHECK(check.feed(payload.data() + 2, payload.size() - 2));
  CHECK(check.complete());
  CHECK(close_payload(1000, std::string(200, 'r')).size() == 125);
}

TEST_CASE("frame decoder: protocol errors close with 1002", "[websocket]") {
  const auto protocol_error = close_code::protocol_error;
  SECTION("an unmasked frame from a client") {
    std::string out;
    append_frame(out, opcode::text, "hi");
    require_error(decode_all(out), protocol_error);
  }
  SECTION("reserved bits without an extension") {
    for (int rsv : {0x40, 0x20, 0x10, 0x70})
      require_error(decode_all(client_frame(0x81 | rsv, "x")), protocol_error);
  }
  SECTION("unknown opcodes") {
    for (int op : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
      INFO("opcode " << op);
      require_error(decode_all(client_frame(0x80 | op, "")), protocol_error);
    }
  }
  SECTION("fragmented control frames") {
    require_error(decode_all(masked(opcode::ping, "x", false)), protocol_error);
    require_error(decode_all(masked(opcode::close, "", false)), protocol_error);
  }
  SECTION("control frames over 125 bytes") {
    require_error(decode_all(masked(opcode::ping, std::string(126, 'p'))), protocol_error);
    CHECK(decode_all(masked(opcode::ping, std::string(125, 'p'))) ==
          std::vector<event>{{decode_event::ping, std::string(125, 'p')}});
  }
  SECTION("a continuation without a message") {
    require_error(decode_all(masked(opcode::continuation, "x")), protocol_error);
    // ... also right after a complete message.
    require_error(decode_all(masked(opcode::text, "a") + masked(opcode::continuation, "b")),
                  protocol_error);
  }
  SECTION("a new message inside a fragmented one") {
    auto events = decode_all(masked(opcode::text, "a", false) + masked(opcode::binary, "b"));
    require_error(events, protocol_error);
    events = decode_all(masked(opcode::text, "a", false) + masked(opcode::text, "b"));
    require_error(events, protocol_error);
  }
  SECTION("a 64-bit length with its top bit set") {
    auto frame = bytes({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4});
    require_error(decode_all(frame), protocol_error);
    require_error(decode_all(frame, 1), protocol_error);
  }
  SECTION("a close frame with a 1-byte payload") {
    require_error(decode_all(masked(opcode::close, "\x03")), protocol_error);
  }
  SECTION("close codes never valid on the wire") {
    for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
      INFO("code " << code);
      require_error(decode_all(masked(opcode::close, close_payload(std::uint16_t(code), ""))),
                    protocol_error);
    }
  }
  SECTION("the decoder stays failed") {
    frame_decoder decoder;
    std::string bad = masked(opcode::continuation, "x");
    CHECK(decoder.decode(bad).event == decode_event::error);
    std::string good = masked(opcode::text, "fine");
    const auto step = decoder.decode(good);
    CHECK(step.event == decode_event::error);
    CHECK(step.consumed == 0);
  }
  SECTION("fails at the second header byte, before the rest of the frame arrives") {
    frame_decoder decoder;
    std::string first = bytes({0x81, 0x05});  // unmasked
    CHECK(decoder.decode(first).event == decode_event::error);
  }
}

TEST_CASE("frame decoder: close frames", "[websocket]") {
  for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000,
                   3999, 4000, 4999}) {
    INFO("code " << code);
    CHECK(decode_all(masked(opcode::close, close_payload(std::uint16_t(code), "bye")), 1) ==
          std::vector<event>{{decode_event::close, "bye", std::uint16_t(code)}});
  }
  CHECK(decode_all(masked(opcode::close, "")) ==
        std::vector<event>{{decode_event::close, "", close_code::no_status}});
  // The reason must be UTF-8.
  require_error(decode_all(masked(opcode::close, close_payload(1000, "\xc3\x28"))),
                close_code::invalid_payload);
  require_error(decode_all(masked(opcode::close, close_payload(1000, "ab\xe2\x82"))),
                close_code::invalid_payload);
}

TEST_CASE("frame decoder: fragmented messages with interleaved control frames", "[websocket]") {
  const std::string stream = masked(opcode::text, "Hel", false) + masked(opcode::ping, "p1") +
                             masked(opcode::continuation, "", false) + masked(opcode::pong, "p2") +
                             masked(opcode::continuation, "lo, ", false) +
                             masked(opcode::ping, "") + masked(opcode::continuation, "world") +
                             masked(opcode::binary, std::string_view("\x00\x01", 2), false) +
                             masked(opcode::continuation, std::string("\x02\x00", 2)) +
                             masked(opcode::close, close_payload(1000, "done"));
  const std::vector<event> expected{
      {decode_event::ping, "p1"},
      {decode_event::pong, "p2"},
      {decode_event::ping, ""},
      {decode_event::text, "Hello, world"},
      {decode_event::binary, std::string("\x00\x01\x02\x00", 4)},
      {decode_event::close, "done", 1000},
  };
  for (std::size_t chunk : {0, 1, 2, 3, 4, 9, 13}) {
    INFO("chunk " << chunk);
    CHECK(decode_all(stream, chunk) == expected);
  }
  frame_decoder decoder;
  std::string first = masked(opcode::text, "Hel", false);
  decoder.decode(first);
  CHECK(decoder.message_in_progress());
}

TEST_CASE("frame decoder: UTF-8 validation of text messages", "[websocket]") {
  const auto invalid = close_code::invalid_payload;
  SECTION("valid text, code points split across fragments and reads") {
    const std::string text = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\xed\x9f\xbf z";
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
      INFO("cut " << cut);
      const std::string stream = masked(opcode::text, text.substr(0, cut), false) +
                                 masked(opcode::continuation, text.substr(cut));
      CHECK(decode_all(stream, 1) == std::vector<event>{{decode_event::text, text}});
      CHECK(decode_all(stream) == std::vector<event>{{decode_event::text, text}});
    }
  }
  SECTION("invalid sequences") {
    for (const std::string bad : {
             "\xc0\x80",          // overlong NUL
             "\xc1\xbf",          // overlong two-byte
             "\xe0\x80\x80",      // overlong three-byte
             "\xe0\x9f\xbf",      // overlong three-byte (U+07FF)
             "\xf0\x80\x80\x80",  // overlong four-byte
             "\xf0\x8f\xbf\xbf",  // overlong four-byte (U+FFFF)
             "\xed\xa0\x80",      // surrogate U+D800
             "\xed\xbf\xbf",      // surrogate U+DFFF
             "\xf4\x90\x80\x80",  // U+110000
             "\xf5\x80\x80\x80",  // lead byte past U+10FFFF
             "\xff",              // never in UTF-8
             "\x80",              // lone continuation
             "\xc3\x28",          // lead without its continuation
             "abc\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
             "edited",
         }) {
      INFO("bytes " << bad.size());
      require_error(decode_all(masked(opcode::text, bad)), invalid);
      require_error(decode_all(masked(opcode::text, bad), 1), invalid);
    }
  }
  SECTION("a message ending inside a code point") {
    require_error(decode_all(masked(opcode::text, "ok\xe2\x82")), invalid);
    require_error(
        decode_all(masked(opcode::text, "ok", false) + masked(opcode::continuation, "\xf0\x9f")),
        invalid);
  }
  SECTION("fails fast: on the first bad fragment, before the message ends") {
    frame_decoder decoder;
    std::string first = masked(opcode::text, "fine", false);
    CHECK(decoder.decode(first).event == decode_event::need_more);
    std::string second = masked(opcode::continuation, "\xc0\xaf more to come", false);
    const auto step = decoder.decode(second);
    CHECK(step.event == decode_event::error);
    CHECK(decoder.error_code() == invalid);
  }
  SECTION("fails fast: inside a frame, at the first bad byte") {
    frame_decoder decoder;
    std::string frame = masked(opcode::text, "ab\xff" + std::string(100, 'x'));
    // Header (2 + 4 mask) and three payload bytes: enough to see the bad byte.
    std::span<char> part(frame.data(), 6 + 3);
    CHECK(decoder.decode(part).event == decode_event::error);
    CHECK(decoder.error_code() == invalid);
  }
  SECTION("binary messages are not validated") {
    CHECK(decode_all(masked(opcode::binary, "\xff\xfe")) ==
          std::vector<event>{{decode_event::binary, "\xff\xfe"}});
  }
}

TEST_CASE("frame decoder: frame and message limits close with 1009", "[websocket]") {
  const decoder_options small{.max_frame_bytes = 100, .max_message_bytes = 250};
  CHECK(decode_all(masked(opcode::binary, std::string(100, 'b')), 0, small).at(0).kind ==
        decode_event::binary);
  require_error(decode_all(masked(opcode::binary, std::string(101, 'b')), 0, small),
                close_code::message_too_big);
  // Refused from the header alone, before the payload arrives.
  {
    frame_decoder decoder(small);
    std::string frame = masked(opcode::text, std::string(5000, 't'));
    std::span<char> header(frame.data(), 8);
    CHECK(decoder.decode(header).event == decode_event::error);
    CHECK(decoder.error_code() == close_code::message_too_big);
  }
  // A message of several frames: 250 bytes pass, 251 do not.
  std::string ok = masked(opcode::text, std::string(100, 'a'), false) +
                   masked(opcode::continuation, std::string(100, 'a'), false) +
                   masked(opcode::continuation, std::string(50, 'a'));
  CHECK(decode_all(ok, 0, small) ==
        std::vector<event>{{decode_event::text, std::string(250, 'a')}});
  std::string too_big = masked(opcode::text, std::string(100, 'a'), false) +
                        masked(opcode::continuation, std::string(100, 'a'), false) +
                        masked(opcode::continuation, std::string(51, 'a'));
  require_error(decode_all(too_big, 3, small), close_code::message_too_big);
  // AWS's defaults: 32 KiB frames, 128 KiB messages.
  const decoder_options aws;
  CHECK(aws.max_frame_bytes == 32768);
  CHECK(aws.max_message_bytes == 131072);
  require_error(decode_all(masked(opcode::binary, std::string(32769, 'b'))),
                close_code::message_too_big);
  std::string big;
  for (int i = 0; i < 4; ++i)
    append_frame(big, i == 0 ? opcode::binary : opcode::continuation, std::string(32768, 'b'),
                 false, &key);
  append_frame(big, opcode::continuation, "", true, &key);
  CHECK(decode_all(big, 4000).at(0).payload.size() == 131072);
  big.clear();
  for (int i = 0; i < 4; ++i)
    append_frame(big, i == 0 ? opcode::binary : opcode::continuation, std::string(32768, 'b'),
                 false, &key);
  append_frame(big, opcode::continuation, "b", true, &key);
  require_error(decode_all(big), close_code::message_too_big);
  // Control frames do not count against the message.
  std::string with_ping = masked(opcode::text, std::string(100, 'a'), false) +
                          masked(opcode::ping, std::string(125, 'p')) +
                          masked(opcode::continuation, std::string(100, 'a'), false) +
                          masked(opcode::continuation, std::string(50, 'a'));
  CHECK(decode_all(with_ping, 0, small).size() == 2);
}

TEST_CASE("frame decoder: length encodings", "[websocket]") {
  // "Hi" with a 16-bit and a 64-bit length: not minimal, accepted by default (as Autobahn and
  // most peers do), refused on request.
  std::string hi = "Hi";
  apply_mask(hi.data(), 2, key);
  const std::string masking_key(reinterpret_cast<const char*>(key.data()), 4);
  const std::string sixteen = bytes({0x81, 0xFE, 0x00, 0x02}) + masking_key + hi;
  const std::string sixty_four = bytes({0x81, 0xFF, 0, 0, 0, 0, 0, 0, 0, 2}) + masking_key + hi;
  CHECK(decode_all(sixteen) == std::vector<event>{{decode_event::text, "Hi"}});
  CHECK(decode_all(sixty_four, 1) == std::vector<event>{{decode_event::text, "Hi"}});
  const decoder_options strict{.reject_non_minimal_lengths = true};
  require_error(decode_all(sixteen, 0, strict), close_code::protocol_error);
  require_error(decode_all(sixty_four, 0, strict), close_code::protocol_error);
  CHECK(decode_all(masked(opcode::text, std::string(126, 'x')), 0, strict).at(0).kind ==
        decode_event::text);
}

TEST_CASE("frame decoder: zero copy for whole frames, one copy otherwise", "[websocket]") {
  frame_decoder decoder;
  std::string frame = masked(opcode::binary, "payload");
  const auto step = decoder.decode(frame);
  CHECK(step.event == decode_event::binary);
  CHECK(decoder.payload().data() == frame.data() + 6);  // unmasked in place
  CHECK(decoder.payload() == "payload");

  // Empty messages, back to back.
  CHECK(decode_all(masked(opcode::text, "") + masked(opcode::binary, ""), 1) ==
        std::vector<event>{{decode_event::text, ""}, {decode_event::binary, ""}});
  decoder.release_memory();
}

TEST_CASE("frame decoder: random messages, masks and chunkings round-trip", "[websocket]") {
  std::mt19937 random(6455);
  for (int round = 0; round < 200; ++round) {
    std::string stream;
    std::vector<event> expected;
    const int messages = 1 + int(random() % 5);
    for (int m = 0; m < messages; ++m) {
      std::string payload(random() % 3000, '\0');
      for (auto& c : payload) c = static_cast<char>('a' + random() % 26);
      std::array<std::uint8_t, 4> mask;
      for (auto& b : mask) b = static_cast<std::uint8_t>(random());
      const opcode op = random() % 2 ? opcode::text : opcode::binary;
      std::string frames;
      append_message(frames, op, payload, 1 + random() % 1000, &mask);
      stream += frames;
      expected.push_back({op == opcode::text ? decode_event::text : decode_event::binary, payload});
    }
    const std::size_t chunk = 1 + random() % 700;
    INFO("round " << round << " chunk " << chunk);
    REQUIRE(decode_all(stream, chunk) == expected);
  }
}

TEST_CASE("utf8_validator: boundaries of RFC 3629", "[websocket]") {
  auto valid = [](std::string_view s) {
    utf8_validator v;
    return v.feed(s.data(), s.size()) && v.complete();
  };
  CHECK(valid(""));
  CHECK(valid("plain ASCII, long enough for the eight-byte path"));
  CHECK(valid("\x7f"));
  CHECK(valid("\xc2\x80"));
  CHECK(valid("\xdf\xbf"));
  CHECK(valid("\xe0\xa0\x80"));
  CHECK(valid("\xed\x9f\xbf"));      // U+D7FF
  CHECK(valid("\xee\x80\x80"));      // U+E000
  CHECK(valid("\xef\xbf\xbf"));      // U+FFFF
  CHECK(valid("\xf0\x90\x80\x80"));  // U+10000
  CHECK(valid("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  CHECK_FALSE(valid("\xf4\x90\x80\x80"));
  CHECK_FALSE(valid("\xed\xa0\x80"));
  CHECK_FALSE(valid("\xc2"));
  CHECK_FALSE(valid("\xe0\xa0"));
  CHECK_FALSE(valid("\xfe"));
}
