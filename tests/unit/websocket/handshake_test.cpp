// The WebSocket opening handshake: Sec-WebSocket-Accept and every refusal of RFC 6455 §4.2.1.

#include "websocket/handshake.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <string>

using namespace gatehouse::websocket;

namespace {

/// The value after `label` on its line in the RFC examples file.
std::string rfc_value(std::string_view label) {
  std::ifstream in(GATEHOUSE_VECTORS_DIR "/websocket/rfc6455_examples.txt");
  REQUIRE(in);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(label, 0) != 0) continue;
    std::string value = line.substr(label.size());
    value.erase(0, value.find_first_not_of(' '));
    return value.substr(0, value.find(' '));
  }
  FAIL("no line " << label);
  return {};
}

/// The RFC's section 1.2 client request.
gatehouse::request rfc_request() {
  gatehouse::request req;
  req.method = "GET";
  req.target = "/chat";
  req.headers.add("Host", "server.example.com");
  req.headers.add("Upgrade", "websocket");
  req.headers.add("Connection", "Upgrade");
  req.headers.add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
  req.headers.add("Origin", "http://example.com");
  req.headers.add("Sec-WebSocket-Protocol", "chat, superchat");
  req.headers.add("Sec-WebSocket-Version", "13");
  return req;
}

}  // namespace

TEST_CASE("handshake: Sec-WebSocket-Accept of the RFC's key", "[websocket]") {
  const std::string key = rfc_value("Sec-WebSocket-Key:");
  const std::string expected = rfc_value("Sec-WebSocket-Accept:");
  REQUIRE(key == "dGhlIHNhbXBsZSBub25jZQ==");
  REQUIRE(expected == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK(accept_key(key) == expected);
}

TEST_CASE("handshake: the RFC's request is accepted", "[websocket]") {
  const auto req = rfc_request();
  CHECK(wants_upgrade(req));
  const handshake_result result = check_upgrade(req);
  REQUIRE(result.ok());
  CHECK(result.message.empty());
  CHECK(result.accept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK(result.subprotocols == std::vector<std::string>{"chat", "superchat"});

  const gatehouse::response res = switching_protocols(result, "chat");
  CHECK(res.status == 101);
  CHECK(res.headers.get("upgrade") == "websocket");
  CHECK(res.headers.get("connection") == "Upgrade");
  CHECK(res.headers.get("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK(res.headers.get("sec-websocket-protocol") == "chat");
  CHECK(res.body.empty());
  CHECK_FALSE(switching_protocols(result).headers.contains("sec-websocket-protocol"));
}

TEST_CASE("handshake: tokens are case-insensitive and may be in lists", "[websocket]") {
  auto req = rfc_request();
  req.headers.set("Upgrade", "WebSocket");
  req.headers.set("Connection", "keep-alive, UPGRADE");
  req.headers.set("Sec-WebSocket-Version", " 13 ");
  req.headers.erase("Sec-WebSocket-Protocol");
  req.headers.add("Sec-WebSocket-Protocol", "v1.chat");
  req.headers.add("Sec-WebSocket-Protocol", " , v2.chat ,");
  const auto result = check_upgrade(req);
  REQUIRE(result.ok());
  CHECK(result.subprotocols == std::vector<std::string>{"v1.chat", "v2.chat"});
  req.headers.erase("Sec-WebSocket-Protocol");
  CHECK(check_upgrade(req).subprotocols.empty());
}

TEST_CASE("handshake: refusals", "[websocket]") {
  struct refusal_case {
    const char* what;
    void (*change)(gatehouse::request&);
    int status;
  };
  const refusal_case cases[] = {
      {"POST", [](gatehouse::request& r) { r.method = "POST"; }, 405},
      {"no Host", [](gatehouse::request& r) { r.headers.erase("Host"); }, 400},
      {"no Upgrade", [](gatehouse::request& r) { r.headers.erase("Upgrade"); }, 400},
      {"Upgrade: h2c", [](gatehouse::request& r) { r.headers.set("Upgrade", "h2c"); }, 400},
      {"no Connection", [](gatehouse::request& r) { r.headers.erase("Connection"); }, 400},
      {"Connection: keep-alive",
       [](gatehouse::request& r) { r.headers.set("Connection", "keep-alive"); }, 400},
      {"Connection: upgraded",
       [](gatehouse::request& r) { r.headers.set("Connection", "upgraded"); }, 400},
      {"version 8", [](gatehouse::request& r) { r.headers.set("Sec-WebSocket-Version", "8"); },
       426},
      {"no version", [](gatehouse::request& r) { r.headers.erase("Sec-WebSocket-Version"); }, 426},
      {"two versions", [](gatehouse::request& r) { r.headers.add("Sec-WebSocket-Version", "13"); },
       426},
      {"no key", [](gatehouse::request& r) { r.headers.erase("Sec-WebSocket-Key"); }, 400},
      {"two keys",
       [](gatehouse::request& r) {
         r.headers.add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
       },
       400},
      {"15-byte key",
       [](gatehouse::request& r) { r.headers.set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ"); },
       400},
      {"17-byte key",
       [](gatehouse::request& r) {
         r.headers.set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZXM=");  // "the sample nonces"
       },
       400},
      {"key not base64",
       [](gatehouse::request& r) {
         r.headers.set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25j!Q==");
       },
       400},
      {"empty key", [](gatehouse::request& r) { r.headers.set("Sec-WebSocket-Key", ""); }, 400},
      {"bad subprotocol",
       [](gatehouse::request& r) { r.headers.set("Sec-WebSocket-Protocol", "chat/1 x"); }, 400},
      {"repeated subprotocol",
       [](gatehouse::request& r) { r.headers.set("Sec-WebSocket-Protocol", "chat, chat"); }, 400},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto req = rfc_request();
    c.change(req);
    const auto result = check_upgrade(req);
    CHECK(result.status == c.status);
    CHECK_FALSE(result.ok());
    CHECK_FALSE(result.message.empty());
    const auto res = refusal(result);
    CHECK(res.status == c.status);
    CHECK(res.body.rfind("{\"message\":\"", 0) == 0);
    CHECK(res.headers.contains("sec-websocket-version") == (c.status == 426));
    if (c.status == 426) CHECK(res.headers.get("sec-websocket-version") == "13");
    if (c.status == 405) CHECK(res.headers.get("allow") == "GET");
  }
  gatehouse::request plain;
  plain.method = "GET";
  plain.headers.add("Host", "h");
  CHECK_FALSE(wants_upgrade(plain));
}
