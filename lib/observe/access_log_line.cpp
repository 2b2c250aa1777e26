#include "observe/access_log_line.hpp"

#include "pipeline/exchange.hpp"
#include "util/json_text.hpp"

#include <gatehouse/gateway_response.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>

namespace gatehouse::observe {

namespace {
using transform::context_var;

std::string_view error_message(const detail::gateway_error& e) {
  return e.message.empty() ? default_message(e.type) : std::string_view(e.message);
}

// Step 4's outcome as AWS splits it: the authorizer (the call), authenticate (is the caller who
// it claims: a token, a signature) and authorize (may it call the method). gatehouse's
// authorizers do all three in one step, so their latencies are the step's; a status is 200 but
// for the part that refused the request, which has the refusal's status and message.
enum class auth_part { authorizer, authorizer_call, authenticate, authorize };

bool refused_by(const request_facts& f, auth_part part) {
  if (!f.ex.authorizer_refused || !f.error) return false;
  switch (f.error->type) {
    case response_type::authorizer_failure:
    case response_type::authorizer_configuration_error:
      return part == auth_part::authorizer || part == auth_part::authorizer_call;
    case response_type::access_denied:
      return part == auth_part::authorizer || part == auth_part::authorize;
    default:  // unauthorized, expired or invalid tokens and signatures
      return part == auth_part::authorizer || part == auth_part::authenticate;
  }
}

// The value of one variable (a view of the request's text or of `scratch`); nullopt when it
// has none.
std::optional<std::string_view> value(const request_facts& f, const format_piece& p,
                                      transform::context_scratch& scratch) {
  const auto& ex = f.ex;
  auto number = [&](std::int64_t n) -> std::optional<std::string_view> {
    auto [end, ec] = std::to_chars(scratch.digits, scratch.digits + sizeof scratch.digits, n);
    return std::string_view(scratch.digits, static_cast<std::size_t>(end - scratch.digits));
  };
  auto ms = [&](std::chrono::nanoseconds d) -> std::optional<std::string_view> {
    if (d.count() < 0) return std::nullopt;
    return number(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  auto auth_status = [&](auth_part part) -> std::optional<std::string_view> {
    if (ex.authorizer_latency.count() < 0) return std::nullopt;
    return number(refused_by(f, part) ? f.res.status : 200);
  };
  auto auth_error = [&](auth_part part) -> std::optional<std::string_view> {
    if (!refused_by(f, part)) return std::nullopt;
    return error_message(*f.error);
  };
  switch (*p.var) {
    case context_var::status:
      return number(f.res.status);
    case context_var::response_length:
      return number(static_cast<std::int64_t>(f.body_bytes));
    case context_var::response_latency:
      return ms(f.latency);
    case context_var::data_processed:
      return number(static_cast<std::int64_t>(ex.req.body.size() + f.body_bytes));
    case context_var::integration_latency:
    case context_var::integration_latency_of_integration:
      return ms(ex.integration_latency);
    case context_var::integration_status:
    case context_var::integration_status_of_integration:
    case context_var::integration_integration_status:
      if (ex.integration_status == 0) return std::nullopt;
      return number(ex.integration_status);
    case context_var::integration_error:
    case context_var::integration_error_message:
      // An error that ended the request after its integration ran (a failure, a timeout, a
      // response that could not be mapped).
      if (!f.error || ex.integration_latency.count() < 0) return std::nullopt;
      return f.error->log_reason.empty() ? error_message(*f.error)
                                         : std::string_view(f.error->log_reason);
    case context_var::error_message:
    case context_var::error_message_string:
      if (!f.error) return std::nullopt;
      return error_message(*f.error);
    case context_var::error_response_type:
      if (!f.error) return std::nullopt;
      return to_string(f.error->type);
    case context_var::error_validation_error_string:
      if (!f.error) return std::nullopt;
      return std::string_view(f.error->validation_errors);
    case context_var::authorizer_latency:
    case context_var::authorizer_integration_latency:
    case context_var::authenticate_latency:
    case context_var::authorize_latency:
      return ms(ex.authorizer_latency);
    case context_var::authorizer_status:
      return auth_status(auth_part::authorizer);
    case context_var::authorizer_integration_status:
      return auth_status(auth_part::authorizer_call);
    case context_var::authenticate_status:
      return auth_status(auth_part::authenticate);
    case context_var::authorize_status:
      return auth_status(auth_part::authorize);
    case context_var::authorizer_error:
      return auth_error(auth_part::authorizer);
    case context_var::authenticate_error:
      return auth_error(auth_part::authenticate);
    case context_var::authorize_error:
      return auth_error(auth_part::authorize);
    // No WAF, and no AWS request ids of the authorizer's or integration's calls.
    case context_var::waf_error:
    case context_var::waf_latency:
    case context_var::waf_status:
    case context_var::authorizer_request_id:
    case context_var::integration_request_id:
      return std::nullopt;
    default:
      return transform::context_text(ex, {*p.var, p.arg}, scratch);
  }
}

// The thread's line: the storage, kept from line to line.
struct line_storage {
  std::unique_ptr<char[]> data;
  std::size_t capacity = 0;
};
thread_local line_storage storage;

struct cursor {
  char* base;
  char* p;
  char* end;
};

// The storage made larger for `more` bytes past the cursor, what was written kept. Out of line
// and by value, so that the render's cursor stays in registers.
[[gnu::noinline]] cursor grown(cursor c, std::size_t more) {
  const auto used = static_cast<std::size_t>(c.p - c.base);
  const std::size_t capacity = std::max<std::size_t>(2 * storage.capacity, used + more + 1024);
  auto bigger = std::make_unique<char[]>(capacity);
  if (used) std::memcpy(bigger.get(), c.base, used);
  storage.data = std::move(bigger);
  storage.capacity = capacity;
  return {storage.data.get(), storage.data.get() + used, storage.data.get() + capacity};
}

// Writes into the thread's storage. A local object whose address no call outside takes: its
// pointers live in registers while bytes are stored.
class line_buffer {
 public:
  line_buffer()
      : c_{storage.data.get(), storage.data.get(), storage.data.get() + storage.capacity} {}
  explicit line_buffer(std::span<char> room)
      : c_{room.data(), room.data(), room.data() + room.size()} {}
  std::string_view view() const noexcept {
    return {c_.base, static_cast<std::size_t>(c_.p - c_.base)};
  }
  void room(std::size_t n) {
    if (static_cast<std::size_t>(c_.end - c_.p) < n) c_ = grown(c_, n);
  }
  // The writes below assume room(): the render makes room for a line's fixed parts once, and
  // for each general value with them (access_log_format::fixed_room).
  void put(std::string_view s) {
    if (!s.empty()) std::memcpy(c_.p, s.data(), s.size());
    c_.p += s.size();
  }
  void put(char c) { *c_.p++ = c; }
  // `n` bytes of `s`, which may be read 32 bytes past them (padded): in blocks of 32 bytes,
  // which the compiler copies inline (most literals take one). Returns where they went.
  char* put_padded(const char* s, std::size_t n) {
    char* const at = c_.p;
    std::memcpy(at, s, 32);
    for (std::size_t i = 32; i < n; i += 32) std::memcpy(at + i, s + i, 32);
    c_.p += n;
    return at;
  }
  // The first `n` (≤ N) bytes of an array of N.
  template <std::size_t N>
  void put_prefix(const char (&s)[N], std::size_t n) {
    std::memcpy(c_.p, s, N);
    c_.p += n;
  }
  // Decimal digits, two at a time, copied in one block of 20.
  void put_number(std::uint64_t n) {
    static constexpr char pairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    char buf[40];
    char* const end = buf + 20;
    char* b = end;
    for (; n >= 100; n /= 100) {
      b -= 2;
      std::memcpy(b, pairs + 2 * (n % 100), 2);
    }
    if (n >= 10) {
      b -= 2;
      std::memcpy(b, pairs + 2 * n, 2);
    } else {
      *--b = static_cast<char>('0' + n);
    }
    std::memcpy(c_.p, b, 20);  // b + 20 stays inside buf
    c_.p += end - b;
  }
  // Copies `v` when none of its bytes needs a look in shape `Mode`; false, with nothing
  // written, when one does.
  template <log_escaping Mode>
  bool put_clean(std::string_view v);

 private:
  cursor c_;
};

constexpr std::uint8_t bit(log_escaping m) noexcept { return std::uint8_t(1u << int(m)); }

// Per byte, the shapes of line in which it needs a look: control characters and non-ASCII bytes
// (UTF-8 to check) everywhere, and each shape's own specials.
constexpr std::array<std::uint8_t, 256> specials = [] {
  std::array<std::uint8_t, 256> t{};
  const std::uint8_t json = bit(log_escaping::json), xml = bit(log_escaping::xml),
                     csv = bit(log_escaping::csv), text = bit(log_escaping::text);
  for (int c = 0; c < 256; ++c) {
    std::uint8_t b = 0;
    if (c < 0x20 || c >= 0x80 || c == '"') b = json | xml | csv | text;
    if (c == '\\') b |= json | text;
    if (c == 0x7F) b |= csv | text;
    if (c == '&' || c == '<' || c == '>' || c == '\'') b |= xml;
    if (c == ',') b |= csv;
    t[static_cast<std::size_t>(c)] = b;
  }
  return t;
}();

bool clean(std::string_view v, log_escaping mode) noexcept {
  const std::uint8_t mask = bit(mode);
  for (unsigned char c : v)
    if (specials[c] & mask) return false;
  return true;
}

// Eight bytes at a time: whether one of them needs a look in shape `Mode`.
template <log_escaping Mode>
bool word_needs_look(std::uint64_t w) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  auto zero_byte = [](std::uint64_t x) { return (x - ones) & ~x & highs; };
  auto has = [&](unsigned char c) { return zero_byte(w ^ (ones * c)); };
  std::uint64_t found = (w & highs) | ((w - ones * 0x20) & ~w & highs) | has('"');
  if constexpr (Mode == log_escaping::json || Mode == log_escaping::text) found |= has('\\');
  if constexpr (Mode == log_escaping::csv || Mode == log_escaping::text) found |= has(0x7F);
  if constexpr (Mode == log_escaping::csv) found |= has(',');
  if constexpr (Mode == log_escaping::xml) found |= has('&') | has('<') | has('>') | has('\'');
  return found != 0;
}

template <log_escaping Mode>
bool line_buffer::put_clean(std::string_view v) {
  const char* s = v.data();
  const std::size_t size = v.size();
  char* d = c_.p;
  if (size >= 8) {
    // Whole words, the last one overlapping the one before (no byte-by-byte tail).
    std::uint64_t w;
    for (std::size_t i = 0; i + 8 < size; i += 8) {
      std::memcpy(&w, s + i, 8);
      if (word_needs_look<Mode>(w)) return false;
      std::memcpy(d + i, &w, 8);
    }
    std::memcpy(&w, s + size - 8, 8);
    if (word_needs_look<Mode>(w)) return false;
    std::memcpy(d + size - 8, &w, 8);
  } else {
    constexpr std::uint8_t mask = bit(Mode);
    for (std::size_t i = 0; i < size; ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (specials[c] & mask) return false;
      d[i] = static_cast<char>(c);
    }
  }
  c_.p += size;
  return true;
}

constexpr char hex_digits[] = "0123456789ABCDEF";

// One byte as `mode` escapes it (an ASCII special of the mode).
void append_escape(std::string& out, unsigned char c, log_escaping mode) {
  auto hex = [&](std::string_view prefix) {
    out.append(prefix);
    out.push_back(hex_digits[c >> 4]);
    out.push_back(hex_digits[c & 15]);
  };
  switch (mode) {
    case log_escaping::json:
      if (c == '"' || c == '\\') {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else {
        hex("\\u00");
      }
      return;
    case log_escaping::xml:
      switch (c) {
        case '&':
          out.append("&amp;");
          return;
        case '<':
          out.append("&lt;");
          return;
        case '>':
          out.append("&gt;");
          return;
        case '"':
          out.append("&quot;");
          return;
        case '\'':
          out.append("&apos;");
          return;
        case '\t':  // references: attribute values would turn raw ones into spaces
          out.append("&#9;");
          return;
        case '\n':
          out.append("&#10;");
          return;
        case '\r':
          out.append("&#13;");
          return;
        default:
          out.append("\xEF\xBF\xBD");  // not a character of XML 1.0
          return;
      }
    case log_escaping::csv:
      if (c == '"')
        out.append("\"\"");  // inside a quoted field
      else if (c == ',')
        out.push_back(',');  // the field is quoted
      else
        hex("\\x");
      return;
    case log_escaping::text:
      hex("\\x");
      return;
  }
}

// Appends well-formed UTF-8 `s` with the mode's specials escaped, copying the runs between them.
void append_escaped(std::string& out, std::string_view s, log_escaping mode) {
  const std::uint8_t mask = bit(mode);
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80 || !(specials[c] & mask)) continue;
    out.append(s.substr(run, i - run));
    append_escape(out, c, mode);
    run = i + 1;
  }
  out.append(s.substr(run));
}

// Whether a JSON value outside a string can be written as it is: a JSON number or a literal.
bool json_token(std::string_view v) {
  if (v == "true" || v == "false" || v == "null") return true;
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t from = i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
    return i > from;
  };
  if (i < v.size() && v[i] == '-') ++i;
  if (i < v.size() && v[i] == '0')
    ++i;
  else if (!digits())
    return false;
  if (i < v.size() && v[i] == '.' && (++i, !digits())) return false;
  if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
    ++i;
    if (i < v.size() && (v[i] == '+' || v[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == v.size();
}

// A value that needs more than a copy (escapes, quotes, a JSON value's own quotes), written in
// full into a buffer of the thread's: the rare case, out of line.
[[gnu::noinline]] std::string_view formatted(const format_piece& p, log_escaping mode,
                                             std::string_view v) {
  thread_local std::string out, valid;
  out.clear();
  if (!util::valid_utf8(v)) {  // client text need not be UTF-8
    valid.clear();
    util::append_valid_utf8(valid, v);
    v = valid;
  }
  const bool plain = clean(v, mode);
  auto put = [&] {
    if (plain)
      out.append(v);
    else
      append_escaped(out, v, mode);
  };
  // $context.error.messageString is error.message in quotes; in JSON a string value's token.
  const bool quoted = *p.var == context_var::error_message_string;
  switch (mode) {
    case log_escaping::json:
      if (p.in_json_string) {
        if (quoted) out.append("\\\"");
        put();
        if (quoted) out.append("\\\"");
      } else if (!quoted && plain && json_token(v)) {
        out.append(v);
      } else {
        out.push_back('"');
        put();
        out.push_back('"');
      }
      break;
    case log_escaping::csv:
      if (quoted || v.find_first_of(",\"") != std::string_view::npos) {
        // RFC 4180: the field in quotes, its own quotes doubled.
        out.append(quoted ? "\"\"\"" : "\"");
        append_escaped(out, v, mode);
        out.append(quoted ? "\"\"\"" : "\"");
      } else {
        put();
      }
      break;
    case log_escaping::xml:
    case log_escaping::text:
      if (quoted) out.append(mode == log_escaping::xml ? "&quot;" : "\"");
      put();
      if (quoted) out.append(mode == log_escaping::xml ? "&quot;" : "\"");
      break;
  }
  return out;
}

// Writes one variable's value as the format's escaping says (see log_escaping), with room for
// the rest of the line's fixed parts (`fixed_room`).
template <log_escaping Mode>
void emit(line_buffer& out, const format_piece& p, std::optional<std::string_view> value,
          std::size_t fixed_room) {
  if (!value || value->empty()) {  // (fixed_room counts this)
    if (Mode == log_escaping::json && !p.in_json_string)
      out.put(std::string_view("null"));
    else
      out.put('-');
    return;
  }
  const std::string_view v = *value;
  if ((Mode != log_escaping::json || p.in_json_string) &&
      *p.var != context_var::error_message_string) {
    out.room(v.size() + fixed_room);
    if (p.safe) {  // copied as it is
      out.put(v);
      return;
    }
    if (out.put_clean<Mode>(v)) return;  // the usual case: nothing in it needs escaping
  }
  const std::string_view text = formatted(p, Mode, v);
  out.room(text.size() + fixed_room);
  out.put(text);
}

// The line, written through `out`: the format's steps (see log_step), for a format of shape
// `Mode`.
template <log_escaping Mode>
std::string_view render_steps(line_buffer out, const access_log_format& format,
                              const request_facts& facts) {
  thread_local transform::context_scratch scratch;

  const char* const literals = format.literals.data();
  const std::size_t fixed_room = format.fixed_room;
  const auto& ex = facts.ex;
  out.room(fixed_room);
  for (const log_step& s : format.steps) {
    char* const at = out.put_padded(literals + s.literal_at, s.literal_size);
    for (std::size_t k = 0; k < s.patch_count; ++k) {
      char* const to = at + s.patches[k].offset;
      if (s.patches[k].kind == patch_kind::request_id)
        std::memcpy(to, ex.request_id, 36);
      else
        std::memcpy(to, "HTTP/1.1", 8);
    }
    switch (s.op) {  // the presets' usual variables, copied as they are
      case piece_op::end:
        return out.view();
      case piece_op::request_id:
        out.put_prefix(ex.request_id, 36);
        continue;
      case piece_op::request_time:
        if (ex.request_time.empty()) break;
        out.put_prefix(ex.request_time_text, ex.request_time.size());
        continue;
      case piece_op::status:
        if (facts.res.status < 0) break;
        out.put_number(static_cast<std::uint64_t>(facts.res.status));
        continue;
      case piece_op::response_length:
        out.put_number(facts.body_bytes);
        continue;
      case piece_op::protocol:
        out.put(std::string_view("HTTP/1.1"));
        continue;
      case piece_op::general:
        break;
    }
    const format_piece& p = format.pieces[s.piece];
    std::optional<std::string_view> v;
    if (std::string_view field; !p.from_response && transform::context_field(ex, *p.var, field))
      v = field;  // a field of the request, its most usual kind
    else
      v = value(facts, p, scratch);
    emit<Mode>(out, p, v, fixed_room);
  }
  return out.view();  // (the last step ends the line)
}

std::string_view render_into(line_buffer out, const access_log_format& format,
                             const request_facts& facts) {
  switch (format.escaping) {
    case log_escaping::json:
      return render_steps<log_escaping::json>(out, format, facts);
    case log_escaping::xml:
      return render_steps<log_escaping::xml>(out, format, facts);
    case log_escaping::csv:
      return render_steps<log_escaping::csv>(out, format, facts);
    case log_escaping::text:
      break;
  }
  return render_steps<log_escaping::text>(out, format, facts);
}

}  // namespace

std::string_view render_access_log_line(const access_log_format& format,
                                        const request_facts& facts) {
  return render_into(line_buffer{}, format, facts);
}

std::string_view render_access_log_line(const access_log_format& format, const request_facts& facts,
                                        std::span<char> room) {
  return render_into(line_buffer{room}, format, facts);
}

}  // namespace gatehouse::observe
