#pragma once

// What a stage's cache settings risk, said once when the stage is mounted (no peer says it):
// AWS keys a method's cache entries by its cache key parameters only, so a cached method behind
// an authorizer or an API key whose keys hold no identity serves one caller's response to the
// next, and a cached method whose path parameters are not keys serves every path the first
// one's response. gatehouse keeps AWS's behaviour; these say so.

#include "routing/deployment.hpp"

#include <string>
#include <vector>

namespace gatehouse::cache {

/// One line per risky cached method of the stage, naming the stage, the method and the cache key
/// parameter that would fix it; empty when the stage has no cache or nothing is at risk.
std::vector<std::string> risky_cache_settings(const detail::stage_snapshot& stage);

}  // namespace gatehouse::cache
