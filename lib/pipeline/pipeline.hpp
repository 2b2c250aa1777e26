#pragma once

// The way of a request through the gateway, in AWS's order. Every entry point (the listener,
// async_dispatch, later the WebSocket upgrade) runs requests through run().

#include "http/body_source.hpp"
#include "routing/deployment.hpp"
#include "usage/key_registry.hpp"

#include <gatehouse/gateway.hpp>
#include <gatehouse/http.hpp>
#include <gatehouse/http_client.hpp>

#include <asio/awaitable.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace gatehouse::cache {
class flight_table;
}

namespace gatehouse::detail {

/// The stages a gateway serves, by name. Immutable; replaced as a whole on mount.
struct mount_table {
  std::map<std::string, std::shared_ptr<stage_state>, std::less<>> stages;
  bool all_http_apis = false;  // then an unknown stage answers 404 rather than 403
};

class pipeline {
 public:
  pipeline(asio::any_io_executor executor, gateway_options options);
  ~pipeline();

  /// Runs one request through every step and returns the response to send. Never throws.
  /// With `stream`, an integration may leave a large body to be read as it is sent: then the
  /// response's body holds its first bytes and *stream yields the rest.
  asio::awaitable<response> run(request& req,
                                std::unique_ptr<wire::body_source>* stream = nullptr) const;

  void mount(const std::shared_ptr<stage_state>& stage);
  void log(log_level level, std::string_view text) const;
  /// The client HTTP integrations call backends with.
  http_client& client() noexcept { return client_; }
  ApiKeys& api_keys() noexcept { return api_keys_; }
  /// Empties the stage's cache.
  void flush_cache(const stage_state& stage);
  /// A usage plan attached to a mounted stage, by id.
  std::shared_ptr<const plan_state> find_plan(std::string_view id) const;

 private:
  gateway_options options_;
  http_client client_;
  std::shared_ptr<store> store_;
  std::shared_ptr<key_registry> keys_;
  ApiKeys api_keys_;
  std::unique_ptr<cache::flight_table> flights_;  // misses under way, for coalescing
  std::atomic<std::shared_ptr<const mount_table>> mounts_{std::make_shared<mount_table>()};
  std::mutex mount_mutex_;
};

}  // namespace gatehouse::detail
