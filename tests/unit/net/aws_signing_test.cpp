// SigV4 signing of the HTTP client's requests: requests of the AWS test suite
// (../shared/vectors/sigv4/README.txt) sent by http_client to a loopback server that captures
// the raw bytes; the Authorization line on the wire matches the suite's byte for byte, and the
// captured request verifies with sigv4::verifier.

#include "auth/sigv4.hpp"

#include <gatehouse/http_client.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

using namespace gatehouse;
namespace sigv4 = gatehouse::auth::sigv4;

namespace {

const std::filesystem::path suite_dir = std::filesystem::path(GATEHOUSE_VECTORS_DIR) / "sigv4";
constexpr std::string_view access_key = "AKIDEXAMPLE";
constexpr std::string_view secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
// 20150830T123600Z, the suite's X-Amz-Date.
const std::chrono::system_clock::time_point suite_time{std::chrono::seconds(1440938160)};

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

/// A request as text (the suite's LF files, or CRLF bytes off the wire), split up.
struct raw_request {
  std::string method, target;
  std::vector<std::pair<std::string, std::string>> headers;  // values without leading blanks
  std::string body;

  std::vector<std::string> values(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [n, v] : headers)
      if (iequal(n, name)) out.push_back(v);
    return out;
  }
};

raw_request parse_raw(std::string_view text) {
  raw_request r;
  auto next_line = [&] {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };
  std::string_view first = next_line();
  auto sp = first.find(' ');
  auto last = first.rfind(" HTTP/");
  r.method = first.substr(0, sp);
  r.target = first.substr(sp + 1, last - sp - 1);
  for (std::string_view line = next_line(); !line.empty(); line = next_line()) {
    auto colon = line.find(':');
    REQUIRE(colon != std::string_view::npos);
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r.headers.emplace_back(line.substr(0, colon), value);
  }
  r.body = text;
  return r;
}

/// A loopback server that captures each request's bytes (head and Content-Length body) and
/// answers 200 "ok" with Connection: close.
class capture_server {
 public:
  capture_server() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { run(); });
  }
  ~capture_server() {
    // A connection of our own wakes the blocked accept; the loop then sees stop_.
    stop_ = true;
    asio::error_code ec;
    asio::ip::tcp::socket wake(io_);
    wake.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::vector<std::string> captured() {
    std::lock_guard lock(mutex_);
    return captured_;
  }

 private:
  void run() {
    for (;;) {
      asio::ip::tcp::socket s(io_);
      asio::error_code ec;
      acceptor_.accept(s, ec);
      if (ec || stop_) return;
      std::string in;
      char buf[4096];
      std::size_t head_end = std::string::npos, want = 0;
      while (!ec) {
        std::size_t n = s.read_some(asio::buffer(buf), ec);
        in.append(buf, n);
        if (head_end == std::string::npos &&
            (head_end = in.find("\r\n\r\n")) != std::string::npos) {
          head_end += 4;
          auto head = parse_raw(std::string_view(in).substr(0, head_end));
          auto length = head.values("Content-Length");
          want = head_end + (length.empty() ? 0 : std::stoul(length.front()));
        }
        if (head_end != std::string::npos && in.size() >= want) break;
      }
      {
        std::lock_guard lock(mutex_);
        captured_.push_back(in);
      }
      asio::write(s,
                  asio::buffer(std::string_view(
                      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")),
                  ec);
    }
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> captured_;
};

/// Sends `req` with a client of its own; returns the response status (0 on error).
int send(client_request req) {
  asio::io_context io;
  http_client client(io.get_executor());
  auto result = client.async_request(std::move(req), asio::use_future);
  io.run();
  auto res = result.get();  // throws Asio's system_error on failure
  return res.status;
}

aws_signing suite_signing() {
  aws_signing s;
  s.credentials = {std::string(access_key), std::string(secret_key), {}};
  s.region = "us-east-1";
  s.service = "service";
  s.time = suite_time;
  return s;
}

/// Verifies a captured request with the verifier, as of the suite's date.
sigv4::verification verify(const raw_request& r, std::string_view service = "service") {
  sigv4::verifier v({.region = "us-east-1", .service = std::string(service)},
                    [](std::string_view key) -> std::optional<std::string> {
                      if (key == access_key) return std::string(secret_key);
                      return std::nullopt;
                    });
  std::vector<sigv4::header_field> fields;
  for (const auto& [n, val] : r.headers) fields.push_back({n, val});
  auto [path, query] = sigv4::split_target(r.target);
  return v.verify({r.method, path, query, fields, r.body}, suite_time);
}

}  // namespace

TEST_CASE("http_client signs suite requests as the SigV4 vectors", "[sigv4-out]") {
  auto name = GENERATE(
      as<std::string>{}, "get-vanilla", "get-vanilla-query-order-key-case",
      "get-vanilla-query-order-key", "get-vanilla-query-order-value",
      "get-vanilla-query-unreserved", "get-vanilla-empty-query-key", "get-header-value-trim",
      "get-header-value-order", "get-header-key-duplicate", "post-vanilla", "post-vanilla-query",
      "post-vanilla-empty-query-value", "post-header-key-case", "post-header-key-sort",
      "post-header-value-case", "post-x-www-form-urlencoded", "post-sts-header-before");
  INFO("case " << name);
  const auto dir = suite_dir / name;
  const raw_request vector = parse_raw(slurp(dir / (name + ".req")));
  const std::string authz = slurp(dir / (name + ".authz"));

  capture_server server;
  client_request req;
  req.method = vector.method;
  req.url = "http://127.0.0.1:" + std::to_string(server.port()) + vector.target;
  req.body = vector.body;
  req.sign = suite_signing();
  for (const auto& [n, v] : vector.headers) {
    // The session token goes in the credentials; the signer sends it.
    if (iequal(n, "X-Amz-Security-Token"))
      req.sign->credentials.session_token = v;
    else
      req.headers.add(n, v);  // Host: example.amazonaws.com replaces 127.0.0.1:port
  }
  REQUIRE(send(req) == 200);

  auto captured = server.captured();
  REQUIRE(captured.size() == 1);
  INFO("sent:\n" << captured.front());
  const raw_request sent = parse_raw(captured.front());
  CHECK(sent.method == vector.method);
  CHECK(sent.target == vector.target);
  CHECK(sent.values("Host") == std::vector<std::string>{"example.amazonaws.com"});
  CHECK(sent.values("X-Amz-Date") == std::vector<std::string>{"20150830T123600Z"});
  CHECK(sent.values("Authorization") == std::vector<std::string>{authz});
  CHECK(captured.front().find("\r\nAuthorization: " + authz + "\r\n") != std::string::npos);
  CHECK(sent.values("X-Amz-Security-Token") == vector.values("X-Amz-Security-Token"));
  CHECK(sent.body == vector.body);
  auto v = verify(sent);
  INFO(v.message);
  CHECK(v.ok());
}

TEST_CASE("http_client signs the Host it sends, with the port", "[sigv4-out]") {
  capture_server server;
  const std::string authority = "127.0.0.1:" + std::to_string(server.port());
  client_request req;
  req.method = "PUT";
  req.url = "http://" + authority + "/a%20b/c?x=1&y=%2F&x=0";
  req.headers.add("Content-Type", "application/json");
  req.headers.add("X-Custom", "  spaced   value ");
  req.body = R"({"hello":"world"})";
  req.sign = suite_signing();
  req.sign->service = "execute-api";
  REQUIRE(send(req) == 200);
  auto captured = server.captured();
  REQUIRE(captured.size() == 1);
  INFO("sent:\n" << captured.front());
  const raw_request sent = parse_raw(captured.front());
  CHECK(sent.values("Host") == std::vector<std::string>{authority});
  const auto authz = sent.values("Authorization");
  REQUIRE(authz.size() == 1);
  CHECK(authz.front().find("SignedHeaders=content-type;host;x-amz-date;x-custom,") !=
        std::string::npos);
  CHECK(authz.front().find("/us-east-1/execute-api/aws4_request") != std::string::npos);
  auto v = verify(sent, "execute-api");
  INFO(v.message);
  CHECK(v.ok());

  // Any change to what was sent breaks the signature.
  for (auto tamper :
       {+[](raw_request& r) { r.body += " "; }, +[](raw_request& r) { r.target += "&z=1"; },
        +[](raw_request& r) { r.method = "POST"; },
        +[](raw_request& r) {
          for (auto& [n, val] : r.headers)
            if (n == "Host") val = "127.0.0.1";
        }}) {
    raw_request changed = sent;
    tamper(changed);
    CHECK_FALSE(verify(changed, "execute-api").ok());
  }
}

TEST_CASE("http_client signing: session token, unsigned payload, replaced fields", "[sigv4-out]") {
  capture_server server;
  client_request req;
  req.method = "POST";
  req.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/upload";
  req.headers.add("Authorization", "Bearer stale");
  req.headers.add("X-Amz-Date", "20000101T000000Z");
  req.body = "payload";
  req.sign = suite_signing();
  req.sign->credentials.session_token = "token/with+chars==";
  req.sign->unsigned_payload = true;
  REQUIRE(send(req) == 200);
  auto captured = server.captured();
  REQUIRE(captured.size() == 1);
  INFO("sent:\n" << captured.front());
  const raw_request sent = parse_raw(captured.front());
  REQUIRE(sent.values("Authorization").size() == 1);
  CHECK(sent.values("Authorization").front().rfind("AWS4-HMAC-SHA256 Credential=", 0) == 0);
  CHECK(sent.values("X-Amz-Date") == std::vector<std::string>{"20150830T123600Z"});
  CHECK(sent.values("X-Amz-Security-Token") == std::vector<std::string>{"token/with+chars=="});
  CHECK(sent.values("X-Amz-Content-Sha256") == std::vector<std::string>{"UNSIGNED-PAYLOAD"});
  CHECK(sent.values("Authorization").front().find("x-amz-security-token") != std::string::npos);
  auto v = verify(sent);
  INFO(v.message);
  CHECK(v.ok());
  CHECK(v.session_token == "token/with+chars==");
}

TEST_CASE("http_client sends a request's own Host field instead of the URL's authority",
          "[sigv4-out]") {
  capture_server server;
  client_request req;
  req.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  req.headers.add("host", "virtual.example");
  REQUIRE(send(req) == 200);
  auto captured = server.captured();
  REQUIRE(captured.size() == 1);
  CHECK(parse_raw(captured.front()).values("Host") == std::vector<std::string>{"virtual.example"});
}
