#pragma once

// The library's own way to what the public types keep private (their implementation objects,
// the parser's in-place header fields, the event a handler views): friends of those types, so
// that hosts cannot reach them and the library needs no public back doors.

#include <gatehouse/access_log.hpp>
#include <gatehouse/authorizer.hpp>
#include <gatehouse/client_certificate.hpp>
#include <gatehouse/http.hpp>
#include <gatehouse/http_client.hpp>
#include <gatehouse/integration.hpp>
#include <gatehouse/router.hpp>
#include <gatehouse/stage.hpp>
#include <gatehouse/usage_plan.hpp>
#include <gatehouse/websocket_api.hpp>

#include <memory>

namespace gatehouse::detail {

struct access {
  static const authorizer_impl& impl(const Authorizer& a) noexcept { return a.impl(); }
  static const integration_impl& impl(const integration& i) noexcept { return i.impl(); }
  static const exchange& impl(const proxy_event& e) noexcept { return e.impl(); }
  static proxy_event event(const exchange& ex, payload_format format) noexcept {
    return proxy_event(ex, format);
  }
  static const client_certificate_data& data(const client_certificate& c) noexcept {
    return c.data();
  }
  static const deployment_data& data(const Deployment& d) noexcept { return d.data(); }
  static std::shared_ptr<const deployment_data> share(const Deployment& d) noexcept {
    return d.share();
  }
  static const std::shared_ptr<client_core>& core(const http_client& c) noexcept {
    return c.core();
  }
  static const std::shared_ptr<stage_state>& state(const Stage& s) noexcept { return s.state(); }
  static const std::shared_ptr<plan_state>& state(const UsagePlan& p) noexcept { return p.state(); }
  static const std::shared_ptr<websocket_api_state>& state(const WebSocketApi& a) noexcept {
    return a.state();
  }
  static const std::shared_ptr<websocket_stage_state>& state(const WebSocketStage& s) noexcept {
    return s.state();
  }
  static const std::shared_ptr<observe::log_writer>& writer(const AccessLog& l) noexcept {
    return l.writer();
  }
  /// header_map's fields filled in place by the parsers (see header_map::add_empty).
  static header_map::field& add_empty(header_map& h) { return h.add_empty(); }
  static header_map::field& add_for_overwrite(header_map& h) { return h.add_for_overwrite(); }
};

}  // namespace gatehouse::detail
