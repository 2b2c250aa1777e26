// The pub/sub subscriber against a real redis-server: messages in order with their channel,
// unsubscribe (also from within the handler), close with no callback after it returns, reconnect
// and resubscribe after the server is killed and started again or stalls (SIGSTOP), a password
// and a database, rediss://, and binary messages up to 1 MB.

#include "store/redis/redis_subscriber.hpp"
#include "eventually.hpp"
#include "redis_server.hpp"
#include "redis_test_util.hpp"

#include <gatehouse/config_error.hpp>

#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace redis = gatehouse::redis;
using test::eventually;
using namespace std::chrono_literals;
using namespace std::string_literals;

namespace {
using message = std::pair<std::string, std::string>;  // channel, payload

// What a subscriber's callbacks saw (on its strand), for the test's thread.
class inbox {
 public:
  void attach(redis::subscriber& s) {
    s.set_handler([this](std::string_view channel, std::string_view payload) {
      const std::lock_guard lock(m_);
      got_.emplace_back(channel, payload);
    });
    s.on_connected([this] { ++connected; });
  }
  std::size_t size() {
    const std::lock_guard lock(m_);
    return got_.size();
  }
  std::vector<message> messages() {
    const std::lock_guard lock(m_);
    return got_;
  }
  std::atomic<int> connected{0};

 private:
  std::mutex m_;
  std::vector<message> got_;
};

redis::client_options options_for(const std::string& url) {
  redis::client_options o;
  o.url = url;
  o.timeout = 5s;
  o.reconnect_backoff = 10ms;
  o.reconnect_backoff_max = 200ms;
  return o;
}

std::int64_t publish(const test::redis_server& server, std::string_view channel,
                     std::string_view payload) {
  return server.command({"PUBLISH", channel, payload}).integer;
}

std::int64_t subscribers_of(const test::redis_server& server, std::string_view channel) {
  const auto v = server.command({"PUBSUB", "NUMSUB", channel});
  REQUIRE(v.elements.size() == 2);
  return v.elements[1].integer;
}

// Publishes every message on one connection, pipelined (so Redis keeps their order), and waits
// until all are answered.
void publish_all(redis::client& c, const std::vector<message>& messages) {
  std::atomic<std::size_t> answered{0}, failed{0};
  for (const auto& [channel, payload] : messages)
    c.async_exec({"PUBLISH", channel, payload},
                 [&answered, &failed](asio::error_code ec, redis::value) {
                   if (ec) ++failed;
                   ++answered;
                 });
  REQUIRE(eventually([&] { return answered == messages.size(); }, 10s));
  CHECK(failed == 0);
}

// PINGs the server has answered so far (INFO commandstats).
long pings(const test::redis_server& server) {
  const std::string info = server.command({"INFO", "commandstats"}).text;
  const auto at = info.find("cmdstat_ping:calls=");
  return at == std::string::npos ? 0 : std::stol(info.substr(at + 19));
}

// SIGCONT for a redis-server stopped by the test, whatever happens.
struct resume_on_exit {
  pid_t pid;
  ~resume_on_exit() { ::kill(pid, SIGCONT); }
};
}  // namespace

TEST_CASE("redis subscriber: messages arrive in order with their channel; unsubscribe stops them",
          "[redis][threads]") {
  test::redis_server server;
  test::io_threads io(2);
  inbox in;
  redis::subscriber sub(io.executor(), options_for(server.url()));
  in.attach(sub);
  sub.subscribe("a");
  sub.subscribe("b");
  REQUIRE(eventually([&] { return in.connected == 1; }));
  CHECK(subscribers_of(server, "a") == 1);
  CHECK(subscribers_of(server, "b") == 1);

  auto po = options_for(server.url());
  po.connections = 1;
  redis::client pub(io.executor(), po);
  std::vector<message> sent;
  for (int i = 0; i < 1000; ++i) sent.emplace_back(i % 3 ? "a" : "b", std::to_string(i));
  sent.emplace_back("c", "not subscribed");
  publish_all(pub, sent);
  sent.pop_back();
  REQUIRE(eventually([&] { return in.size() == sent.size(); }));
  CHECK(in.messages() == sent);
  CHECK(sub.stats().messages == 1000);

  sub.unsubscribe("a");
  sub.unsubscribe("never subscribed");
  REQUIRE(eventually([&] { return subscribers_of(server, "a") == 0; }));
  CHECK(publish(server, "a", "gone") == 0);
  CHECK(publish(server, "b", "still here") == 1);
  REQUIRE(eventually([&] { return in.size() == sent.size() + 1; }));
  CHECK(in.messages().back() == message{"b", "still here"});

  // Subscribed again: the same connection, no reconnect.
  sub.subscribe("a");
  REQUIRE(eventually([&] { return subscribers_of(server, "a") == 1; }));
  CHECK(publish(server, "a", "back") == 1);
  REQUIRE(eventually([&] { return in.size() == sent.size() + 2; }));
  CHECK(in.messages().back() == message{"a", "back"});
  const auto s = sub.stats();
  CHECK(s.connects == 1);
  CHECK(s.losses == 0);
  CHECK(s.reconnects == 0);
  CHECK(in.connected == 1);
}

TEST_CASE("redis subscriber: unsubscribe from within the handler drops what is on its way",
          "[redis]") {
  test::redis_server server;
  test::io_threads io(1);
  redis::subscriber sub(io.executor(), options_for(server.url()));
  std::atomic<int> of_c{0}, of_d{0}, connected{0};
  sub.set_handler([&](std::string_view channel, std::string_view) {
    if (channel == "c") {
      ++of_c;
      sub.unsubscribe("c");  // on the strand: at once
    } else {
      ++of_d;
    }
  });
  sub.on_connected([&] { ++connected; });
  sub.subscribe("c");
  sub.subscribe("d");
  REQUIRE(eventually([&] { return connected == 1; }));

  // Twenty at once (a script runs whole): Redis sends them all before it reads the UNSUBSCRIBE.
  const auto r = server.command({"EVAL",
                                 "for i = 1, 20 do redis.call('PUBLISH', KEYS[1], i) end "
                                 "return redis.call('PUBLISH', KEYS[2], 'marker')",
                                 "2", "c", "d"});
  CHECK(r.integer == 1);
  REQUIRE(eventually([&] { return of_d == 1; }));
  REQUIRE(eventually([&] { return subscribers_of(server, "c") == 0; }));
  CHECK(of_c == 1);
  CHECK(sub.stats().messages == 2);
}

TEST_CASE("redis subscriber: no callback runs once close() has returned", "[redis][threads]") {
  test::redis_server server;
  test::io_threads io(2);
  auto po = options_for(server.url());
  po.connections = 1;
  redis::client pub(io.executor(), po);

  SECTION("closed from another thread while the handler runs") {
    redis::subscriber sub(io.executor(), options_for(server.url()));
    std::atomic<bool> closed{false};
    std::atomic<int> seen{0}, late{0}, connected{0};
    sub.set_handler([&](std::string_view, std::string_view) {
      ++seen;
      std::this_thread::sleep_for(1ms);  // so that close() comes while a callback runs
      if (closed) ++late;
    });
    sub.on_connected([&] { ++connected; });
    sub.subscribe("flood");
    REQUIRE(eventually([&] { return connected == 1; }));
    std::vector<message> burst(500, {"flood", "x"});
    publish_all(pub, burst);
    REQUIRE(eventually([&] { return seen >= 20; }));
    sub.close();
    closed = true;
    const int at_close = seen;
    REQUIRE(eventually([&] { return subscribers_of(server, "flood") == 0; }));
    publish_all(pub, burst);
    CHECK(late == 0);
    CHECK(seen == at_close);
    CHECK(at_close < 500);  // it closed mid-flood
  }
  SECTION("closed from within the handler: that callback is the last") {
    redis::subscriber sub(io.executor(), options_for(server.url()));
    std::atomic<int> seen{0}, connected{0};
    sub.set_handler([&](std::string_view, std::string_view) {
      if (++seen == 3) sub.close();
    });
    sub.on_connected([&] { ++connected; });
    sub.subscribe("e");
    REQUIRE(eventually([&] { return connected == 1; }));
    // Ten at once (a script runs whole): the seven after the close are dropped.
    server.command({"EVAL", "for i = 1, 10 do redis.call('PUBLISH', KEYS[1], i) end", "1", "e"});
    REQUIRE(eventually([&] { return subscribers_of(server, "e") == 0; }));
    CHECK(seen == 3);
  }
}

TEST_CASE("redis subscriber: after the server is killed and started again it resubscribes",
          "[redis]") {
  test::redis_server server;
  test::io_threads io(1);
  inbox in;
  redis::subscriber sub(io.executor(), options_for(server.url()));
  in.attach(sub);
  sub.subscribe("k1");
  REQUIRE(eventually([&] { return in.connected == 1; }));
  CHECK(publish(server, "k1", "before") == 1);
  REQUIRE(eventually([&] { return in.size() == 1; }));

  server.kill();
  // At least once: the instant reconnect may still reach the dying server's listening socket
  // (its clients' sockets close first), and lose that connection too.
  REQUIRE(eventually([&] { return sub.stats().losses >= 1; }));
  REQUIRE(eventually([&] { return sub.stats().connect_failures >= 1; }));
  sub.subscribe("k2");  // while the server is down
  server.start();
  REQUIRE(eventually([&] { return in.connected == 2; }, 10s));
  // on_connected: both channels are subscribed already.
  CHECK(publish(server, "k1", "after") == 1);
  CHECK(publish(server, "k2", "new") == 1);
  REQUIRE(eventually([&] { return in.size() == 3; }));
  CHECK(in.messages() == std::vector<message>{{"k1", "before"}, {"k1", "after"}, {"k2", "new"}});
  const auto s = sub.stats();
  CHECK(s.reconnects == 1);  // connected and resubscribed: once
  CHECK(s.losses >= 1);
  CHECK(s.messages == 3);
}

TEST_CASE("redis subscriber: a stalled server (SIGSTOP) is noticed by the PING, and left",
          "[redis]") {
  test::redis_server server;
  test::io_threads io(1);
  inbox in;
  redis::subscriber sub(io.executor(), options_for(server.url()),
                        {.interval = 100ms, .timeout = 300ms});
  in.attach(sub);
  sub.subscribe("s");
  REQUIRE(eventually([&] { return in.connected == 1; }));
  // Idle and well: the PINGs are answered, nothing is lost.
  const long before = pings(server);
  REQUIRE(eventually([&] { return pings(server) >= before + 3; }));
  CHECK(sub.stats().losses == 0);

  {
    // Stopped, the server's kernel still holds the connection: only the PING tells.
    REQUIRE(::kill(server.pid(), SIGSTOP) == 0);
    const resume_on_exit resume{server.pid()};
    REQUIRE(eventually([&] { return sub.stats().losses >= 1; }));
    CHECK(in.connected == 1);
  }
  REQUIRE(eventually([&] { return in.connected >= 2; }, 10s));
  CHECK(publish(server, "s", "awake") == 1);
  REQUIRE(eventually([&] { return in.size() == 1; }));
  CHECK(in.messages()[0] == message{"s", "awake"});
  CHECK(sub.stats().reconnects >= 1);
}

TEST_CASE("redis subscriber: a password and a database in the URL; a wrong password", "[redis]") {
  test::redis_server server({.password = "s3cret"});
  test::io_threads io(1);
  {
    inbox in;
    redis::subscriber sub(io.executor(), options_for(server.url() + "/3"));
    in.attach(sub);
    sub.subscribe("p");
    REQUIRE(eventually([&] { return in.connected == 1; }));
    CHECK(publish(server, "p", "m") == 1);  // from database 0: channels are global
    REQUIRE(eventually([&] { return in.size() == 1; }));
  }
  inbox in;
  const auto port = std::to_string(server.port());
  redis::subscriber wrong(io.executor(), options_for("redis://:nope@127.0.0.1:" + port));
  in.attach(wrong);
  wrong.subscribe("p");
  REQUIRE(eventually([&] { return wrong.stats().connect_failures >= 3; }));
  CHECK(in.connected == 0);
  CHECK(wrong.stats().losses == 0);
  CHECK(subscribers_of(server, "p") == 0);
}

TEST_CASE(
    "redis subscriber: binary-safe channels and messages, up to 1 MB, over redis:// and "
    "rediss://",
    "[redis]") {
  test::redis_server server({.tls = true});
  test::io_threads io(1);
  std::string big(1 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 256);
  const std::string channel = "bin\0\r\n*1\r\n"s;
  const std::vector<message> sent{
      {channel, ""}, {channel, "a\0b\r\n$3\r\nxyz\r\n"s}, {channel, big}, {channel, "end"}};

  for (const bool tls : {false, true}) {
    CAPTURE(tls);
    auto o = options_for(server.url(tls));
    o.ca_pem = server.certificate_pem();
    inbox in;
    redis::subscriber sub(io.executor(), o);
    in.attach(sub);
    sub.subscribe(channel);
    REQUIRE(eventually([&] { return in.connected == 1; }));
    for (const auto& [c, m] : sent) CHECK(publish(server, c, m) == 1);
    REQUIRE(eventually([&] { return in.size() == sent.size(); }, 10s));
    CHECK(in.messages() == sent);
  }
}

TEST_CASE("redis subscriber: bad configuration throws config_error", "[redis]") {
  test::io_threads io(1);
  CHECK_THROWS_AS(redis::subscriber(io.executor(), options_for("http://127.0.0.1:6379")),
                  gatehouse::config_error);
  CHECK_THROWS_AS(
      redis::subscriber(io.executor(), options_for("redis://127.0.0.1"), {.interval = 0ms}),
      gatehouse::config_error);
  auto o = options_for("redis://127.0.0.1");
  o.reconnect_backoff = 0ms;
  CHECK_THROWS_WITH(redis::subscriber(io.executor(), o),
                    Catch::Contains("redis subscriber: reconnect_backoff"));
}
