#include "ws_client.hpp"

#include <catch2/catch.hpp>

#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>

namespace test {

using namespace gatehouse::websocket;

std::string masked_frame(opcode op, std::string_view payload, bool fin) {
  std::string frame;
  append_frame(frame, op, payload, fin, &ws_client_mask);
  return frame;
}

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

ws_client::ws_client(std::uint16_t port) : fd_(connect_loopback(port)) {}

ws_client::ws_client(std::uint16_t port, const ws_upgrade& upgrade) : ws_client(port) {
  if (upgrade.tls) {
    // SSL_write writes without MSG_NOSIGNAL: a server that has closed must not kill the test.
    static const bool ignoring_sigpipe = std::signal(SIGPIPE, SIG_IGN) != SIG_ERR;
    (void)ignoring_sigpipe;
    tls_context_ = SSL_CTX_new(TLS_method());
    REQUIRE(tls_context_);
    tls_ = SSL_new(tls_context_);
    REQUIRE(tls_);
    SSL_set_fd(tls_, fd_);
    REQUIRE(SSL_connect(tls_) == 1);  // SSL_VERIFY_NONE is the default: self-signed is fine
  }
  std::string request = "GET ";
  request.append(upgrade.path)
      .append(
          " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
      .append(upgrade.headers)
      .append("\r\n")
      .append(upgrade.first_bytes);
  send_raw(request);
  if (upgrade.read_response) read_head();
}

ws_client::~ws_client() {
  if (tls_) SSL_free(tls_);
  if (tls_context_) SSL_CTX_free(tls_context_);
  if (fd_ >= 0) ::close(fd_);
}

bool ws_client::read_head() {
  while (in_.find("\r\n\r\n") == std::string::npos)
    if (!fill(std::chrono::seconds(5))) return false;
  const std::size_t end = in_.find("\r\n\r\n") + 4;
  head_ = in_.substr(0, end);
  in_.erase(0, end);
  in_.shrink_to_fit();
  if (head_.size() > 12) status_ = std::stoi(head_.substr(9, 3));
  upgraded_ = head_.starts_with("HTTP/1.1 101") &&
              head_.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != std::string::npos;
  return upgraded_;
}

std::uint16_t ws_client::local_port() const {
  sockaddr_in addr{};
  socklen_t size = sizeof addr;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &size);
  return ntohs(addr.sin_port);
}

void ws_client::send_raw(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = tls_ ? SSL_write(tls_, bytes.data(), static_cast<int>(bytes.size()))
                           : ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;  // the server may have closed already
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void ws_client::send(opcode op, std::string_view payload, std::size_t max_frame_payload) {
  std::string frames;
  append_message(frames, op, payload, max_frame_payload, &ws_client_mask);
  send_raw(frames);
}

void ws_client::close_socket() {
  if (tls_) SSL_free(tls_);
  tls_ = nullptr;
  ::close(fd_);
  fd_ = -1;
}

void ws_client::shrink_receive_buffer() {
  int size = 4096;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

ws_received ws_client::next(std::chrono::milliseconds limit) {
  for (;;) {
    if (!in_.empty()) {
      const decode_step step = decoder_.decode(std::span<char>(in_.data(), in_.size()));
      ws_received r;
      r.kind = step.event;
      if (step.event == decode_event::close) {
        r.payload = decoder_.close_reason();
        r.code = decoder_.close_status();
      } else if (step.event == decode_event::error) {
        r.payload = decoder_.error_reason();
        r.code = decoder_.error_code();
      } else {
        r.payload = decoder_.payload();
      }
      in_.erase(0, step.consumed);
      if (step.event != decode_event::need_more) return r;
    }
    if (!fill(limit)) {
      ws_received r;
      (eof_ ? r.eof : r.timeout) = true;
      return r;
    }
  }
}

ws_received ws_client::next_close(std::chrono::milliseconds limit) {
  for (;;) {
    ws_received r = next(limit);
    if (r.kind == decode_event::close || r.eof || r.timeout) return r;
  }
}

bool ws_client::wait_eof(std::chrono::milliseconds limit) {
  for (;;) {
    const ws_received r = next(limit);
    if (r.eof) return true;
    if (r.timeout) return false;
  }
}

bool ws_client::fill(std::chrono::milliseconds limit) {
  pollfd p{fd_, POLLIN, 0};
  if ((!tls_ || SSL_pending(tls_) == 0) && ::poll(&p, 1, static_cast<int>(limit.count())) <= 0)
    return false;
  char buffer[65536];
  const ssize_t n =
      tls_ ? SSL_read(tls_, buffer, sizeof buffer) : ::recv(fd_, buffer, sizeof buffer, 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  in_.append(buffer, static_cast<std::size_t>(n));
  return true;
}

}  // namespace test
