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

#define GATEHOUSE_STRINGIFY_(x) #x
#define GATEHOUSE_STRINGIFY(x) GATEHOUSE_STRINGIFY_(x)

namespace gatehouse {

std::string_view version() noexcept {
  return GATEHOUSE_STRINGIFY(GATEHOUSE_VERSION_MAJOR) "." GATEHOUSE_STRINGIFY(
      GATEHOUSE_VERSION_MINOR) "." GATEHOUSE_STRINGIFY(GATEHOUSE_VERSION_PATCH);
}

std::string_view tls_implementation() noexcept {
#if defined(OPENSSL_IS_BORINGSSL)
  return "boringssl";
#else
  return "openssl";
#endif
}

}  // namespace gatehouse
