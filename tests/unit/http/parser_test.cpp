#include "http/parser.hpp"

#include <catch2/catch.hpp>

using gatehouse::wire::parser_limits;
using gatehouse::wire::request_parser;
using status = request_parser::status;

namespace {
// Feeds `input` in pieces of `chunk` bytes as a connection does, until a message completes or
// fails; returns the final status and how many bytes were used.
status run(request_parser& p, std::string_view input, std::size_t chunk, std::size_t& used) {
  used = 0;
  bool again = false;
  while (used < input.size() || again) {
    again = false;
    std::size_t n = 0;
    auto st = p.feed(input.substr(used, chunk), n);
    used += n;
    if (st == status::head_complete) again = true;
    if (st == status::complete || st == status::error) return st;
    if (st == status::need_more && n == 0 && !again && used >= input.size()) break;
  }
  return status::need_more;
}
}  // namespace

TEST_CASE("the parser builds a request from any split of its bytes") {
  const std::string raw =
      "POST /prod/pets?type=dog HTTP/1.1\r\nHost: x\r\nX-Long: value  \r\n"
      "Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\nX-Trailer: t\r\n\r\n";
  for (std::size_t chunk : {1u, 2u, 7u, 64u, 4096u}) {
    INFO("chunk " << chunk);
    request_parser p(parser_limits{});
    gatehouse::request req;
    p.start(req);
    std::size_t used = 0;
    REQUIRE(run(p, raw, chunk, used) == status::complete);
    CHECK(used == raw.size());
    CHECK(req.method == "POST");
    CHECK(req.target == "/prod/pets?type=dog");
    CHECK(req.headers.get("x-long") == "value");  // trailing whitespace trimmed
    CHECK(req.body == "abcdefg");
    CHECK_FALSE(req.headers.contains("X-Trailer"));  // trailers never become headers
    CHECK(p.keep_alive());
  }
}

TEST_CASE("the parser stops after each message of a pipelined batch") {
  const std::string one = "GET /a HTTP/1.1\r\nHost: x\r\nX-Long:   " + std::string(100, 'l') +
                          "  \r\nX-Three: 3\r\nX-Four: 4\r\n\r\n";
  const std::string two = "GET /b HTTP/1.1\r\nHost:  y \r\nConnection: close\r\n\r\n";
  const std::string both = one + two;
  request_parser p(parser_limits{});
  gatehouse::request req;
  p.start(req);
  std::size_t used = 0;
  REQUIRE(run(p, both, both.size(), used) == status::complete);
  CHECK(used == one.size());
  CHECK(req.target == "/a");
  CHECK(req.headers.size() == 4);
  CHECK(req.headers.get("X-Long") == std::string(100, 'l'));
  p.start(req);
  std::size_t used2 = 0;
  REQUIRE(run(p, std::string_view(both).substr(used), both.size(), used2) == status::complete);
  CHECK(req.target == "/b");
  // The request object is reused: only the second request's fields, trimmed.
  REQUIRE(req.headers.size() == 2);
  CHECK(req.headers.get("Host") == "y");
  CHECK(req.headers.get("Connection") == "close");
  CHECK_FALSE(req.headers.get("X-Long"));
  CHECK_FALSE(p.keep_alive());
}

TEST_CASE("the parser reports the status to answer for each kind of bad input") {
  struct row {
    std::string raw;
    int status;
  };
  parser_limits limits{.max_header_bytes = 64, .max_uri_bytes = 32, .max_body_bytes = 8};
  const row rows[] = {
      {"GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"POST /x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nX: a\r\n  folded\r\n\r\n", 400},
      {"GET /" + std::string(40, 'a') + " HTTP/1.1\r\n\r\n", 414},
      {"GET /x HTTP/1.1\r\nX: " + std::string(80, 'b') + "\r\n\r\n", 431},
      {"POST /x HTTP/1.1\r\nContent-Length: 9\r\n\r\n", 413},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n123456789\r\n0\r\n\r\n", 413},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"GET /x HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", 417},
      {"GET x HTTP/1.1\r\n\r\n", 400},
  };
  for (const auto& r : rows) {
    INFO(r.raw);
    request_parser p(limits);
    gatehouse::request req;
    p.start(req);
    std::size_t used = 0;
    REQUIRE(run(p, r.raw, r.raw.size(), used) == status::error);
    CHECK(p.error_status() == r.status);
    CHECK_FALSE(p.error_reason().empty());
  }
}

TEST_CASE("Expect: 100-continue is reported after the head, before the body") {
  const std::string head =
      "PUT /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
  request_parser p(parser_limits{});
  gatehouse::request req;
  p.start(req);
  std::size_t n = 0;
  REQUIRE(p.feed(head, n) == status::head_complete);
  CHECK(n == head.size());
  CHECK(p.expects_continue());
  CHECK(p.has_body());
  REQUIRE(p.feed("", n) == status::need_more);
  REQUIRE(p.feed("ok", n) == status::complete);
  CHECK(req.body == "ok");
}

TEST_CASE("a connection closed in the middle of a request is an error") {
  request_parser p(parser_limits{});
  gatehouse::request req;
  p.start(req);
  std::size_t n = 0;
  p.feed("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", n);
  p.feed("", n);
  CHECK(p.in_message());
  CHECK(p.finish() == status::error);
  CHECK(p.error_status() == 400);
}
