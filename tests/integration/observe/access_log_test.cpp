// Access logs over real sockets: one line per request in each of AWS's presets (parsed as JSON,
// XML, CSV and CLF) with the response's x-amzn-RequestId, every $context variable rendered,
// escaping that keeps hostile values inside their field, a stalled writer that drops and counts
// but never holds a request up, rotation, the flush at the gateway's stop, and config errors.

#include "harness.hpp"
#include "strict_json.hpp"

#include <gatehouse/gatehouse.hpp>

#include <asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace gatehouse;
namespace fs = std::filesystem;

namespace {
// A file of its own under the build's temporary directory, removed at the end.
struct temp_dir {
  fs::path path;
  temp_dir() {
    char pattern[] = "/tmp/gatehouse-access-log.XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const char* name) const { return (path / name).string(); }
};

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

constexpr const char* hostile_note = "q\"b\\s<x>&y,z' \tend";

// A REST API (or an HTTP API): GET /pets/{id}, and GET /private behind a TOKEN authorizer that
// allows "allow" (with a context) and denies anything else.
Router pets_api(api_type type = api_type::rest) {
  api_options o;
  o.id = "abcdefghij";
  o.type = type;
  Router api(o);
  api.route("GET", "/pets/{id}", function([](const proxy_event& ev) {
              proxy_result r;
              r.body = R"({"id":")" + std::string(*ev.path_parameter("id")) + R"("})";
              return r;
            }));
  method_options guarded;
  guarded.authorizer = Authorizer({.name = "token"}, [](const authorizer_request& r) {
    if (r.authorization_token() != "allow") return authorizer_result::deny("intruder");
    auto result = authorizer_result::allow("user-1");
    result.context = {{"tier", std::string("gold")}, {"note", std::string(hostile_note)}};
    return result;
  });
  api.route("GET", "/private", function([](const proxy_event&) {
              proxy_result r;
              r.body = "secret";
              return r;
            }),
            guarded);
  return api;
}

std::string request_for(std::string_view target, std::string_view extra = "") {
  return "GET " + std::string(target) +
         " HTTP/1.1\r\nHost: example.com\r\nUser-Agent: log-test\r\n" + std::string(extra) + "\r\n";
}

// Sends each target on one connection; returns the x-amzn-RequestId of each answer.
std::vector<std::string> send_all(unsigned short port, const std::vector<std::string>& requests) {
  test::raw_client c(port);
  std::vector<std::string> ids;
  for (const auto& r : requests) {
    c.send(r);
    auto reply = c.read_reply();
    REQUIRE(reply);
    ids.emplace_back(reply->headers.get("x-amzn-RequestId").value_or(""));
  }
  return ids;
}

const std::vector<std::string> mixed_requests = {
    request_for("/prod/pets/1"),
    request_for("/prod/pets/2?x=1"),
    request_for("/prod/private", "Authorization: allow\r\n"),
    request_for("/prod/private", "Authorization: nope\r\n"),
    request_for("/prod/private"),   // no token: 401
    request_for("/prod/nothing")};  // no route: 403, logged by the stage

// The request id in each line of `file`, read by a parser of the format's shape.
std::vector<std::string> ids_in(const std::string& file, std::string_view preset, api_type type) {
  std::vector<std::string> ids;
  if (preset == "json") {
    for (const auto& line : lines_of(file)) {
      INFO(line);
      CHECK(test::json_error(line).empty());
      ids.push_back(test::json_member(line, "requestId"));
    }
    return ids;
  }
  std::string script;
  if (preset == "xml")
    script =
        "import sys, xml.etree.ElementTree as ET\n"
        "for line in open(sys.argv[1], encoding='utf-8'):\n"
        "    print(ET.fromstring(line).get('id'))\n";
  else if (preset == "csv")
    script = std::string("import sys, csv\n") +
             "for row in csv.reader(open(sys.argv[1], encoding='utf-8', newline='')):\n" +
             (type == api_type::rest ? "    assert len(row) == 11, row\n    print(row[9])\n"
                                     : "    assert len(row) == 8, row\n    print(row[7])\n");
  else  // clf: the request id is the last field (REST: the one before the extended id)
    script = std::string("import sys, re\n") +
             "for line in open(sys.argv[1], encoding='utf-8'):\n" +
             "    m = re.fullmatch(r'(\\S+) (\\S+) (\\S+) \\[([^]]+)\\] \"([^\"]*)\" (\\d+) (\\d+) "
             "(\\S+)( \\S+)?\\n', line)\n" +
             "    assert m, line\n    print(m.group(8))\n";
  const std::string script_file = file + "-parse.py";  // not json.py: that would shadow the module
  std::ofstream(script_file) << script;
  int status = -1;
  const std::string out = test::shell("python3 " + script_file + " " + file, &status);
  CHECK(status == 0);
  std::istringstream in(out);
  for (std::string id; std::getline(in, id);) ids.push_back(id);
  return ids;
}
}  // namespace

TEST_CASE("each preset logs one line per request that parses and carries x-amzn-RequestId",
          "[access_log]") {
  temp_dir dir;
  for (auto type : {api_type::rest, api_type::http}) {
    for (const char* preset : {"clf", "json", "xml", "csv"}) {
      INFO((type == api_type::rest ? "REST " : "HTTP ") << preset);
      const std::string file = dir.file(preset);
      std::vector<std::string> ids;
      {
        auto log = AccessLog::file(file);
        Stage prod{"prod", pets_api(type).deploy()};
        prod.access_log(access_log_settings{.format = preset, .destination = log});
        test::running_gateway g;
        ids = send_all(g.serve_plain(prod), mixed_requests);
      }  // the gateway's stop flushes the log
      REQUIRE(ids.size() == mixed_requests.size());
      // The lines of each answering thread are in order; the threads' lines interleave.
      auto logged = ids_in(file, preset, type);
      std::sort(logged.begin(), logged.end());
      std::sort(ids.begin(), ids.end());
      CHECK(logged == ids);
      fs::remove(file);
    }
  }
}

namespace {
// A JSON format with every variable of `names`, each as a string member of its own name.
std::string json_format_of(const std::vector<std::string>& names) {
  std::string f = "{";
  for (const auto& n : names) f += "\"" + n + "\":\"$context." + n + "\",";
  f.back() = '}';
  return f;
}

// Collects the lines a callback log gets.
struct collected {
  std::mutex mutex;
  std::vector<std::string> lines;
  AccessLog log = AccessLog::callback([this](std::string_view line) {
    std::lock_guard lock(mutex);
    lines.emplace_back(line);
  });
  std::vector<std::string> take() {
    log.flush();
    std::lock_guard lock(mutex);
    return std::move(lines);
  }
};

struct parsed {
  rapidjson::Document doc;
  explicit parsed(const std::string& line) {
    INFO(line);
    REQUIRE(test::json_error(line, &doc).empty());
  }
  std::string operator[](const char* name) const {
    return doc.HasMember(name) ? doc[name].GetString() : "(absent)";
  }
};

bool is_number(const std::string& s) { return std::regex_match(s, std::regex("[0-9]+")); }

const std::vector<std::string> rest_names = {"accountId",
                                             "apiId",
                                             "authorizer.principalId",
                                             "authorizer.tier",
                                             "authorizer.claims.sub",
                                             "domainName",
                                             "domainPrefix",
                                             "error.message",
                                             "error.messageString",
                                             "error.responseType",
                                             "error.validationErrorString",
                                             "extendedRequestId",
                                             "httpMethod",
                                             "identity.accountId",
                                             "identity.apiKey",
                                             "identity.caller",
                                             "identity.sourceIp",
                                             "identity.user",
                                             "identity.userAgent",
                                             "identity.userArn",
                                             "identity.cognitoIdentityId",
                                             "identity.clientCert.subjectDN",
                                             "path",
                                             "protocol",
                                             "requestId",
                                             "requestTime",
                                             "requestTimeEpoch",
                                             "resourceId",
                                             "resourcePath",
                                             "stage",
                                             "wafResponseCode",
                                             "webaclArn",
                                             "authorize.error",
                                             "authorize.latency",
                                             "authorize.status",
                                             "authorizer.error",
                                             "authorizer.integrationLatency",
                                             "authorizer.integrationStatus",
                                             "authorizer.latency",
                                             "authorizer.requestId",
                                             "authorizer.status",
                                             "authenticate.error",
                                             "authenticate.latency",
                                             "authenticate.status",
                                             "customDomain.basePathMatched",
                                             "integration.error",
                                             "integration.integrationStatus",
                                             "integration.latency",
                                             "integration.requestId",
                                             "integration.status",
                                             "integrationErrorMessage",
                                             "integrationLatency",
                                             "integrationStatus",
                                             "responseLatency",
                                             "responseLength",
                                             "status",
                                             "waf.error",
                                             "waf.latency",
                                             "waf.status",
                                             "xrayTraceId",
                                             "deploymentId",
                                             "tlsVersion",
                                             "cipherSuite",
                                             "identity.vpceId",
                                             "isCanaryRequest",
                                             "awsEndpointRequestId",
                                             "requestOverride.header.x",
                                             "responseOverride.status"};
}  // namespace

TEST_CASE("every variable of a REST API renders, with the request's values", "[access_log]") {
  collected out;
  Stage prod{"prod", pets_api().deploy()};
  prod.access_log(
      access_log_settings{.format = json_format_of(rest_names), .destination = out.log});
  test::running_gateway g;
  const auto ids = send_all(g.serve_plain(prod),
                            {request_for("/prod/private",
                                         "Authorization: allow\r\nX-Amzn-Trace-Id: "
                                         "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1\r\n"),
                             request_for("/prod/private", "Authorization: nope\r\n")});
  const auto lines = out.take();
  REQUIRE(lines.size() == 2);

  parsed ok(lines[0]);
  for (const auto& n : rest_names) CHECK(ok[n.c_str()] != "(absent)");
  CHECK(ok["requestId"] == ids[0]);
  CHECK(ok["extendedRequestId"] == ids[0]);
  CHECK(ok["accountId"] == "123456789012");
  CHECK(ok["apiId"] == "abcdefghij");
  CHECK(ok["stage"] == "prod");
  CHECK(ok["httpMethod"] == "GET");
  CHECK(ok["path"] == "/prod/private");
  CHECK(ok["resourcePath"] == "/private");
  CHECK(ok["protocol"] == "HTTP/1.1");
  CHECK(ok["domainName"] == "example.com");
  CHECK(ok["domainPrefix"] == "example");
  CHECK(ok["identity.sourceIp"] == "127.0.0.1");
  CHECK(ok["identity.userAgent"] == "log-test");
  CHECK(ok["authorizer.principalId"] == "user-1");
  CHECK(ok["authorizer.tier"] == "gold");
  CHECK(ok["status"] == "200");
  CHECK(ok["responseLength"] == "6");  // "secret"
  CHECK(ok["integrationStatus"] == "200");
  CHECK(ok["integration.status"] == "200");
  CHECK(ok["authorizer.status"] == "200");
  CHECK(ok["authorize.status"] == "200");
  CHECK(ok["authenticate.status"] == "200");
  for (const char* n : {"integrationLatency", "integration.latency", "responseLatency",
                        "authorizer.latency", "authorize.latency", "requestTimeEpoch"})
    CHECK(is_number(ok[n]));
  CHECK(std::regex_match(ok["requestTime"],
                         std::regex(R"(\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000)")));
  CHECK(ok["xrayTraceId"] == "1-5759e988-bd862e3fe1be46a994272793");
  CHECK(ok["isCanaryRequest"] == "false");
  for (const char* n : {"error.message", "error.responseType", "identity.caller", "waf.status",
                        "authorizer.error", "identity.cognitoIdentityId", "integration.error"})
    CHECK(ok[n] == "-");

  parsed denied(lines[1]);
  CHECK(denied["requestId"] == ids[1]);
  CHECK(denied["status"] == "403");
  CHECK(denied["error.message"] ==
        "User is not authorized to access this resource with an explicit deny");
  CHECK(denied["error.messageString"] ==
        "\"User is not authorized to access this resource with an explicit deny\"");
  CHECK(denied["error.responseType"] == "ACCESS_DENIED");
  CHECK(denied["authorizer.status"] == "403");
  CHECK(denied["authorize.status"] == "403");
  CHECK(denied["authenticate.status"] == "200");
  CHECK(denied["authorizer.error"] == denied["error.message"]);
  CHECK(denied["integrationLatency"] == "-");  // no integration ran
  CHECK(denied["integrationStatus"] == "-");
}

TEST_CASE("every variable of an HTTP API renders, the route key and data processed included",
          "[access_log]") {
  const std::vector<std::string> names = {"requestId",
                                          "routeKey",
                                          "dataProcessed",
                                          "responseLength",
                                          "status",
                                          "httpMethod",
                                          "authorizer.error",
                                          "authorizer.latency",
                                          "authorizer.status",
                                          "awsEndpointRequestId2",
                                          "integrationErrorMessage",
                                          "integrationLatency",
                                          "identity.sourceIp",
                                          "path",
                                          "stage"};
  collected out;
  Stage prod{"prod", pets_api(api_type::http).deploy()};
  prod.access_log(access_log_settings{.format = json_format_of(names), .destination = out.log});
  test::running_gateway g;
  const auto ids = send_all(g.serve_plain(prod), {request_for("/prod/pets/7")});
  const auto lines = out.take();
  REQUIRE(lines.size() == 1);
  parsed line(lines[0]);
  CHECK(line["requestId"] == ids[0]);
  CHECK(line["routeKey"] == "GET /pets/{id}");
  CHECK(line["responseLength"] == "10");  // {"id":"7"}
  CHECK(line["dataProcessed"] == "10");
  CHECK(line["authorizer.status"] == "-");
  CHECK(line["path"] == "/prod/pets/7");
}

TEST_CASE("a WebSocket stage logs each connect, message and disconnect", "[access_log]") {
  const std::vector<std::string> ws_names = {"apiId",
                                             "connectedAt",
                                             "connectionId",
                                             "domainName",
                                             "error.message",
                                             "error.responseType",
                                             "eventType",
                                             "extendedRequestId",
                                             "identity.sourceIp",
                                             "identity.userAgent",
                                             "integrationLatency",
                                             "integration.latency",
                                             "messageId",
                                             "requestId",
                                             "requestTime",
                                             "requestTimeEpoch",
                                             "routeKey",
                                             "stage",
                                             "status",
                                             "authorizer.principalId",
                                             "waf.status"};
  websocket_api_options wo;
  wo.id = "wsapi00001";
  WebSocketApi api(wo);
  api.route("$connect", [](const websocket_event&) { return proxy_result{}; });
  api.route("$disconnect", [](const websocket_event&) { return proxy_result{}; });
  // "echo" runs through the pipeline (a function integration), "hello" is a C++ handler.
  std::mutex seen_mutex;
  std::string seen_request_id;
  api.route("echo", function([&](const proxy_event& ev) {
              std::lock_guard lock(seen_mutex);
              seen_request_id = std::string(ev.context().request_id);
              return proxy_result{};
            }));
  api.route("hello", [](const websocket_event&) { return proxy_result{}; });
  WebSocketStage stage("ws", api);
  collected out;
  stage.access_log(access_log_settings{.format = json_format_of(ws_names), .destination = out.log});

  asio::io_context io;
  std::optional<Gateway> gw;
  gw.emplace(io);
  gw->mount(stage);
  const auto port = gw->listen("127.0.0.1:0", plain_http).port();
  std::thread runner([&] { io.run(); });
  {
    test::raw_client c(port);
    c.send(
        "GET /ws HTTP/1.1\r\nHost: example.com\r\nUser-Agent: ws-test\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n");
    auto head = c.read_reply(true);
    REQUIRE(head);
    REQUIRE(head->status == 101);
    // Masked text frames (mask 0): the payload as it is.
    auto frame = [](std::string_view text) {
      std::string f;
      f.push_back(static_cast<char>(0x81));
      f.push_back(static_cast<char>(0x80 | text.size()));
      f.append(4, '\0');
      f.append(text);
      return f;
    };
    c.send(frame(R"({"action":"hello"})"));
    c.send(frame(R"({"action":"echo"})"));
    c.send(frame(R"({"action":"nope"})"));  // no route, no $default: Forbidden
    std::string close = "\x88\x82";
    close.append(4, '\0');
    close.append("\x03\xe8");
    c.send(close);
    CHECK(c.wait_closed());
  }
  // The disconnect is recorded once the session has ended.
  std::vector<std::string> lines;
  for (int i = 0; i < 200 && lines.size() < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto more = out.take();
    lines.insert(lines.end(), more.begin(), more.end());
  }
  asio::post(io, [&] { gw->stop(); });
  io.stop();
  runner.join();

  REQUIRE(lines.size() == 5);
  std::vector<std::unique_ptr<parsed>> p;
  for (const auto& l : lines) p.push_back(std::make_unique<parsed>(l));
  // Messages of one connection are handled in order; the integration's ends later.
  std::map<std::string, const parsed*> by_route;
  for (const auto& e : p) by_route[(*e)["routeKey"]] = e.get();
  REQUIRE(by_route.size() == 5);
  const auto& connect = *by_route["$connect"];
  CHECK(connect["eventType"] == "CONNECT");
  CHECK(connect["status"] == "200");
  CHECK(connect["messageId"] == "-");
  CHECK(connect["connectionId"].size() == 16);
  CHECK(connect["apiId"] == "wsapi00001");
  CHECK(connect["stage"] == "ws");
  CHECK(connect["domainName"] == "example.com");
  CHECK(connect["identity.userAgent"] == "ws-test");
  CHECK(connect["identity.sourceIp"] == "127.0.0.1");
  CHECK(is_number(connect["connectedAt"]));
  for (const char* route : {"hello", "echo", "-"}) {
    INFO(route);
    const auto& m = *by_route[route];
    CHECK(m["eventType"] == "MESSAGE");
    CHECK(m["connectionId"] == connect["connectionId"]);
    CHECK(m["connectedAt"] == connect["connectedAt"]);
    CHECK(m["identity.userAgent"] == "ws-test");
  }
  CHECK(by_route["hello"]->operator[]("status") == "200");
  CHECK(by_route["hello"]->operator[]("messageId").size() == 16);
  CHECK(is_number(by_route["hello"]->operator[]("integrationLatency")));
  {
    std::lock_guard lock(seen_mutex);
    CHECK(by_route["echo"]->operator[]("requestId") == seen_request_id);
  }
  CHECK(by_route["echo"]->operator[]("status") == "200");
  CHECK(by_route["-"]->operator[]("status") == "403");
  CHECK(by_route["-"]->operator[]("error.message") == "Forbidden");
  const auto& disconnect = *by_route["$disconnect"];
  CHECK(disconnect["eventType"] == "DISCONNECT");
  CHECK(disconnect["connectionId"] == connect["connectionId"]);
  std::set<std::string> ids;
  for (const auto& e : p) ids.insert((*e)["requestId"]);
  CHECK(ids.size() == 5);
}

TEST_CASE("hostile values keep each shape of line valid", "[access_log]") {
  temp_dir dir;
  struct shape {
    const char* name;
    const char* format;
    const char* script;  // prints the note as the parser reads it
  };
  const shape shapes[] = {
      {"json",
       R"({"id":"$context.requestId","note":"$context.authorizer.note","n":$context.authorizer.note})",
       "import sys, json\nfor l in open(sys.argv[1], encoding='utf-8'):\n"
       "    d = json.loads(l); assert d['n'] == d['note']; print(repr(d['note']))\n"},
      {"xml",
       "<r id=\"$context.requestId\" "
       "note=\"$context.authorizer.note\"><note>$context.authorizer.note</note></r>",
       "import sys, xml.etree.ElementTree as ET\nfor l in open(sys.argv[1], encoding='utf-8'):\n"
       "    e = ET.fromstring(l); assert e.get('note') == e.find('note').text\n"
       "    print(repr(e.find('note').text))\n"},
      {"csv", "$context.requestId,$context.authorizer.note,$context.status",
       "import sys, csv\nfor r in csv.reader(open(sys.argv[1], encoding='utf-8', newline='')):\n"
       "    assert len(r) == 3 and r[2] == '200', r; print(repr(r[1]))\n"},
      {"clf", "$context.requestId \"$context.authorizer.note\" $context.status",
       "import sys, re\nfor l in open(sys.argv[1], encoding='utf-8'):\n"
       "    m = re.fullmatch(r'(\\S+) \"([^\"]*)\" 200\\n', l); assert m, l; "
       "print(repr(m.group(2)))\n"},
  };
  for (const auto& s : shapes) {
    INFO(s.name);
    const std::string file = dir.file(s.name);
    {
      auto log = AccessLog::file(file);
      Stage prod{"prod", pets_api().deploy()};
      prod.access_log(access_log_settings{.format = s.format, .destination = log});
      test::running_gateway g;
      send_all(g.serve_plain(prod), {request_for("/prod/private", "Authorization: allow\r\n")});
    }
    std::ofstream(file + "-parse.py") << s.script;
    int status = -1;
    const std::string note = test::shell("python3 " + file + "-parse.py " + file, &status);
    CHECK(status == 0);
    // JSON and XML give the value back as it was; CSV and CLF show the tab as \x09 (and CLF
    // the quote and the backslash as \x22 and \x5C).
    if (std::string_view(s.name) == "json" || std::string_view(s.name) == "xml")
      CHECK(note == "'q\"b\\\\s<x>&y,z\\' \\tend'\n");
    else if (std::string_view(s.name) == "csv")
      CHECK(note == "'q\"b\\\\s<x>&y,z\\' \\\\x09end'\n");
    else
      CHECK(note == "\"q\\\\x22b\\\\x5Cs<x>&y,z' \\\\x09end\"\n");
  }
}

TEST_CASE("a stalled writer drops and counts lines, and never holds a request up",
          "[access_log][threads]") {
  std::mutex mutex;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> taken{0};
  auto log = AccessLog::callback(
      [&](std::string_view) {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return release; });  // stalls until the test lets it go
        ++taken;
      },
      {.buffer_bytes = 1024, .flush_timeout = std::chrono::milliseconds(200)});
  const auto dropped_before = AccessLog::total_lines_dropped();
  constexpr int requests = 200;
  {
    Stage prod{"prod", pets_api().deploy()};
    prod.access_log(access_log_settings{.format = "json", .destination = log});
    test::running_gateway g;
    test::raw_client c(g.serve_plain(prod), std::chrono::seconds(5));
    for (int i = 0; i < requests; ++i) {
      c.send(request_for("/prod/pets/" + std::to_string(i)));
      auto reply = c.read_reply();  // a request held up by the log would time out here
      REQUIRE(reply);
      REQUIRE(reply->status == 200);
    }
    // The gateway's stop waits for the stalled writer only flush_timeout.
  }
  CHECK(log.lines_dropped() > requests / 2);
  CHECK(AccessLog::total_lines_dropped() - dropped_before >= log.lines_dropped());
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  CHECK(log.flush());
  // Every line is accounted for: written or dropped.
  CHECK(log.lines_written() + log.lines_dropped() == static_cast<std::uint64_t>(requests));
  CHECK(taken.load() == static_cast<int>(log.lines_written()));
}

TEST_CASE("reopen() after a rename writes to a new file at the path (rotation)", "[access_log]") {
  temp_dir dir;
  const std::string file = dir.file("access.log");
  auto log = AccessLog::file(file);
  Stage prod{"prod", pets_api().deploy()};
  prod.access_log(access_log_settings{.format = "clf", .destination = log});
  test::running_gateway g;
  const auto port = g.serve_plain(prod);
  auto before = send_all(port, {request_for("/prod/pets/1"), request_for("/prod/pets/2")});
  fs::rename(file, file + ".1");  // what logrotate does first
  auto late = send_all(port, {request_for("/prod/pets/3")});
  CHECK(log.reopen());
  auto after = send_all(port, {request_for("/prod/pets/4"), request_for("/prod/pets/5")});
  REQUIRE(log.flush());
  const auto old_lines = lines_of(file + ".1");
  const auto new_lines = lines_of(file);
  auto in = [](const std::vector<std::string>& lines, const std::string& id) {
    return std::count_if(lines.begin(), lines.end(),
                         [&](const std::string& l) { return l.find(id) != std::string::npos; });
  };
  // Lines of requests answered before reopen() go to the old file (renamed), later ones to the
  // new file at the path.
  CHECK(old_lines.size() == 3);
  CHECK(new_lines.size() == 2);
  for (const auto& id : before) CHECK(in(old_lines, id) == 1);
  CHECK(in(old_lines, late[0]) == 1);
  for (const auto& id : after) CHECK(in(new_lines, id) == 1);
  CHECK_FALSE(AccessLog::callback([](std::string_view) {}).reopen());
}

TEST_CASE("the gateway's stop flushes its stages' logs: no line is lost", "[access_log]") {
  temp_dir dir;
  const std::string file = dir.file("access.log");
  auto log = AccessLog::file(file);  // kept open: only the gateway's stop writes the lines
  constexpr int requests = 300;
  {
    Stage prod{"prod", pets_api().deploy()};
    prod.access_log(access_log_settings{.format = "json", .destination = log});
    test::running_gateway g;
    std::vector<std::string> all;
    for (int i = 0; i < requests; ++i)
      all.push_back(request_for("/prod/pets/" + std::to_string(i)));
    send_all(g.serve_plain(prod), all);
  }
  CHECK(lines_of(file).size() == requests);
  CHECK(log.lines_dropped() == 0);
}

TEST_CASE("access log settings that cannot work are config_errors naming the stage",
          "[access_log]") {
  auto log = AccessLog::callback([](std::string_view) {});
  Stage prod{"prod", pets_api().deploy()};
  auto error_of = [&](access_log_settings s) -> std::string {
    try {
      prod.access_log(std::move(s));
    } catch (const config_error& e) {
      return e.what();
    }
    return {};
  };
  CHECK(error_of({.format = "$context.status", .destination = log}) ==
        "stage 'prod': access log format: it must contain $context.requestId or "
        "$context.extendedRequestId");
  CHECK(error_of({.format = "$context.requestId $context.routeKey", .destination = log}) ==
        "stage 'prod': access log format: $context.routeKey is not a variable of REST APIs");
  CHECK(error_of({.format = "json"}) ==
        "stage 'prod': access log without a destination (AccessLog::file or AccessLog::callback)");
  CHECK(
      error_of({.format = "$context.requestId $context.resourcePath", .destination = log}).empty());
  // A redeploy as an HTTP API compiles the format again: resourcePath is not one of its.
  CHECK_THROWS_WITH(prod.deploy(pets_api(api_type::http).deploy()),
                    Catch::Contains("$context.resourcePath is not a variable of HTTP APIs"));
  prod.access_log(std::nullopt);
  prod.deploy(pets_api(api_type::http).deploy());

  WebSocketApi wapi;
  wapi.route("$default", [](const websocket_event&) { return proxy_result{}; });
  WebSocketStage ws("chat", wapi);
  CHECK_THROWS_WITH(
      ws.access_log(access_log_settings{.format = "$context.requestId $context.httpMethod",
                                        .destination = log}),
      "WebSocket stage 'chat': access log format: $context.httpMethod is not a variable of "
      "WebSocket APIs");
  CHECK_THROWS_WITH(AccessLog::file("/nonexistent-dir/access.log"),
                    Catch::StartsWith("access log file '/nonexistent-dir/access.log': cannot be "
                                      "opened for appending"));
}

TEST_CASE("requests a host dispatches itself are logged too", "[access_log]") {
  collected out;
  Stage prod{"prod", pets_api().deploy()};
  prod.access_log(access_log_settings{
      .format = "$context.requestId $context.status $context.responseLength $context.path",
      .destination = out.log});
  test::running_gateway g;
  g.gateway().mount(prod);
  request req;
  req.method = "GET";
  req.target = "/prod/pets/5";
  req.source_ip = "127.0.0.1";
  auto res = g.gateway().async_dispatch(std::move(req), asio::use_future).get();
  const auto lines = out.take();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] ==
        std::string(res.headers.get("x-amzn-RequestId").value_or("?")) + " 200 10 /prod/pets/5");
}

TEST_CASE("a refused WebSocket upgrade is logged as a CONNECT with its refusal", "[access_log]") {
  WebSocketApi api;
  api.route("$default", [](const websocket_event&) { return proxy_result{}; });
  websocket_stage_options options;
  options.api_key_required = true;  // and no key is sent
  WebSocketStage stage("ws", api, options);
  collected out;
  stage.access_log(access_log_settings{.format =
                                           "$context.requestId $context.eventType "
                                           "$context.routeKey $context.status "
                                           "$context.error.responseType $context.connectionId",
                                       .destination = out.log});
  test::running_gateway g;
  g.gateway().mount(stage);
  const auto port = g.gateway().listen("127.0.0.1:0", plain_http).port();
  auto reply = test::roundtrip(
      port,
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  REQUIRE(reply);
  CHECK(reply->status == 403);
  const auto lines = out.take();
  REQUIRE(lines.size() == 1);
  // The connection id it would have had; the refusal's request id is the line's.
  CHECK(std::regex_match(
      lines[0], std::regex(std::string(reply->headers.get("x-amzn-RequestId").value_or("?")) +
                           R"( CONNECT \$connect 403 INVALID_API_KEY \S{16})")));
}
