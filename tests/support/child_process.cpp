#include "child_process.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

namespace test {

child_process::child_process(std::vector<std::string> argv) {
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

child_process::~child_process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (out_) std::fclose(out_);
}

void child_process::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::string child_process::line() {
  char buf[512];
  if (!std::fgets(buf, sizeof buf, out_)) return "";
  return buf;
}

int child_process::stop(int sig) {
  ::kill(pid_, sig);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace test
