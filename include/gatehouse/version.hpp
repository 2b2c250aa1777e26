#pragma once

#include <string_view>

namespace gatehouse {

/// The library's version, "major.minor.patch".
std::string_view version() noexcept;

/// The TLS implementation the library was built against: "boringssl" or "openssl".
std::string_view tls_implementation() noexcept;

}  // namespace gatehouse
