#include "websocket/event_ids.hpp"

#include "pipeline/request_id.hpp"

#include <random>

namespace gatehouse::websocket {

std::string request_id() {
  char id[37];
  detail::make_request_id(id);
  return std::string(id, 36);
}

void random_id(char (&out)[17]) {
  thread_local std::mt19937_64 rng{
      std::random_device{}() ^
      static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count())};
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::uint8_t raw[12] = {};
  const std::uint64_t a = rng(), b = rng();
  for (int i = 0; i < 8; ++i) raw[i] = static_cast<std::uint8_t>(a >> (8 * i));
  for (int i = 0; i < 3; ++i) raw[8 + i] = static_cast<std::uint8_t>(b >> (8 * i));
  for (int g = 0; g < 4; ++g) {  // 3 bytes → 4 characters; the last group has 2 bytes
    const std::uint32_t v =
        (std::uint32_t{raw[3 * g]} << 16) | (std::uint32_t{raw[3 * g + 1]} << 8) | raw[3 * g + 2];
    out[4 * g] = alphabet[(v >> 18) & 63];
    out[4 * g + 1] = alphabet[(v >> 12) & 63];
    out[4 * g + 2] = alphabet[(v >> 6) & 63];
    out[4 * g + 3] = alphabet[v & 63];
  }
  out[15] = '=';
  out[16] = '\0';
}

std::string random_id() {
  char id[17];
  random_id(id);
  return std::string(id, 16);
}

}  // namespace gatehouse::websocket
