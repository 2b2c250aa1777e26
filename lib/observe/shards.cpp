#include "observe/shards.hpp"

namespace gatehouse::observe::detail_shards {

namespace {
std::atomic<std::uint64_t> last_registry_id{0};

// The shards this thread used last, by registry id (ids are never reused, so a slot of a
// registry that is gone is never matched again). Shared by every registry of every gateway.
struct shard_slot {
  std::uint64_t owner = 0;
  void* shard = nullptr;
};
thread_local std::array<shard_slot, 8> recent_shards{};
thread_local unsigned next_slot = 0;
}  // namespace

std::uint64_t next_registry_id() noexcept {
  return last_registry_id.fetch_add(1, std::memory_order_relaxed) + 1;
}

void* recent(std::uint64_t owner) noexcept {
  for (const auto& slot : recent_shards)
    if (slot.owner == owner) return slot.shard;
  return nullptr;
}

void remember(std::uint64_t owner, void* shard) noexcept {
  recent_shards[next_slot++ % recent_shards.size()] = {owner, shard};
}

}  // namespace gatehouse::observe::detail_shards
