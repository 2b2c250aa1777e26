// What the library keeps for itself is out of a host's reach: the implementation objects behind
// the public handles, header_map's in-place fields and proxy_event's constructor from the
// request it views are private (the library reaches them through detail::access, lib/util/
// access.hpp). Checked at compile time with the public headers alone; never run.

#include <gatehouse/gatehouse.hpp>

#include <type_traits>

namespace {
template <class T>
concept exposes_impl = requires(const T& t) {
  t.impl();
};
template <class T>
concept exposes_state = requires(const T& t) {
  t.state();
};
template <class T>
concept exposes_data = requires(const T& t) {
  t.data();
};
template <class T>
concept exposes_share = requires(const T& t) {
  t.share();
};
template <class T>
concept exposes_core = requires(const T& t) {
  t.core();
};
template <class T>
concept exposes_writer = requires(const T& t) {
  t.writer();
};
template <class T>
concept fills_in_place = requires(T& t) {
  t.add_empty();
}
|| requires(T& t) { t.add_for_overwrite(); };
template <class T>
concept adds_fields = requires(T& t) {
  t.add("a", "b");
};
template <class T>
concept named = requires(const T& t) {
  t.name();
};

static_assert(!exposes_impl<gatehouse::integration>);
static_assert(!exposes_impl<gatehouse::Authorizer>);
static_assert(!exposes_impl<gatehouse::proxy_event>);
static_assert(!exposes_state<gatehouse::Stage>);
static_assert(!exposes_state<gatehouse::UsagePlan>);
static_assert(!exposes_state<gatehouse::WebSocketApi>);
static_assert(!exposes_state<gatehouse::WebSocketStage>);
static_assert(!exposes_data<gatehouse::Deployment>);
static_assert(!exposes_data<gatehouse::client_certificate>);
static_assert(!exposes_share<gatehouse::Deployment>);
static_assert(!exposes_core<gatehouse::http_client>);
static_assert(!exposes_writer<gatehouse::AccessLog>);
static_assert(!fills_in_place<gatehouse::header_map>);
// A host makes no proxy_event: the gateway hands one to its handlers.
static_assert(!std::is_constructible_v<gatehouse::proxy_event, const gatehouse::detail::exchange&,
                                       gatehouse::payload_format>);
// What hosts use stays public.
static_assert(adds_fields<gatehouse::header_map>);
static_assert(named<gatehouse::Stage>);
}  // namespace
