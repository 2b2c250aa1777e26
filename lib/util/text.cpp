#include "util/text.hpp"

namespace gatehouse::util {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = ascii_upper(c);
  return out;
}

std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for_each_percent_decoded(in, plus_is_space,
                           [&](unsigned char c) { out.push_back(static_cast<char>(c)); });
  return out;
}

}  // namespace gatehouse::util
