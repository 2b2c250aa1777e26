#include <gatehouse/version.hpp>

// Ask the TLS headers themselves rather than trusting the build option, so a build that picked
// up the wrong headers says so (see the BoringSSL/OpenSSL pitfall in DESIGN.md).
#if defined(GATEHOUSE_TLS_BORINGSSL)
#include <openssl/base.h>
#else
#include <openssl/opensslv.h>
#endif

#if defined(GATEHOUSE_TLS_BORINGSSL) && !defined(OPENSSL_IS_BORINGSSL)
#error "GATEHOUSE_TLS=boringssl, but the OpenSSL headers were found instead of BoringSSL's"
#endif
#if defined(GATEHOUSE_TLS_OPENSSL) && defined(OPENSSL_IS_BORINGSSL)
#error "GATEHOUSE_TLS=openssl, but BoringSSL's headers were found instead of OpenSSL's"
#endif

#ifndef GATEHOUSE_VERSION_STRING
#error "GATEHOUSE_VERSION_STRING must be defined by the build (CMakeLists.txt)"
#endif

namespace gatehouse {

std::string_view version() noexcept { return GATEHOUSE_VERSION_STRING; }

std::string_view tls_implementation() noexcept {
#if defined(OPENSSL_IS_BORINGSSL)
  return "boringssl";
#else
  return "openssl";
#endif
}

}  // namespace gatehouse
