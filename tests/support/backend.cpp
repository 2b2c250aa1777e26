#include "backend.hpp"

#include <rapidjson/document.h>

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace test {

namespace {

using asio::ip::tcp;
using namespace std::chrono_literals;

constexpr std::size_t kMaxHead = 256 * 1024;
constexpr std::size_t kKeepBody = 64 * 1024;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::size_t> to_size(std::string_view s, int base = 10) {
  s = trim(s);
  std::size_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// A message head: the first line, and the header fields in order.
struct head {
  std::string first_line;
  gatehouse::header_map fields;
};

// Parses the bytes before "\r\n\r\n" (exclusive).
std::optional<head> parse_head(std::string_view text) {
  head h;
  auto eol = text.find("\r\n");
  h.first_line = std::string(text.substr(0, eol));
  if (h.first_line.empty()) return std::nullopt;
  std::string_view rest = eol == std::string_view::npos ? "" : text.substr(eol + 2);
  while (!rest.empty()) {
    auto e = rest.find("\r\n");
    auto line = rest.substr(0, e);
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    h.fields.add(std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
    rest = e == std::string_view::npos ? "" : rest.substr(e + 2);
  }
  return h;
}

bool has_token(const gatehouse::header_map& fields, std::string_view name, std::string_view token) {
  for (auto v : fields.get_all(name)) {
    while (!v.empty()) {
      auto comma = v.find(',');
      if (gatehouse::iequals(trim(v.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return false;
}

// How a body is framed.
enum class framing { none, length, chunked, until_close };

// The end (offset in `buf`) of a chunked body starting at `from` once it is all there, nullopt
// while it is incomplete; sets `bad` for a malformed one. Only hops over chunk heads.
std::optional<std::size_t> chunked_end(std::string_view buf, std::size_t from, bool& bad) {
  std::size_t at = from;
  for (;;) {
    auto eol = buf.find("\r\n", at);
    if (eol == std::string_view::npos) return std::nullopt;
    auto size_text = buf.substr(at, eol - at);
    size_text = size_text.substr(0, size_text.find(';'));
    auto size = to_size(size_text, 16);
    if (!size) {
      bad = true;
      return std::nullopt;
    }
    at = eol + 2;
    if (*size == 0) {
      // Trailer fields, then an empty line.
      for (;;) {
        auto e = buf.find("\r\n", at);
        if (e == std::string_view::npos) return std::nullopt;
        bool empty = e == at;
        at = e + 2;
        if (empty) return at;
      }
    }
    if (buf.size() < at + *size + 2) return std::nullopt;
    if (buf.substr(at + *size, 2) != "\r\n") {
      bad = true;
      return std::nullopt;
    }
    at += *size + 2;
  }
}

// Decodes a complete chunked body (as chunked_end found it).
std::string chunked_decode(std::string_view buf, std::size_t from) {
  std::string out;
  std::size_t at = from;
  for (;;) {
    auto eol = buf.find("\r\n", at);
    auto size_text = buf.substr(at, eol - at);
    auto size = *to_size(size_text.substr(0, size_text.find(';')), 16);
    at = eol + 2;
    if (size == 0) return out;
    out.append(buf.substr(at, size));
    at += size + 2;
  }
}

std::string http_date() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[64];
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return text;
}

std::string_view reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    default:
      return "Whatever";
  }
}

using field_list = std::vector<std::pair<std::string, std::string>>;

// A response head; Content-Length is added when `length` is given.
std::string response_head(int status, const field_list& fields, std::optional<std::size_t> length,
                          bool keep_alive) {
  std::string out =
      "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason(status)) + "\r\n";
  for (auto& [n, v] : fields) out += n + ": " + v + "\r\n";
  if (length) out += "Content-Length: " + std::to_string(*length) + "\r\n";
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

// "<n in hex>\r\n", a chunk's head.
std::string hex_line(std::size_t n) {
  char text[32];
  std::snprintf(text, sizeof text, "%zx\r\n", n);
  return text;
}

std::string echo_text(const echoed& e) {
  std::string out = "method " + e.method + "\ntarget " + e.target + "\n";
  for (auto& f : e.headers) out += "header " + f.name + ": " + f.value + "\n";
  out += "body-size " + std::to_string(e.body_size) + "\nbody-hash " + e.body_hash + "\n";
  if (e.body_size <= kKeepBody) out += "body\n" + e.body;
  return out;
}

// What the backend does for one request, chosen by path prefix.
struct action {
  enum kind { respond, chunked, until_close, garbage, close, reset } what = respond;
  std::string interim;  // interim (1xx) responses written before the answer
  int status = 200;
  field_list fields;
  std::string body;
  bool keep_alive = true;
  std::chrono::milliseconds delay{0};              // before answering
  std::chrono::milliseconds linger_then_close{0};  // after answering: wait, then close
};

action plan(const echoed& req, const std::string& described, bool keep_alive) {
  std::string_view target = req.target;
  std::string_view path = target.substr(0, target.find('?'));
  auto number_after = [&](std::string_view prefix) {
    return to_size(path.substr(prefix.size())).value_or(0);
  };
  action a;
  a.keep_alive = keep_alive;
  if (starts_with(path, "/echo")) {
    a.fields = {{"Content-Type", "text/plain; charset=utf-8"}, {"X-Backend", "echo"}};
    a.body = described;
  } else if (starts_with(path, "/slow/")) {
    a.delay = std::chrono::milliseconds(number_after("/slow/"));
    a.fields = {{"Content-Type", "text/plain; charset=utf-8"}, {"X-Backend", "slow"}};
    a.body = described;
  } else if (starts_with(path, "/big/")) {
    a.fields = {{"Content-Type", "application/octet-stream"}};
    a.body = pattern_bytes(number_after("/big/"));
  } else if (starts_with(path, "/chunked/")) {
    a.what = action::chunked;
    a.fields = {{"Content-Type", "application/octet-stream"}, {"Transfer-Encoding", "chunked"}};
    a.body = pattern_bytes(number_after("/chunked/"));
  } else if (starts_with(path, "/status/")) {
    int status = static_cast<int>(number_after("/status/"));
    a.status = status < 100 || status > 599 ? 500 : status;
    a.fields = {{"Date", http_date()},         {"Server", "test-backend/1.0"},
                {"Set-Cookie", "a=1; Path=/"}, {"Set-Cookie", "b=2; Path=/"},
                {"X-Backend", "status"},       {"Content-Type", "text/plain"}};
    if (a.status >= 300 && a.status < 400) a.fields.push_back({"Location", "/elsewhere"});
    if (keep_alive) a.fields.push_back({"Connection", "keep-alive"});
    a.body = "status " + std::to_string(a.status) + "\n";
  } else if (starts_with(path, "/bighead/")) {
    a.fields = {{"X-Big", std::string(number_after("/bighead/"), 'h')}};
    a.body = "bighead";
  } else if (starts_with(path, "/until-close/")) {
    a.what = action::until_close;
    a.fields = {{"Content-Type", "application/octet-stream"}};
    a.body = pattern_bytes(number_after("/until-close/"));
    a.keep_alive = false;
  } else if (path == "/interim") {
    a.interim =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x.css>; "
        "rel=preload\r\n\r\n";
    a.fields = {{"Content-Type", "text/plain; charset=utf-8"}, {"X-Backend", "interim"}};
    a.body = described;
  } else if (path == "/bye") {
    a.fields = {{"Content-Type", "text/plain"}};
    a.body = "bye";
    a.keep_alive = false;
  } else if (path == "/close-after") {
    a.fields = {{"Content-Type", "text/plain; charset=utf-8"}};
    a.body = described;
    a.linger_then_close = std::chrono::milliseconds(100);
  } else if (path == "/garbage") {
    a.what = action::garbage;
  } else if (path == "/close") {
    a.what = action::close;
  } else if (path == "/reset") {
    a.what = action::reset;
  } else {
    a.status = 404;
    a.fields = {{"Content-Type", "text/plain"}};
    a.body = "no such behaviour\n";
  }
  return a;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

std::string pattern_bytes(std::size_t n) {
  static constexpr char alphabet[] =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
  std::string out(n, '\0');
  std::uint32_t x = 2463534242u;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = alphabet[x & 63u];
  }
  return out;
}

std::string fnv1a_hex(std::string_view data) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

std::optional<echoed> parse_echo(std::string_view text) {
  echoed e;
  bool have_method = false, have_target = false, have_size = false;
  while (!text.empty()) {
    auto eol = text.find('\n');
    auto line = text.substr(0, eol);
    text = eol == std::string_view::npos ? "" : text.substr(eol + 1);
    if (line == "body") {
      e.body = std::string(text);
      break;
    }
    auto space = line.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    auto key = line.substr(0, space);
    auto value = line.substr(space + 1);
    if (key == "method") {
      e.method = std::string(value);
      have_method = true;
    } else if (key == "target") {
      e.target = std::string(value);
      have_target = true;
    } else if (key == "header") {
      auto colon = value.find(": ");
      if (colon == std::string_view::npos) return std::nullopt;
      e.headers.add(std::string(value.substr(0, colon)), std::string(value.substr(colon + 2)));
    } else if (key == "body-size") {
      auto n = to_size(value);
      if (!n) return std::nullopt;
      e.body_size = *n;
      have_size = true;
    } else if (key == "body-hash") {
      e.body_hash = std::string(value);
    } else {
      return std::nullopt;
    }
  }
  if (!have_method || !have_target || !have_size) return std::nullopt;
  return e;
}

// ---------------------------------------------------------------------------------------------
// The backend
// ---------------------------------------------------------------------------------------------

// Members are destroyed in reverse order: the io_context (and with it every coroutine frame,
// socket and TLS stream) goes before the counters, the log and the TLS context they use.
struct backend::state {
  std::atomic<std::size_t> accepted{0};
  std::atomic<std::size_t> open{0};
  std::atomic<std::size_t> requests{0};
  std::atomic<std::size_t> handshake_failures{0};
  mutable std::mutex mutex;
  std::vector<echoed> log;
  std::vector<std::string> server_names;

  bool tls = false;
  std::string host;
  std::string certificate_pem;
  std::unique_ptr<asio::ssl::context> ssl;

  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  unsigned short port = 0;
  std::thread thread;

  void record(echoed e) {
    std::lock_guard lock(mutex);
    log.push_back(std::move(e));
  }

  asio::awaitable<void> accept_loop();
  template <class Stream>
  asio::awaitable<void> serve(Stream& stream);
  asio::awaitable<void> session_plain(tcp::socket socket);
  asio::awaitable<void> session_tls(tcp::socket socket);
};

namespace {

// Counts a connection open for the life of its session.
struct open_guard {
  std::atomic<std::size_t>& n;
  explicit open_guard(std::atomic<std::size_t>& c) : n(c) { ++n; }
  ~open_guard() { --n; }
};

tcp::socket& lowest(tcp::socket& s) { return s; }
tcp::socket& lowest(asio::ssl::stream<tcp::socket>& s) { return s.next_layer(); }

template <class Stream>
asio::awaitable<bool> read_more(Stream& stream, std::string& buf) {
  std::array<char, 65536> chunk;
  asio::error_code ec;
  std::size_t n = co_await stream.async_read_some(asio::buffer(chunk),
                                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec || n == 0) co_return false;
  buf.append(chunk.data(), n);
  co_return true;
}

template <class Stream>
asio::awaitable<bool> write_all(Stream& stream, std::string_view bytes) {
  asio::error_code ec;
  co_await asio::async_write(stream, asio::buffer(bytes),
                             asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  asio::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace

template <class Stream>
asio::awaitable<void> backend::state::serve(Stream& stream) {
  std::string buf;
  for (;;) {
    // The head.
    std::size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (buf.size() > kMaxHead) co_return;
      if (!co_await read_more(stream, buf)) co_return;
    }
    auto h = parse_head(std::string_view(buf).substr(0, head_end));
    if (!h) co_return;
    std::string_view line = h->first_line;
    auto sp1 = line.find(' ');
    auto sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) co_return;
    echoed req;
    req.method = std::string(line.substr(0, sp1));
    req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
    bool http10 = line.substr(sp2 + 1) == "HTTP/1.0";
    req.headers = std::move(h->fields);
    buf.erase(0, head_end + 4);

    // The body.
    if (has_token(req.headers, "transfer-encoding", "chunked")) {
      std::optional<std::size_t> end;
      bool bad = false;
      while (!(end = chunked_end(buf, 0, bad))) {
        if (bad || !co_await read_more(stream, buf)) co_return;
      }
      req.body = chunked_decode(buf, 0);
      buf.erase(0, *end);
    } else if (auto cl = req.headers.get("content-length")) {
      auto n = to_size(*cl);
      if (!n) co_return;
      while (buf.size() < *n)
        if (!co_await read_more(stream, buf)) co_return;
      req.body = buf.substr(0, *n);
      buf.erase(0, *n);
    }
    req.body_size = req.body.size();
    req.body_hash = fnv1a_hex(req.body);
    std::string described = echo_text(req);
    if (req.body_size > kKeepBody) req.body.clear();
    ++requests;
    record(req);

    bool keep_alive = http10 ? has_token(req.headers, "connection", "keep-alive")
                             : !has_token(req.headers, "connection", "close");
    action a = plan(req, described, keep_alive);
    if (a.delay.count() > 0) co_await pause(a.delay);
    if (!a.interim.empty() && !co_await write_all(stream, a.interim)) co_return;
    switch (a.what) {
      case action::respond: {
        bool no_body = a.status < 200 || a.status == 204 || a.status == 304;
        std::optional<std::size_t> length;
        if (!no_body) length = a.body.size();
        std::string out = response_head(a.status, a.fields, length, a.keep_alive);
        if (req.method != "HEAD" && !no_body) out.append(a.body);
        if (!co_await write_all(stream, out)) co_return;
        break;
      }
      case action::chunked: {
        std::string out = response_head(200, a.fields, std::nullopt, a.keep_alive);
        if (!co_await write_all(stream, out)) co_return;
        if (req.method == "HEAD") break;
        // Uneven chunks, written apart so that they arrive in separate reads.
        const std::string& body = a.body;
        std::size_t at = 0, piece = std::max<std::size_t>(1, body.size() / 5);
        for (int i = 0; at < body.size(); ++i) {
          std::size_t n = std::min(body.size() - at, i % 2 ? piece / 2 + 1 : piece + 7);
          std::string chunk = hex_line(n);
          chunk.append(body, at, n);
          chunk += "\r\n";
          at += n;
          if (!co_await write_all(stream, chunk)) co_return;
          co_await pause(std::chrono::milliseconds(2));
        }
        std::string last = "0\r\n\r\n";
        if (!co_await write_all(stream, last)) co_return;
        break;
      }
      case action::until_close: {
        // No Content-Length, no chunked, no "Connection: close" either: HTTP/1.0 style.
        std::string out = "HTTP/1.1 200 OK\r\n";
        for (auto& [n, v] : a.fields) out += n + ": " + v + "\r\n";
        out += "\r\n";
        if (req.method != "HEAD") out.append(a.body);
        co_await write_all(stream, out);
        co_return;
      }
      case action::garbage: {
        std::string junk = "this is not http\r\n\r\n";
        co_await write_all(stream, junk);
        co_await pause(std::chrono::milliseconds(20));
        co_return;
      }
      case action::close:
        co_return;
      case action::reset: {
        asio::error_code ec;
        lowest(stream).set_option(asio::socket_base::linger(true, 0), ec);
        lowest(stream).close(ec);
        co_return;
      }
    }
    if (a.linger_then_close.count() > 0) {
      co_await pause(a.linger_then_close);
      co_return;
    }
    if (!a.keep_alive) co_return;
  }
}

asio::awaitable<void> backend::state::session_plain(tcp::socket socket) {
  open_guard g(open);
  try {
    co_await serve(socket);
  } catch (const std::exception&) {
  }
  asio::error_code ec;
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

asio::awaitable<void> backend::state::session_tls(tcp::socket socket) {
  open_guard g(open);
  asio::ssl::stream<tcp::socket> stream(std::move(socket), *ssl);
  asio::error_code ec;
  co_await stream.async_handshake(asio::ssl::stream_base::server,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    ++handshake_failures;
    stream.next_layer().close(ec);
    co_return;
  }
  {
    const char* name = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    std::lock_guard lock(mutex);
    server_names.push_back(name ? name : "");
  }
  try {
    co_await serve(stream);
  } catch (const std::exception&) {
  }
  stream.next_layer().close(ec);
}

asio::awaitable<void> backend::state::accept_loop() {
  for (;;) {
    asio::error_code ec;
    tcp::socket socket =
        co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      continue;
    }
    ++accepted;
    socket.set_option(tcp::no_delay(true), ec);
    if (tls)
      asio::co_spawn(io, session_tls(std::move(socket)), asio::detached);
    else
      asio::co_spawn(io, session_plain(std::move(socket)), asio::detached);
  }
}

backend::backend(backend_options options) : state_(std::make_shared<state>()) {
  auto& s = *state_;
  s.tls = options.tls;
  if (s.tls) {
    auto cert = options.certificate.certificate_chain_pem.empty() ? gatehouse::tls::self_signed()
                                                                  : options.certificate;
    s.certificate_pem = cert.certificate_chain_pem;
    s.ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    s.ssl->use_private_key(asio::buffer(cert.private_key_pem), asio::ssl::context::pem);
    s.ssl->use_certificate_chain(asio::buffer(cert.certificate_chain_pem));
    if (!options.trusted_client_pem.empty()) {
      s.ssl->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
      s.ssl->add_certificate_authority(asio::buffer(options.trusted_client_pem));
    }
  }
  s.host = options.host;
  tcp::endpoint ep(asio::ip::make_address(options.host), 0);
  s.acceptor.open(ep.protocol());
  s.acceptor.set_option(tcp::acceptor::reuse_address(true));
  s.acceptor.bind(ep);
  s.acceptor.listen();
  s.port = s.acceptor.local_endpoint().port();
  asio::co_spawn(s.io, s.accept_loop(), asio::detached);
  s.thread = std::thread([&s] { s.io.run(); });
}

backend::~backend() {
  auto& s = *state_;
  asio::post(s.io, [&s] {
    asio::error_code ec;
    s.acceptor.close(ec);
  });
  s.io.stop();
  s.thread.join();
  // Destroying the state destroys the io_context: every session's frame, and its socket, with it.
  state_.reset();
}

void backend::sleep_a_little() { std::this_thread::sleep_for(5ms); }

unsigned short backend::port() const noexcept { return state_->port; }
std::string backend::address() const {
  bool v6 = state_->host.find(':') != std::string::npos;
  return (v6 ? "[" + state_->host + "]" : state_->host) + ":" + std::to_string(port());
}
std::string backend::url(std::string_view path) const {
  return (state_->tls ? "https://" : "http://") + address() + std::string(path);
}
const std::string& backend::certificate_pem() const noexcept { return state_->certificate_pem; }
std::size_t backend::connections_accepted() const noexcept { return state_->accepted; }
std::size_t backend::open_connections() const noexcept { return state_->open; }
std::size_t backend::requests() const noexcept { return state_->requests; }
std::size_t backend::handshake_failures() const noexcept { return state_->handshake_failures; }

std::vector<std::string> backend::server_names() const {
  std::lock_guard lock(state_->mutex);
  return state_->server_names;
}

std::vector<echoed> backend::received() const {
  std::lock_guard lock(state_->mutex);
  return state_->log;
}

std::optional<echoed> backend::last_request() const {
  std::lock_guard lock(state_->mutex);
  if (state_->log.empty()) return std::nullopt;
  return state_->log.back();
}

unsigned short unused_port() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();  // closed again when `a` goes: nothing listens there
}

blackhole::blackhole() {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener_, 0) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("blackhole: cannot listen");
  port_ = ntohs(addr.sin_port);
  // Fill the accept queue: connect without blocking until a connect no longer completes.
  for (int i = 0; i < 4; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) break;
    fillers_.push_back(fd);
    ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 200) <= 0) break;  // this one hangs: the queue is full
  }
}

blackhole::~blackhole() {
  for (int fd : fillers_) ::close(fd);
  if (listener_ >= 0) ::close(listener_);
}

// ---------------------------------------------------------------------------------------------
// The client side
// ---------------------------------------------------------------------------------------------

std::string request_text(std::string_view method, std::string_view target,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         std::string_view body, std::string_view host) {
  std::string out = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\n";
  bool have_host = false;
  for (auto& [n, v] : headers)
    if (gatehouse::iequals(n, "host")) have_host = true;
  if (!have_host) out += "Host: " + std::string(host) + "\r\n";
  for (auto& [n, v] : headers) out += n + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "\r\n";
  out.append(body);
  return out;
}

http_conn::http_conn(unsigned short port, std::chrono::milliseconds timeout) : timeout_(timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    throw std::runtime_error("connect() to 127.0.0.1:" + std::to_string(port) + " failed");
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

http_conn::~http_conn() {
  if (fd_ >= 0) ::close(fd_);
}

bool http_conn::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool http_conn::fill() {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout_.count())) <= 0) return false;
  char chunk[65536];
  ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) return false;
  buf_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

std::optional<reply> http_conn::read(bool head_only) {
  for (;;) {
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return std::nullopt;
    auto h = parse_head(std::string_view(buf_).substr(0, end));
    if (!h || h->first_line.size() < 12 || !starts_with(h->first_line, "HTTP/1."))
      return std::nullopt;
    auto status = to_size(std::string_view(h->first_line).substr(9, 3));
    if (!status) return std::nullopt;
    buf_.erase(0, end + 4);
    if (*status >= 100 && *status < 200) continue;  // interim (100 Continue): the next one
    reply r;
    r.status = static_cast<int>(*status);
    r.headers = std::move(h->fields);
    framing f = framing::until_close;
    std::size_t length = 0;
    if (head_only || r.status == 204 || r.status == 304) {
      f = framing::none;
    } else if (has_token(r.headers, "transfer-encoding", "chunked")) {
      f = framing::chunked;
    } else if (auto cl = r.headers.get("content-length")) {
      auto n = to_size(*cl);
      if (!n) return std::nullopt;
      f = framing::length;
      length = *n;
    }
    switch (f) {
      case framing::none:
        break;
      case framing::length:
        while (buf_.size() < length)
          if (!fill()) return std::nullopt;
        r.body = buf_.substr(0, length);
        buf_.erase(0, length);
        break;
      case framing::chunked: {
        std::optional<std::size_t> e;
        bool bad = false;
        while (!(e = chunked_end(buf_, 0, bad)))
          if (bad || !fill()) return std::nullopt;
        r.body = chunked_decode(buf_, 0);
        buf_.erase(0, *e);
        break;
      }
      case framing::until_close:
        while (fill()) {
        }
        r.body = std::move(buf_);
        buf_.clear();
        break;
    }
    return r;
  }
}

std::optional<reply> fetch(unsigned short port, std::string_view request,
                           std::chrono::milliseconds timeout) {
  http_conn c(port, timeout);
  bool head_only = starts_with(request, "HEAD ");
  return c.exchange(request, head_only);
}

std::optional<std::string> json_message(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  auto it = d.FindMember("message");
  if (it == d.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace test
