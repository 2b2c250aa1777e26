#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse {

namespace detail {
struct access;  // the library's own way to what the public types keep private
}

/// An ordered list of HTTP header fields; names compare case-insensitively, repeats are kept.
class header_map {
 public:
  struct field {
    std::string name{};
    std::string value{};
  };
  using iterator = std::vector<field>::iterator;
  using const_iterator = std::vector<field>::const_iterator;

  header_map() = default;
  header_map(const header_map& other) : fields_(other.begin(), other.end()), size_(other.size_) {}
  header_map(header_map&& other) noexcept
      : fields_(std::move(other.fields_)), size_(std::exchange(other.size_, 0)) {}
  header_map& operator=(const header_map& other);
  header_map& operator=(header_map&& other) noexcept {
    fields_ = std::move(other.fields_);
    size_ = std::exchange(other.size_, 0);
    other.fields_.clear();
    return *this;
  }

  /// The first value of `name`, if present.
  std::optional<std::string_view> get(std::string_view name) const noexcept;
  /// All values of `name`, in order.
  std::vector<std::string_view> get_all(std::string_view name) const;
  bool contains(std::string_view name) const noexcept { return get(name).has_value(); }

  /// Appends a field (repeats allowed).
  void add(std::string name, std::string value) {
    field& f = add_empty();
    f.name = std::move(name);
    f.value = std::move(value);
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
    for (std::size_t i = 0; i < size_; ++i) {
      if (pred(fields_[i])) continue;
      if (kept != i) std::swap(fields_[kept], fields_[i]);  // the removed keep their space
      ++kept;
    }
    const std::size_t removed = size_ - kept;
    size_ = kept;
    return removed;
  }
  /// Removes every field; their space stays for the next add_empty().
  void clear() noexcept { size_ = 0; }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  const_iterator begin() const noexcept { return fields_.cbegin(); }
  const_iterator end() const noexcept { return begin() + static_cast<std::ptrdiff_t>(size_); }
  iterator begin() noexcept { return fields_.begin(); }
  iterator end() noexcept { return begin() + static_cast<std::ptrdiff_t>(size_); }
  void reserve(std::size_t n) { fields_.reserve(n); }

 private:
  /// As add_empty(), but the field may still hold the name and value of the field clear()
  /// removed from its place, for a caller that sets both (and can skip an equal assignment).
  field& add_for_overwrite() {
    if (size_ == fields_.size()) fields_.emplace_back();
    return fields_[size_++];
  }
  friend struct detail::access;
  /// Appends a field with an empty name and value and returns it, for a parser to fill in
  /// place: it reuses the space of the fields clear() removed.
  field& add_empty() {
    if (size_ == fields_.size()) {
      fields_.emplace_back();
    } else {
      fields_[size_].name.clear();
      fields_[size_].value.clear();
    }
    return fields_[size_++];
  }
  std::vector<field> fields_{};  // [0, size_) are the fields; the rest is space kept by clear()
  std::size_t size_ = 0;
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
  std::string method{};  ///< "GET", "POST", …
  std::string target{};  ///< origin-form request target: path and optional "?query"
  header_map headers{};
  std::string body{};
  std::string source_ip{};  ///< the client's address ($context.identity.sourceIp)
  bool secure = false;      ///< arrived over TLS
  /// The private endpoint the request came through ($context.identity.vpceId, the resource
  /// policy's aws:SourceVpce); empty for the public one. See endpoint_type::private_endpoint.
  std::string private_endpoint{};

  /// Empties the request but keeps its buffers, so a connection can reuse it.
  void clear() noexcept;
};

/// An HTTP response produced by the gateway.
struct response {
  int status = 200;
  header_map headers{};
  std::string body{};
};

}  // namespace gatehouse
