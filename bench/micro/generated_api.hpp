#pragma once

// A generated 1 MB OpenAPI 3.0 document with 500 paths — models with $refs between them (a
// cycle), request validators, and integrations of every kind (HTTP with parameter mapping and
// response templates, HTTP_PROXY with ANY, MOCK with a template choosing the status, AWS
// service, Lambda proxy with an API key) — as AWS's exports carry them, prose included.

#include <string>

namespace bench {

inline constexpr int path_count = 500;

/// The document (made once).
const std::string& generated_document();

}  // namespace bench
