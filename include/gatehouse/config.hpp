#pragma once

// What gatehouse's public headers need of Asio, so that they compile on their own, without the
// definitions the CMake package gives (every public header that includes Asio includes this
// first).
//
// ASIO_DISABLE_STD_ALIGNED_ALLOC is part of gatehouse's ABI: Asio recycles handler memory across
// translation units, and a unit that lets Asio use aligned_alloc frees blocks that another
// allocated with operator new (or the other way round). Asio decides from a libstdc++ macro
// that exists only once a standard header is in, so units decide differently by include order.
// gatehouse is built with it; every unit of a program that uses Asio must be too (the CMake
// target gatehouse::gatehouse gives it to its consumers; other build systems: define it).
//
// gatehouse built on Boost.Asio (-DGATEHOUSE_ASIO=boost) puts a directory first on the include
// path whose <asio/...> headers are Boost.Asio's (cmake/boost_asio.cmake). Then the macro is
// BOOST_ASIO_DISABLE_STD_ALIGNED_ALLOC. That directory is looked for, not included: its headers
// read Boost.Asio's configuration, which must come after the definition.

#if __has_include(<asio/gatehouse_boost.hpp>)

#ifndef BOOST_ASIO_DISABLE_STD_ALIGNED_ALLOC
#ifdef BOOST_ASIO_DETAIL_CONFIG_HPP
#error \
    "Boost.Asio was included before gatehouse without BOOST_ASIO_DISABLE_STD_ALIGNED_ALLOC: \
define it for every translation unit of the program (see gatehouse/config.hpp)"
#endif
#define BOOST_ASIO_DISABLE_STD_ALIGNED_ALLOC 1
#endif
// Boost.Asio 1.81 sees co_await with clang 14 and libstdc++ by itself.

#else

#ifndef ASIO_DISABLE_STD_ALIGNED_ALLOC
#ifdef ASIO_DETAIL_CONFIG_HPP
#error \
    "Asio was included before gatehouse without ASIO_DISABLE_STD_ALIGNED_ALLOC: define it for \
every translation unit of the program (see gatehouse/config.hpp)"
#endif
#define ASIO_DISABLE_STD_ALIGNED_ALLOC 1
#endif

// Clang 14 with libstdc++ has coroutines, but Asio only sees them with this (the awaitable
// handlers of integrations, authorizers and stores need them).
#if defined(__clang__) && !defined(ASIO_HAS_CO_AWAIT) && __cplusplus >= 202002L
#ifdef ASIO_DETAIL_CONFIG_HPP
#error "Asio was included before gatehouse without ASIO_HAS_CO_AWAIT (needed with clang)"
#endif
#define ASIO_HAS_CO_AWAIT 1
#endif

#endif
