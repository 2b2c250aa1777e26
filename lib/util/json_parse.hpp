#pragma once

// The one way gatehouse parses JSON that comes from outside: client bodies and WebSocket
// messages, tokens, authorizer and Lambda results, stage variables' and templates' JSON. It never
// recurses (RapidJSON's default parser takes a stack frame per level: a 1 MB "[[[…" overflows the
// stack) and it refuses nesting deeper than max_json_depth, so that what walks the document
// afterwards (validation, templates, RapidJSON's own writer and copies, which recurse) runs on a
// bounded stack. Its cost is linear in the text.

#include <rapidjson/document.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace gatehouse::util {

/// The deepest nesting accepted: Jackson's default (StreamReadConstraints, 2.15 on), what AWS's
/// Java services take. Deeper text is refused as not JSON.
inline constexpr unsigned max_json_depth = 1000;

struct json_parse_result {
  rapidjson::ParseErrorCode code = rapidjson::kParseErrorNone;
  std::size_t offset = 0;  // of the error in the text
  bool too_deep = false;   // nested deeper than allowed (code is kParseErrorTermination)

  explicit operator bool() const noexcept { return code == rapidjson::kParseErrorNone; }
  /// What went wrong, in RapidJSON's words ("Missing a comma or ']' after an array element.")
  /// or "Nesting too deep."
  std::string message() const;
};

namespace json_detail {
// Passes SAX events on to a document, counting the depth.
template <class Handler>
class depth_limit {
 public:
  using Ch = typename Handler::Ch;
  depth_limit(Handler& to, unsigned max_depth) : to_(to), max_depth_(max_depth) {}
  bool Null() { return to_.Null(); }
  bool Bool(bool b) { return to_.Bool(b); }
  bool Int(int i) { return to_.Int(i); }
  bool Uint(unsigned u) { return to_.Uint(u); }
  bool Int64(std::int64_t i) { return to_.Int64(i); }
  bool Uint64(std::uint64_t u) { return to_.Uint64(u); }
  bool Double(double d) { return to_.Double(d); }
  bool RawNumber(const Ch* s, rapidjson::SizeType n, bool copy) {
    return to_.RawNumber(s, n, copy);
  }
  bool String(const Ch* s, rapidjson::SizeType n, bool copy) { return to_.String(s, n, copy); }
  bool Key(const Ch* s, rapidjson::SizeType n, bool copy) { return to_.Key(s, n, copy); }
  bool StartObject() { return enter() && to_.StartObject(); }
  bool EndObject(rapidjson::SizeType n) { return --depth_, to_.EndObject(n); }
  bool StartArray() { return enter() && to_.StartArray(); }
  bool EndArray(rapidjson::SizeType n) { return --depth_, to_.EndArray(n); }
  bool too_deep() const noexcept { return too_deep_; }

 private:
  bool enter() {
    if (++depth_ <= max_depth_) return true;
    too_deep_ = true;
    return false;
  }
  Handler& to_;
  unsigned max_depth_;
  unsigned depth_ = 0;
  bool too_deep_ = false;
};

template <unsigned Flags, class Document, class Stream>
json_parse_result parse(Document& doc, Stream& in, unsigned max_depth) {
  using encoding = typename Document::EncodingType;
  json_parse_result result;
  auto generate = [&](Document& handler) {
    depth_limit<Document> limited(handler, max_depth);
    // The parse's own stack in the document's allocator: a document on stack space parses
    // without allocating.
    rapidjson::GenericReader<encoding, encoding, typename Document::AllocatorType> reader(
        &handler.GetAllocator());
    auto r = reader.template Parse<Flags | rapidjson::kParseIterativeFlag>(in, limited);
    result.code = r.Code();
    result.offset = r.Offset();
    result.too_deep = limited.too_deep();
    return !r.IsError();
  };
  doc.Populate(generate);
  if (!result) doc.SetNull();
  return result;
}

// A NUL byte can only be trailing garbage in JSON text, which RapidJSON would take for its end.
inline json_parse_result nul_byte_at(std::string_view text) {
  json_parse_result r;
  if (text.empty()) return r;  // data() may be null, which memchr must not see
  if (const void* nul = std::memchr(text.data(), '\0', text.size())) {
    r.code = rapidjson::kParseErrorDocumentRootNotSingular;
    r.offset = static_cast<std::size_t>(static_cast<const char*>(nul) - text.data());
  }
  return r;
}
}  // namespace json_detail

/// Parses `text` into `doc` (any RapidJSON document type), with RapidJSON's parse flags `Flags`
/// added to the iterative parse (e.g. kParseValidateEncodingFlag, kParseStopWhenDoneFlag). On
/// failure `doc` is null. `max_depth` may be set lower than the default, never higher.
template <unsigned Flags = 0, class Document>
json_parse_result parse_json(Document& doc, std::string_view text,
                             unsigned max_depth = max_json_depth) {
  if (auto nul = json_detail::nul_byte_at(text); !nul) {
    doc.SetNull();
    return nul;
  }
  rapidjson::MemoryStream bytes(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(bytes);
  return json_detail::parse<Flags>(doc, in, max_depth);
}

/// As parse_json, in place in `buffer`: a NUL-terminated copy of `text` that the document's
/// strings then point into.
template <unsigned Flags = 0, class Document>
json_parse_result parse_json_in_place(Document& doc, std::string_view text, char* buffer,
                                      unsigned max_depth = max_json_depth) {
  if (auto nul = json_detail::nul_byte_at(text); !nul) {
    doc.SetNull();
    return nul;
  }
  rapidjson::GenericInsituStringStream<typename Document::EncodingType> in(buffer);
  return json_detail::parse<Flags | rapidjson::kParseInsituFlag>(doc, in, max_depth);
}

}  // namespace gatehouse::util
