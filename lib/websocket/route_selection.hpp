#pragma once

// Which route a WebSocket message goes to: the API's route selection expression evaluated on
// the message's JSON ($request.body.action, or a template of ${request.body.…} parts).

#include "websocket/api_host.hpp"
#include "websocket/session.hpp"

#include <string>
#include <string_view>

namespace gatehouse::websocket {

/// The route a message goes to, with its key: the selected route, else $default; null when
/// neither exists.
const detail::websocket_route* route_for(const detail::websocket_api_state& api, message_kind kind,
                                         std::string_view body, std::string& key);

}  // namespace gatehouse::websocket
