#pragma once

// Test support: a real redis-server (Debian's 7.0) as a child process on a free loopback port,
// with its data directory and log in a temporary directory of its own; stopped by pid. It can be
// stopped and started again on the same port, and run with a password, with AOF persistence,
// and with TLS (a self-signed certificate; the plain port stays open for command()).

#include "store/redis/redis_protocol.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace test {

struct redis_server_options {
  std::string password{};  ///< requirepass (the default user's password); empty: none
  bool aof = false;        ///< appendonly yes, fsync always; otherwise no persistence at all
  bool tls = false;        ///< a TLS port too (tls-auth-clients no), with a fresh certificate
  std::vector<std::string> extra_args{};  ///< more "--name value" arguments
};

class redis_server {
 public:
  /// Starts it and waits until it answers PING; fails the test when it cannot.
  explicit redis_server(redis_server_options options = {});
  ~redis_server();
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  std::uint16_t port() const noexcept { return port_; }          ///< the plain port
  std::uint16_t tls_port() const noexcept { return tls_port_; }  ///< 0 without TLS
  /// redis://[:password@]127.0.0.1:port (rediss:// and the TLS port when `tls`).
  std::string url(bool tls = false) const;
  /// The server's certificate (PEM) when it has TLS: what a client must trust.
  const std::string& certificate_pem() const noexcept { return certificate_pem_; }
  pid_t pid() const noexcept { return pid_; }
  bool running() const noexcept { return pid_ > 0; }
  const std::filesystem::path& dir() const noexcept { return dir_; }
  std::string log() const;

  /// SIGTERM (SIGKILL after 10 s) and waits for it: with AOF, what was written stays.
  void stop();
  /// SIGKILL and waits for it.
  void kill();
  /// Starts it again on the same ports and data directory, and waits for PING.
  void start();

  /// Runs a command on a fresh blocking connection to the plain port (AUTH first when there is
  /// a password) and returns its reply; fails the test when there is none within 10 s.
  gatehouse::redis::value command(std::initializer_list<std::string_view> args) const;

 private:
  bool launch();  // false: it exited (its port was taken)
  bool answers_ping() const;

  redis_server_options options_;
  std::filesystem::path dir_;
  std::string certificate_pem_;
  std::uint16_t port_ = 0;
  std::uint16_t tls_port_ = 0;
  pid_t pid_ = -1;
};

/// A free TCP port on 127.0.0.1 just now (bound to port 0, then closed).
std::uint16_t free_loopback_port();

}  // namespace test
