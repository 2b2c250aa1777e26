#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse {

/// An ordered list of HTTP header fields; names compare case-insensitively, repeats are kept.
class header_map {
 public:
  struct field {
    std::string name;
    std::string value;
  };

  /// The first value of `name`, if present.
  std::optional<std::string_view> get(std::string_view name) const noexcept;
  /// All values of `name`, in order.
  std::vector<std::string_view> get_all(std::string_view name) const;
  bool contains(std::string_view name) const noexcept { return get(name).has_value(); }

  /// Appends a field (repeats allowed).
  void add(std::string name, std::string value) {
    fields_.push_back({std::move(name), std::move(value)});
  }
  /// Replaces every field called `name` by one with `value`.
  void set(std::string_view name, std::string value);
  /// Removes every field called `name`; returns how many were removed.
  std::size_t erase(std::string_view name);
  /// Removes every field for which `pred(field&)` is true, keeping the order of the others;
  /// `pred` may change the fields it keeps.
  template <class Pred>
  std::size_t erase_if(Pred pred) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      if (pred(fields_[i])) continue;
      if (kept != i) fields_[kept] = std::move(fields_[i]);
      ++kept;
    }
    const std::size_t removed = fields_.size() - kept;
    fields_.erase(fields_.begin() + static_cast<std::ptrdiff_t>(kept), fields_.end());
    return removed;
  }
  void clear() noexcept { fields_.clear(); }

  std::size_t size() const noexcept { return fields_.size(); }
  bool empty() const noexcept { return fields_.empty(); }
  auto begin() const noexcept { return fields_.begin(); }
  auto end() const noexcept { return fields_.end(); }
  auto begin() noexcept { return fields_.begin(); }
  auto end() noexcept { return fields_.end(); }
  void reserve(std::size_t n) { fields_.reserve(n); }

 private:
  std::vector<field> fields_;
};

namespace detail {
bool iequals_same_size(std::string_view a, std::string_view b) noexcept;
}

/// ASCII case-insensitive comparison, as HTTP field names use.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && detail::iequals_same_size(a, b);  // most differ in length
}

/// An HTTP request as the gateway sees it: from its own listener, or handed over by a host.
struct request {
  std::string method;  ///< "GET", "POST", …
  std::string target;  ///< origin-form request target: path and optional "?query"
  header_map headers;
  std::string body;
  std::string source_ip;  ///< the client's address ($context.identity.sourceIp)
  bool secure = false;    ///< arrived over TLS
  /// The private endpoint the request came through ($context.identity.vpceId, the resource
  /// policy's aws:SourceVpce); empty for the public one. See endpoint_type::private_endpoint.
  std::string private_endpoint;

  /// Empties the request but keeps its buffers, so a connection can reuse it.
  void clear() noexcept;
};

/// An HTTP response produced by the gateway.
struct response {
  int status = 200;
  header_map headers;
  std::string body;
};

}  // namespace gatehouse
