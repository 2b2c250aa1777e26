#pragma once

// A gatehouse::http_client on its own io_context run by one thread, with blocking helpers for
// tests. Teardown as a host does it: the loop stops, then the client goes, then the io_context.

#include <gatehouse/gatehouse.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

namespace test {

struct client_result {
  std::error_code ec;
  gatehouse::response res;
};

struct client_env {
  explicit client_env(gatehouse::http_client_options options = {})
      : work(io.get_executor()),
        client(std::make_unique<gatehouse::http_client>(io.get_executor(), std::move(options))) {
    thread = std::thread([this] { io.run(); });
  }
  ~client_env() {
    work.reset();
    io.stop();
    thread.join();
    client.reset();
  }

  // Starts a call; the future is ready when its handler ran.
  std::future<client_result> start(gatehouse::client_request req) {
    auto p = std::make_shared<std::promise<client_result>>();
    auto f = p->get_future();
    client->async_request(std::move(req), [p](std::error_code ec, gatehouse::response res) {
      p->set_value({ec, std::move(res)});
    });
    return f;
  }

  // One call, waited for (never longer than `wait`).
  client_result call(gatehouse::client_request req,
                     std::chrono::milliseconds wait = std::chrono::seconds(30)) {
    auto f = start(std::move(req));
    if (f.wait_for(wait) != std::future_status::ready)
      FAIL("the call did not complete within " << wait.count() << " ms");
    return f.get();
  }

  client_result get(const std::string& url, gatehouse::client_certificate cert = {}) {
    gatehouse::client_request r;
    r.url = url;
    r.certificate = std::move(cert);
    return call(std::move(r));
  }

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::unique_ptr<gatehouse::http_client> client;
  std::thread thread;
};

}  // namespace test
