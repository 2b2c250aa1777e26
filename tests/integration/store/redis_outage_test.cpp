// The Redis client when the server goes away: calls fail fast and never hang, the circuit
// breaker opens and then closes by itself once the server is back, without a storm of
// connects; and when a "server" sends what is not Redis's protocol (junk, a huge bulk string or
// array, a reply cut off by a close, a reply nobody asked for, nothing at all).

#include "eventually.hpp"
#include "redis_server.hpp"
#include "redis_test_util.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace redis = gatehouse::redis;
using redis::errc;
using test::call;
using namespace std::chrono_literals;

namespace {
using clock_type = std::chrono::steady_clock;

redis::client_options outage_options(const test::redis_server& server) {
  redis::client_options o;
  o.url = server.url();
  o.connections = 2;
  o.timeout = 200ms;
  o.breaker_failures = 5;
  o.breaker_delay = 100ms;
  o.breaker_delay_max = 400ms;
  o.reconnect_backoff = 10ms;
  o.reconnect_backoff_max = 200ms;
  return o;
}
}  // namespace

TEST_CASE(
    "redis client: a server gone mid-use fails calls fast, the breaker opens, and closes "
    "by itself when the server is back, without a storm of connects",
    "[redis][threads]") {
  test::redis_server server;
  test::io_threads io(2);
  const auto o = outage_options(server);
  redis::client c(io.executor(), o);
  REQUIRE_FALSE(call(c, {"PING"}).error);

  // Two threads call all along, one call at a time each.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::atomic<std::int64_t> slowest_us{0};
  std::mutex m;
  std::map<std::string, int> errors;  // by message
  std::vector<std::thread> callers;
  for (int t = 0; t < 2; ++t) {
    callers.emplace_back([&] {
      while (!stop) {
        const auto start = clock_type::now();
        const auto r = call(c, {"INCR", "n"});
        const auto us =
            std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - start)
                .count();
        for (auto cur = slowest_us.load();
             us > cur && !slowest_us.compare_exchange_weak(cur, us);) {
        }
        if (!r.error) {
          ++ok;
        } else {
          std::lock_guard lock(m);
          ++errors[r.error.message()];
        }
        std::this_thread::sleep_for(1ms);
      }
    });
  }
  REQUIRE(test::eventually([&] { return ok > 20; }));

  server.kill();
  const auto at_kill = c.stats();
  REQUIRE(test::eventually([&] { return c.breaker() != redis::breaker_state::closed; }));
  std::this_thread::sleep_for(1s);  // the outage
  const auto after_outage = c.stats();
  CHECK(after_outage.rejected > at_kill.rejected);  // refused at once while open
  // About one probe per breaker delay (100, 200, 400, 400 ms…) and a few before it opened;
  // without the breaker, each of the ~1,000 calls made meanwhile could have tried.
  const auto connects = after_outage.connects - at_kill.connects;
  INFO("connects during a 1 s outage: " << connects);
  CHECK(connects <= 12);
  CHECK(after_outage.breaker_opens == 1);

  server.start();
  const int ok_before = ok;
  REQUIRE(test::eventually([&] { return c.breaker() == redis::breaker_state::closed; }));
  REQUIRE(test::eventually([&] { return ok > ok_before + 20; }));
  stop = true;
  for (auto& t : callers) t.join();

  // No call waited much past its deadline, outage or not.
  INFO("slowest call: " << slowest_us.load() << " µs");
  CHECK(slowest_us.load() < std::chrono::microseconds(o.timeout + 300ms).count());
  std::lock_guard lock(m);
  for (const auto& [message, n] : errors) UNSCOPED_INFO(message << ": " << n);
  CHECK(errors[make_error_code(errc::circuit_open).message()] > 0);
  CHECK(errors.size() >= 2);  // lost or refused connections first, then the breaker
  CHECK(c.stats().connects - after_outage.connects <= 6);  // the last probes, then the two
}

TEST_CASE("redis client: the breaker probes and closes with no calls made", "[redis]") {
  test::redis_server server;
  test::io_threads io(1);
  redis::client c(io.executor(), outage_options(server));
  REQUIRE_FALSE(call(c, {"PING"}).error);
  server.stop();
  for (int i = 0; i < 10 && c.breaker() == redis::breaker_state::closed; ++i) {
    const auto start = clock_type::now();
    CHECK(call(c, {"PING"}).error);
    CHECK(clock_type::now() - start < 200ms);  // refused or failed at once, no server to wait for
  }
  REQUIRE(c.breaker() != redis::breaker_state::closed);
  const auto start = clock_type::now();
  CHECK(call(c, {"PING"}).error == errc::circuit_open);
  CHECK(clock_type::now() - start < 50ms);
  server.start();
  REQUIRE(test::eventually([&] { return c.breaker() == redis::breaker_state::closed; }));
  CHECK_FALSE(call(c, {"PING"}).error);
}

namespace {
// A TCP server that answers each connection its own way, on its own thread, one connection at
// a time.
class fake_server {
 public:
  using behaviour = std::function<void(asio::ip::tcp::socket&)>;
  explicit fake_server(behaviour b)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}), behaviour_(std::move(b)) {
    thread_ = std::thread([this] {
      while (!stop_) {
        asio::ip::tcp::socket s(io_);
        asio::error_code ec;
        acceptor_.accept(s, ec);
        if (ec || stop_) return;
        ++accepted_;
        try {
          behaviour_(s);
        } catch (const std::exception&) {  // the client went away
        }
      }
    });
  }
  ~fake_server() {
    stop_ = true;
    asio::error_code ec;
    asio::ip::tcp::socket wake(io_);
    wake.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  std::string url() const {
    return "redis://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  int accepted() const { return accepted_; }

  static void read_command(asio::ip::tcp::socket& s) {
    char buf[4096];
    s.read_some(asio::buffer(buf));
  }
  static void until_closed(asio::ip::tcp::socket& s) {
    char buf[4096];
    asio::error_code ec;
    while (!ec) s.read_some(asio::buffer(buf), ec);
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  behaviour behaviour_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// Answers a command with `reply`, then waits for the client to close.
fake_server::behaviour answers(std::string reply) {
  return [reply](asio::ip::tcp::socket& s) {
    fake_server::read_command(s);
    asio::write(s, asio::buffer(reply));
    fake_server::until_closed(s);
  };
}
}  // namespace

TEST_CASE("redis client: what is not Redis's protocol fails the call and resets the connection",
          "[redis]") {
  struct scenario {
    const char* name;
    fake_server::behaviour behaviour;
    errc expected;
  };
  std::string deep;
  for (int i = 0; i < 9; ++i) deep += "*1\r\n";
  deep += ":1\r\n";
  const std::vector<scenario> scenarios = {
      {"junk", answers("!garbage\r\n"), errc::protocol_error},
      {"bad integer", answers(":12x\r\n"), errc::protocol_error},
      {"nested too deep", answers(deep), errc::protocol_error},
      {"huge array", answers("*2147483647\r\n"), errc::reply_too_large},
      {"huge bulk string",
       [](asio::ip::tcp::socket& s) {
         fake_server::read_command(s);
         asio::write(s, asio::buffer(std::string_view("$1000000000\r\n")));
         const std::string chunk(64 * 1024, 'x');
         for (;;) asio::write(s, asio::buffer(chunk));  // until the client closes
       },
       errc::reply_too_large},
      {"closed mid-reply",
       [](asio::ip::tcp::socket& s) {
         fake_server::read_command(s);
         asio::write(s, asio::buffer(std::string_view("$10\r\nabc")));
       },
       errc::connection_lost},
      {"closed at once", [](asio::ip::tcp::socket&) {}, errc::connection_lost},
  };
  for (const auto& sc : scenarios) {
    SECTION(sc.name) {
      fake_server fake(sc.behaviour);
      test::io_threads io(1);
      redis::client c(
          io.executor(),
          {.url = fake.url(), .connections = 1, .timeout = 2s, .max_reply_bytes = 1024 * 1024});
      const auto r = call(c, {"GET", "k"});
      CHECK(r.error == sc.expected);
      CHECK(c.stats().resets == 1);
      // Calls after it connect again (and meet the same server).
      CHECK(call(c, {"GET", "k"}).error == sc.expected);
      CHECK(fake.accepted() == 2);
    }
  }
}

TEST_CASE("redis client: a reply nobody asked for, and a server that never answers", "[redis]") {
  SECTION("a reply nobody asked for resets the connection") {
    fake_server fake(answers("+OK\r\n+SURPRISE\r\n"));
    test::io_threads io(1);
    redis::client c(io.executor(), {.url = fake.url(), .connections = 1, .timeout = 2s});
    const auto r = call(c, {"SET", "k", "v"});
    CHECK_FALSE(r.error);
    CHECK(r.reply.text == "OK");
    CHECK(test::eventually([&] { return c.stats().resets == 1; }));
  }
  SECTION("a server that never answers: timeouts, then the connection is taken for dead") {
    fake_server fake([](asio::ip::tcp::socket& s) { fake_server::until_closed(s); });
    test::io_threads io(1);
    redis::client c(io.executor(), {.url = fake.url(),
                                    .connections = 1,
                                    .timeout = 30ms,
                                    .stall_timeout = 100ms,
                                    .breaker_failures = 100});
    const auto start = clock_type::now();
    CHECK(call(c, {"GET", "k"}).error == errc::timed_out);
    CHECK(clock_type::now() - start < 500ms);
    CHECK(test::eventually([&] { return c.stats().resets == 1; }));
    CHECK(call(c, {"GET", "k"}).error == errc::timed_out);  // a new connection; no answer either
    CHECK(fake.accepted() == 2);
  }
}

TEST_CASE(
    "redis client: with AOF, what was written survives a restart, and the client finds "
    "the new server by itself",
    "[redis]") {
  test::redis_server server({.aof = true});
  test::io_threads io(1);
  redis::client c(io.executor(), outage_options(server));
  REQUIRE(call(c, {"INCRBY", "quota", "41"}).reply.integer == 41);
  server.stop();
  server.start();
  // The connections still hold the old server's sockets: a call may find one closed, once.
  REQUIRE(test::eventually([&] { return call(c, {"INCR", "quota"}).reply.integer == 42; }));
  CHECK(server.command({"GET", "quota"}).text == "42");
}
