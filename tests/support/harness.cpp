#include "harness.hpp"

#include <asio/connect.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace test {

running_gateway::running_gateway(gatehouse::gateway_options options, int threads)
    : work_(io_.get_executor()), gw_(io_, [&] {
        if (!options.log) options.log = [](gatehouse::log_level, std::string_view) {};
        return std::move(options);
      }()) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
}

std::chrono::nanoseconds running_gateway::io_cpu_time() const {
  std::chrono::nanoseconds total{0};
  for (const auto& t : threads_) {
    clockid_t clock;
    timespec ts{};
    if (pthread_getcpuclockid(const_cast<std::thread&>(t).native_handle(), &clock) == 0 &&
        clock_gettime(clock, &ts) == 0)
      total += std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  }
  return total;
}

running_gateway::~running_gateway() {
  gw_.stop();
  work_.reset();
  // Give connections a moment to see their sockets close, then stop the loop.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (gw_.connection_count() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  io_.stop();
  for (auto& t : threads_) t.join();
}

unsigned short running_gateway::serve_plain(const gatehouse::Stage& stage) {
  gw_.mount(stage);
  return gw_.listen("127.0.0.1:0", gatehouse::plain_http).port();
}

unsigned short running_gateway::serve_tls(const gatehouse::Stage& stage,
                                          const gatehouse::tls::config& tls) {
  gw_.mount(stage);
  return gw_.listen("127.0.0.1:0", tls).port();
}

raw_client::raw_client(unsigned short port, std::chrono::milliseconds timeout)
    : socket_(io_), timeout_(timeout) {
  socket_.connect({asio::ip::make_address("127.0.0.1"), port});
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

bool raw_client::readable() {
  // Asio's blocking reads retry after SO_RCVTIMEO, so the timeout is a poll() before each read.
  pollfd p{socket_.native_handle(), POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout_.count())) > 0;
}

void raw_client::send(std::string_view bytes) {
  asio::error_code ec;
  asio::write(socket_, asio::buffer(bytes), ec);
}

bool raw_client::fill() {
  if (!readable()) return false;
  std::array<char, 16384> chunk;
  asio::error_code ec;
  std::size_t n = socket_.read_some(asio::buffer(chunk), ec);
  if (ec || n == 0) return false;
  buf_.append(chunk.data(), n);
  return true;
}

std::optional<reply> raw_client::read_reply(bool head_only) {
  std::size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
    if (!fill()) return std::nullopt;
  reply r;
  std::string_view head(buf_.data(), end);
  auto line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  if (status_line.size() < 12) return std::nullopt;
  r.status = std::stoi(std::string(status_line.substr(9, 3)));
  std::size_t length = 0;
  std::string_view rest = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);
  while (!rest.empty()) {
    auto e = rest.find("\r\n");
    auto line = rest.substr(0, e);
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string name(line.substr(0, colon));
      std::string value(line.substr(colon + 1));
      value.erase(0, value.find_first_not_of(' '));
      if (gatehouse::iequals(name, "content-length")) length = std::stoul(value);
      r.headers.add(std::move(name), std::move(value));
    }
    rest = e == std::string_view::npos ? "" : rest.substr(e + 2);
  }
  buf_.erase(0, end + 4);
  if (head_only || r.status == 204 || r.status == 304 || r.status < 200) length = 0;
  while (buf_.size() < length)
    if (!fill()) return std::nullopt;
  r.body = buf_.substr(0, length);
  buf_.erase(0, length);
  return r;
}

bool raw_client::wait_closed() {
  for (;;) {
    if (!readable()) return false;  // timeout
    std::array<char, 4096> chunk;
    asio::error_code ec;
    socket_.read_some(asio::buffer(chunk), ec);
    if (ec == asio::error::eof || ec == asio::error::connection_reset) return true;
    if (ec) return false;  // timeout
  }
}

void raw_client::close() {
  asio::error_code ec;
  socket_.close(ec);
}

std::optional<reply> roundtrip(unsigned short port, std::string_view raw_request) {
  raw_client c(port);
  c.send(raw_request);
  return c.read_reply();
}

std::string shell(const std::string& command, int* status) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed: " + command);
  std::array<char, 4096> chunk;
  std::size_t n;
  while ((n = std::fread(chunk.data(), 1, chunk.size(), p)) > 0) out.append(chunk.data(), n);
  int rc = ::pclose(p);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

gatehouse::Stage echo_stage() {
  gatehouse::Router api;
  api.route("ANY", "/echo", gatehouse::function([](const gatehouse::proxy_event& ev) {
              gatehouse::proxy_result r;
              r.body = std::string(ev.body());
              return r;
            }));
  return gatehouse::Stage{"prod", api.deploy()};
}

std::string get(std::string_view target) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

std::string vectors_dir() { return GATEHOUSE_VECTORS_DIR; }

}  // namespace test
