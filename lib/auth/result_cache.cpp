#include "auth/result_cache.hpp"

namespace gatehouse::auth {

std::shared_ptr<const authorization> result_cache::find(std::string_view identity,
                                                        clock::time_point now) const {
  const hashed key = hash_of(identity);
  auto& s = shard_of(key);
  std::lock_guard lock(s.mutex);
  auto it = s.entries.find(key);
  if (it == s.entries.end()) return nullptr;
  if (it->second.expires <= now) {
    s.entries.erase(it);
    return nullptr;
  }
  return it->second.result;
}

void result_cache::put(std::string_view identity, std::shared_ptr<const authorization> result,
                       clock::time_point expires) {
  const hashed key = hash_of(identity);
  auto& s = shard_of(key);
  std::shared_ptr<const authorization> evicted;  // released outside the lock
  std::lock_guard lock(s.mutex);
  if (s.entries.size() >= per_shard_ && !s.entries.contains(key)) {
    auto now = clock::now();
    std::erase_if(s.entries, [&](const auto& e) { return e.second.expires <= now; });
    if (s.entries.size() >= per_shard_) {
      evicted = std::move(s.entries.begin()->second.result);
      s.entries.erase(s.entries.begin());
    }
  }
  auto& e = s.entries[std::string(identity)];
  e.result.swap(result);  // the replaced result leaves with `result`, after the lock
  e.expires = expires;
}

void result_cache::clear() {
  for (auto& s : shards_) {
    decltype(s.entries) old;
    {
      std::lock_guard lock(s.mutex);
      old.swap(s.entries);
    }
  }
}

}  // namespace gatehouse::auth
