#pragma once

// The one way gatehouse builds regular expressions (selection patterns, validation
// expressions, the templates' String methods): std::regex's breadth-first matcher. The default
// matcher backtracks, exponentially on patterns such as "(a*)*b", and recurses once per
// character of the subject, so a long subject overflows the stack; the breadth-first one takes
// time bounded by the subject's length times the pattern's, on a bounded stack. It refuses
// back-references (std::regex_error), which the patterns gatehouse takes do not need.

#include <regex>

namespace gatehouse::util {

#if defined(__GLIBCXX__)
inline constexpr std::regex::flag_type safe_regex_flags =
    std::regex::ECMAScript | std::regex_constants::__polynomial;
#else
inline constexpr std::regex::flag_type safe_regex_flags = std::regex::ECMAScript;
#endif

}  // namespace gatehouse::util
