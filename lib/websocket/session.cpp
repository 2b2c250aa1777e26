#include "websocket/session.hpp"

#include "net/serial_executor.hpp"

#include <asio/bind_executor.hpp>
#include <asio/dispatch.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace gatehouse::websocket {

namespace {

using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using asio_tls_stream = asio::ssl::stream<tcp::socket>;

tcp::socket& lowest(tcp::socket& s) { return s; }
tcp::socket& lowest(net::tls_stream& s) { return s.next_layer(); }
tcp::socket& lowest(asio_tls_stream& s) { return s.next_layer(); }

bool would_block(const std::error_code& ec) {
  return ec == asio::error_code(asio::error::would_block) ||
         ec == asio::error_code(asio::error::try_again);
}

/// Read buffer of a session on a host's Asio TLS stream (which holds its own record buffers
/// anyway). The others hold none while idle: they wait for readability and read into the stack.
constexpr std::size_t asio_tls_read_buffer_bytes = 4096;
/// Stack buffer of a read that waited for readability (a TLS record's plaintext at most).
constexpr std::size_t stack_read_buffer_bytes = 16 * 1024;
/// Reads of that size per readiness, so that one busy connection does not hold the thread.
constexpr int reads_per_turn = 4;

/// A frame waiting to be written: its header, and its payload written from where it lies.
struct out_frame {
  std::string payload;
  std::array<std::uint8_t, 10> header;  // a server frame's header is at most 10 bytes
  std::uint8_t header_size = 0;

  std::size_t bytes() const noexcept { return header_size + payload.size(); }
  bool is_close() const noexcept { return (header[0] & 0x0F) == 0x8; }
};

out_frame make_frame(opcode op, std::string payload) {
  out_frame frame;
  std::array<std::uint8_t, max_frame_header_bytes> header;
  frame.header_size = static_cast<std::uint8_t>(encode_frame_header(header, op, payload.size()));
  std::memcpy(frame.header.data(), header.data(), frame.header_size);
  frame.payload = std::move(payload);
  return frame;
}

/// The session whose on_message handler runs on this thread, if any: a send from inside the
/// handler is on the session's strand already and queues at once.
thread_local const void* session_in_handler = nullptr;

enum class state : std::uint8_t {
  open,      ///< messages flow both ways
  closing,   ///< we sent (or queued) a close frame and wait for the peer's
  replying,  ///< the peer sent a close frame; ours echoes it, then TCP closes
  failing,   ///< the peer broke the protocol; our close frame goes out, then TCP closes
  draining,  ///< our last close frame is written, TCP half-closed: wait for the peer's FIN
  closed,    ///< the TCP connection is closed
};

/// Stream: tcp::socket (ws://), net::tls_stream (wss:// on the gateway's listeners) or
/// asio::ssl::stream (wss:// handed over by a host).
template <class Stream>
class stream_session final : public session,
                             public std::enable_shared_from_this<stream_session<Stream>> {
  static constexpr bool is_plain = std::is_same_v<Stream, tcp::socket>;
  static constexpr bool is_own_tls = std::is_same_v<Stream, net::tls_stream>;
  static constexpr bool is_asio_tls = std::is_same_v<Stream, asio_tls_stream>;

 public:
  stream_session(Stream stream, session_handlers handlers, const session_options& options)
      : stream_(std::move(stream)),
        strand_(net::serial_executor(lowest(stream_).get_executor())),
        timer_(strand_),
        decoder_({.side = role::server,
                  .max_frame_bytes = options.max_frame_bytes,
                  .max_message_bytes = options.max_message_bytes}),
        handlers_(std::move(handlers)),
        idle_timeout_(options.idle_timeout),
        max_duration_(options.max_duration),
        close_timeout_(options.close_timeout),
        max_queued_bytes_(options.max_queued_bytes) {
    if constexpr (is_plain) {  // reads and immediate writes must never block the thread
      asio::error_code ec;
      stream_.non_blocking(true, ec);
    }
  }

  void start(std::string already_read) override {
    asio::dispatch(strand_, [self = this->shared_from_this(),
                             data = std::move(already_read)]() mutable { self->begin(data); });
  }

  bool send(message_kind kind, std::string payload) override {
    if (!accepting_.load(std::memory_order_acquire)) return false;
    out_frame frame =
        make_frame(kind == message_kind::text ? opcode::text : opcode::binary, std::move(payload));
    if (!reserve(frame.bytes())) {
      asio::post(strand_, [self = this->shared_from_this()] { self->overflow(); });
      return false;
    }
    if (session_in_handler == this) {
      enqueue(std::move(frame));
      return true;
    }
    asio::dispatch(strand_, [self = this->shared_from_this(), frame = std::move(frame)]() mutable {
      self->enqueue(std::move(frame));
    });
    return true;
  }

  void close(std::uint16_t code, std::string reason) override {
    accepting_.store(false, std::memory_order_release);  // sends from now on are refused
    asio::dispatch(strand_,
                   [self = this->shared_from_this(), code, reason = std::move(reason)]() mutable {
                     self->begin_close(state::closing, code, std::move(reason), false);
                   });
  }

  std::size_t queued_bytes() const noexcept override {
    return queued_bytes_.load(std::memory_order_relaxed);
  }
  bool is_open() const noexcept override { return accepting_.load(std::memory_order_acquire); }
  asio::any_io_executor get_executor() const override { return strand_; }

 private:
  // --- start, timers ------------------------------------------------------------------------

  void begin(std::string& already_read) {
    started_at_ = last_activity_ = clock_type::now();
    if constexpr (is_asio_tls) read_buffer_ = std::make_unique<char[]>(asio_tls_read_buffer_bytes);
    // A close() or an overflowing send() may have come first: keep its close timer.
    if (state_ == state::open)
      arm_timer(std::min(started_at_ + idle_timeout_, started_at_ + max_duration_));
    if (!already_read.empty() && !handle_input(already_read)) return;
    already_read.clear();
    if constexpr (is_own_tls) {
      // The TLS library may hold decrypted bytes already, and records that came while the
      // upgrade was answered were announced to nobody: read before waiting.
      on_readable({});
    } else {
      read();
    }
  }

  void arm_timer(clock_type::time_point deadline) {
    const std::uint32_t generation = ++timer_generation_;
    timer_.expires_at(deadline);
    timer_.async_wait(asio::bind_executor(
        strand_, [self = this->shared_from_this(), generation](const std::error_code& ec) {
          if (!ec && generation == self->timer_generation_) self->on_timer();
        }));
  }

  void on_timer() {
    if (state_ != state::open) {
      terminate();  // close_timeout: the peer did not finish the close handshake in time
      return;
    }
    const auto now = clock_type::now();
    const auto end_of_life = started_at_ + max_duration_;
    const auto idle_deadline = last_activity_ + idle_timeout_;
    if (now >= end_of_life) {
      begin_close(state::closing, close_code::going_away, "maximum connection duration reached",
                  false);
    } else if (now >= idle_deadline) {
      begin_close(state::closing, close_code::going_away, "idle timeout", false);
    } else {
      arm_timer(std::min(idle_deadline, end_of_life));
    }
  }

  // --- reading ------------------------------------------------------------------------------

  void read() {
    if constexpr (is_asio_tls) {
      stream_.async_read_some(
          asio::buffer(read_buffer_.get(), asio_tls_read_buffer_bytes),
          asio::bind_executor(
              strand_, [self = this->shared_from_this()](const std::error_code& ec, std::size_t n) {
                self->on_read(ec, std::span<char>(self->read_buffer_.get(), n));
              }));
    } else {
      tcp::socket::wait_type wait = tcp::socket::wait_read;
      if constexpr (is_own_tls) wait = stream_.wait_type_after_read();
      lowest(stream_).async_wait(
          wait,
          asio::bind_executor(strand_, [self = this->shared_from_this()](
                                           const std::error_code& ec) { self->on_readable(ec); }));
    }
  }

  /// Reads what has arrived without waiting (would_block when nothing has).
  std::size_t read_now(std::span<char> into, std::error_code& ec) {
    if constexpr (is_own_tls) {
      return stream_.read_now(asio::buffer(into.data(), into.size()), ec);
    } else {
      asio::error_code aec;  // (Boost.Asio's is boost::system::error_code)
      const std::size_t n = stream_.read_some(asio::buffer(into.data(), into.size()), aec);
      ec = aec;  // the socket is non-blocking
      return n;
    }
  }

  /// Plain TCP and gatehouse's TLS: the socket is readable; read what is there into the stack.
  void on_readable(std::error_code ec) {
    if (state_ == state::closed) return;  // (the TLS library's descriptor may be reused now)
    bool drained = false;
    if (!ec) {
      char buffer[stack_read_buffer_bytes];
      for (int round = 0; round < reads_per_turn; ++round) {
        const std::size_t n = read_now(buffer, ec);
        if (would_block(ec)) {
          ec = {};
          drained = true;
          break;
        }
        if (ec) break;
        if (!consume(std::span<char>(buffer, n))) return;
        // A short read emptied the socket; a TLS read ends with its record, whatever follows.
        if constexpr (is_plain)
          if (n < sizeof buffer) break;
      }
    }
    if (ec) {
      on_read_error();
      return;
    }
    if constexpr (is_own_tls) {
      // Records (or decrypted bytes) may be left that no readiness would announce: go on after
      // what else waits on the thread.
      if (!drained) {
        asio::post(strand_, [self = this->shared_from_this()] { self->on_readable({}); });
        return;
      }
    }
    read();
  }

  /// A host's Asio TLS stream: bytes arrived in read_buffer_.
  void on_read(const std::error_code& ec, std::span<char> data) {
    if (state_ == state::closed) return;
    if (ec) {
      on_read_error();
      return;
    }
    if (consume(data)) read();
  }

  /// Handles bytes read from the peer; false when reading stops.
  bool consume(std::span<char> data) {
    if (state_ == state::draining) return true;  // discarded while waiting for the peer's FIN
    last_activity_ = clock_type::now();
    return handle_input(data);
  }

  void on_read_error() {
    if (state_ == state::open) {
      report_code_ = close_code::abnormal;
      report_reason_.clear();
    }
    terminate();
  }

  /// Decodes `input`, acting on each event; false when reading stops.
  bool handle_input(std::span<char> input) {
    for (;;) {
      const decode_step step = decoder_.decode(input);
      input = input.subspan(step.consumed);
      switch (step.event) {
        case decode_event::need_more:
          return true;
        case decode_event::text:
        case decode_event::binary:
          if (state_ == state::open && handlers_.on_message) {
            const void* outer = std::exchange(session_in_handler, this);
            handlers_.on_message(
                step.event == decode_event::text ? message_kind::text : message_kind::binary,
                decoder_.payload());
            session_in_handler = outer;
          }
          break;
        case decode_event::ping:
          if (state_ == state::open && reserve(decoder_.payload().size() + 2)) {
            enqueue(make_frame(opcode::pong, std::string(decoder_.payload())));
          } else if (state_ == state::open) {
            overflow();
          }
          break;
        case decode_event::pong:
          break;
        case decode_event::close:
          on_peer_close(decoder_.close_status(), decoder_.close_reason());
          return state_ == state::closing;
        case decode_event::error:
          if (state_ == state::open) {
            begin_close(state::failing, decoder_.error_code(), std::string(decoder_.error_reason()),
                        true);
          } else {
            terminate();
          }
          return false;
      }
      if (state_ != state::open && state_ != state::closing) return false;
    }
  }

  void on_peer_close(std::uint16_t code, std::string_view reason) {
    if (state_ == state::open) {
      // Echo the peer's code; the reason is the peer's, reported but not repeated.
      report_code_ = code;
      report_reason_ = reason;
      begin_close(state::replying, code, {}, true);
    } else if (state_ == state::closing) {
      peer_closed_ = true;
      if (close_written_) terminate();  // else when our close frame is out
    }
  }

  // --- closing ------------------------------------------------------------------------------

  /// Queues our close frame and moves to `next` (closing, replying or failing). `drop_queued`
  /// discards messages not yet being written.
  void begin_close(state next, std::uint16_t code, std::string reason, bool drop_queued) {
    if (state_ != state::open) return;
    accepting_.store(false, std::memory_order_release);
    if (next != state::replying) {
      report_code_ = code;
      report_reason_ = reason;
    }
    state_ = next;
    if (drop_queued) drop_queue();
    std::string payload =
        code == close_code::no_status ? std::string() : close_payload(code, reason);
    out_frame frame = make_frame(opcode::close, std::move(payload));
    queued_bytes_.fetch_add(frame.bytes(), std::memory_order_relaxed);
    queue_.push_back(std::move(frame));
    arm_timer(clock_type::now() + close_timeout_);
    start_write();
  }

  /// A send found the queue full: drop what is not being written and close with 1008.
  void overflow() {
    begin_close(state::closing, close_code::policy_violation, "outgoing queue full", true);
  }

  /// Our last close frame is written (replying, failing): half-close, report, and wait for the
  /// peer to close its side (or close_timeout), so that unread input cannot reset the
  /// connection before the peer has read our close frame.
  void linger() {
    state_ = state::draining;
    asio::error_code ec;
    lowest(stream_).shutdown(tcp::socket::shutdown_send, ec);
    report_close();
    decoder_.release_memory();
    read();
  }

  /// Closes the TCP connection now and reports the close (once).
  void terminate() {
    if (state_ == state::closed) return;
    state_ = state::closed;
    ++timer_generation_;
    timer_.cancel();
    asio::error_code ec;
    lowest(stream_).shutdown(tcp::socket::shutdown_both, ec);
    lowest(stream_).close(ec);
    drop_queue();
    decoder_.release_memory();
    report_close();
  }

  void report_close() {
    accepting_.store(false, std::memory_order_release);
    if (reported_) return;
    reported_ = true;
    session_handlers handlers = std::move(handlers_);
    handlers_ = {};
    if (handlers.on_close) handlers.on_close(report_code_, report_reason_);
  }

  // --- writing ------------------------------------------------------------------------------

  /// Takes `bytes` more of the outgoing budget; false (taking nothing) when it would pass it.
  bool reserve(std::size_t bytes) noexcept {
    std::size_t queued = queued_bytes_.load(std::memory_order_relaxed);
    do {
      if (queued + bytes > max_queued_bytes_) return false;
    } while (
        !queued_bytes_.compare_exchange_weak(queued, queued + bytes, std::memory_order_relaxed));
    return true;
  }

  void enqueue(out_frame frame) {
    if (state_ != state::open) {  // closing already: the message is dropped
      queued_bytes_.fetch_sub(frame.bytes(), std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(frame));
    start_write();
  }

  void drop_queue() {
    std::size_t bytes = 0;
    for (const auto& frame : queue_) bytes += frame.bytes();
    queued_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    queue_.clear();
  }

  void start_write() {
    if (writing_now_ || queue_.empty() || state_ == state::closed || state_ == state::draining)
      return;
    std::swap(queue_, writing_);
    buffers_.clear();
    buffers_.reserve(writing_.size() * 2);
    for (const auto& frame : writing_) {
      buffers_.emplace_back(frame.header.data(), frame.header_size);
      if (!frame.payload.empty()) buffers_.emplace_back(frame.payload.data(), frame.payload.size());
    }
    writing_now_ = true;
    if constexpr (is_own_tls) {
      write_tls(true);
    } else {
      start_async_write();
    }
  }

  /// Plain TCP and a host's Asio TLS stream: writes buffers_.
  void start_async_write() {
    if constexpr (is_plain) {
      // The socket is non-blocking: try to write at once, as most writes fit the socket buffer,
      // and wait only for what does not. Completion with a close frame or an error goes the
      // asynchronous way, so that closing never happens inside a message handler.
      asio::error_code ec;
      const std::size_t total = asio::buffer_size(buffers_);
      const std::size_t n = stream_.write_some(buffers_, ec);
      if (!ec && n == total && std::none_of(writing_.begin(), writing_.end(), [](const auto& f) {
            return f.is_close();
          })) {
        written_now();
        return;
      }
      if (!ec || would_block(ec)) skip(n);
    }
    asio::async_write(stream_, std::span<const asio::const_buffer>(buffers_),
                      asio::bind_executor(strand_, [self = this->shared_from_this()](
                                                       const std::error_code& ec, std::size_t) {
                        self->on_written(ec);
                      }));
  }

  /// gatehouse's TLS: writes what the socket takes of buffers_ and waits to write the rest. As
  /// for plain TCP, completion with a close frame or an error goes the asynchronous way when
  /// `at_once` (the write began inside a handler, maybe a message handler).
  void write_tls(bool at_once) {
    if constexpr (is_own_tls) {
      std::error_code ec;
      skip(stream_.write_now(buffers_, ec));
      if (would_block(ec)) {
        lowest(stream_).async_wait(
            stream_.wait_type_after_write(),
            asio::bind_executor(strand_, [self = this->shared_from_this()](std::error_code ec) {
              // Closed meanwhile: the TLS library's descriptor may belong to another socket now.
              if (!ec && self->state_ == state::closed)
                ec = asio::error_code(asio::error::operation_aborted);
              if (ec)
                self->on_written(ec);
              else
                self->write_tls(false);
            }));
        return;
      }
      if (at_once) {
        if (!ec && std::none_of(writing_.begin(), writing_.end(),
                                [](const auto& f) { return f.is_close(); })) {
          written_now();
          return;
        }
        asio::post(strand_, [self = this->shared_from_this(), ec] { self->on_written(ec); });
        return;
      }
      on_written(ec);
    }
  }

  /// Drops the first `n` bytes of buffers_ (written already).
  void skip(std::size_t n) {
    std::size_t drop = 0;
    while (drop < buffers_.size() && n >= buffers_[drop].size()) n -= buffers_[drop++].size();
    buffers_.erase(buffers_.begin(), buffers_.begin() + static_cast<std::ptrdiff_t>(drop));
    if (n > 0 && !buffers_.empty()) buffers_.front() += n;
  }

  /// A write that completed at once (no close frame in it): account and go on.
  void written_now() {
    writing_now_ = false;
    std::size_t bytes = 0;
    for (const auto& frame : writing_) bytes += frame.bytes();
    queued_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    writing_.clear();
    if (writing_.capacity() > 32) std::vector<out_frame>().swap(writing_);
    if (buffers_.capacity() > 64) std::vector<asio::const_buffer>().swap(buffers_);
    start_write();
  }

  void on_written(const std::error_code& ec) {
    writing_now_ = false;
    std::size_t bytes = 0;
    bool close_written = false;
    for (const auto& frame : writing_) {
      bytes += frame.bytes();
      close_written = close_written || frame.is_close();
    }
    queued_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    writing_.clear();
    if (writing_.capacity() > 32) std::vector<out_frame>().swap(writing_);
    if (buffers_.capacity() > 64) std::vector<asio::const_buffer>().swap(buffers_);
    if (state_ == state::closed) return;
    if (ec) {
      if (state_ == state::open) {
        report_code_ = close_code::abnormal;
        report_reason_.clear();
      }
      terminate();
      return;
    }
    if (close_written) {
      close_written_ = true;
      if (state_ == state::replying || state_ == state::failing) {
        linger();
        return;
      }
      if (peer_closed_) {
        terminate();
        return;
      }
    }
    start_write();
  }

  Stream stream_;
  asio::any_io_executor strand_;
  asio::steady_timer timer_;
  frame_decoder decoder_;
  session_handlers handlers_;
  std::vector<out_frame> queue_;             ///< frames waiting for the current write
  std::vector<out_frame> writing_;           ///< frames of the write in flight
  std::vector<asio::const_buffer> buffers_;  ///< writing_ as buffers
  std::unique_ptr<char[]> read_buffer_;      ///< a host's Asio TLS stream only
  std::string report_reason_;                ///< reason given to on_close
  clock_type::duration idle_timeout_;
  clock_type::duration max_duration_;
  clock_type::duration close_timeout_;
  std::size_t max_queued_bytes_;
  clock_type::time_point started_at_{};
  clock_type::time_point last_activity_{};
  std::atomic<std::size_t> queued_bytes_{0};
  std::atomic<bool> accepting_{true};
  std::uint32_t timer_generation_ = 0;
  std::uint16_t report_code_ = close_code::abnormal;
  state state_ = state::open;
  bool writing_now_ = false;
  bool close_written_ = false;
  bool peer_closed_ = false;
  bool reported_ = false;
};

}  // namespace

std::shared_ptr<session> make_session(asio::ip::tcp::socket socket, session_handlers handlers,
                                      const session_options& options) {
  return std::make_shared<stream_session<tcp::socket>>(std::move(socket), std::move(handlers),
                                                       options);
}

std::shared_ptr<session> make_session(net::tls_stream stream, session_handlers handlers,
                                      const session_options& options) {
  return std::make_shared<stream_session<net::tls_stream>>(std::move(stream), std::move(handlers),
                                                           options);
}

std::shared_ptr<session> make_session(asio::ssl::stream<asio::ip::tcp::socket> stream,
                                      session_handlers handlers, const session_options& options) {
  return std::make_shared<stream_session<asio_tls_stream>>(std::move(stream), std::move(handlers),
                                                           options);
}

}  // namespace gatehouse::websocket
