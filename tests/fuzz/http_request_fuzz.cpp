// Fuzz target: bytes from a client into the request parser, split at fuzzer-chosen points, as
// a connection feeds it. Nothing a client sends may crash the parser, make it read out of
// bounds, or leave it claiming more input than it was given.

#include "http/parser.hpp"
#include "routing/route_table.hpp"

#include <gatehouse/gatehouse.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {
constexpr std::string_view refused_in_query = "{|}";

const gatehouse::routing::route_table& routes() {
  static const auto table = [] {
    gatehouse::routing::route_table t;
    auto m = gatehouse::mock({});
    t.add("GET", "/pets", m);
    t.add("GET", "/pets/{petId}", m);
    t.add("ANY", "/files/{path+}", m);
    t.add("POST", "/a/b/{c}/d", m);
    return t;
  }();
  return table;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using status = gatehouse::wire::request_parser::status;
  // The first byte chooses the chunk size, so the fuzzer explores split points too.
  std::size_t chunk = size > 0 ? (data[0] % 64) + 1 : 1;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!input.empty()) input.remove_prefix(1);

  gatehouse::wire::request_parser parser(
      {.max_header_bytes = 2048, .max_uri_bytes = 1024, .max_body_bytes = 4096});
  gatehouse::request req;
  parser.start(req);
  std::size_t offset = 0;
  bool again = false;
  while (offset < input.size() || again) {
    again = false;
    auto piece = input.substr(offset, chunk);
    std::size_t used = 0;
    auto st = parser.feed(piece, used);
    if (used > piece.size()) std::abort();
    offset += used;
    if (st == status::error) {
      int code = parser.error_status();
      if (code < 400 || code > 599) std::abort();
      return 0;
    }
    if (st == status::head_complete) again = true;
    if (st == status::complete) {
      gatehouse::routing::route_match m;
      auto q = req.target.find('?');
      routes().match(req.method, std::string_view(req.target).substr(0, q), m);
      if (req.body.size() > 4096) std::abort();
      // What the parser lets through: a target of printable bytes without a fragment (and no
      // '{', '|', '}' in its query), field names without whitespace, and a Host on every
      // HTTP/1.1 request.
      for (std::size_t i = 0; i < req.target.size(); ++i) {
        const char c = req.target[i];
        if (c <= ' ' || c > '~' || c == '#') std::abort();
        if (q != std::string::npos && i > q && refused_in_query.find(c) != std::string_view::npos)
          std::abort();
      }
      for (const auto& f : req.headers)
        if (f.name.find_first_of(" \t") != std::string::npos) std::abort();
      if (!parser.http10() && !req.headers.contains("Host")) std::abort();
      parser.start(req);
      again = offset < input.size();
    }
    if (st == status::need_more && used == 0 && !again && piece.size() == 0) break;
  }
  parser.finish();
  return 0;
}
