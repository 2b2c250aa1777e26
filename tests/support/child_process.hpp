#pragma once

// A program run as a child process, as a user runs it: its standard output read line by line,
// a signal to stop it.

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <vector>

namespace test {

/// A child process whose stdout is read line by line; killed (SIGKILL) on destruction unless
/// stopped first.
class child_process {
 public:
  /// Runs `argv[0]` (a path, not looked up in PATH) with the arguments `argv`.
  explicit child_process(std::vector<std::string> argv);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// The next line of its stdout, with its newline; empty at end of file.
  std::string line();
  /// Sends `sig` and waits for the process; returns its exit status, or -1 when it did not exit
  /// normally.
  int stop(int sig);
  /// Sends `sig` and goes on (SIGHUP: reopen the logs).
  void signal(int sig);

 private:
  pid_t pid_ = -1;
  std::FILE* out_ = nullptr;
};

}  // namespace test
