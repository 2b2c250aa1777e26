#include "net/connection.hpp"

#include "http/parser.hpp"
#include "http/serializer.hpp"
#include "net/tls_stream.hpp"
#include "pipeline/gateway_responses.hpp"
#include "pipeline/request_id.hpp"
#include "util/as_tuple.hpp"
#include "util/coarse_clock.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cstring>

namespace gatehouse::net {

namespace {
using asio::ip::tcp;
// Phase timeouts are seconds long: the kernel tick's clock is precise enough, and cheaper.
using clock = util::coarse_steady_clock;
// The client's own I/O is bound to no cancellation slot: the request loop's cancellation (its
// client gone) is for what a request waits on, and an operation without a slot costs Asio no
// cancellation handler (an allocation, now and then).
auto use_tuple() {
  return asio::bind_cancellation_slot(asio::cancellation_slot(),
                                      util::as_tuple(asio::use_awaitable));
}
constexpr std::size_t read_buffer_size = 16 * 1024;
constexpr std::size_t large_body = 64 * 1024;  // bodies larger than this are written in place

// Read buffers: a connection holds one only while it has input to work on. It waits for
// input without one, so an idle keep-alive connection costs no buffer; the blocks are kept per
// thread for the next reader, so a busy connection takes one without an allocation.
class read_buffer_pool {
 public:
  ~read_buffer_pool() {
    for (std::size_t i = 0; i < count_; ++i) delete[] spare_[i];
    count_ = 0;
    gone_ = true;  // a connection destroyed after this thread's pool gives its block back itself
  }
  char* take() { return count_ > 0 ? spare_[--count_] : new char[read_buffer_size]; }
  void give(char* block) {
    if (!gone_ && count_ < spare_.size())
      spare_[count_++] = block;
    else
      delete[] block;
  }

 private:
  std::array<char*, 64> spare_{};  // 1 MiB at most per thread
  std::size_t count_ = 0;
  bool gone_ = false;
};
thread_local read_buffer_pool read_buffers;

// The calls the connection makes, for a plain socket and for TLS alike.
tcp::socket& lowest(tcp::socket& s) { return s; }
tcp::socket& lowest(tls_stream& s) { return s.next_layer(); }
using io_result = std::tuple<std::error_code, std::size_t>;
auto read_some(tcp::socket& s, asio::mutable_buffer into) {
  return s.async_read_some(into, use_tuple());
}
asio::awaitable<io_result> read_some(tls_stream& s, asio::mutable_buffer into) {
  return s.read_some(into);
}
// Reads what has arrived without waiting (would_block when nothing has).
std::size_t read_now(tcp::socket& s, asio::mutable_buffer into, std::error_code& ec) {
  asio::error_code aec;                          // (Boost.Asio's is boost::system::error_code)
  const std::size_t n = s.read_some(into, aec);  // the socket is in non-blocking mode
  ec = aec;
  return n;
}
std::size_t read_now(tls_stream& s, asio::mutable_buffer into, std::error_code& ec) {
  return s.read_now(into, ec);
}
// Bytes read from the socket already, waiting inside the stream (TLS).
bool has_pending(tcp::socket&) { return false; }
bool has_pending(tls_stream& s) { return s.has_pending(); }
auto write_all(tcp::socket& s, std::array<asio::const_buffer, 2> buffers) {
  return asio::async_write(s, buffers, use_tuple());
}
asio::awaitable<io_result> write_all(tls_stream& s, std::array<asio::const_buffer, 2> buffers) {
  return s.write(buffers);
}
bool would_block(const std::error_code& ec) {
  return ec == asio::error_code(asio::error::would_block) ||
         ec == asio::error_code(asio::error::try_again);
}

// How long a closing connection waits for the client to take our last response.
constexpr std::chrono::milliseconds closing_limit{1000};

// What the connection is doing; the watchdog applies the matching timeout.
enum class phase { handshake, idle, head, body, dispatch, write, closing };

template <class Stream>
class connection final : public connection_base,
                         public std::enable_shared_from_this<connection<Stream>> {
 public:
  connection(std::shared_ptr<server> srv, std::shared_ptr<asio::ssl::context> tls,
             tcp::socket socket, std::string_view private_endpoint,
             std::shared_ptr<const observe::operator_endpoint> operator_paths)
      : srv_(std::move(srv)),
        private_endpoint_(private_endpoint),
        operator_paths_(std::move(operator_paths)),
        tls_(std::move(tls)),
        stream_(make_stream(std::move(socket), tls_.get())),
        watchdog_(stream_.get_executor()),
        parser_({srv_->limits().max_header_bytes, srv_->limits().max_uri_bytes,
                 srv_->limits().max_body_bytes}) {
    asio::error_code ec;
    auto ep = lowest(stream_).remote_endpoint(ec);
    if (!ec) {
      auto addr = ep.address();
      if (addr.is_v6() && addr.to_v6().is_v4_mapped())
        addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
      remote_ip_ = addr.to_string();
    }
  }

  ~connection() override {
    if (in_) read_buffers.give(in_);
  }

  void start() {
    auto self = this->shared_from_this();
    if (!srv_->add(self)) {
      asio::error_code ec;
      lowest(stream_).close(ec);
      return;
    }
    asio::co_spawn(
        stream_.get_executor(), [self] { return self->watch(); }, asio::detached);
    // The request loop's cancellation is step_cancel_: a client gone while its request waits
    // cancels what the request awaits. The completion handler keeps the connection (and so the
    // signal) alive until the coroutine's last frame is gone.
    asio::co_spawn(
        stream_.get_executor(), [self] { return self->serve(); },
        asio::bind_cancellation_slot(self->step_cancel_.slot(), [self](std::exception_ptr) {}));
  }

  void drain() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->draining_ = true;
      // Nothing in flight: close at once. Otherwise the request finishes with Connection: close.
      if (self->phase_ == phase::idle || self->phase_ == phase::handshake ||
          (self->phase_ == phase::head && self->parser_.bytes_seen() == 0))
        self->shut();
    });
  }

  void close() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->shut(); });
  }

 private:
  static Stream make_stream(tcp::socket socket, asio::ssl::context* tls) {
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      asio::error_code ec;
      socket.non_blocking(true, ec);  // for read_now()
      return socket;
    } else {
      return Stream(std::move(socket), *tls);
    }
  }

  void hold_buffer() {
    if (!in_) in_ = read_buffers.take();
  }
  // Gives the read buffer back when it holds nothing unread.
  void drop_buffer() {
    if (begin_ != end_) return;
    begin_ = end_ = 0;
    if (in_) read_buffers.give(std::exchange(in_, nullptr));
  }

  void shut() {
    if (closed_) return;
    closed_ = true;
    asio::error_code ec;
    lowest(stream_).shutdown(tcp::socket::shutdown_both, ec);
    lowest(stream_).close(ec);
    watchdog_.cancel();
  }

  void enter(phase p) {
    phase_ = p;
    since_ = clock::now();
  }

  // The timeout of the current phase, measured from when it began.
  std::chrono::milliseconds phase_limit() const {
    const auto& l = srv_->limits();
    switch (phase_) {
      case phase::handshake:
        return l.tls_handshake_timeout;
      case phase::idle:
        return l.idle_timeout;
      case phase::head:
        return l.header_timeout;
      case phase::body:
        return l.body_timeout;
      case phase::write:
        return l.body_timeout;
      case phase::closing:
        return closing_limit;
      case phase::dispatch:
        break;
    }
    return std::chrono::milliseconds::max();
  }

  // One timer per connection that wakes a few times per timeout, instead of a timer operation
  // per read: the reads stay free of timer bookkeeping.
  asio::awaitable<void> watch() {
    const auto& l = srv_->limits();
    auto tick = std::min({l.header_timeout, l.idle_timeout, l.body_timeout, l.tls_handshake_timeout,
                          closing_limit}) /
                4;
    tick = std::clamp(tick, std::chrono::milliseconds(5), std::chrono::milliseconds(1000));
    while (!closed_) {
      watchdog_.expires_after(tick);
      co_await watchdog_.async_wait(use_tuple());
      if (closed_) break;
      if (phase_ == phase::idle && !trimmed_ && clock::now() - since_ >= tick) trim();
      if (in_step_ && !watching_ && !client_gone_ && clock::now() - since_ >= tick)
        watch_for_hangup();
      auto limit = phase_limit();
      if (limit == std::chrono::milliseconds::max() || clock::now() - since_ < limit) continue;
      if ((phase_ == phase::body || (phase_ == phase::head && parser_.bytes_seen() > 0)) &&
          !timed_out_) {
        // Too slow with its request: the reader answers 408 once its read is cancelled.
        timed_out_ = true;
        asio::error_code ec;
        lowest(stream_).cancel(ec);
        enter(phase::closing);
        continue;
      }
      shut();
    }
  }

  // What a connection keeps from its last request for the next (the response's text, the
  // request's target, fields and body, the response object): given back once it has been idle
  // for a watchdog tick, so busy connections reuse it and idle ones cost little. Called while
  // the request loop waits for input, when none of it is in use.
  void trim() {
    if (out_.capacity() > 0) std::string().swap(out_);
    if (req_.target.capacity() > 15) std::string().swap(req_.target);
    if (req_.body.capacity() > 15) std::string().swap(req_.body);
    req_.headers = header_map{};  // empty while idle, but it keeps its fields' slots
    res_ = response{};
    trimmed_ = true;
  }

  asio::awaitable<void> serve() {
    auto self = this->shared_from_this();  // keeps us alive to the end of the loop
    // Once cancelled, a co_await must not throw: every step returns its error instead.
    co_await asio::this_coro::throw_if_cancelled(false);
    co_await run();
    shut();
    srv_->remove(this);
  }

  asio::awaitable<void> run() {
    if constexpr (!std::is_same_v<Stream, tcp::socket>) {
      enter(phase::handshake);
      auto ec = co_await stream_.handshake();
      srv_->pipeline().observer().tls_handshake(!ec && !closed_);
      if (ec || closed_) co_return;
    }
    const detail::pipeline& pipeline = srv_->pipeline();
    enter(phase::head);
    parser_.start(req_);
    req_.source_ip = remote_ip_;
    req_.secure = !std::is_same_v<Stream, tcp::socket>;
    req_.private_endpoint = private_endpoint_;

    for (;;) {
      // Take every complete request already buffered (pipelining), answering in order.
      // After a head the parser runs once more even without input: the message may be complete.
      bool after_head = false;
      while (begin_ < end_ || std::exchange(after_head, false)) {
        std::size_t used = 0;
        auto st = parser_.feed({in_ + begin_, end_ - begin_}, used);
        begin_ += used;
        if (st == wire::request_parser::status::error) {
          co_await fail(parser_.error_status(), parser_.error_reason());
          co_return;
        }
        if (st == wire::request_parser::status::head_complete) {
          enter(phase::body);
          if (parser_.expects_continue() && parser_.has_body() && begin_ == end_) {
            out_.append("HTTP/1.1 100 Continue\r\n\r\n");
            if (!co_await flush({})) co_return;
            enter(phase::body);
          }
          after_head = true;
          continue;
        }
        if (st == wire::request_parser::status::complete) {
          bool keep = parser_.keep_alive() && !draining_;
          enter(phase::dispatch);
          trimmed_ = false;
          std::unique_ptr<wire::body_source> stream;
          response& res = res_;
          std::shared_ptr<websocket::pending_connection> upgrade;
          std::string_view request_id;  // sent by write_head, when the pipeline made one
          // The request is recorded (pipeline::answered) once its answer is out.
          detail::reply_target reply{res, request_id_, {call_cancel_.slot(), &client_gone_}};
          reply.records_itself = true;
          if (operator_paths_) {  // an operator listener: no API here
            res = operator_paths_->answer(req_);
          } else if (auto ws = srv_->websockets().route(req_)) {
            auto attempt = co_await websocket::try_upgrade(std::move(ws), req_);
            res = std::move(attempt.res);
            upgrade = std::move(attempt.accepted);
          } else {
            // Most requests need no waiting step, and then no coroutine of their own.
            if (auto rest = pipeline.run_now(req_, &stream, reply)) {
              in_step_ = true;  // the watchdog watches for a hang-up once it lasts
              co_await pipeline.run_rest(std::move(rest));
              in_step_ = false;
              stop_watching();
            }
            request_id = {request_id_, 36};
            if (client_gone_) {
              // Cancelled: there is nobody to answer. Otherwise the step had finished when the
              // client's end came: answer (a half-closed client still reads), then close.
              if (reply.abandoned) {
                pipeline.answered(reply, 0, 0);
                co_return;
              }
              keep = false;
            }
          }
          if (closed_) co_return;
          if (upgrade) {
            // The connection becomes a WebSocket session: the stream and what was read after
            // the upgrade request go to it.
            out_ += websocket::switching_head(res);
            if (!co_await flush({})) co_return;
            std::string rest;
            if (begin_ < end_) rest.assign(in_ + begin_, end_ - begin_);
            closed_ = true;
            watchdog_.cancel();
            websocket::start_session(*upgrade, std::move(stream_), std::move(rest));
            co_return;
          }
          std::string_view body = res.body;
          const bool no_body = wire::body_forbidden(req_.method, res.status);
          bool announced_close = !keep || draining_;
          const std::uint64_t out_before = written_ + out_.size();
          std::uint64_t body_bytes = 0;
          if (stream && !no_body) {
            // A body still arriving from the integration: sent piece by piece as it comes.
            const bool sent =
                co_await send_streamed(res, *stream, announced_close, request_id, body_bytes);
            pipeline.answered(reply, written_ + out_.size() - out_before, body_bytes);
            if (!sent) co_return;
          } else {
            wire::write_head(res, !announced_close, out_, parser_.http10(), {}, request_id);
            if (no_body) body = {};
            body_bytes = body.size();
            pipeline.answered(reply, written_ + out_.size() - out_before + body.size(), body_bytes);
            if (body.size() < large_body) {
              out_.append(body);
              body = {};
            }
            // Flush now unless more pipelined requests wait to be answered with this write.
            // (flush() inlined: one coroutine frame less per request.)
            if (!body.empty() || !keep || draining_ || begin_ == end_) {
              auto mark = begin_write();
              auto [ec, n] = co_await write_out(body);
              if (!end_write(ec, mark)) co_return;
            }
          }
          if (announced_close) {
            co_await linger_close();
            co_return;
          }
          // A drain that began while we answered with keep-alive: nothing more is read, so
          // there is nothing to linger for.
          if (draining_) co_return;
          // The response object is kept for the next request's buffers, but not a large body.
          if (res.body.capacity() > large_body) std::string().swap(res.body);
          parser_.start(req_);
          enter(begin_ < end_ ? phase::head : phase::idle);
          continue;
        }
        break;  // need more input
      }
      if (!out_.empty() && !co_await flush({})) co_return;

      std::error_code ec;
      std::size_t n = 0;
      if (begin_ == end_) {
        // Nothing unread: wait for input without a read buffer, then read what has come.
        drop_buffer();
        if (!has_pending(stream_)) {
          auto [wec] = co_await lowest(stream_).async_wait(tcp::socket::wait_read, use_tuple());
          ec = wec;
        }
        if (!ec && !closed_ && !timed_out_) {
          hold_buffer();
          n = read_now(stream_, asio::buffer(in_, read_buffer_size), ec);
          if (would_block(ec)) continue;  // a TLS record not whole yet, or a spurious wake
        }
      } else {
        if (end_ == read_buffer_size) {  // the parser keeps what it needs: shift the tail down
          std::memmove(in_, in_ + begin_, end_ - begin_);
          end_ -= begin_;
          begin_ = 0;
        }
        std::tie(ec, n) =
            co_await read_some(stream_, asio::buffer(in_ + end_, read_buffer_size - end_));
      }
      if (timed_out_) {
        co_await fail(408, "request not received in time");
        co_return;
      }
      if (ec || closed_) {
        // The peer closed: a message that runs to EOF may end here; anything else is dropped.
        if (parser_.in_message() && parser_.finish() == wire::request_parser::status::error)
          co_await fail(400, parser_.error_reason());
        co_return;
      }
      if (phase_ == phase::idle) enter(phase::head);
      if (phase_ == phase::body) since_ = clock::now();  // the body timeout counts from progress
      end_ += n;
    }
  }

  // A write of out_ (and a large body after it, without copying) in one gather write: the
  // write phase while it runs, then back to the phase it interrupted. False when the
  // connection is done.
  struct write_mark {
    phase resume;
    clock::time_point started;
  };
  write_mark begin_write() {
    write_mark m{phase_, since_};
    enter(phase::write);
    return m;
  }
  auto write_out(std::string_view body) {
    written_ += out_.size() + body.size();
    return write_all(stream_, {asio::buffer(out_), asio::buffer(body)});
  }
  bool end_write(std::error_code ec, write_mark m) {
    out_.clear();
    if (ec || closed_) return false;
    phase_ = m.resume;
    since_ = m.started;
    return true;
  }
  asio::awaitable<bool> flush(std::string_view body) {
    auto mark = begin_write();
    auto [ec, n] = co_await write_out(body);
    co_return end_write(ec, mark);
  }

  // Sends a response whose body comes in pieces: with its length when the integration knows
  // it, else chunked (or, to an HTTP/1.0 client, until the connection closes). A body that
  // fails half-way cannot be answered any more: the connection closes, so the client sees it
  // truncated. False when the connection is done.
  asio::awaitable<bool> send_streamed(response& res, wire::body_source& source,
                                      bool& announced_close, std::string_view request_id,
                                      std::uint64_t& sent) {
    wire::body_framing framing;
    if (auto n = source.length()) {
      framing = {wire::body_framing::sized, *n};
    } else if (!parser_.http10()) {
      framing.kind = wire::body_framing::chunked;
    } else {
      framing.kind = wire::body_framing::until_close;
      announced_close = true;
    }
    const bool chunked = framing.kind == wire::body_framing::chunked;
    wire::write_head(res, !announced_close, out_, parser_.http10() && !announced_close, framing,
                     request_id);
    std::string piece = std::move(res.body);
    bool done = false, open_chunk = false;
    sent = 0;
    for (;;) {
      if (!piece.empty()) {
        sent += piece.size();
        if (chunked) {
          if (open_chunk) out_.append("\r\n");
          char size[20];
          auto [end, ec] = std::to_chars(size, size + sizeof size, piece.size(), 16);
          out_.append(size, end).append("\r\n");
          open_chunk = true;
        }
        if (!co_await flush(piece)) co_return false;
      }
      if (done) break;
      enter(phase::dispatch);  // the integration's own deadline covers its body
      auto ec = co_await source.read(piece, done);
      if (closed_) co_return false;
      if (ec) {
        srv_->pipeline().log(log_level::error,
                             fmt::format("response body from the integration failed after {} "
                                         "bytes: {}; closing the connection to {}",
                                         sent, ec.message(), remote_ip_));
        co_return false;
      }
    }
    if (chunked) {
      if (open_chunk) out_.append("\r\n");
      out_.append("0\r\n\r\n");
    }
    if (framing.kind == wire::body_framing::sized && sent != framing.length) co_return false;
    if (!out_.empty() && !co_await flush({})) co_return false;
    co_return true;
  }

  // Answers a request the server itself refuses (bad framing, limits, timeouts), then closes.
  asio::awaitable<void> fail(int status, std::string_view reason) {
    response res;
    if (status == 413) {
      res = detail::render_gateway_error({response_type::request_too_large}, nullptr);
    } else {
      res.status = status;
      res.headers.add("Content-Type", "application/json");
      res.body = fmt::format("{{\"message\":\"{}\"}}", wire::reason_phrase(status));
    }
    char id[37];
    detail::make_request_id(id);
    res.headers.add("x-amzn-RequestId", std::string(id, 36));
    srv_->pipeline().observer().refused();
    srv_->pipeline().log(log_level::info, fmt::format("{} from {}: {} ({})", status, remote_ip_,
                                                      reason, wire::reason_phrase(status)));
    wire::write_head(res, false, out_);
    out_.append(res.body);
    timed_out_ = false;
    if (co_await flush({})) co_await linger_close();
  }

  // Closes after the last response without losing it: stop sending, then read and drop what the
  // client still sends for a moment, so that closing with unread data does not reset the
  // connection before the client has read our answer.
  asio::awaitable<void> linger_close() {
    begin_ = end_ = 0;  // what is unread is dropped
    hold_buffer();
    enter(phase::closing);
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      asio::error_code ec;
      stream_.shutdown(tcp::socket::shutdown_send, ec);
      std::size_t dropped = 0;
      while (!closed_ && dropped < 1024 * 1024) {
        auto [rec, n] = co_await read_some(stream_, asio::buffer(in_, read_buffer_size));
        if (rec) break;
        dropped += n;
      }
    } else {
      co_await stream_.shutdown(asio::buffer(in_, read_buffer_size));
    }
  }

  // While a request waits on a step (an integration, an authorizer …) for longer than a
  // watchdog tick, the client's socket is watched (a quicker request costs no watch): bytes
  // that come are kept for the next request (pipelining); the client's end (EOF, a reset, TLS
  // close_notify) cancels the waiting step. A client that only half-closed cannot be told
  // apart from one that closed: as nginx does, both count as gone; a request answered without
  // such a wait is still answered to a half-closed client.
  void watch_for_hangup() {
    watching_ = true;
    wait_while_waiting(++watch_gen_);
  }
  void wait_while_waiting(unsigned gen) {
    lowest(stream_).async_wait(tcp::socket::wait_read,
                               [self = this->shared_from_this(), gen](std::error_code ec) {
                                 self->on_readable_while_waiting(ec, gen);
                               });
  }
  void stop_watching() {
    if (!watching_) return;
    watching_ = false;
    ++watch_gen_;  // the cancelled wait's handler finds itself stale
    asio::error_code ec;
    lowest(stream_).cancel(ec);
  }
  void on_readable_while_waiting(std::error_code ec, unsigned gen) {
    if (gen != watch_gen_ || !watching_ || closed_) return;
    if (!ec) {
      if (begin_ == end_) begin_ = end_ = 0;
      hold_buffer();
      if (end_ == read_buffer_size && begin_ > 0) {
        std::memmove(in_, in_ + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (end_ == read_buffer_size) return;  // full: the rest waits in the socket, unwatched
      const std::size_t n =
          read_now(stream_, asio::buffer(in_ + end_, read_buffer_size - end_), ec);
      if (!ec) end_ += n;
      if (!ec || would_block(ec)) return wait_while_waiting(gen);
    }
    watching_ = false;
    client_gone_ = true;
    call_cancel_.emit(asio::cancellation_type::terminal);
    step_cancel_.emit(asio::cancellation_type::terminal);
  }

  std::shared_ptr<server> srv_;
  std::string private_endpoint_;  // the listener's, for every request
  std::shared_ptr<const observe::operator_endpoint> operator_paths_;  // an operator listener's
  std::shared_ptr<asio::ssl::context> tls_;  // outlives the stream that uses it
  Stream stream_;
  asio::steady_timer watchdog_;
  wire::request_parser parser_;
  request req_;
  char* in_ = nullptr;  // the read buffer (read_buffer_size bytes) while there is input
  std::size_t begin_ = 0, end_ = 0;
  std::string out_;
  response res_;              // the current response; its buffers serve the next one too
  char request_id_[37] = {};  // the current request's, from the pipeline
  std::string remote_ip_;
  phase phase_ = phase::head;
  clock::time_point since_ = clock::now();
  bool draining_ = false;
  bool closed_ = false;
  bool timed_out_ = false;
  bool trimmed_ = false;  // trim() has run since the last request
  // A client gone while its request waits: the request loop's own cancellation, and the one the
  // HTTP integrations' backend calls are bound to (a slot of its own, whose handler memory
  // outlives each call: no allocation per call).
  asio::cancellation_signal step_cancel_, call_cancel_;
  unsigned watch_gen_ = 0;
  bool in_step_ = false;       // the request waits on a step (pipeline::run_rest)
  std::uint64_t written_ = 0;  // bytes handed to the stream's writes, for the request records
  bool watching_ = false;
  bool client_gone_ = false;
};
}  // namespace

void start_connection(const std::shared_ptr<server>& srv, tcp::socket socket,
                      const std::shared_ptr<asio::ssl::context>& tls,
                      std::string_view private_endpoint,
                      std::shared_ptr<const observe::operator_endpoint> operator_paths) {
  asio::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  if (tls)
    std::make_shared<connection<tls_stream>>(srv, tls, std::move(socket), private_endpoint,
                                             std::move(operator_paths))
        ->start();
  else
    std::make_shared<connection<tcp::socket>>(srv, nullptr, std::move(socket), private_endpoint,
                                              std::move(operator_paths))
        ->start();
}

}  // namespace gatehouse::net
