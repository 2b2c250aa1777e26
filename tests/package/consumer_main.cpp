// A minimal host of gatehouse (both package tests build it): the umbrella header, Asio and the
// TLS library all come through gatehouse::gatehouse. EXPECTED_VERSION / EXPECTED_TLS /
// EXPECTED_ASIO_BOOST are set by tests/package.
#ifdef EXPECTED_ASIO_BOOST
// As a Beast host does: Boost.Asio before any gatehouse header.
#include <boost/asio.hpp>
#endif

#include <gatehouse/gatehouse.hpp>

#include <openssl/crypto.h>
#include <asio.hpp>

#include <iostream>
#include <string_view>
#include <type_traits>

// gatehouse forces only what its ABI needs: a host may use Asio's deprecated names.
#ifdef EXPECTED_ASIO_BOOST
#if !defined(GATEHOUSE_ASIO_BOOST)
#error "a gatehouse on Boost.Asio must give its consumers <asio/...> as Boost.Asio"
#endif
static_assert(std::is_same_v<asio::io_context, boost::asio::io_context>);
#if defined(BOOST_ASIO_NO_DEPRECATED)
#error "gatehouse::gatehouse must not force BOOST_ASIO_NO_DEPRECATED on its consumers"
#endif
#if !defined(BOOST_ASIO_DISABLE_STD_ALIGNED_ALLOC)
#error "gatehouse::gatehouse must give its consumers BOOST_ASIO_DISABLE_STD_ALIGNED_ALLOC (its ABI)"
#endif
#else
#if defined(GATEHOUSE_ASIO_BOOST)
#error "a gatehouse on standalone Asio gave its consumers Boost.Asio"
#endif
#if defined(ASIO_NO_DEPRECATED)
#error "gatehouse::gatehouse must not force ASIO_NO_DEPRECATED on its consumers"
#endif
#if !defined(ASIO_DISABLE_STD_ALIGNED_ALLOC)
#error "gatehouse::gatehouse must give its consumers ASIO_DISABLE_STD_ALIGNED_ALLOC (its ABI)"
#endif
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
