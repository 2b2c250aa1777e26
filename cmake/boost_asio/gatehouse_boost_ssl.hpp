// gatehouse built on Boost.Asio: what cmake/boost_asio/gatehouse_boost.hpp does for Asio's error
// enums, for those of its SSL part (each generated <asio/ssl/...> header includes this one).
#ifndef GATEHOUSE_ASIO_GATEHOUSE_BOOST_SSL_HPP
#define GATEHOUSE_ASIO_GATEHOUSE_BOOST_SSL_HPP

#include <asio/gatehouse_boost.hpp>
#include <boost/asio/ssl/error.hpp>

template <>
struct std::is_error_code_enum<boost::asio::error::ssl_errors> : std::true_type {};
template <>
struct std::is_error_code_enum<boost::asio::ssl::error::stream_errors> : std::true_type {};

#endif
