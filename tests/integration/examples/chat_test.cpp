// The chat example run as a user runs it, talked to by the npm package ws (tests/cross/
// ws_chat.mjs): broadcast to two clients, 1009 for an oversized message, SIGTERM to stop; and by
// the tests' own WebSocket client: the $default answer's JSON with a name that needs care.

#include "child_process.hpp"
#include "harness.hpp"
#include "strict_json.hpp"
#include "ws_client.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#ifdef CHAT_BINARY

namespace {
std::string cross_dir() { return std::string(GATEHOUSE_SOURCE_DIR) + "/tests/cross"; }

std::string ws_missing() {
  int status = 0;
  test::shell("command -v node >/dev/null 2>&1", &status);
  if (status != 0) return "node is not on PATH";
  if (!std::filesystem::exists(cross_dir() + "/node_modules/ws/package.json"))
    return cross_dir() + "/node_modules/ws is missing (run scripts/install-deps)";
  return {};
}

std::string url_of(const std::string& banner) {
  std::smatch m;
  std::regex re(R"((wss?://\S+/production))");
  REQUIRE(std::regex_search(banner, m, re));
  return m[1];
}
}  // namespace

TEST_CASE("chat broadcasts to clients of the npm package ws", "[websocket-api][cross]") {
  if (auto why = ws_missing(); !why.empty()) {
    WARN("skipping the ws cross-check: " << why);
    return;
  }
  for (bool tls : {false, true}) {
    std::vector<std::string> argv = {CHAT_BINARY, "--listen", "127.0.0.1:0"};
    if (!tls) argv.push_back("--http");
    test::child_process chat(argv);
    const std::string url = url_of(chat.line());
    CHECK(url.starts_with(tls ? "wss://" : "ws://"));
    int status = 0;
    auto out = test::shell("node '" + cross_dir() + "/ws_chat.mjs' " + url + " 2>&1", &status);
    INFO(out);
    CHECK(status == 0);
    CHECK(out.find("broadcast\tok") != std::string::npos);
    CHECK(out.find("oversized\tok") != std::string::npos);
    CHECK(chat.stop(SIGTERM) == 0);
  }
}

TEST_CASE("chat's $default answer holds the client's name as JSON", "[websocket-api]") {
  test::child_process chat({CHAT_BINARY, "--listen", "127.0.0.1:0", "--http"});
  const std::string url = url_of(chat.line());
  const auto port = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
  // A name with a quote, markup and "%FF", which decodes to a byte that is no UTF-8.
  test::ws_client c(port, {.path = "/production?name=%22%FF%3Cb%3E"});
  REQUIRE(c.upgraded());
  c.text("hello");  // no sendmessage action: the $default route answers on this connection
  auto got = c.next();
  REQUIRE(got.kind == gatehouse::websocket::decode_event::text);  // text: valid UTF-8
  const std::string prefix = "Use the sendmessage route to send a message. Your info: ";
  REQUIRE(got.payload.starts_with(prefix));
  const std::string info = got.payload.substr(prefix.size());
  INFO(info);
  CHECK(test::json_error(info) == "");
  CHECK(test::json_member(info, "name") == "\"\xEF\xBF\xBD<b>");
  CHECK_FALSE(test::json_member(info, "connectionId").empty());
  c.close_socket();
  CHECK(chat.stop(SIGTERM) == 0);
}

#endif
