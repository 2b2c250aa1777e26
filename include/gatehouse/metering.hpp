#pragma once

// Metering: exact counts of what AWS API Gateway bills, per API, stage, API key and UTC hour,
// so that an operator can bill for it — calls (billed, and not billed by AWS's reasons), the
// bytes requests sent and the bytes the gateway wrote back, HTTP APIs' 512 KB units, WebSocket
// messages in 32 KB units and connection minutes, and the hours each stage cache was on.
//
// Counted per thread as requests are answered and added into the gateway's store every 10 s,
// on report() and when the gateway stops, each count exactly once: a store shared by several
// gateways (gateway_options::store) sums all of them. A report prices the counts with a price
// table, AWS's us-east-1 list prices unless the host sets its own. Gateway::listen_metrics
// serves it as GET /metering?from=…&to=…&format=json|csv.
//
// What is billed follows AWS's pricing notes:
// - not billed, and counted apart: authorization and authentication failures (gateway responses
//   UNAUTHORIZED, ACCESS_DENIED, EXPIRED_TOKEN, INVALID_SIGNATURE, MISSING_AUTHENTICATION_TOKEN
//   of a matched method, WAF_FILTERED, and AUTHORIZER_FAILURE / AUTHORIZER_CONFIGURATION_ERROR:
//   an authorizer that could not decide is a failed authorization); missing or invalid API keys
//   (INVALID_API_KEY); throttled requests (THROTTLED); quota-refused ones (QUOTA_EXCEEDED); and
//   requests no route matched (AWS's billing of those is unconfirmed; gatehouse does not bill
//   them). A request for no mounted stage counts under an empty API and stage.
// - billed: every other request, 4xx validation failures, 5xx and cache hits included.
// - request bytes: the request bodies; bytes out: everything written to the client for the
//   request, head and body, for every request (refused ones send bytes too).
// - units: REST, one per billed call; HTTP APIs, ceil(request bytes / 524,288) per billed call,
//   at least 1; WebSocket, ceil(message bytes / 32,768) per message each way, at least 1.
// - WebSocket connection minutes: per connection, its duration rounded up to whole minutes,
//   counted when it closes, in the hour it closes.
// - cache hours: each UTC hour in which the gateway found a stage's cache on when it flushed
//   (every 10 s while it listens), at the AWS size its capacity fits in.

#include <gatehouse/metrics.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace gatehouse {

namespace observe {
class meter;
}

/// Prices in US dollars. Defaults: AWS's us-east-1 list prices (2025), first tier, without the
/// free tier.
struct metering_prices {
  double rest_per_million_calls = 3.50;
  double http_per_million_units = 1.00;          ///< per million 512 KB units
  double websocket_per_million_messages = 1.00;  ///< per million 32 KB message units
  double websocket_per_million_connection_minutes = 0.25;
  double data_out_per_gb = 0.09;  ///< per GB (2^30 bytes) written to clients
  /// Cache price per hour by cache size in GB, smallest first; a stage cache is priced as the
  /// first size its capacity fits in (the last one beyond all).
  std::vector<std::pair<double, double>> cache_per_hour = {
      {0.5, 0.020},  {1.6, 0.038},  {6.1, 0.200}, {13.5, 0.250},
      {28.4, 0.500}, {58.2, 1.000}, {118, 1.900}, {237, 3.800}};
};

/// The counts of one API, stage and API key (empty key id: requests without a key) over a
/// report's hours.
struct metering_row {
  metrics_api_type type = metrics_api_type::rest;
  std::string api_id{}, api_name{}, stage{}, key_id{};
  std::uint64_t calls_billed = 0;
  // Not billed, by reason.
  std::uint64_t auth_failures = 0;     ///< authorization and authentication failures
  std::uint64_t invalid_api_keys = 0;  ///< missing or invalid API keys
  std::uint64_t throttled = 0;         ///< refused by a throttle
  std::uint64_t quota_exceeded = 0;    ///< refused by a usage plan's quota
  std::uint64_t unmatched = 0;         ///< no route (or no stage) matched
  std::uint64_t request_bytes = 0;     ///< request bodies (WebSocket: messages from clients)
  std::uint64_t bytes_out = 0;         ///< written to clients, head and body
  std::uint64_t units = 0;             ///< billing units (see above)
  // WebSocket APIs.
  std::uint64_t connects = 0;            ///< connections accepted
  std::uint64_t messages_in = 0;         ///< messages from clients
  std::uint64_t messages_out = 0;        ///< messages to clients
  std::uint64_t connection_minutes = 0;  ///< of connections that closed
  double cost = 0;                       ///< the estimate: units and bytes out, priced
};

/// The hours one stage cache was on.
struct metering_cache_row {
  std::string api_id{}, api_name{}, stage{};
  double size_gb = 0;  ///< the AWS cache size its capacity fits in
  std::uint64_t hours = 0;
  double cost = 0;
};

/// A report over whole UTC hours: those that overlap [from, to).
struct metering_report {
  std::chrono::system_clock::time_point from{}, to{};
  std::vector<metering_row> rows{};  ///< sorted by API id, stage, key id
  std::vector<metering_cache_row> caches{};
  double total_cost = 0;
};

/// The report as JSON: {"from","to" (ISO 8601, UTC), "currency":"USD", "rows":[{…}],
/// "caches":[{…}], "total_cost"}, row fields named as metering_row's members.
std::string to_json(const metering_report& report);
/// The report as CSV (RFC 4180, CRLF): a header line, then one line per row ("calls") and per
/// cache ("cache"), the first column saying which, with the total cost in a last line ("total").
std::string to_csv(const metering_report& report);

/// A gateway's metering (Gateway::metering()). Thread-safe.
class Metering {
 public:
  explicit Metering(std::shared_ptr<observe::meter> meter) : meter_(std::move(meter)) {}

  /// Adds what the threads counted into the store, then reads the counts of every instance
  /// sharing it for the hours that overlap [from, to). Throws what the store throws.
  metering_report report(std::chrono::system_clock::time_point from,
                         std::chrono::system_clock::time_point to) const;
  /// Adds what the threads counted into the store now (as every 10 s, and at stop).
  void flush() const;
  /// Replaces the price table reports use.
  void prices(metering_prices prices);
  metering_prices prices() const;

 private:
  std::shared_ptr<observe::meter> meter_;
};

}  // namespace gatehouse
