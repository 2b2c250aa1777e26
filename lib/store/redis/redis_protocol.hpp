#pragma once

// Redis's wire protocol (RESP2) through hiredis: its reply reader and its command formatting,
// nothing else of it (no hiredis connection, sync or async). This is the only place that sees a
// hiredis type; replies come out as redis::value.

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::redis {

enum class value_type : std::uint8_t { nil, integer, simple_string, bulk_string, error, array };

/// One reply, or one element of an array reply.
struct value {
  value_type type = value_type::nil;
  std::int64_t integer = 0;       ///< integer replies
  std::string text{};             ///< simple and bulk strings, and an error's message
  std::vector<value> elements{};  ///< array replies

  bool is_nil() const noexcept { return type == value_type::nil; }
  bool is_error() const noexcept { return type == value_type::error; }
  bool is_string() const noexcept {
    return type == value_type::simple_string || type == value_type::bulk_string;
  }
  /// An error's code, its first word ("NOSCRIPT", "WRONGTYPE", "ERR"); empty for other values.
  std::string_view error_code() const noexcept;
};

/// The value as RESP-like text for test messages and logs: `+OK`, `:1`, `$"x"`, `(nil)`,
/// `-ERR …`, `[a, b]`; strings longer than `max_text` are cut.
std::string describe(const value& v, std::size_t max_text = 64);

/// A command in the wire format (formatted by hiredis's redisFormatCommandArgv), made by the
/// caller's thread; the connection copies its bytes into its output buffer. Move-only.
class command {
 public:
  command() = default;
  command(std::initializer_list<std::string_view> args)
      : command(std::span<const std::string_view>(args.begin(), args.size())) {}
  /// The arguments of `a`, then of `b`, then of `c` (e.g. EVALSHA's head, keys, arguments).
  explicit command(std::span<const std::string_view> a, std::span<const std::string_view> b = {},
                   std::span<const std::string_view> c = {});

  /// Empty when there were no arguments (or no memory): such a command fails, unsent.
  std::string_view bytes() const noexcept { return {data_.get(), size_}; }
  bool empty() const noexcept { return size_ == 0; }
  /// The same command again (to send it once more); empty when there is no memory.
  command copy() const;

 private:
  struct free_command {
    void operator()(char* p) const noexcept;
  };
  std::unique_ptr<char, free_command> data_{};
  std::size_t size_ = 0;
};

/// A command from its arguments (anything a std::string_view is made from). In a coroutine,
/// `co_await c.exec(make_command("GET", key))` rather than `co_await c.exec({"GET", key})`:
/// GCC 12 cannot compile a braced list inside a co_await expression ("array used as
/// initializer").
template <class... Args>
command make_command(const Args&... args) {
  const std::array<std::string_view, sizeof...(Args)> argv{std::string_view(args)...};
  return command(std::span<const std::string_view>(argv));
}

/// Turns the bytes a connection receives into replies. One reply's size (its bytes, and what
/// its values take in memory) is capped: a larger one is an error, never an allocation.
class reply_reader {
 public:
  explicit reply_reader(std::size_t max_reply_bytes);
  ~reply_reader();
  reply_reader(const reply_reader&) = delete;
  reply_reader& operator=(const reply_reader&) = delete;

  /// Adds received bytes; then call next() until it returns need_more.
  void feed(const char* data, std::size_t size);

  enum class status { reply, need_more, protocol_error, too_large };
  /// The next whole reply into `out`. After an error the reader is done: open a new connection.
  status next(value& out);
  /// What the error was, for logs.
  std::string_view error() const noexcept { return error_; }
  /// Bytes held for the reply under way (received but not yet a whole reply).
  std::size_t buffered() const noexcept;

  struct state;  // for the reader's callbacks (redis_protocol.cpp)

 private:
  std::unique_ptr<state> state_;
  std::string error_;
  bool failed_ = false;
};

}  // namespace gatehouse::redis
