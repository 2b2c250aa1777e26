// The subscriber's connection. Everything but the counters and the callback lock runs on its
// strand. Replies come in the order of the commands that asked for them (one per channel of a
// SUBSCRIBE or UNSUBSCRIBE, one per PING), with messages anywhere in between: `awaiting_` holds
// the answers still due, in order, and when they were asked for (the stall check). After a
// connect the subscriber sends one SUBSCRIBE of every channel and a PING; the PING's answer
// says that every channel before it is subscribed, and on_connected is called.

#include "store/redis/redis_subscriber.hpp"

#include "net/serial_executor.hpp"
#include "store/redis/redis_error.hpp"
#include "util/as_tuple.hpp"

#include <gatehouse/config_error.hpp>

#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/dispatch.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <deque>
#include <mutex>
#include <set>
#include <vector>

namespace gatehouse::redis {

namespace {
constexpr auto use_tuple = util::as_tuple(asio::use_awaitable);

// The subscriber whose callback this thread runs now: its close() must not wait for the
// callback (the callback lock is this thread's already).
thread_local const subscriber_core* running_callback = nullptr;
}  // namespace

push parse_push(const value& v) noexcept {
  push p;
  if (v.is_error()) {
    p.what = push::kind::error;
    p.payload = v.text;
    return p;
  }
  if (v.type == value_type::simple_string) {  // PING when no channel is subscribed
    if (v.text == "PONG") p.what = push::kind::pong;
    return p;
  }
  if (v.type != value_type::array || v.elements.empty() || !v.elements[0].is_string()) return p;
  const auto& e = v.elements;
  const std::string_view head = e[0].text;
  if (head == "message" && e.size() == 3 && e[1].is_string() && e[2].is_string()) {
    p.what = push::kind::message;
    p.channel = e[1].text;
    p.payload = e[2].text;
  } else if ((head == "subscribe" || head == "unsubscribe") && e.size() == 3 && e[1].is_string() &&
             e[2].type == value_type::integer) {
    p.what = head == "subscribe" ? push::kind::subscribed : push::kind::unsubscribed;
    p.channel = e[1].text;
  } else if (head == "pong" && e.size() == 2 && e[1].is_string()) {
    p.what = push::kind::pong;
  }
  return p;
}

class subscriber_core : public std::enable_shared_from_this<subscriber_core> {
 public:
  subscriber_core(const asio::any_io_executor& executor, const client_options& options,
                  keepalive ka)
      : strand_(net::serial_executor(executor)),
        settings_(make_connection_settings(options, "redis subscriber")),
        keepalive_((check(ka), ka)),
        backoff_timer_(strand_),
        keepalive_timer_(strand_) {}

  void set_handler(message_handler h) { handler_ = std::move(h); }
  void set_on_connected(std::function<void()> h) { on_connected_ = std::move(h); }

  void subscribe(std::string channel) {
    asio::dispatch(strand_, [self = shared_from_this(), c = std::move(channel)]() mutable {
      self->add(std::move(c));
    });
  }
  void unsubscribe(std::string channel) {
    asio::dispatch(strand_, [self = shared_from_this(), c = std::move(channel)]() mutable {
      self->remove(c);
    });
  }

  void close() {
    closed_.store(true, std::memory_order_release);
    // Wait for a callback under way on another thread: callbacks check closed_ under this lock.
    if (running_callback != this) {
      const std::lock_guard wait(callback_mutex_);
    }
    asio::dispatch(strand_, [self = shared_from_this()] { self->shutdown(); });
  }

  subscriber_statistics stats() const noexcept {
    const auto get = [](const std::atomic<std::uint64_t>& a) {
      return a.load(std::memory_order_relaxed);
    };
    return {get(messages_), get(connects_), get(connect_failures_), get(losses_), get(reconnects_)};
  }

 private:
  struct link : transport {
    using transport::transport;
    std::string writing;  // the bytes of the write in flight
    bool write_in_flight = false;
  };
  struct answer {
    push::kind what;
    std::string channel;  // subscribed, unsubscribed
    clock::time_point asked_at;
    bool after_connect = false;  // the PING that follows the SUBSCRIBE of a new connection
  };
  enum class state { idle, connecting, ready, backoff, closed };

  static void check(const keepalive& ka) {
    if (ka.interval <= std::chrono::milliseconds::zero() ||
        ka.timeout <= std::chrono::milliseconds::zero())
      throw config_error("redis subscriber: the keepalive's interval and timeout must be positive");
  }

  void add(std::string channel) {
    if (state_ == state::closed) return;
    const auto [it, added] = channels_.insert(std::move(channel));
    if (!added) return;
    if (state_ == state::idle) {
      start();
    } else if (state_ == state::ready) {
      send(command{"SUBSCRIBE", *it}, push::kind::subscribed, *it);
    }
    // connecting, backoff: the connection subscribes every channel when it is up.
  }

  void remove(const std::string& channel) {
    if (state_ == state::closed || channels_.erase(channel) == 0) return;
    if (state_ == state::ready)
      send(command{"UNSUBSCRIBE", channel}, push::kind::unsubscribed, channel);
  }

  void start() {
    state_ = state::connecting;
    link_ = std::make_shared<link>(strand_, settings_->max_reply_bytes);
    asio::co_spawn(
        strand_, [self = shared_from_this(), l = link_] { return self->run(l); }, asio::detached);
  }

  asio::awaitable<void> run(std::shared_ptr<link> l) {
    connects_.fetch_add(1, std::memory_order_relaxed);
    const std::error_code ec = co_await open_transport(l, *settings_);
    if (link_ != l) co_return;  // closed meanwhile
    if (ec) {
      connect_failures_.fetch_add(1, std::memory_order_relaxed);
      fail(ec);
      co_return;
    }
    state_ = state::ready;
    const auto now = clock::now();
    if (!channels_.empty()) {
      std::vector<std::string_view> args{"SUBSCRIBE"};
      args.reserve(channels_.size() + 1);
      for (const auto& c : channels_) {
        args.push_back(c);
        awaiting_.push_back({push::kind::subscribed, c, now});
      }
      out_.append(command(args).bytes());
    }
    out_.append(command{"PING"}.bytes());
    awaiting_.push_back({push::kind::pong, {}, now, true});
    last_ping_ = now;
    arm_keepalive(now + keepalive_.timeout);
    start_write(l);
    co_await read_loop(std::move(l));
  }

  asio::awaitable<void> read_loop(std::shared_ptr<link> l) {
    value v;
    for (;;) {
      auto [ec, n] = co_await l->with_stream(
          [&](auto& stream) { return stream.async_read_some(asio::buffer(l->in), use_tuple); });
      if (link_ != l) co_return;
      if (ec) {
        fail(errc::connection_lost);
        co_return;
      }
      l->reader.feed(l->in.data(), n);
      for (;;) {
        const auto st = l->reader.next(v);
        if (st == reply_reader::status::need_more) break;
        if (st != reply_reader::status::reply) {
          fail(st == reply_reader::status::too_large ? errc::reply_too_large
                                                     : errc::protocol_error);
          co_return;
        }
        handle(v);
        v = value{};
        if (link_ != l) co_return;  // failed, or a callback closed the subscriber
      }
    }
  }

  void handle(const value& v) {
    const push p = parse_push(v);
    switch (p.what) {
      case push::kind::message:
        // A channel unsubscribed meanwhile: its UNSUBSCRIBE is on its way.
        if (channels_.find(p.channel) == channels_.end()) return;
        messages_.fetch_add(1, std::memory_order_relaxed);
        if (handler_) invoke([&] { handler_(p.channel, p.payload); });
        return;
      case push::kind::subscribed:
      case push::kind::unsubscribed:
      case push::kind::pong: {
        if (awaiting_.empty() || awaiting_.front().what != p.what ||
            (p.what != push::kind::pong && awaiting_.front().channel != p.channel)) {
          fail(errc::protocol_error);  // not the answer due next
          return;
        }
        const bool connected = awaiting_.front().after_connect;
        awaiting_.pop_front();
        if (!connected) return;
        attempts_ = 0;
        if (ever_connected_) reconnects_.fetch_add(1, std::memory_order_relaxed);
        ever_connected_ = true;
        if (on_connected_) invoke([&] { on_connected_(); });
        return;
      }
      case push::kind::error:  // e.g. an ACL that refuses a channel: tried again after a backoff
        fail(errc::error_reply);
        return;
      case push::kind::other:
        fail(errc::protocol_error);
        return;
    }
  }

  // Calls a callback unless the subscriber is closed, and never while close() is between its
  // store of closed_ and its return on another thread.
  template <class F>
  void invoke(F&& f) {
    std::lock_guard lock(callback_mutex_);
    if (closed_.load(std::memory_order_acquire)) return;
    struct running {
      const subscriber_core* outer;
      explicit running(const subscriber_core* self) : outer(running_callback) {
        running_callback = self;
      }
      ~running() { running_callback = outer; }
    } scope(this);
    f();
  }

  void send(const command& cmd, push::kind what, const std::string& channel) {
    const auto now = clock::now();
    out_.append(cmd.bytes());
    awaiting_.push_back({what, channel, now});
    arm_keepalive(awaiting_.front().asked_at + keepalive_.timeout);
    if (!link_->write_in_flight) start_write(link_);
  }

  void start_write(const std::shared_ptr<link>& l) {
    l->write_in_flight = true;
    l->writing.swap(out_);
    auto handler = asio::bind_executor(
        strand_, [self = shared_from_this(), l](asio::error_code ec, std::size_t) {
          self->on_written(l, ec);
        });
    l->with_stream([&](auto& stream) {
      asio::async_write(stream, asio::buffer(l->writing), std::move(handler));
    });
  }

  void on_written(const std::shared_ptr<link>& l, std::error_code ec) {
    if (link_ != l) return;
    l->write_in_flight = false;
    l->writing.clear();
    if (ec) {
      fail(errc::connection_lost);
      return;
    }
    if (!out_.empty()) start_write(l);
  }

  void arm_keepalive(clock::time_point at) {
    if (at >= keepalive_at_) return;
    keepalive_at_ = at;
    keepalive_timer_.expires_at(at);
    keepalive_timer_.async_wait([self = shared_from_this()](asio::error_code ec) {
      if (ec != asio::error::operation_aborted) self->on_keepalive();
    });
  }

  void on_keepalive() {
    keepalive_at_ = clock::time_point::max();
    if (state_ != state::ready) return;
    const auto now = clock::now();
    if (!awaiting_.empty() && awaiting_.front().asked_at + keepalive_.timeout <= now) {
      fail(errc::connection_lost);  // stalled
      return;
    }
    if (last_ping_ + keepalive_.interval <= now) {
      last_ping_ = now;
      send(command{"PING"}, push::kind::pong, {});
    }
    auto next = last_ping_ + keepalive_.interval;
    if (!awaiting_.empty()) next = std::min(next, awaiting_.front().asked_at + keepalive_.timeout);
    arm_keepalive(next);
  }

  void drop_link() {
    if (link_) {
      link_->close();
      link_.reset();
    }
    out_.clear();
    awaiting_.clear();
    keepalive_timer_.cancel();
    keepalive_at_ = clock::time_point::max();
  }

  void fail(std::error_code) {
    if (state_ == state::ready) losses_.fetch_add(1, std::memory_order_relaxed);
    drop_link();
    if (state_ == state::closed) return;
    state_ = state::backoff;
    backoff_timer_.expires_after(backoff_wait(*settings_, attempts_++));
    backoff_timer_.async_wait([self = shared_from_this()](asio::error_code ec) {
      if (ec || self->state_ != state::backoff) return;
      if (self->channels_.empty())
        self->state_ = state::idle;  // nothing to listen to: connect at the next subscribe
      else
        self->start();
    });
  }

  void shutdown() {
    if (state_ == state::closed) return;
    state_ = state::closed;
    backoff_timer_.cancel();
    drop_link();
    channels_.clear();
  }

  asio::any_io_executor strand_;
  const std::shared_ptr<const connection_settings> settings_;
  const keepalive keepalive_;
  message_handler handler_;             // set before the first subscribe
  std::function<void()> on_connected_;  // likewise
  std::mutex callback_mutex_;
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> messages_{0}, connects_{0}, connect_failures_{0}, losses_{0},
      reconnects_{0};

  // On the strand:
  state state_ = state::idle;
  std::set<std::string, std::less<>> channels_;  // what the owner wants subscribed
  std::shared_ptr<link> link_;
  std::string out_;              // commands not yet written
  std::deque<answer> awaiting_;  // answers due, in order
  unsigned attempts_ = 0;        // connections failed since the last that subscribed
  bool ever_connected_ = false;
  clock::time_point last_ping_{};
  clock::time_point keepalive_at_ = clock::time_point::max();
  asio::steady_timer backoff_timer_;
  asio::steady_timer keepalive_timer_;
};

subscriber::subscriber(asio::any_io_executor executor, client_options options, keepalive ka)
    : core_(std::make_shared<subscriber_core>(executor, options, ka)) {}

subscriber::~subscriber() { core_->close(); }

void subscriber::set_handler(message_handler handler) { core_->set_handler(std::move(handler)); }
void subscriber::on_connected(std::function<void()> handler) {
  core_->set_on_connected(std::move(handler));
}
void subscriber::subscribe(std::string channel) { core_->subscribe(std::move(channel)); }
void subscriber::unsubscribe(std::string channel) { core_->unsubscribe(std::move(channel)); }
void subscriber::close() { core_->close(); }
subscriber_statistics subscriber::stats() const noexcept { return core_->stats(); }

}  // namespace gatehouse::redis
