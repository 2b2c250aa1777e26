#pragma once

// The inside of IamCredentials: access key id → what verifying and authorizing a request signed
// with that key needs. Entries are immutable; put() replaces one whole, so a request keeps a
// consistent view of its key while the host changes the store.

#include "auth/authorization.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gatehouse::detail {

struct iam_entry {
  std::string secret;
  std::string session_token;  // "" for long-term keys
  std::optional<std::chrono::system_clock::time_point> expires;
  // The caller as integrations see it, and its identity policies merged into one document (in
  // policy_document, where the stage cache also looks for execute-api:InvalidateCache).
  std::shared_ptr<const auth::authorization> auth;
};

struct iam_store {
  std::shared_ptr<const iam_entry> find(std::string_view access_key_id) const;

  struct text_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  mutable std::shared_mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<const iam_entry>, text_hash, std::equal_to<>>
      entries;
};

}  // namespace gatehouse::detail
