#pragma once

// Test support: waiting for a condition another thread makes true, without fixed sleeps.

#include <chrono>
#include <thread>

namespace test {

/// Polls `pred` every 2 ms until it holds (true) or `within` has passed (false).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds within = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace test
