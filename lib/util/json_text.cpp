#include "util/json_text.hpp"

#include <gatehouse/text.hpp>

#include <cstdint>
#include <cstring>

namespace gatehouse::util {

namespace {
constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// At a byte over 0x7F: the length of the well-formed sequence that starts there (Unicode 15,
// table 3-7), or minus the length of the maximal subpart of an ill-formed one, which one
// U+FFFD replaces (at least one byte).
int utf8_step(const unsigned char* p, std::size_t n) noexcept {
  const unsigned char c = p[0];
  int len;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // past U+10FFFF
  } else {
    return -1;  // a continuation byte, C0, C1 or F5..FF: never in UTF-8
  }
  for (int k = 1; k < len; ++k) {
    if (static_cast<std::size_t>(k) >= n) return -k;
    const unsigned char b = p[k];
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return -k;
  }
  return len;
}
}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  out.push_back('"');
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c >= 0x80) {
      const int step = utf8_step(p + i, n - i);
      if (step > 0) {
        out.append(s.data() + i, static_cast<std::size_t>(step));
        i += static_cast<std::size_t>(step);
      } else {
        out.append(replacement);
        i += static_cast<std::size_t>(-step);
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        if (c < 0x20) {
          out.append("\\u00");
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void append_valid_utf8(std::string& out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t run = 0;  // the start of bytes not yet appended
  for (std::size_t i = 0; i < n;) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const int step = utf8_step(p + i, n - i);
    if (step > 0) {
      i += static_cast<std::size_t>(step);
      continue;
    }
    out.append(s.data() + run, i - run);
    out.append(replacement);
    i += static_cast<std::size_t>(-step);
    run = i;
  }
  out.append(s.data() + run, n - run);
}

void make_valid_utf8(std::string& s) {
  if (valid_utf8(s)) return;
  std::string fixed;
  fixed.reserve(s.size() + s.size() / 2);
  append_valid_utf8(fixed, s);
  s.swap(fixed);
}

bool valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0, n = s.size();
  // ASCII runs, eight bytes at a time.
  auto ascii8 = [&](std::size_t at) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + at, 8);
    return (w & 0x8080808080808080ull) == 0;
  };
  while (i < n) {
    if (i + 8 <= n && ascii8(i)) {
      i += 8;
      continue;
    }
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return false;
    i += len;
  }
  return true;
}

namespace {
constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
int b64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    std::uint32_t v = (std::uint32_t(std::uint8_t(in[i])) << 16) |
                      (std::uint32_t(std::uint8_t(in[i + 1])) << 8) | std::uint8_t(in[i + 2]);
    out.push_back(b64[v >> 18]);
    out.push_back(b64[(v >> 12) & 63]);
    out.push_back(b64[(v >> 6) & 63]);
    out.push_back(b64[v & 63]);
  }
  if (i + 1 == in.size()) {
    std::uint32_t v = std::uint32_t(std::uint8_t(in[i])) << 16;
    out.push_back(b64[v >> 18]);
    out.push_back(b64[(v >> 12) & 63]);
    out.append("==");
  } else if (i + 2 == in.size()) {
    std::uint32_t v =
        (std::uint32_t(std::uint8_t(in[i])) << 16) | (std::uint32_t(std::uint8_t(in[i + 1])) << 8);
    out.push_back(b64[v >> 18]);
    out.push_back(b64[(v >> 12) & 63]);
    out.push_back(b64[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

bool base64_decode(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 != 0) return false;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = in[i + k];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else {
        if (pad) return false;  // data after padding
        v[k] = b64_value(c);
        if (v[k] < 0) return false;
      }
    }
    std::uint32_t w = (std::uint32_t(v[0]) << 18) | (std::uint32_t(v[1]) << 12) |
                      (std::uint32_t(v[2]) << 6) | std::uint32_t(v[3]);
    out.push_back(static_cast<char>(w >> 16));
    if (pad < 2) out.push_back(static_cast<char>((w >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(w & 0xFF));
  }
  return true;
}

}  // namespace gatehouse::util

namespace gatehouse {

std::string as_valid_utf8(std::string_view text) {
  std::string out;
  if (util::valid_utf8(text)) return out.assign(text);
  out.reserve(text.size() + text.size() / 2);
  util::append_valid_utf8(out, text);
  return out;
}

std::string json_string(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  util::append_json_string(out, text);
  return out;
}

}  // namespace gatehouse
