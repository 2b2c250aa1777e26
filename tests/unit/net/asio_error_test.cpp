// gatehouse's std::error_code handed to an Asio completion handler (detail::asio_error) still
// compares equal to Asio's error enums, on standalone Asio and on Boost.Asio, where a
// system-category code converted to std::error_code and back would not.

#include <gatehouse/http_client.hpp>

#include <asio/error.hpp>
#include <catch2/catch.hpp>

#include <system_error>

using gatehouse::detail::asio_error;

TEST_CASE("Asio's errors survive gatehouse's std::error_code", "[http_client]") {
  const std::error_code aborted = asio::error_code(asio::error::operation_aborted);
  CHECK(asio_error(aborted) == asio::error::operation_aborted);
  const std::error_code eof = asio::error_code(asio::error::eof);
  CHECK(asio_error(eof) == asio::error::eof);
  CHECK(asio_error(std::make_error_code(std::errc::connection_refused)) ==
        std::errc::connection_refused);
  CHECK(asio_error(make_error_code(gatehouse::client_errc::timed_out)) ==
        gatehouse::client_errc::timed_out);
  CHECK_FALSE(asio_error(std::error_code{}));
}
