#pragma once

#include <cstdint>

namespace gatehouse::detail {

/// Writes a fresh random UUID (version 4 layout, 36 characters plus NUL) into `out`.
/// Per-thread generator: no shared state, no lock.
void make_request_id(char (&out)[37]) noexcept;

/// 64 random bits from the same per-thread generator (trace and span ids).
std::uint64_t random_bits() noexcept;

/// The 16 lower-case hex digits of `v`, most significant first.
void write_hex16(std::uint64_t v, char* out) noexcept;

}  // namespace gatehouse::detail
