#include "observe/trace_context.hpp"

#include "pipeline/request_id.hpp"
#include "util/hex.hpp"
#include "util/text.hpp"

#include <array>
#include <cstring>

namespace gatehouse::observe {

namespace {

// Per byte: its value as a hex digit, or 0x10 when it is none (upper-case letters are none in
// the lower-case table: W3C's ids are lower-case only).
constexpr auto hex_table(bool upper_too) {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const int d = util::hex_value(static_cast<char>(c));
    t[static_cast<std::size_t>(c)] =
        d < 0 || (!upper_too && c >= 'A' && c <= 'F') ? 0x10 : static_cast<std::uint8_t>(d);
  }
  return t;
}
constexpr auto any_case_hex = hex_table(true);
constexpr auto lower_case_hex = hex_table(false);

// `digits` (at most 16) hex digits as a number, one table lookup each without a branch; false
// when one is not a digit of `table`.
bool parse_hex(std::string_view digits, std::uint64_t& out,
               const std::array<std::uint8_t, 256>& table = any_case_hex) noexcept {
  std::uint64_t v = 0;
  unsigned bad = 0;
  for (char c : digits) {
    const std::uint8_t d = table[static_cast<unsigned char>(c)];
    bad |= d;
    v = (v << 4) | (d & 15u);
  }
  out = v;
  return (bad & 0x10u) == 0;
}

struct incoming {
  std::uint64_t high = 0, low = 0, parent = 0;
  sampling sampled = sampling::undecided;
};

// X-Amzn-Trace-Id: Root=1-<8 hex>-<24 hex>[;Parent=<16 hex>][;Sampled=0|1|?], other keys
// (Self=, Lineage=) ignored. False without a valid Root.
bool parse_amzn(std::string_view value, incoming& in) noexcept {
  bool root = false;
  while (!value.empty()) {
    const auto semi = value.find(';');
    const std::string_view part = util::trim_blanks(value.substr(0, semi));
    value = semi == std::string_view::npos ? std::string_view{} : value.substr(semi + 1);
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view k = part.substr(0, eq), v = part.substr(eq + 1);
    if (k == "Root") {
      std::uint32_t time = 0, mid = 0;
      std::uint64_t low = 0;
      if (v.size() != 35 || v[0] != '1' || v[1] != '-' || v[10] != '-' ||
          !util::parse_hex8<true>(v.data() + 2, time) ||
          !util::parse_hex8<true>(v.data() + 11, mid) ||
          !util::parse_hex16<true>(v.data() + 19, low) || (time == 0 && mid == 0 && low == 0))
        return false;
      in.high = (std::uint64_t{time} << 32) | mid;
      in.low = low;
      root = true;
    } else if (k == "Parent") {
      std::uint64_t p = 0;
      if (v.size() == 16 && util::parse_hex16<true>(v.data(), p)) in.parent = p;
    } else if (k == "Sampled") {
      if (v == "1") in.sampled = sampling::sampled;
      if (v == "0") in.sampled = sampling::not_sampled;
    }
  }
  return root;
}

// traceparent: <version>-<32 lowhex>-<16 lowhex>-<2 hex flags>; version ff, all-zero ids and
// bad hex are invalid; version 00 has exactly these four parts, later versions may add more.
bool parse_traceparent(std::string_view v, incoming& in) noexcept {
  v = util::trim_blanks(v);
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  std::uint64_t version = 0, high = 0, low = 0, parent = 0, flags = 0;
  if (!parse_hex(v.substr(0, 2), version, lower_case_hex) || version == 0xff) return false;
  if (version == 0 ? v.size() != 55 : (v.size() > 55 && v[55] != '-')) return false;
  if (!util::parse_hex16<false>(v.data() + 3, high) ||
      !util::parse_hex16<false>(v.data() + 19, low) ||
      !util::parse_hex16<false>(v.data() + 36, parent) || !parse_hex(v.substr(53, 2), flags))
    return false;
  if ((high == 0 && low == 0) || parent == 0) return false;
  in.high = high;
  in.low = low;
  in.parent = parent;
  in.sampled = (flags & 1) ? sampling::sampled : sampling::not_sampled;
  return true;
}

// A tracestate worth passing on: at most 32 members and 512 characters, no control characters.
bool usable_tracestate(std::string_view s) noexcept {
  if (s.empty() || s.size() > 512) return false;
  int members = 1;
  for (char c : s) {
    if (c == ',') ++members;
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return members <= 32;
}

std::uint64_t nonzero_random() noexcept {
  for (;;)
    if (auto v = detail::random_bits()) return v;
}

}  // namespace

void begin_trace(trace_context& t, const header_map& headers, std::int64_t epoch_seconds) noexcept {
  std::string_view amzn, parent, state;
  for (const auto& f : headers) {
    const std::string_view n = f.name;
    if (n.size() == 15 && util::iequals(n, "x-amzn-trace-id"))
      amzn = f.value;
    else if (n.size() == 11 && util::iequals(n, "traceparent"))
      parent = f.value;
    else if (n.size() == 10 && util::iequals(n, "tracestate"))
      state = f.value;
  }
  t.client_traceparent = !parent.empty();
  incoming in, w3c;
  const bool from_amzn = !amzn.empty() && parse_amzn(amzn, in);
  const bool from_w3c = !parent.empty() && parse_traceparent(parent, w3c);
  if (from_amzn) {
    // The W3C header's state belongs to its own trace: kept only when that is the same one.
    if (from_w3c && w3c.high == in.high && w3c.low == in.low && usable_tracestate(state))
      t.tracestate = state;
  } else if (from_w3c) {
    in = w3c;
    if (usable_tracestate(state)) t.tracestate = state;
  }
  if (from_amzn || from_w3c) {
    t.trace_high = in.high;
    t.trace_low = in.low;
    t.parent = in.parent;
    t.sampled = in.sampled;
  } else {
    t.trace_high = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(epoch_seconds)) << 32) |
                   (detail::random_bits() & 0xffffffffu);
    t.trace_low = detail::random_bits();
    t.started_here = true;
  }
  t.span = nonzero_random();
  t.integration_span = nonzero_random();
}

void write_trace_id(const trace_context& t, char (&out)[32]) noexcept {
  detail::write_hex16(t.trace_high, out);
  detail::write_hex16(t.trace_low, out + 16);
}

void write_xray_trace_id(const trace_context& t, char (&out)[35]) noexcept {
  char hex[32];
  write_trace_id(t, hex);
  out[0] = '1';
  out[1] = '-';
  std::memcpy(out + 2, hex, 8);
  out[10] = '-';
  std::memcpy(out + 11, hex + 8, 24);
}

std::string_view amzn_trace_header(const trace_context& t) noexcept {
  if (t.amzn_size == 0) {
    char* p = t.amzn_text;
    auto put = [&](std::string_view s) {
      std::memcpy(p, s.data(), s.size());
      p += s.size();
    };
    put("Root=");
    char xray[35];
    write_xray_trace_id(t, xray);
    put({xray, sizeof xray});
    put(";Parent=");
    detail::write_hex16(t.integration_span, p);
    p += 16;
    if (t.sampled != sampling::undecided) put(t.is_sampled() ? ";Sampled=1" : ";Sampled=0");
    t.amzn_size = static_cast<std::uint8_t>(p - t.amzn_text);
  }
  return {t.amzn_text, t.amzn_size};
}

void write_traceparent(const trace_context& t, char (&out)[55]) noexcept {
  out[0] = '0';
  out[1] = '0';
  out[2] = '-';
  char id[32];
  write_trace_id(t, id);
  std::memcpy(out + 3, id, 32);
  out[35] = '-';
  detail::write_hex16(t.integration_span, out + 36);
  out[52] = '-';
  out[53] = '0';
  out[54] = t.is_sampled() ? '1' : '0';
}

void append_trace_fields(const trace_context& t, std::string& out) {
  out.append("X-Amzn-Trace-Id: ").append(amzn_trace_header(t)).append("\r\n");
  char parent[55];
  write_traceparent(t, parent);
  out.append("traceparent: ").append(parent, sizeof parent).append("\r\n");
  if (!t.tracestate.empty()) out.append("tracestate: ").append(t.tracestate).append("\r\n");
}

bool is_trace_field(std::string_view n) noexcept {
  return util::iequals(n, "x-amzn-trace-id") || util::iequals(n, "traceparent") ||
         util::iequals(n, "tracestate");
}

}  // namespace gatehouse::observe

namespace gatehouse::observe {

std::optional<std::string_view> trace_field(const trace_context& t,
                                            std::string_view name) noexcept {
  if (util::iequals(name, "x-amzn-trace-id")) return amzn_trace_header(t);
  if (!t.client_traceparent) return std::nullopt;
  if (util::iequals(name, "traceparent")) {
    if (t.traceparent_text[0] == '\0') write_traceparent(t, t.traceparent_text);
    return std::string_view(t.traceparent_text, sizeof t.traceparent_text);
  }
  if (!t.tracestate.empty()) return t.tracestate;
  return std::nullopt;
}

}  // namespace gatehouse::observe
