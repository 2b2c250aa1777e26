#pragma once

// Counts heap allocations made by this process, so a benchmark can report allocations per
// operation next to its time. alloc_counter.cpp (linked into each benchmark executable) replaces
// the global operator new/delete; it lives in its own source file so that the compiler does not
// inline the replacements into callers (GCC then warns about new/free pairs).

#include <atomic>
#include <cstddef>

namespace bench {
extern std::atomic<std::size_t> allocations;
}  // namespace bench
