#pragma once

// The library's version, for the preprocessor and at run time. CMakeLists.txt reads the project
// version from these macros: they are the one place it is written.

#include <string_view>

#define GATEHOUSE_VERSION_MAJOR 0
#define GATEHOUSE_VERSION_MINOR 1
#define GATEHOUSE_VERSION_PATCH 0
/// The version as one number for #if: major * 10000 + minor * 100 + patch (0.1.0 is 100).
#define GATEHOUSE_VERSION \
  (GATEHOUSE_VERSION_MAJOR * 10000 + GATEHOUSE_VERSION_MINOR * 100 + GATEHOUSE_VERSION_PATCH)

namespace gatehouse {

/// The version of the library linked in, "major.minor.patch" (the headers' version is
/// GATEHOUSE_VERSION_*; a host may compare the two).
std::string_view version() noexcept;

/// The TLS implementation the library was built against: "boringssl" or "openssl".
std::string_view tls_implementation() noexcept;

}  // namespace gatehouse
