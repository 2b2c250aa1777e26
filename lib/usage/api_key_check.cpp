#include "usage/api_key_check.hpp"

namespace gatehouse::usage {

using detail::gateway_error;

std::optional<gateway_error> check_api_key(detail::exchange& ex, const detail::key_registry& keys,
                                           bool* fetch) {
  if (!ex.match.options || !ex.match.options->api_key_required) return std::nullopt;
  const auto source = ex.stage->deployment->api.key_source;
  std::string_view value = source == api_key_source::header
                               ? ex.req.headers.get("x-api-key").value_or(std::string_view{})
                               : ex.authorizer_usage_key;
  // A client error, not the gateway's: nothing for the log.
  auto forbidden = [] { return gateway_error{response_type::invalid_api_key}; };
  if (value.empty()) return forbidden();  // no key
  auto key = keys.find(value);
  if (!key && fetch && keys.state_store().shared()) {  // perhaps made by another instance
    *fetch = true;
    ex.api_key_value = value;
    return std::nullopt;
  }
  if (!key || !key->enabled) return forbidden();  // unknown or disabled
  for (const auto& p : ex.stage->plans)
    if (key->in_plan(p.plan->options.id)) {
      ex.plan = &p;
      break;
    }
  if (!ex.plan) return forbidden();  // in no usage plan of this stage
  ex.api_key_value = value;
  ex.api_key = std::move(key);
  return std::nullopt;
}

}  // namespace gatehouse::usage
