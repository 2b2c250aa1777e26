#include "util/json_parse.hpp"

#include <rapidjson/error/en.h>

namespace gatehouse::util {

std::string json_parse_result::message() const {
  if (too_deep) return "Nesting too deep.";
  return rapidjson::GetParseError_En(code);
}

}  // namespace gatehouse::util
