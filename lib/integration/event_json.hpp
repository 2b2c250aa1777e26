#pragma once

// The proxy event's members, for the events that embed them: AWS's Lambda authorizers are sent
// the request's event beside their own fields (type, methodArn or routeArn, identitySource).

#include "pipeline/exchange.hpp"

#include <gatehouse/integration.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace gatehouse::detail {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Writes the members of the proxy event of `ex` in `format` into an object `w` has open;
/// without `body` and `isBase64Encoded` when `with_body` is false (authorizer events carry no
/// body). String bytes are written as they are: the caller makes the text valid UTF-8.
void write_proxy_event_members(json_writer& w, const exchange& ex, payload_format format,
                               bool with_body);

}  // namespace gatehouse::detail
