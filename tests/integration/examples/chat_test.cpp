// The chat example run as a user runs it, talked to by the npm package ws (tests/cross/
// ws_chat.mjs): broadcast to two clients, 1009 for an oversized message, SIGTERM to stop.

#include "harness.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#ifdef CHAT_BINARY

namespace {
// The chat process; its stdout is read line by line.
class chat_process {
 public:
  explicit chat_process(std::vector<std::string> argv) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = ::fdopen(fds[0], "r");
  }
  ~chat_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_) std::fclose(out_);
  }
  std::string line() {
    char buf[512];
    if (!std::fgets(buf, sizeof buf, out_)) return "";
    return buf;
  }
  int stop(int sig) {
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
};

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
    chat_process chat(argv);
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

#endif
