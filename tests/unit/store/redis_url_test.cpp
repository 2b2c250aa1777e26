// Redis URLs: what parses, and what a bad one's config_error says (never its password).

#include "store/redis/redis_url.hpp"

#include <gatehouse/config_error.hpp>

#include <catch2/catch.hpp>

#include <string>

using gatehouse::redis::parse_url;

TEST_CASE("redis URLs: host, port, user, password, database, TLS", "[redis]") {
  auto e = parse_url("redis://127.0.0.1:6380");
  CHECK_FALSE(e.tls);
  CHECK(e.host == "127.0.0.1");
  CHECK(e.port == 6380);
  CHECK(e.user.empty());
  CHECK(e.password.empty());
  CHECK(e.db == 0);

  e = parse_url("rediss://gate:s3cr%40t@cache.internal/7");
  CHECK(e.tls);
  CHECK(e.host == "cache.internal");
  CHECK(e.port == 6379);
  CHECK(e.user == "gate");
  CHECK(e.password == "s3cr@t");
  CHECK(e.db == 7);

  e = parse_url("REDIS://:pw@[::1]:7000/");
  CHECK(e.host == "::1");
  CHECK(e.port == 7000);
  CHECK(e.user.empty());
  CHECK(e.password == "pw");
  CHECK(e.address() == "[::1]:7000");

  e = parse_url("redis://u:p@ss@h:1/0");  // the last '@' ends the user info
  CHECK(e.password == "p@ss");
  CHECK(e.host == "h");
}

TEST_CASE("redis URLs: a bad one names its problem, never its password", "[redis]") {
  const auto message = [](std::string url) {
    try {
      parse_url(url);
    } catch (const gatehouse::config_error& e) {
      return std::string(e.what());
    }
    return std::string("(parsed)");
  };
  using Catch::Matchers::Contains;
  CHECK_THAT(message("http://h:1"), Contains("must start with redis://"));
  CHECK_THAT(message("redis://"), Contains("has no host"));
  CHECK_THAT(message("redis://h:0"), Contains("port"));
  CHECK_THAT(message("redis://h:65536"), Contains("port"));
  CHECK_THAT(message("redis://h:"), Contains("port is empty"));
  CHECK_THAT(message("redis://h:x1"), Contains("port"));
  CHECK_THAT(message("redis://h/x"), Contains("database"));
  CHECK_THAT(message("redis://h/1?timeout=3"), Contains("query"));
  CHECK_THAT(message("redis://h w:1"), Contains("whitespace"));
  CHECK_THAT(message("redis://[::1:1"), Contains("']'"));
  CHECK_THAT(message("redis://[nope]:1"), Contains("IPv6"));
  CHECK_THAT(message("redis://ho$t:1"), Contains("host"));
  CHECK_THAT(message("redis://user:@h:1"), Contains("password is empty"));

  const std::string secret = "hunter2-secret";
  for (std::string url :
       {"redis://alice:" + secret + "@h:0", "redis://" + secret + "@h:1",
        "redis://alice:" + secret + "%zz@h:1", "rediss://:" + secret + "@h:1/x",
        "redis://alice:" + secret + "@h:1?x=1", "redis://alice:" + secret + "@@h:99999"}) {
    CAPTURE(url);
    const auto m = message(url);
    CHECK(m != "(parsed)");
    CHECK(m.find(secret) == std::string::npos);
    CHECK_THAT(m, Contains("***"));
  }
  CHECK_THAT(message("redis://alice:" + secret + "@h:0"), Contains("redis://alice:***@h:0"));
}
