#include "net/serial_executor.hpp"

#include <asio/strand.hpp>

#include <catch2/catch.hpp>

using gatehouse::net::promises_one_thread;

TEST_CASE("the concurrency hints that promise one thread skip the strand", "[net]") {
  CHECK(promises_one_thread(1));
  CHECK(promises_one_thread(ASIO_CONCURRENCY_HINT_UNSAFE_IO));
  CHECK(promises_one_thread(ASIO_CONCURRENCY_HINT_UNSAFE));
  CHECK_FALSE(promises_one_thread(ASIO_CONCURRENCY_HINT_SAFE));
  CHECK_FALSE(promises_one_thread(ASIO_CONCURRENCY_HINT_DEFAULT));
  CHECK_FALSE(promises_one_thread(2));

  asio::io_context one{ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  auto ex = gatehouse::net::serial_executor(one.get_executor());
  CHECK(ex.target<asio::io_context::executor_type>() != nullptr);
  asio::io_context many{4};
  auto stranded = gatehouse::net::serial_executor(many.get_executor());
  CHECK(stranded.target<asio::strand<asio::io_context::executor_type>>() != nullptr);
}
