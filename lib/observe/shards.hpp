#pragma once

// What metrics and metering share on the hot path: a counter one thread writes and any reads,
// and a registry of per-thread shards. Each thread that records has a shard of its own (found
// through a thread_local slot, registered once under a mutex), which only it writes: no lock,
// no shared write per request. Readers go through every shard under the registry's mutex.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace gatehouse::observe {

/// A counter written by one thread and read by any (a relaxed load and store: no locked
/// instruction).
class counter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }
  /// For the owning thread: a plain store.
  void set(std::uint64_t n) noexcept { v_.store(n, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

namespace detail_shards {
/// A registry's id (never reused, unlike an address), for the threads' slots.
std::uint64_t next_registry_id() noexcept;
/// This thread's shard of registry `owner`, if it is among the last few it used; else null.
void* recent(std::uint64_t owner) noexcept;
/// Remembers this thread's shard of registry `owner`, pushing out the oldest slot.
void remember(std::uint64_t owner, void* shard) noexcept;
}  // namespace detail_shards

/// The shards of one registry (a gateway's metrics, its metering), one per thread that records.
/// Shards live as long as the registry.
template <class Shard>
class shard_registry {
 public:
  shard_registry() : id_(detail_shards::next_registry_id()) {}
  shard_registry(const shard_registry&) = delete;
  shard_registry& operator=(const shard_registry&) = delete;

  /// The calling thread's shard, made on its first use (null: out of memory). Never waits but
  /// the first time a thread comes (or comes back after its slot went to other registries).
  Shard* local() noexcept {
    if (void* s = detail_shards::recent(id_)) return static_cast<Shard*>(s);
    return attach();
  }

  /// The mutex readers hold while they go through the shards (and that set-up may share).
  std::mutex& mutex() const noexcept { return mutex_; }
  /// Calls f(shard&) for every shard; the caller holds mutex().
  template <class F>
  void for_each_locked(F&& f) const {
    for (const auto& [thread, s] : shards_) f(*s);
  }

 private:
  Shard* attach() noexcept {
    try {
      std::lock_guard lock(mutex_);
      const auto me = std::this_thread::get_id();
      Shard* mine = nullptr;
      for (const auto& [thread, s] : shards_)
        if (thread == me) mine = s.get();
      if (!mine) mine = shards_.emplace_back(me, std::make_unique<Shard>()).second.get();
      detail_shards::remember(id_, mine);
      return mine;
    } catch (...) {  // out of memory: this record is lost
      return nullptr;
    }
  }

  const std::uint64_t id_;
  mutable std::mutex mutex_;
  std::vector<std::pair<std::thread::id, std::unique_ptr<Shard>>> shards_;
};

/// Per thread: what a stage snapshot resolves to (its series), by the snapshot's serial, so
/// that a request finds it without a lock or a name. A request finds its own within `ways`
/// places of its serial's (so that a few stages whose serials share a place do not push each
/// other out). Only the owning thread reads or writes it.
template <class T>
class snapshot_memo {
 public:
  /// The value remembered for `serial`, or null.
  const T* find(std::uint64_t serial) const noexcept {
    const std::size_t first = place(serial);
    for (std::size_t i = 0; i < ways; ++i)
      if (slots_[first + i].serial == serial) return &slots_[first + i].value;
    return nullptr;
  }
  /// Remembers `value` for `serial` (pushing out another of its places).
  const T* remember(std::uint64_t serial, T value) noexcept {
    auto& slot = slots_[place(serial) + next_victim_++ % ways];
    slot.serial = serial;
    slot.value = std::move(value);
    return &slot.value;
  }

 private:
  static constexpr std::size_t ways = 4;
  static constexpr std::size_t size = 64;
  static std::size_t place(std::uint64_t serial) noexcept { return (serial * ways) % size; }
  struct slot {
    std::uint64_t serial = 0;  // serials start at 1
    T value{};
  };
  std::array<slot, size> slots_{};
  std::uint8_t next_victim_ = 0;
};

}  // namespace gatehouse::observe
