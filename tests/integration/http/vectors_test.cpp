// The HTTP/1.1 edge cases of ../shared/vectors/http (smuggling, framing, line endings, limits),
// and this project's own cases in the same format (cases/: RFC 9112 refusals of field names,
// Host and request targets), written byte for byte to gatehouse's own server on a loopback socket.

#include "harness.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct vector_case {
  std::string name;
  std::string raw;
  std::string expected;                     // the meta's expected_strict
  std::optional<std::size_t> body_len;      // what the handler must see (accepted cases)
  std::optional<std::string> handler_path;  // the stage path the handler must see (ours)
  bool add_host = false;                    // see with_host()
};

// A folder of cases. The shared cases come from llhttp's test corpus, whose requests mostly
// have no Host; their README's expectations hold for a server that does not require Host
// (Node's requireHostHeader=false). gatehouse answers an HTTP/1.1 request without Host with 400
// (RFC 9112 3.2), so they are also sent with a Host field added (with_host), to test what each
// case is about; as written they must get 400.
struct case_folder {
  std::string dir;
  std::size_t count;  // the cases its INDEX.tsv lists
  bool add_host;
};
const case_folder shared_cases{test::vectors_dir() + "/http/cases", 30, true};
const case_folder own_cases{std::string(GATEHOUSE_SOURCE_DIR) + "/tests/integration/http/cases", 43,
                            false};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<vector_case> load_cases(const case_folder& folder) {
  std::vector<vector_case> cases;
  const std::filesystem::path dir = folder.dir;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".raw") continue;
    vector_case c;
    c.name = e.path().stem().string();
    c.raw = slurp(e.path());
    auto meta = slurp(dir / (c.name + ".meta.json"));
    std::smatch m;
    if (std::regex_search(meta, m, std::regex(R"re("expected_strict"\s*:\s*"([^"]*)")re")))
      c.expected = m[1];
    if (std::regex_search(meta, m, std::regex(R"re("bodyLen"\s*:\s*(\d+))re")))
      c.body_len = std::stoul(m[1]);
    if (std::regex_search(meta, m, std::regex(R"re("handler_path"\s*:\s*"([^"]*)")re")))
      c.handler_path = m[1];
    c.add_host = folder.add_host;
    cases.push_back(std::move(c));
  }
  std::sort(cases.begin(), cases.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return cases;
}

bool is_reject(const vector_case& c) { return c.expected.rfind("reject", 0) == 0; }
bool is_33(const vector_case& c) { return c.name.rfind("33-", 0) == 0; }

// The status a rejected case must get: 431 / 414 where the meta names them, 400 otherwise.
int reject_status(const vector_case& c) {
  if (c.expected.rfind("reject 431", 0) == 0) return 431;
  if (c.expected.rfind("reject 414", 0) == 0) return 414;
  return 400;
}

// The same bytes with the first request's target moved under the stage: "/url" → "/prod/url",
// so that an accepted request reaches the handler (the framing is untouched).
std::string under_stage(std::string raw) {
  auto sp = raw.find(' ');
  if (sp != std::string::npos && sp + 1 < raw.size() && raw[sp + 1] == '/')
    raw.insert(sp + 1, "/prod");
  return raw;
}

// The same bytes with "Host: vectors.test" as the last field of the first head, when that head
// is HTTP/1.1 without one (and the case's folder asks for it); unchanged otherwise, and when the
// head has no end (the case is about something before it).
std::string with_host(const vector_case& c) {
  std::string raw = c.raw;
  if (!c.add_host) return raw;
  auto line_end = raw.find("\r\n");
  auto head_end = raw.find("\r\n\r\n");
  if (line_end == std::string::npos || head_end == std::string::npos) return raw;
  if (std::string_view(raw).substr(0, line_end).ends_with(" HTTP/1.1") == false) return raw;
  for (auto at = line_end; at < head_end; at = raw.find("\r\n", at + 2)) {
    std::string name = raw.substr(at + 2, 5);
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (name == "host:") return raw;
  }
  raw.insert(head_end + 2, "Host: vectors.test\r\n");
  return raw;
}

// A gateway whose stage "prod" answers every method and path, and counts what it saw.
struct counting_gateway {
  struct seen {
    std::string method, path, body;
  };
  std::shared_ptr<std::mutex> mutex = std::make_shared<std::mutex>();
  std::shared_ptr<std::vector<seen>> requests = std::make_shared<std::vector<seen>>();
  test::running_gateway gw;
  unsigned short port;

  counting_gateway()
      : gw([] {
          gatehouse::gateway_options o;
          // Short enough that a case the parser waits on shows up as 408, not as a long stall.
          o.limits.header_timeout = std::chrono::milliseconds(2000);
          o.limits.body_timeout = std::chrono::milliseconds(2000);
          o.limits.idle_timeout = std::chrono::milliseconds(2000);
          return o;
        }()) {
    auto handler = gatehouse::function([m = mutex, r = requests](const gatehouse::proxy_event& ev) {
      std::lock_guard lock(*m);
      r->push_back({std::string(ev.http_method()), std::string(ev.path()), std::string(ev.body())});
      gatehouse::proxy_result res;
      res.body = "seen " + std::string(ev.http_method()) + " " + std::string(ev.path());
      return res;
    });
    gatehouse::Router api;
    api.route("ANY", "/", handler);
    api.route("ANY", "/{proxy+}", handler);
    gatehouse::Stage st{"prod", api.deploy()};
    port = gw.serve_plain(st);
  }

  std::vector<seen> snapshot() {
    std::lock_guard lock(*mutex);
    return *requests;
  }
  void reset() {
    std::lock_guard lock(*mutex);
    requests->clear();
  }
};

// raw_client's own timeout does not bound its reads (Asio's blocking read waits on after the
// socket's SO_RCVTIMEO expires), so what bounds a stuck case is the server's own timeouts above.
constexpr auto client_timeout = std::chrono::milliseconds(5000);

}  // namespace

TEST_CASE("http vectors: the case folders are complete and every case has an expectation") {
  for (const auto* folder : {&shared_cases, &own_cases}) {
    INFO(folder->dir);
    auto cases = load_cases(*folder);
    CHECK(cases.size() == folder->count);  // as many as INDEX.tsv lists
    for (const auto& c : cases) {
      INFO(c.name);
      CHECK_FALSE(c.raw.empty());
      CHECK((is_reject(c) || c.expected.rfind("accept", 0) == 0));
      if (!is_reject(c) && !is_33(c) && c.add_host == false) CHECK(c.body_len);
    }
  }
  // with_host adds a Host only where one is missing, and only to an HTTP/1.1 head.
  auto shared = load_cases(shared_cases);
  std::size_t added = 0;
  for (const auto& c : shared) {
    auto h = with_host(c);
    if (h != c.raw) {
      ++added;
      CHECK(h.size() == c.raw.size() + 20);
    }
  }
  CHECK(added >= 15);
  for (const auto& c : load_cases(own_cases)) CHECK(with_host(c) == c.raw);
}

namespace {
// A rejected request: the expected status, the connection layer's JSON body for it, and a
// closed connection.
void check_refused(test::raw_client& client, int status) {
  auto r = client.read_reply();
  REQUIRE(r);
  CHECK(r->status == status);
  if (status == 400) CHECK(r->body == R"({"message":"Bad Request"})");
  CHECK(r->headers.get("Connection") == std::optional<std::string_view>("close"));
  CHECK(client.wait_closed());
}
}  // namespace

TEST_CASE("http vectors: reject cases get the exact error status and a closed connection") {
  counting_gateway g;
  for (const auto* folder : {&shared_cases, &own_cases}) {
    for (const auto& c : load_cases(*folder)) {
      if (!is_reject(c)) continue;
      DYNAMIC_SECTION(c.name) {
        INFO(c.name << ": expected " << c.expected);
        // As written (targets like /url that no stage serves) and moved under the stage, with a
        // Host where the case lacks one: all must be refused by the parser, before any routing.
        for (const std::string& raw :
             {c.raw, under_stage(c.raw), with_host(c), under_stage(with_host(c))}) {
          test::raw_client client(g.port, client_timeout);
          client.send(raw);
          check_refused(client, reject_status(c));
        }
        CHECK(g.snapshot().empty());  // the handler never saw a request
        g.reset();
      }
    }
  }
}

TEST_CASE("http vectors: accept cases reach the handler with their whole body") {
  counting_gateway g;
  for (const auto* folder : {&shared_cases, &own_cases}) {
    for (const auto& c : load_cases(*folder)) {
      if (is_reject(c) || is_33(c)) continue;
      DYNAMIC_SECTION(c.name) {
        INFO(c.name << ": expected " << c.expected);
        const std::string raw = with_host(c);
        if (raw != c.raw) {  // as written, HTTP/1.1 without Host: 400 (RFC 9112 3.2)
          test::raw_client client(g.port, client_timeout);
          client.send(c.raw);
          check_refused(client, 400);
          client.close();
          test::raw_client staged(g.port, client_timeout);
          staged.send(under_stage(c.raw));
          check_refused(staged, 400);
          CHECK(g.snapshot().empty());
        }
        // "deflate, chunked": the framing is valid, but we decode no deflate: 501 (RFC 9112 6.1).
        const bool deflate = raw.find("deflate") != std::string::npos;
        {  // no stage serves these targets, so 403 from the gateway, never a 400
          test::raw_client client(g.port, client_timeout);
          client.send(raw);
          auto r = client.read_reply();
          REQUIRE(r);
          if (deflate)
            CHECK(r->status == 501);
          else
            CHECK(r->status == 403);
        }
        CHECK(g.snapshot().empty());
        {  // under the stage: the handler sees exactly one request with its body
          test::raw_client client(g.port, client_timeout);
          client.send(under_stage(raw));
          auto r = client.read_reply();
          REQUIRE(r);
          auto seen = g.snapshot();
          if (deflate) {
            CHECK(r->status == 501);
            CHECK(seen.empty());
          } else {
            CHECK(r->status == 200);
            REQUIRE(seen.size() == 1);
            CHECK(seen[0].path.rfind("/", 0) == 0);
            if (c.body_len) CHECK(seen[0].body.size() == *c.body_len);
            if (c.handler_path) CHECK(seen[0].path == *c.handler_path);
          }
          // The connection is still usable after an accepted request (unless it asked to close).
          if (r->status == 200 && !r->headers.get("Connection")) {
            client.send(test::get("/prod/after"));
            auto next = client.read_reply();
            REQUIRE(next);
            CHECK(next->status == 200);
            CHECK(next->body == "seen GET /after");
          }
        }
        g.reset();
      }
    }
  }
}

TEST_CASE(
    "http vectors: 33 answers the first request, closes, and never parses the trailing bytes") {
  counting_gateway g;
  auto cases = load_cases(shared_cases);
  auto it = std::find_if(cases.begin(), cases.end(), is_33);
  REQUIRE(it != cases.end());
  // The trailing "GET / HTTP/1.1" has no end; give it one, so that a server that (wrongly)
  // parses it as a second request would answer it.
  for (const std::string& raw :
       {under_stage(it->raw), under_stage(it->raw) + "\r\nHost: a\r\n\r\n"}) {
    g.reset();
    test::raw_client client(g.port, client_timeout);
    client.send(raw);
    auto r = client.read_reply();
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->headers.get("Connection") == std::optional<std::string_view>("close"));
    CHECK_FALSE(client.read_reply());  // no second response: EOF
    CHECK(client.wait_closed());
    auto seen = g.snapshot();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].method == "POST");
    CHECK(seen[0].body == "q=42");
  }
}
