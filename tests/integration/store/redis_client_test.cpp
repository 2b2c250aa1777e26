// The Redis client against a real redis-server: commands and every reply type, automatic
// pipelining from several threads, AUTH (password, ACL user) and SELECT, deadlines with a slow
// server, EVALSHA's NOSCRIPT handling, the awaitable API on a single thread, and closing.

#include "eventually.hpp"
#include "redis_server.hpp"
#include "redis_test_util.hpp"

#include <gatehouse/config_error.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace redis = gatehouse::redis;
using redis::errc;
using redis::value_type;
using test::call;
using namespace std::chrono_literals;
using namespace std::string_literals;

namespace {
redis::client_options options_for(const test::redis_server& server) {
  redis::client_options o;
  o.url = server.url();
  o.timeout = 2s;  // generous, for slow (sanitized) builds; the deadline tests set their own
  return o;
}
}  // namespace

TEST_CASE("redis client: commands and every reply type", "[redis]") {
  test::redis_server server;
  test::io_threads io(1);
  redis::client c(io.executor(), options_for(server));

  auto r = call(c, {"PING"});
  REQUIRE_FALSE(r.error);
  CHECK(r.reply.type == value_type::simple_string);
  CHECK(r.reply.text == "PONG");

  const std::string binary = "a\0b\r\n$3\r\n*"s;
  r = call(c, {"SET", "k", binary});
  CHECK(r.reply.text == "OK");
  r = call(c, {"GET", "k"});
  CHECK(r.reply.type == value_type::bulk_string);
  CHECK(r.reply.text == binary);
  r = call(c, {"GET", "missing"});
  REQUIRE_FALSE(r.error);
  CHECK(r.reply.is_nil());
  r = call(c, {"INCRBY", "n", "-7"});
  CHECK(r.reply.type == value_type::integer);
  CHECK(r.reply.integer == -7);
  r = call(c, {"RPUSH", "l", "x", "", "z"});
  CHECK(r.reply.integer == 3);
  r = call(c, {"LRANGE", "l", "0", "-1"});
  REQUIRE(r.reply.type == value_type::array);
  REQUIRE(r.reply.elements.size() == 3);
  CHECK(r.reply.elements[1].text.empty());
  r = call(c, {"MGET", "k", "missing"});
  REQUIRE(r.reply.elements.size() == 2);
  CHECK(r.reply.elements[1].is_nil());
  r = call(c, {"EVAL", "return {1, {'a', false}, redis.status_reply('S')}", "0"});
  CHECK(describe(r.reply) == "[:1, [$\"a\", (nil)], +S]");

  // An error reply: the error, with the server's message in the value; the connection goes on.
  r = call(c, {"INCR", "k"});
  CHECK(r.error == errc::error_reply);
  CHECK(r.reply.is_error());
  CHECK(r.reply.error_code() == "ERR");
  r = call(c, {"LPUSH", "k", "x"});
  CHECK(r.error == errc::error_reply);
  CHECK(r.reply.error_code() == "WRONGTYPE");
  r = call(c, {"NOSUCHCOMMAND"});
  CHECK(r.error == errc::error_reply);

  // A large value both ways.
  const std::string big(3 * 1024 * 1024 + 7, 'v');
  r = call(c, {"SET", "big", big});
  CHECK(r.reply.text == "OK");
  r = call(c, {"GET", "big"});
  CHECK(r.reply.text == big);

  // A command without arguments is refused, unsent.
  r = call(c, redis::command{});
  CHECK(r.error == errc::bad_command);

  const auto s = c.stats();
  CHECK(s.round_trips == 14);
  CHECK(s.error_replies == 3);
  CHECK(s.failures == 3);
  CHECK(s.connects == 2);  // the pool's two connections, once each
  CHECK(s.timeouts == 0);
}

TEST_CASE("redis client: 1,000 calls at once from 2 threads come back in order, in few writes",
          "[redis][threads]") {
  test::redis_server server;
  test::io_threads io(2);
  for (std::size_t connections : {std::size_t(1), std::size_t(3)}) {
    CAPTURE(connections);
    auto o = options_for(server);
    o.connections = connections;
    redis::client c(io.executor(), o);
    REQUIRE_FALSE(call(c, {"PING"}).error);  // connected: what follows is pipelining alone
    REQUIRE_FALSE(call(c, {"DEL", "count:0", "count:1"}).error);
    const auto before = c.stats();

    constexpr int per_thread = 500;
    std::mutex m;
    std::vector<std::vector<std::int64_t>> counts(2);  // INCR's replies, per thread
    std::atomic<int> mismatched{0}, failed{0}, done{0};
    std::latch start(2);
    std::vector<std::thread> callers;
    for (int t = 0; t < 2; ++t) {
      callers.emplace_back([&, t] {
        const std::string key = "count:" + std::to_string(t);
        start.arrive_and_wait();
        for (int i = 0; i < per_thread; ++i) {
          const std::string tag = std::to_string(t) + ":" + std::to_string(i);
          // ECHO's reply says whose it is; INCR's says in which order they ran.
          c.async_exec({"ECHO", tag}, [&, tag](asio::error_code ec, redis::value v) {
            if (ec) ++failed;
            if (v.text != tag) ++mismatched;
            ++done;
          });
          c.async_exec({"INCR", key}, [&, t](asio::error_code ec, redis::value v) {
            if (ec) ++failed;
            std::lock_guard lock(m);
            counts[t].push_back(v.integer);
            ++done;
          });
        }
      });
    }
    for (auto& t : callers) t.join();
    REQUIRE(test::eventually([&] { return done == 4 * per_thread; }, 20s));
    CHECK(failed == 0);
    CHECK(mismatched == 0);
    for (const auto& seen : counts) {
      REQUIRE(seen.size() == per_thread);
      if (connections == 1) {  // one connection: the server ran them in the order they were made
        for (int i = 0; i < per_thread; ++i) CHECK(seen[i] == i + 1);
      }
    }
    const auto after = c.stats();
    const auto writes = after.writes - before.writes;
    CHECK(after.round_trips - before.round_trips == 4 * per_thread);
    INFO("writes for 2,000 calls: " << writes);
    // 5 to 15 writes on an idle machine, ~250 on one busy with other tests: how many calls
    // meet in a write depends on how fast they come (the next test counts exactly).
    CHECK(writes * 4 <= 4 * per_thread);  // 4 calls a write at least
  }
}

TEST_CASE("redis client: calls made while a write is in flight leave together in the next one",
          "[redis]") {
  test::redis_server server;
  asio::io_context io(1);  // run by this thread only: nothing runs while the calls are made
  auto o = options_for(server);
  o.connections = 1;
  redis::client c(io.get_executor(), o);
  int answered = 0;
  c.async_exec({"PING"}, [&](asio::error_code, redis::value) { ++answered; });
  while (answered == 0) io.run_one();
  const auto before = c.stats();
  std::vector<std::string> replies;
  for (int i = 0; i < 1000; ++i)
    c.async_exec({"ECHO", std::to_string(i)},
                 [&](asio::error_code, redis::value v) { replies.push_back(std::move(v.text)); });
  // The first call starts a write; the other 999 find it in flight and share the next.
  while (replies.size() < 1000) io.run_one();
  CHECK(c.stats().writes - before.writes == 2);
  for (int i = 0; i < 1000; ++i) CHECK(replies[i] == std::to_string(i));
}

TEST_CASE("redis client: AUTH with a password or an ACL user, and SELECT", "[redis]") {
  test::redis_server server({.password = "pa:ss@w/rd"});
  REQUIRE(
      server.command({"ACL", "SETUSER", "alice", "on", ">alice-pw", "~*", "&*", "+@all"}).text ==
      "OK");
  test::io_threads io(1);
  const auto port = std::to_string(server.port());
  const auto url = [&](const std::string& auth, const std::string& db = "") {
    return "redis://" + auth + "127.0.0.1:" + port + db;
  };
  const auto client_for = [&](const std::string& u) {
    auto o = options_for(server);
    o.url = u;
    return std::make_unique<redis::client>(io.executor(), o);
  };

  // The default user's password (percent-encoded in the URL), database 3.
  auto db3 = client_for(url(":pa%3Ass%40w%2Frd@", "/3"));
  REQUIRE(call(*db3, {"SET", "where", "three"}).reply.text == "OK");
  auto db0 = client_for(url(":pa%3Ass%40w%2Frd@"));
  CHECK(call(*db0, {"GET", "where"}).reply.is_nil());
  auto alice3 = client_for(url("alice:alice-pw@", "/3"));
  CHECK(call(*alice3, {"GET", "where"}).reply.text == "three");
  CHECK(call(*alice3, {"ACL", "WHOAMI"}).reply.text == "alice");

  // Wrong credentials, none at all, a database out of range: each its own error, every call.
  auto wrong = client_for(url("alice:nope@"));
  CHECK(call(*wrong, {"PING"}).error == errc::auth_failed);
  auto none = client_for(url(""));
  CHECK(call(*none, {"PING"}).error == errc::auth_failed);
  auto db99 = client_for(url(":pa%3Ass%40w%2Frd@", "/99"));
  CHECK(call(*db99, {"SET", "where", "db0?"}).error == errc::select_failed);
  CHECK(call(*db0, {"GET", "where"}).reply.is_nil());  // nothing ran on database 0 instead
  CHECK(db99->stats().connect_failures == 1);
}

TEST_CASE("redis client: a call fails at its deadline, and later calls get their own replies",
          "[redis]") {
  test::redis_server server({.extra_args = {"--enable-debug-command", "local"}});
  test::io_threads io(1);
  auto o = options_for(server);
  o.connections = 1;  // the late replies come on the connection the next calls use
  o.timeout = 50ms;
  redis::client c(io.executor(), o);
  REQUIRE(call(c, {"SET", "k", "v"}).reply.text == "OK");

  // The server sleeps 300 ms; calls behind it wait for it.
  std::promise<redis::result> slept;
  c.async_exec({"DEBUG", "SLEEP", "0.3"}, 5s, [&](asio::error_code ec, redis::value v) {
    slept.set_value({ec, std::move(v)});
  });
  std::this_thread::sleep_for(20ms);
  std::vector<std::chrono::milliseconds> took;
  for (const char* tag : {"a", "b", "c"}) {
    const auto start = std::chrono::steady_clock::now();
    const auto r = call(c, {"ECHO", tag});
    took.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start));
    CHECK(r.error == errc::timed_out);
  }
  for (auto t : took) {
    CHECK(t >= 45ms);
    CHECK(t < 250ms);  // the deadline, not the server's sleep
  }
  auto f = slept.get_future();
  REQUIRE(f.wait_for(5s) == std::future_status::ready);
  CHECK(f.get().reply.text == "OK");
  // The three late replies are dropped in their turn: each call now gets its own.
  for (const char* tag : {"x", "y", "z"}) CHECK(call(c, {"ECHO", tag}).reply.text == tag);
  CHECK(call(c, {"GET", "k"}).reply.text == "v");
  const auto s = c.stats();
  CHECK(s.timeouts == 3);
  CHECK(s.resets == 0);
  CHECK(c.breaker() == redis::breaker_state::closed);
}

TEST_CASE("redis client: EVALSHA loads the script again after NOSCRIPT", "[redis]") {
  test::redis_server server;
  asio::io_context io(1);  // one thread, the test's own: the awaitable API on it
  redis::client c(io.get_executor(), options_for(server));
  const redis::script join("return KEYS[1] .. '=' .. ARGV[1] .. ARGV[2]");
  const redis::script fails("return redis.call('INCR', KEYS[1])");
  bool finished = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        const std::string_view keys[] = {"key"};
        const std::string_view args[] = {"v", "1"};
        auto r = co_await c.eval(join, keys, args);  // not loaded yet: NOSCRIPT, load, run
        CHECK_FALSE(r.error);
        CHECK(r.reply.text == "key=v1");
        CHECK(c.stats().script_loads == 1);
        r = co_await c.eval(join, keys, args);
        CHECK(r.reply.text == "key=v1");
        CHECK(c.stats().script_loads == 1);

        auto flushed = co_await c.exec(redis::make_command("SCRIPT", "FLUSH"));
        CHECK(flushed.reply.text == "OK");
        r = co_await c.eval(join, keys, args);
        CHECK(r.reply.text == "key=v1");
        CHECK(c.stats().script_loads == 2);

        co_await c.exec(redis::make_command("SET", "key", "text"));
        r = co_await c.eval(fails, keys, {});  // the script's own error is an error reply
        CHECK(r.error == errc::error_reply);
        CHECK(r.reply.is_error());
        CHECK(c.stats().script_loads == 3);
        finished = true;
      },
      asio::detached);
  io.run_for(10s);
  CHECK(finished);
  CHECK(server.command({"SCRIPT", "EXISTS", join.sha1()}).elements.at(0).integer == 1);
}

TEST_CASE("redis client: closing fails the calls still waiting, and nothing is left behind",
          "[redis][threads]") {
  test::redis_server server({.extra_args = {"--enable-debug-command", "local"}});
  test::io_threads io(2);
  std::promise<asio::error_code> slow, behind;
  {
    auto o = options_for(server);
    o.connections = 1;
    redis::client c(io.executor(), o);
    REQUIRE_FALSE(call(c, {"PING"}).error);
    c.async_exec({"DEBUG", "SLEEP", "0.2"}, 5s,
                 [&](asio::error_code ec, redis::value) { slow.set_value(ec); });
    c.async_exec({"PING"}, 5s, [&](asio::error_code ec, redis::value) { behind.set_value(ec); });
    std::this_thread::sleep_for(20ms);
  }  // destroyed with both calls waiting
  auto f1 = slow.get_future(), f2 = behind.get_future();
  REQUIRE(f1.wait_for(2s) == std::future_status::ready);
  REQUIRE(f2.wait_for(2s) == std::future_status::ready);
  CHECK(f1.get() == errc::closed);
  CHECK(f2.get() == errc::closed);
}

TEST_CASE("redis client: bad options are config errors", "[redis]") {
  asio::io_context io;
  const auto make = [&](redis::client_options o) { redis::client c(io.get_executor(), o); };
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(make({.url = "redis://:secret@h:0"}),
                    Contains("redis URL 'redis://:***@h:0'") && !Contains("secret"));
  CHECK_THROWS_WITH(make({.connections = 0}), Contains("connections"));
  CHECK_THROWS_WITH(make({.timeout = 0ms}), Contains("timeout"));
  CHECK_THROWS_WITH(make({.url = "rediss://h:1", .ca_file = "/nonexistent/ca.pem"}),
                    Contains("ca_file"));
  CHECK_NOTHROW(make({.url = "redis://h:1", .ca_file = "/nonexistent/ca.pem"}));  // not TLS
}
