#include "observe/observer.hpp"

#include "observe/stage_access_log.hpp"
#include "pipeline/exchange.hpp"
#include "util/text.hpp"

#include <charconv>

namespace gatehouse::observe {

observer::observer(const gateway_options&) {}
observer::~observer() = default;

void observer::record(const request_facts& facts) const noexcept {
  // The stage's access log; requests that found no stage have none.
  if (const auto& stage = facts.ex.stage)
    if (const auto& log = stage->access_log) log->write(facts);
}

void observer::record_event(const request_facts& facts) const noexcept {
  if (const auto& stage = facts.ex.stage)
    if (const auto& log = stage->access_log) log->write(facts);
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
