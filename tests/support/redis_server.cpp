#include "redis_server.hpp"

#include <gatehouse/tls.hpp>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

namespace test {

namespace {
using asio::ip::tcp;
using namespace std::chrono_literals;

std::string find_redis_server() {
  for (const char* candidate : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"})
    if (::access(candidate, X_OK) == 0) return candidate;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      const auto candidate = dir + "/redis-server";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  FAIL("redis-server not found (scripts/install-deps test installs it)");
  return {};
}

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

// One command's reply (after a password's AUTH) on a blocking connection.
gatehouse::redis::value run_command(std::uint16_t port, const std::string& password,
                                    std::initializer_list<std::string_view> args,
                                    std::chrono::seconds within) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  timeval tv{static_cast<time_t>(within.count()), 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  int replies = 1;
  if (!password.empty()) {
    out += gatehouse::redis::command{"AUTH", password}.bytes();
    ++replies;
  }
  out += gatehouse::redis::command(args).bytes();
  asio::write(socket, asio::buffer(out));
  gatehouse::redis::reply_reader reader(1 << 30);
  gatehouse::redis::value v;
  char buf[16384];
  while (replies > 0) {
    const auto st = reader.next(v);
    if (st == gatehouse::redis::reply_reader::status::reply) {
      --replies;
      continue;
    }
    if (st != gatehouse::redis::reply_reader::status::need_more)
      throw std::runtime_error("redis-server sent a bad reply");
    const std::size_t n = socket.read_some(asio::buffer(buf));
    reader.feed(buf, n);
  }
  return v;
}
}  // namespace

std::uint16_t free_loopback_port() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

redis_server::redis_server(redis_server_options options) : options_(std::move(options)) {
  std::string pattern = (std::filesystem::temp_directory_path() / "gatehouse-redis-XXXXXX");
  REQUIRE(::mkdtemp(pattern.data()) != nullptr);
  dir_ = pattern;
  if (options_.tls) {
    const auto cert = gatehouse::tls::self_signed({"localhost", "127.0.0.1"});
    certificate_pem_ = cert.certificate_chain_pem;
    write_file(dir_ / "cert.pem", cert.certificate_chain_pem);
    write_file(dir_ / "key.pem", cert.private_key_pem);
  }
  // Another process may take the port between our look and redis-server's bind: then it exits,
  // and we try other ports.
  for (int attempt = 0; attempt < 10; ++attempt) {
    port_ = free_loopback_port();
    if (options_.tls) tls_port_ = free_loopback_port();
    if (launch()) return;
  }
  FAIL("redis-server did not start; its log:\n" << log());
}

redis_server::~redis_server() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string redis_server::url(bool tls) const {
  const std::string auth = options_.password.empty() ? "" : ":" + options_.password + "@";
  return (tls ? "rediss://" : "redis://") + auth +
         "127.0.0.1:" + std::to_string(tls ? tls_port_ : port_);
}

std::string redis_server::log() const {
  std::ifstream in(dir_ / "redis.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool redis_server::launch() {
  std::vector<std::string> args = {find_redis_server(),
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--daemonize",
                                   "no",
                                   "--dir",
                                   dir_.string(),
                                   "--logfile",
                                   (dir_ / "redis.log").string(),
                                   "--save",
                                   "",
                                   "--appendonly",
                                   options_.aof ? "yes" : "no"};
  if (options_.aof) args.insert(args.end(), {"--appendfsync", "always"});
  if (!options_.password.empty()) args.insert(args.end(), {"--requirepass", options_.password});
  if (options_.tls)
    args.insert(args.end(),
                {"--tls-port", std::to_string(tls_port_), "--tls-cert-file",
                 (dir_ / "cert.pem").string(), "--tls-key-file", (dir_ / "key.pem").string(),
                 "--tls-ca-cert-file", (dir_ / "cert.pem").string(), "--tls-auth-clients", "no"});
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  // Everything the child needs is made before fork: it only execs.
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  REQUIRE(null >= 0);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test program
    if (::getppid() != parent) ::_exit(1);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(null);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // it exited: the port was taken
      pid_ = -1;
      return false;
    }
    if (answers_ping()) return true;
    std::this_thread::sleep_for(5ms);
  }
  FAIL("redis-server did not answer PING within 10 s; its log:\n" << log());
  return false;
}

bool redis_server::answers_ping() const {
  try {
    const auto v = run_command(port_, options_.password, {"PING"}, 1s);
    return v.text == "PONG";
  } catch (const std::exception&) {
    return false;
  }
}

void redis_server::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (::waitpid(pid_, nullptr, WNOHANG) != pid_) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      break;
    }
    std::this_thread::sleep_for(2ms);
  }
  pid_ = -1;
}

void redis_server::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void redis_server::start() {
  REQUIRE(pid_ <= 0);
  // The same ports: a client that knew the old server finds the new one.
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (launch()) return;
    std::this_thread::sleep_for(20ms);
  }
  FAIL("redis-server did not start again on port " << port_ << "; its log:\n" << log());
}

gatehouse::redis::value redis_server::command(std::initializer_list<std::string_view> args) const {
  try {
    return run_command(port_, options_.password, args, 10s);
  } catch (const std::exception& e) {
    FAIL("redis command failed: " << e.what());
  }
  return {};
}

}  // namespace test
