#pragma once

// One client connection of gatehouse's own server: reads requests with the llhttp glue, runs
// each through the pipeline, writes responses in order (pipelining), enforces the limits.

#include "net/server.hpp"

#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>

#include <memory>
#include <string_view>

namespace gatehouse::net {

/// Starts serving an accepted socket (on its own strand); plain HTTP when `tls` is null.
/// `private_endpoint` is the listener's private endpoint id ("" for a public listener);
/// `operator_paths`, when set, answers every request instead of the APIs (an operator
/// listener: GET /metrics).
void start_connection(const std::shared_ptr<server>& srv, asio::ip::tcp::socket socket,
                      const std::shared_ptr<asio::ssl::context>& tls,
                      std::string_view private_endpoint,
                      std::shared_ptr<const observe::operator_endpoint> operator_paths = {});

}  // namespace gatehouse::net
