// hiredis's reply reader, with object functions of our own: each reply is built straight into
// redis::value (no hiredis reply objects to convert and free), and what it takes in memory is
// counted as it is built, so that a server's `*2147483647` or `$9999999999` is refused before
// anything that large is allocated.

#include "store/redis/redis_protocol.hpp"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <fmt/format.h>

#include <array>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <new>

namespace gatehouse::redis {

std::string_view value::error_code() const noexcept {
  if (type != value_type::error) return {};
  std::string_view t = text;
  return t.substr(0, t.find(' '));
}

namespace {
void describe_into(const value& v, std::size_t max_text, std::string& out) {
  const auto text = [&v, max_text] {
    const std::string_view s = v.text;
    return s.size() <= max_text ? fmt::format("{}", s) : fmt::format("{}…", s.substr(0, max_text));
  };
  auto it = std::back_inserter(out);
  switch (v.type) {
    case value_type::nil:
      fmt::format_to(it, "(nil)");
      break;
    case value_type::integer:
      fmt::format_to(it, ":{}", v.integer);
      break;
    case value_type::simple_string:
      fmt::format_to(it, "+{}", text());
      break;
    case value_type::bulk_string:
      fmt::format_to(it, "$\"{}\"", text());
      break;
    case value_type::error:
      fmt::format_to(it, "-{}", text());
      break;
    case value_type::array:
      out += '[';
      for (std::size_t i = 0; i < v.elements.size(); ++i) {
        if (i) out += ", ";
        if (i == 16) {
          fmt::format_to(it, "… {} more", v.elements.size() - i);
          break;
        }
        describe_into(v.elements[i], max_text, out);
      }
      out += ']';
      break;
  }
}
}  // namespace

std::string describe(const value& v, std::size_t max_text) {
  std::string out;
  describe_into(v, max_text, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

void command::free_command::operator()(char* p) const noexcept { redisFreeCommand(p); }

command command::copy() const {
  command c;
  if (size_ == 0) return c;
  // malloc, as hiredis allocates commands: redisFreeCommand frees either.
  auto* p = static_cast<char*>(std::malloc(size_));
  if (!p) return c;
  std::memcpy(p, data_.get(), size_);
  c.data_.reset(p);
  c.size_ = size_;
  return c;
}

command::command(std::span<const std::string_view> a, std::span<const std::string_view> b,
                 std::span<const std::string_view> c) {
  const std::size_t n = a.size() + b.size() + c.size();
  // hiredis returns the length as an int: nothing near that (Redis takes bulk strings of up to
  // 512 MB by default).
  constexpr std::size_t max_bytes = std::size_t(1) << 30;
  if (n == 0 || n > 1'000'000) return;
  constexpr std::size_t inline_args = 16;
  std::array<const char*, inline_args> argv_small;
  std::array<std::size_t, inline_args> len_small;
  std::vector<const char*> argv_big;
  std::vector<std::size_t> len_big;
  const char** argv = argv_small.data();
  std::size_t* lens = len_small.data();
  if (n > inline_args) {
    argv_big.resize(n);
    len_big.resize(n);
    argv = argv_big.data();
    lens = len_big.data();
  }
  std::size_t i = 0, total = 0;
  for (auto part : {a, b, c}) {
    for (std::string_view s : part) {
      argv[i] = s.data() ? s.data() : "";
      lens[i] = s.size();
      total += s.size();
      ++i;
    }
  }
  if (total > max_bytes) return;
  char* out = nullptr;
  const int len = redisFormatCommandArgv(&out, static_cast<int>(n), argv, lens);
  if (len <= 0 || out == nullptr) {
    if (out) redisFreeCommand(out);
    return;
  }
  data_.reset(out);
  size_ = static_cast<std::size_t>(len);
}

// ---------------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------------

struct reply_reader::state {
  redisReader* reader = nullptr;
  std::size_t max = 0;
  std::size_t used = 0;  // what the values of the reply under way take
  bool over = false;     // a value was refused for its size (hiredis reports it as out of memory)
  value root;            // the reply under way, when it is not an array's element
  bool root_used = false;
};

namespace {
using reader_state = reply_reader::state;

reader_state& owner(const redisReadTask* t) { return *static_cast<reader_state*>(t->privdata); }

// Where a new value goes: the reply itself, or the element its parent array keeps for it.
// `bytes`: what it takes beyond that element (an element's own size is its array's).
value* place(const redisReadTask* t, std::size_t bytes) noexcept {
  auto& s = owner(t);
  if (!t->parent) bytes += sizeof(value);
  if (bytes > s.max - s.used) {
    s.over = true;
    return nullptr;
  }
  s.used += bytes;
  if (t->parent) {
    auto* parent = static_cast<value*>(t->parent->obj);
    if (!parent || t->idx < 0 || static_cast<std::size_t>(t->idx) >= parent->elements.size())
      return nullptr;
    return &parent->elements[static_cast<std::size_t>(t->idx)];
  }
  if (s.root_used) return nullptr;  // hiredis builds one reply at a time
  s.root_used = true;
  return &s.root;
}

void* create_string(const redisReadTask* t, char* str, std::size_t len) {
  value* v = place(t, len);
  if (!v) return nullptr;
  switch (t->type) {
    case REDIS_REPLY_STATUS:
      v->type = value_type::simple_string;
      break;
    case REDIS_REPLY_ERROR:
      v->type = value_type::error;
      break;
    default:
      v->type = value_type::bulk_string;
      break;
  }
  try {
    v->text.assign(str, len);
  } catch (...) {  // no exception may cross hiredis's C frames
    return nullptr;
  }
  return v;
}

void* create_array(const redisReadTask* t, int elements) {
  if (elements < 0) return nullptr;
  const auto n = static_cast<std::size_t>(elements);
  if (n > SIZE_MAX / sizeof(value)) return nullptr;
  value* v = place(t, n * sizeof(value));
  if (!v) return nullptr;
  v->type = value_type::array;
  try {
    v->elements.resize(n);
  } catch (...) {
    return nullptr;
  }
  return v;
}

void* create_integer(const redisReadTask* t, long long n) {
  value* v = place(t, 0);
  if (!v) return nullptr;
  v->type = value_type::integer;
  v->integer = n;
  return v;
}

void* create_nil(const redisReadTask* t) {
  value* v = place(t, 0);
  if (!v) return nullptr;
  v->type = value_type::nil;
  return v;
}

// hiredis frees only the reply itself (an error midway, or the reader's end); its elements are
// the reply's own.
void free_object(void* obj) {
  auto* v = static_cast<value*>(obj);
  *v = value{};
}

redisReplyObjectFunctions object_functions = {create_string, create_array, create_integer,
                                              create_nil, free_object};
}  // namespace

reply_reader::reply_reader(std::size_t max_reply_bytes) : state_(std::make_unique<state>()) {
  state_->max = max_reply_bytes;
  state_->reader = redisReaderCreateWithFunctions(&object_functions);
  if (!state_->reader) throw std::bad_alloc();
  state_->reader->privdata = state_.get();
}

reply_reader::~reply_reader() {
  if (state_->reader) redisReaderFree(state_->reader);
}

std::size_t reply_reader::buffered() const noexcept {
  const redisReader* r = state_->reader;
  return r->len - r->pos;
}

void reply_reader::feed(const char* data, std::size_t size) {
  if (failed_ || size == 0) return;
  if (redisReaderFeed(state_->reader, data, size) != REDIS_OK) {
    failed_ = true;
    error_ = "out of memory";
  }
}

reply_reader::status reply_reader::next(value& out) {
  auto& s = *state_;
  if (failed_) return s.over ? status::too_large : status::protocol_error;
  void* reply = nullptr;
  if (redisReaderGetReply(s.reader, &reply) != REDIS_OK) {
    failed_ = true;
    if (s.over) {
      error_ = fmt::format("a reply larger than {} bytes", s.max);
      return status::too_large;
    }
    error_ = s.reader->errstr;
    return status::protocol_error;
  }
  if (!reply) {
    // What is buffered now is all the reply under way's.
    if (buffered() > s.max - s.used) {
      failed_ = true;
      s.over = true;
      error_ = fmt::format("a reply larger than {} bytes", s.max);
      return status::too_large;
    }
    return status::need_more;
  }
  out = std::move(s.root);
  s.root = value{};
  s.root_used = false;
  s.used = 0;
  return status::reply;
}

}  // namespace gatehouse::redis
