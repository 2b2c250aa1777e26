#include "util/time_text.hpp"

#include <ctime>

namespace gatehouse::util {

std::string_view clf_time(std::chrono::system_clock::time_point t) noexcept {
  struct cache {
    std::time_t second = -1;
    char text[40] = {};
    std::size_t size = 0;
  };
  thread_local cache c;
  std::time_t s = std::chrono::system_clock::to_time_t(t);
  if (s != c.second) {
    std::tm tm{};
    gmtime_r(&s, &tm);
    c.size = std::strftime(c.text, sizeof c.text, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    c.second = s;
  }
  return {c.text, c.size};
}

}  // namespace gatehouse::util
