#pragma once

namespace gatehouse::detail {

/// Writes a fresh random UUID (version 4 layout, 36 characters plus NUL) into `out`.
/// Per-thread generator: no shared state, no lock.
void make_request_id(char (&out)[37]) noexcept;

}  // namespace gatehouse::detail
