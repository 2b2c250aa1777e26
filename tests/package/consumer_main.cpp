// A minimal host of gatehouse (both package tests build it): the umbrella header, Asio and the
// TLS library all come through gatehouse::gatehouse. EXPECTED_VERSION / EXPECTED_TLS are set by
// tests/package.
#include <gatehouse/gatehouse.hpp>

#include <openssl/crypto.h>
#include <asio.hpp>

#include <iostream>
#include <string_view>

// gatehouse forces only what its ABI needs: a host may use Asio's deprecated names.
#if defined(ASIO_NO_DEPRECATED)
#error "gatehouse::gatehouse must not force ASIO_NO_DEPRECATED on its consumers"
#endif
#if !defined(ASIO_DISABLE_STD_ALIGNED_ALLOC)
#error "gatehouse::gatehouse must give its consumers ASIO_DISABLE_STD_ALIGNED_ALLOC (its ABI)"
#endif
#if defined(GATEHOUSE_TLS_BORINGSSL) == defined(GATEHOUSE_TLS_OPENSSL)
#error "exactly one of GATEHOUSE_TLS_BORINGSSL / GATEHOUSE_TLS_OPENSSL must be defined"
#endif

int main() {
  asio::io_context io;
  bool ran = false;
  asio::post(io, [&] { ran = true; });
  io.run();
  // Deprecated Asio names still compile in a host of gatehouse.
  io.reset();
  { asio::io_context::work deprecated_work(io); }

  const std::string_view version = gatehouse::version();
  const std::string_view tls = gatehouse::tls_implementation();
  std::cout << "gatehouse " << version << ", TLS: " << tls << " ("
            << OpenSSL_version(OPENSSL_VERSION) << ")\n";

  int failures = ran ? 0 : 1;
  // The OpenAPI importer reads YAML with yaml-cpp, which gatehouse links privately: a consumer
  // of the static library must still link it.
  auto api = gatehouse::import_openapi(
      "swagger: '2.0'\ninfo: {title: consumer}\n"
      "paths: {/: {get: {x-amazon-apigateway-integration: {type: mock}}}}\n");
  if (api.routes.size() != 1) {
    std::cerr << "a YAML document did not import\n";
    ++failures;
  }
#ifdef EXPECTED_VERSION
  if (version != EXPECTED_VERSION) {
    std::cerr << "expected version " << EXPECTED_VERSION << '\n';
    ++failures;
  }
#endif
#ifdef EXPECTED_TLS
  if (tls != EXPECTED_TLS) {
    std::cerr << "expected TLS " << EXPECTED_TLS << '\n';
    ++failures;
  }
#endif
  return failures == 0 ? 0 : 1;
}
