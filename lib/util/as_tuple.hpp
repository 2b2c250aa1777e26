#pragma once

// asio::as_tuple under one name for both Asios gatehouse builds on: experimental in Asio 1.22
// (Debian's standalone Asio); from 1.24 on (Boost.Asio 1.81 is Asio 1.26) out of experimental,
// the old name deprecated and gone under ASIO_NO_DEPRECATED.

#include <asio/version.hpp>

#if ASIO_VERSION >= 102400
#include <asio/as_tuple.hpp>
#else
#include <asio/experimental/as_tuple.hpp>
#endif

namespace gatehouse::util {

#if ASIO_VERSION >= 102400
using asio::as_tuple;
#else
using asio::experimental::as_tuple;
#endif

}  // namespace gatehouse::util
