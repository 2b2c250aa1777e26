#include "observe/operator_endpoint.hpp"

namespace gatehouse::observe {

namespace {
response message(int status, std::string_view text) {
  response res;
  res.status = status;
  res.headers.add("Content-Type", "application/json");
  res.body.append("{\"message\":\"").append(text).append("\"}");
  return res;
}
}  // namespace

void operator_endpoint::add(std::string path, operator_handler handler) {
  paths_.emplace_back(std::move(path), std::move(handler));
}

response operator_endpoint::answer(const request& req) const noexcept {
  try {
    const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
    for (const auto& [p, handler] : paths_)
      if (p == path) {
        if (auto refused = refuse_method(req)) return std::move(*refused);
        return handler(req);
      }
    return message(404, "Not Found");
  } catch (...) {  // out of memory, or a handler that threw
    response res;
    res.status = 500;
    return res;
  }
}

std::optional<response> refuse_method(const request& req) {
  if (req.method == "GET" || req.method == "HEAD") return std::nullopt;
  response res = message(405, "Method Not Allowed");
  res.headers.add("Allow", "GET, HEAD");
  return res;
}

response exposition_response(const metrics_snapshot& snapshot, const request& req) {
  if (auto refused = refuse_method(req)) return std::move(*refused);
  const auto format = negotiate_exposition(req.headers.get("Accept").value_or(""));
  response res;
  res.headers.add("Content-Type", std::string(content_type(format)));
  res.body = to_exposition(snapshot, format);
  return res;
}

}  // namespace gatehouse::observe
