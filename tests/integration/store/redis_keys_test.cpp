// API keys shared by two gateways on one Redis: a key made on one is accepted by the other at
// once; disabled, removed or taken out of its plan there, the other refuses it soon after (it
// hears of each change), also after Redis was restarted in between.

#include "eventually.hpp"
#include "harness.hpp"
#include "redis_server.hpp"
#include "redis_test_util.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using namespace gatehouse;
using namespace std::chrono_literals;

namespace {
int status_of(unsigned short port, const std::string& key) {
  const auto r = test::roundtrip(port, "GET /prod/item HTTP/1.1\r\nHost: x\r\nx-api-key: " + key +
                                           "\r\nConnection: close\r\n\r\n");
  return r ? r->status : 0;
}

// Polls until `port` answers `status` for `key` (changes travel by pub/sub: soon, not at once).
bool becomes(unsigned short port, const std::string& key, int status) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (status_of(port, key) == status) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}
}  // namespace

TEST_CASE("redis store: a key made, disabled, removed on one gateway holds on another", "[redis]") {
  test::redis_server server;
  test::io_threads store_io(1);
  auto make_store = [&] {
    redis_options o;
    o.url = server.url();
    o.warn = [](std::string_view) {};
    return make_redis_store(store_io.executor(), o);
  };
  Router api({.name = "shop"});
  api.route("GET", "/item", mock({.body = "{}"}), {.api_key_required = true});
  Stage prod("prod", api.deploy());
  UsagePlan plan({.name = "p", .id = "p"});
  plan.attach(prod);
  test::running_gateway a({.store = make_store()}, 1);
  test::running_gateway b({.store = make_store()}, 1);
  const auto port_a = a.serve_plain(prod);
  const auto port_b = b.serve_plain(prod);

  const auto k = a.gateway().api_keys().create({.name = "k", .usage_plan_ids = {"p"}});
  CHECK(status_of(port_b, *k.value) == 200);  // at once: b asks Redis for a key it does not know
  CHECK(status_of(port_a, *k.value) == 200);
  CHECK(b.gateway().api_keys().get(k.id));

  a.gateway().api_keys().enable(k.id, false);
  CHECK(becomes(port_b, *k.value, 403));
  b.gateway().api_keys().enable(k.id, true);  // and back, from the other side
  CHECK(becomes(port_a, *k.value, 200));

  // Redis restarted (its data gone: no persistence here), the key made again meanwhile and
  // removed: b reads everything again when it reconnects.
  server.kill();
  server.start();
  const auto k2 = a.gateway().api_keys().create({.name = "k2", .usage_plan_ids = {"p"}});
  CHECK(becomes(port_b, *k2.value, 200));
  CHECK(a.gateway().api_keys().remove(k2.id));
  CHECK(becomes(port_b, *k2.value, 403));
  CHECK_FALSE(b.gateway().api_keys().get(k2.id));
}
