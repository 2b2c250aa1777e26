#include "http/body_source.hpp"

namespace gatehouse::wire {

asio::awaitable<std::error_code> drain(body_source& source, std::string& body) {
  if (auto n = source.length(); n && *n > body.size()) body.reserve(*n);
  std::string piece;
  for (bool done = false; !done;) {
    auto ec = co_await source.read(piece, done);
    if (ec) co_return ec;
    body.append(piece);
  }
  co_return std::error_code{};
}

}  // namespace gatehouse::wire
