// AWS-service integrations through a real gateway: lambda_invoke and aws_service send their
// requests, SigV4-signed, to a local stand-in for the service that checks every signature with
// sigv4::verifier and answers as the service would (a Lambda proxy result built from the event
// it got, a function error, a service error, or slowly), so the tests see what arrived and how
// the gateway answers each case.

#include "auth/sigv4.hpp"
#include "backend.hpp"
#include "harness.hpp"

#include <gatehouse/aws_integration.hpp>
#include <gatehouse/gatehouse.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace sigv4 = gatehouse::auth::sigv4;
using fields = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kRegion = "eu-west-1";
const gatehouse::aws_credentials kCredentials{"AKIDGATEHOUSE", "gatehouse/secret+key", ""};
const gatehouse::aws_credentials kTemporary{"ASIATEMPORARY", "temporary/secret", "the-token=="};

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

/// A request as received, split up.
struct raw_request {
  std::string method, target, path, query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [n, v] : headers)
      if (iequal(n, name)) return v;
    return std::nullopt;
  }
};

std::optional<raw_request> parse_head(std::string_view text) {
  raw_request r;
  auto next_line = [&] {
    auto nl = text.find("\r\n");
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 2);
    return line;
  };
  std::string_view first = next_line();
  auto sp = first.find(' ');
  auto last = first.rfind(" HTTP/");
  if (sp == std::string_view::npos || last == std::string_view::npos || last <= sp)
    return std::nullopt;
  r.method = first.substr(0, sp);
  r.target = first.substr(sp + 1, last - sp - 1);
  auto [path, query] = sigv4::split_target(r.target);
  r.path = path;
  r.query = query;
  for (std::string_view line = next_line(); !line.empty(); line = next_line()) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r.headers.emplace_back(line.substr(0, colon), value);
  }
  return r;
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string http_response(int status, const fields& headers, std::string_view body) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
  for (const auto& [n, v] : headers) out += n + ": " + v + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  out += body;
  return out;
}

/// A stand-in for an AWS service on 127.0.0.1: one connection at a time, each request handed
/// to `handler` (which may take its time), its answer sent with Connection: close.
class fake_service {
 public:
  using handler = std::function<std::string(const raw_request&)>;
  explicit fake_service(handler h)
      : handler_(std::move(h)), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { run(); });
  }
  ~fake_service() {
    stop_ = true;
    asio::error_code ec;
    asio::ip::tcp::socket wake(io_);
    wake.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  std::string endpoint() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  std::vector<raw_request> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  void run() {
    for (;;) {
      asio::ip::tcp::socket s(io_);
      asio::error_code ec;
      acceptor_.accept(s, ec);
      if (ec || stop_) return;
      std::string in;
      char buf[8192];
      std::optional<raw_request> req;
      std::size_t want = 0;
      while (!ec) {
        std::size_t n = s.read_some(asio::buffer(buf), ec);
        in.append(buf, n);
        if (!req) {
          auto end = in.find("\r\n\r\n");
          if (end == std::string::npos) continue;
          req = parse_head(std::string_view(in).substr(0, end + 4));
          if (!req) break;
          auto length = req->header("Content-Length");
          want = end + 4 + (length ? std::stoul(*length) : 0);
          in.erase(0, end + 4);
          want -= end + 4;
        }
        if (in.size() >= want) break;
      }
      if (!req) continue;
      req->body = in.substr(0, want);
      {
        std::lock_guard lock(mutex_);
        received_.push_back(*req);
      }
      asio::write(s, asio::buffer(handler_(*req)), ec);
    }
  }

  handler handler_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<raw_request> received_;
};

/// Verifies a request as the service would: the test's region, the service's name, the two
/// test credentials (the temporary one only with its session token).
sigv4::verification verify(const raw_request& r, std::string_view service) {
  sigv4::verifier v({.region = kRegion, .service = std::string(service)},
                    [](std::string_view key) -> std::optional<std::string> {
                      if (key == kCredentials.access_key_id) return kCredentials.secret_access_key;
                      if (key == kTemporary.access_key_id) return kTemporary.secret_access_key;
                      return std::nullopt;
                    });
  std::vector<sigv4::header_field> fields;
  for (const auto& [n, val] : r.headers) fields.push_back({n, val});
  auto result = v.verify({r.method, r.path, r.query, fields, r.body});
  if (result && result.access_key_id == kTemporary.access_key_id &&
      result.session_token != kTemporary.session_token) {
    result.result = sigv4::outcome::unknown_key;
    result.message = "The security token included in the request is invalid.";
  }
  return result;
}

std::string refusal(const sigv4::verification& v) {
  return http_response(sigv4::status_of(v.result),
                       {{"Content-Type", "application/json"},
                        {"x-amzn-ErrorType", std::string(sigv4::error_type(v.result))}},
                       "{\"message\":\"" + json_escape(v.message) + "\"}");
}

/// The Lambda Invoke API: /2015-03-31/functions/{name}/invocations. Functions: "slow" answers
/// after 600 ms, "fails" with a function error, "malformed" with no proxy result, "missing"
/// does not exist (404); any other answers 200 with the event it got as its body.
std::string lambda_api(const raw_request& r) {
  if (auto v = verify(r, "lambda"); !v) return refusal(v);
  constexpr std::string_view prefix = "/2015-03-31/functions/", suffix = "/invocations";
  std::string_view path = r.path;
  if (r.method != "POST" || path.substr(0, prefix.size()) != prefix ||
      path.size() < prefix.size() + suffix.size() || !path.ends_with(suffix))
    return http_response(400, {}, "{\"message\":\"bad request\"}");
  std::string name(path.substr(prefix.size(), path.size() - prefix.size() - suffix.size()));
  if (name == "missing")
    return http_response(
        404,
        {{"Content-Type", "application/json"}, {"x-amzn-ErrorType", "ResourceNotFoundException"}},
        R"({"Type":"User","message":"Function not found: missing"})");
  if (name == "fails")
    return http_response(
        200, {{"Content-Type", "application/json"}, {"X-Amz-Function-Error", "Unhandled"}},
        R"({"errorMessage":"boom","errorType":"Error"})");
  if (name == "malformed")
    return http_response(200, {{"Content-Type", "application/json"}}, R"({"statusCode":"x"})");
  if (name == "slow") std::this_thread::sleep_for(600ms);
  std::string result = R"({"statusCode":201,"headers":{"Content-Type":"application/json",)";
  result += "\"X-Function\":\"" + json_escape(name) + "\",\"X-Qualifier\":\"" +
            json_escape(r.query) + "\"},\"body\":\"" + json_escape(r.body) + "\"}";
  return http_response(200, {{"Content-Type", "application/json"}}, result);
}

/// An SQS-like query API: POST /{account}/{queue} answers XML describing what it got;
/// /{account}/error answers 400 as SQS does.
std::string queue_api(const raw_request& r) {
  if (auto v = verify(r, "sqs"); !v) return refusal(v);
  if (r.path.ends_with("/error"))
    return http_response(400, {{"Content-Type", "text/xml"}, {"x-amzn-RequestId", "req-1"}},
                         "<ErrorResponse><Code>InvalidParameterValue</Code></ErrorResponse>");
  if (r.path.ends_with("/slow")) std::this_thread::sleep_for(600ms);
  std::string body = "<Sent method=\"" + r.method + "\" target=\"" + r.target + "\" type=\"" +
                     r.header("Content-Type").value_or("") + "\" group=\"" +
                     r.header("X-Group").value_or("") + "\">" + r.body + "</Sent>";
  return http_response(200, {{"Content-Type", "text/xml"}, {"X-Not-Passed", "1"}}, body);
}

gatehouse::lambda_options lambda(const fake_service& svc, std::string name,
                                 gatehouse::aws_credentials creds = kCredentials) {
  gatehouse::lambda_options o;
  o.function_name = std::move(name);
  o.region = kRegion;
  o.credentials = std::move(creds);
  o.endpoint = svc.endpoint();
  o.timeout = 300ms;
  return o;
}

gatehouse::aws_service_options queue(const fake_service& svc, std::string path,
                                     gatehouse::aws_credentials creds = kCredentials) {
  gatehouse::aws_service_options o;
  o.endpoint = svc.endpoint();
  o.region = kRegion;
  o.service = "sqs";
  o.credentials = std::move(creds);
  o.path = std::move(path);
  o.timeout = 300ms;
  return o;
}

// A gateway serving stage "prod" over plain HTTP with routes to both stand-ins.
struct aws_env {
  aws_env() {
    gatehouse::Router api;
    api.route("ANY", "/fn/{proxy+}", gatehouse::lambda_invoke(lambda(lambdas, "echo")));
    auto qualified = lambda(lambdas, "arn:aws:lambda:eu-west-1:123456789012:function:echo");
    qualified.qualifier = "live";
    qualified.format = gatehouse::payload_format::v2;
    api.route("GET", "/arn", gatehouse::lambda_invoke(qualified));
    api.route("GET", "/temporary", gatehouse::lambda_invoke(lambda(lambdas, "echo", kTemporary)));
    auto wrong_token = kTemporary;
    wrong_token.session_token = "another-token";
    api.route("GET", "/wrong-token",
              gatehouse::lambda_invoke(lambda(lambdas, "echo", wrong_token)));
    auto wrong_secret = kCredentials;
    wrong_secret.secret_access_key = "not/the/secret";
    api.route("GET", "/wrong-secret",
              gatehouse::lambda_invoke(lambda(lambdas, "echo", wrong_secret)));
    for (std::string name : {"fails", "malformed", "missing", "slow"})
      api.route("GET", "/" + name, gatehouse::lambda_invoke(lambda(lambdas, name)));

    auto send = queue(queues, "/123456789012/{queue}");
    send.request_parameters = {{"integration.request.querystring.Action", "'SendMessage'"},
                               {"integration.request.header.X-Group", "stageVariables.group"}};
    api.route("POST", "/queues/{queue}", gatehouse::aws_service(send));
    api.route("POST", "/queue-wrong-secret",
              gatehouse::aws_service(
                  queue(queues, "/123456789012/orders", {"AKIDGATEHOUSE", "wrong", ""})));
    api.route("POST", "/queue-temporary",
              gatehouse::aws_service(queue(queues, "/123456789012/orders", kTemporary)));
    gatehouse::Stage prod("prod", api.deploy());
    prod.variable("group", "g1");
    port = gw.serve_plain(prod);
  }

  std::optional<test::reply> send(std::string_view method, std::string_view target,
                                  const fields& headers = {}, std::string_view body = {}) {
    return test::fetch(port, test::request_text(method, target, headers, body));
  }

  fake_service lambdas{lambda_api};  // declared first: they outlive the gateway that calls them
  fake_service queues{queue_api};
  test::running_gateway gw;
  unsigned short port = 0;
};

std::string str(std::optional<std::string_view> v) { return v ? std::string(*v) : "<none>"; }

void check_internal_error(const std::optional<test::reply>& r, int status) {
  REQUIRE(r);
  INFO("body: " << r->body);
  CHECK(r->status == status);
  CHECK(test::json_message(r->body) == "Internal server error");
}

}  // namespace

TEST_CASE("lambda_invoke sends the proxy event signed and answers the proxy result",
          "[aws-integration]") {
  aws_env env;
  auto r = env.send("POST", "/prod/fn/a/b?x=1&y=two", {{"Content-Type", "text/plain"}}, "hello");
  REQUIRE(r);
  INFO("body: " << r->body);
  CHECK(r->status == 201);
  CHECK(str(r->headers.get("X-Function")) == "echo");
  CHECK(str(r->headers.get("X-Qualifier")).empty());
  rapidjson::Document event;
  event.Parse(r->body.data(), r->body.size());
  REQUIRE(event.IsObject());
  CHECK(std::string(event["httpMethod"].GetString()) == "POST");
  CHECK(std::string(event["path"].GetString()) == "/fn/a/b");
  CHECK(std::string(event["resource"].GetString()) == "/fn/{proxy+}");
  CHECK(std::string(event["queryStringParameters"]["x"].GetString()) == "1");
  CHECK(std::string(event["queryStringParameters"]["y"].GetString()) == "two");
  CHECK(std::string(event["pathParameters"]["proxy"].GetString()) == "a/b");
  CHECK(std::string(event["body"].GetString()) == "hello");

  auto got = env.lambdas.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].target == "/2015-03-31/functions/echo/invocations");
  CHECK(got[0].header("Content-Type") == "application/json");
  CHECK(got[0].header("Host") == env.lambdas.endpoint().substr(7));
  CHECK(got[0].header("Authorization")->find("/eu-west-1/lambda/aws4_request") !=
        std::string::npos);
  CHECK_FALSE(got[0].header("X-Amz-Security-Token"));
}

TEST_CASE("lambda_invoke: ARN function names, qualifiers and payload format 2.0",
          "[aws-integration]") {
  aws_env env;
  auto r = env.send("GET", "/prod/arn?q=1");
  REQUIRE(r);
  INFO("body: " << r->body);
  CHECK(r->status == 201);
  CHECK(str(r->headers.get("X-Qualifier")) == "Qualifier=live");
  rapidjson::Document event;
  event.Parse(r->body.data(), r->body.size());
  REQUIRE(event.IsObject());
  CHECK(std::string(event["version"].GetString()) == "2.0");
  CHECK(std::string(event["rawQueryString"].GetString()) == "q=1");
  auto got = env.lambdas.received();
  REQUIRE(got.size() == 1);
  // The ARN is URL-encoded in the path, so the signature double-encodes it; it verified.
  CHECK(got[0].target ==
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Aecho/"
        "invocations?Qualifier=live");
}

TEST_CASE("lambda_invoke with temporary credentials sends the session token", "[aws-integration]") {
  aws_env env;
  auto r = env.send("GET", "/prod/temporary");
  REQUIRE(r);
  INFO("body: " << r->body);
  CHECK(r->status == 201);
  auto got = env.lambdas.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].header("X-Amz-Security-Token") == kTemporary.session_token);
  CHECK(got[0].header("Authorization")->find("x-amz-security-token") != std::string::npos);

  check_internal_error(env.send("GET", "/prod/wrong-token"), 500);
}

TEST_CASE("lambda_invoke answers AWS's errors", "[aws-integration]") {
  aws_env env;
  SECTION("a wrong secret: the Lambda service refuses, 500") {
    check_internal_error(env.send("GET", "/prod/wrong-secret"), 500);
  }
  SECTION("no such function: 500") { check_internal_error(env.send("GET", "/prod/missing"), 500); }
  SECTION("a function error: 502") { check_internal_error(env.send("GET", "/prod/fails"), 502); }
  SECTION("a malformed proxy result: 502") {
    check_internal_error(env.send("GET", "/prod/malformed"), 502);
  }
  SECTION("slower than the timeout: 504") {
    auto r = env.send("GET", "/prod/slow");
    REQUIRE(r);
    CHECK(r->status == 504);
    CHECK(test::json_message(r->body) == "Endpoint request timed out");
  }
  SECTION("nothing listens: 504 INTEGRATION_FAILURE") {
    gatehouse::Router api;
    auto o = lambda(env.lambdas, "echo");
    o.endpoint = "http://127.0.0.1:" + std::to_string(test::unused_port());
    api.route("GET", "/down", gatehouse::lambda_invoke(o));
    gatehouse::Stage other("other", api.deploy());
    test::running_gateway gw;
    auto r = test::fetch(gw.serve_plain(other), test::request_text("GET", "/other/down"));
    REQUIRE(r);
    CHECK(r->status == 504);
    CHECK(str(r->headers.get("x-amzn-ErrorType")) == "InternalServerErrorException");
  }
}

TEST_CASE("aws_service sends the body and mapped parameters signed", "[aws-integration]") {
  aws_env env;
  auto r = env.send("POST", "/prod/queues/orders?ignored=1",
                    {{"Content-Type", "application/x-www-form-urlencoded"}}, "MessageBody=hello");
  REQUIRE(r);
  INFO("body: " << r->body);
  CHECK(r->status == 200);
  CHECK(str(r->headers.get("Content-Type")) == "text/xml");
  CHECK_FALSE(r->headers.get("X-Not-Passed"));
  CHECK(r->body ==
        "<Sent method=\"POST\" target=\"/123456789012/orders?Action=SendMessage\" "
        "type=\"application/x-www-form-urlencoded\" group=\"g1\">MessageBody=hello</Sent>");
  auto got = env.queues.received();
  REQUIRE(got.size() == 1);
  const auto authz = got[0].header("Authorization");
  REQUIRE(authz);
  CHECK(authz->find("/eu-west-1/sqs/aws4_request") != std::string::npos);
  CHECK(authz->find("SignedHeaders=accept;content-type;host;user-agent;x-amz-date;x-group,") !=
        std::string::npos);
}

TEST_CASE("aws_service passes the service's errors and fails as HTTP integrations do",
          "[aws-integration]") {
  aws_env env;
  SECTION("a service error comes back as it is") {
    auto r = env.send("POST", "/prod/queues/error", {}, "x");
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(str(r->headers.get("Content-Type")) == "text/xml");
    CHECK(r->body.find("InvalidParameterValue") != std::string::npos);
  }
  SECTION("a wrong secret: the service's 403") {
    auto r = env.send("POST", "/prod/queue-wrong-secret", {}, "x");
    REQUIRE(r);
    CHECK(r->status == 403);
    CHECK(r->body.find("signature we calculated does not match") != std::string::npos);
  }
  SECTION("temporary credentials") {
    auto r = env.send("POST", "/prod/queue-temporary", {}, "x");
    REQUIRE(r);
    CHECK(r->status == 200);
    auto got = env.queues.received();
    REQUIRE(got.size() == 1);
    CHECK(got[0].header("X-Amz-Security-Token") == kTemporary.session_token);
  }
  SECTION("slower than the timeout: 504") {
    auto r = env.send("POST", "/prod/queues/slow", {}, "x");
    REQUIRE(r);
    CHECK(r->status == 504);
    CHECK(test::json_message(r->body) == "Endpoint request timed out");
  }
}

TEST_CASE("AWS integrations refuse bad options with config_error", "[aws-integration]") {
  using gatehouse::config_error;
  gatehouse::aws_service_options s;
  s.endpoint = "https://sqs.eu-west-1.amazonaws.com";
  s.region = kRegion;
  s.service = "sqs";
  s.credentials = kCredentials;
  CHECK_NOTHROW(gatehouse::aws_service(s));
  auto bad = [&](auto change, const char* needle) {
    auto o = s;
    change(o);
    CHECK_THROWS_WITH(gatehouse::aws_service(o), Catch::Contains(needle));
  };
  bad([](auto& o) { o.endpoint = "https://sqs.amazonaws.com/path"; }, "endpoint");
  bad([](auto& o) { o.endpoint = "ftp://x"; }, "endpoint");
  bad([](auto& o) { o.region = ""; }, "region");
  bad([](auto& o) { o.service = "Bad Service"; }, "service");
  bad([](auto& o) { o.credentials.secret_access_key = ""; }, "secret_access_key");
  bad([](auto& o) { o.credentials.access_key_id = "a/b"; }, "access_key_id");
  bad([](auto& o) { o.timeout = 10ms; }, "timeout");
  bad([](auto& o) { o.method = "FETCH"; }, "method");
  bad([](auto& o) { o.path = "no-slash"; }, "path");
  bad([](auto& o) { o.path = "/{bad name}"; }, "path parameter");
  bad(
      [](auto& o) {
        o.request_parameters = {{"integration.request.header.Authorization", "'x'"}};
      },
      "Authorization");
  bad([](auto& o) { o.request_parameters = {{"nonsense", "'x'"}}; }, "nonsense");

  gatehouse::lambda_options l;
  l.function_name = "my-function";
  l.region = kRegion;
  l.credentials = kCredentials;
  CHECK_NOTHROW(gatehouse::lambda_invoke(l));
  auto bad_lambda = [&](auto change, const char* needle) {
    auto o = l;
    change(o);
    CHECK_THROWS_WITH(gatehouse::lambda_invoke(o), Catch::Contains(needle));
  };
  bad_lambda([](auto& o) { o.function_name = ""; }, "function_name");
  bad_lambda([](auto& o) { o.function_name = "a/b"; }, "function_name");
  bad_lambda([](auto& o) { o.qualifier = "a:b"; }, "qualifier");
  bad_lambda([](auto& o) { o.region = ""; }, "region");
  bad_lambda([](auto& o) { o.timeout = 30s; }, "timeout");
  bad_lambda([](auto& o) { o.endpoint = "lambda.local"; }, "endpoint");
}
