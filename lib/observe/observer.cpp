#include "observe/observer.hpp"

#include "util/text.hpp"

#include <charconv>

namespace gatehouse::observe {

observer::observer(const gateway_options& options)
    : metrics_(options.metrics ? std::make_shared<observe::metrics>() : nullptr) {}
observer::~observer() = default;

void observer::record(const request_facts& facts) const noexcept {
  if (metrics_) metrics_->record(facts);
}

void observer::mounted(
    const std::shared_ptr<const detail::stage_snapshot>& snapshot) const noexcept {
  if (metrics_) metrics_->prepare(snapshot);
}

std::uint64_t wire_size(const response& res) noexcept {
  constexpr std::uint64_t status_line = sizeof("HTTP/1.1 200 OK\r\n") - 1;  // reason phrases vary
  std::uint64_t n = status_line + 2;                                        // + the blank line
  bool has_length = false;
  for (const auto& f : res.headers) {
    n += f.name.size() + 2 + f.value.size() + 2;
    if (util::iequals(f.name, "Content-Length")) has_length = true;
  }
  if (!has_length) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, res.body.size());
    n += sizeof("Content-Length: \r\n") - 1 + static_cast<std::uint64_t>(end - digits);
  }
  return n + res.body.size();
}

}  // namespace gatehouse::observe
