#pragma once

// How the stage cache keeps a response: status, header fields and body in one byte string,
// sealed with AES-256-GCM when the method's cache is encrypted.

#include <gatehouse/http.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::cache {

using cache_key_bytes = std::array<std::uint8_t, 32>;

/// The bytes of `res`; encrypted with `key` (bound to `cache_key`) when `key` is given.
std::string encode(const response& res, const cache_key_bytes* key, std::string_view cache_key);

/// The response back from encode()'s bytes; nullopt if they are damaged or do not decrypt.
std::optional<response> decode(std::string_view bytes, const cache_key_bytes* key,
                               std::string_view cache_key);

/// As decode(), into `res`, whose strings and field list are reused where they have room;
/// false (and `res` unspecified) if the bytes are damaged or do not decrypt.
bool decode_into(std::string_view bytes, const cache_key_bytes* key, std::string_view cache_key,
                 response& res);

}  // namespace gatehouse::cache
