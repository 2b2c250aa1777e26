// Metering reports: the store's counts over a span of hours, priced, as a struct, JSON and CSV;
// the Metering facade; GET /metering on the operator listener.

#include "observe/meter.hpp"
#include "observe/metering_endpoint.hpp"
#include "util/json_text.hpp"
#include "util/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <tuple>

namespace gatehouse {

namespace observe {
namespace {
using clock = std::chrono::system_clock;

std::int64_t seconds_of(clock::time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

// The parts of a store key after its prefix, decoded; empty when malformed.
std::vector<std::string> parts_of(std::string_view key, std::string_view prefix, std::size_t n) {
  std::vector<std::string> out;
  if (!key.starts_with(prefix)) return out;
  key.remove_prefix(prefix.size());
  for (;;) {
    const auto slash = key.find('/');
    out.push_back(util::percent_decode(key.substr(0, slash)));
    if (slash == std::string_view::npos) break;
    key.remove_prefix(slash + 1);
  }
  if (out.size() != n) out.clear();
  return out;
}

std::optional<std::int64_t> number(std::string_view s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<metrics_api_type> type_of(std::string_view s) {
  if (s == "rest") return metrics_api_type::rest;
  if (s == "http") return metrics_api_type::http;
  if (s == "websocket") return metrics_api_type::websocket;
  return std::nullopt;
}

constexpr double gib = 1024.0 * 1024.0 * 1024.0;

// The price table's cache size for a capacity: the first that holds it, else the largest.
std::pair<double, double> cache_size(const metering_prices& prices, std::uint64_t capacity) {
  const double gb = static_cast<double>(capacity) / gib;
  for (const auto& size : prices.cache_per_hour)
    if (gb <= size.first + 1e-9) return size;
  if (!prices.cache_per_hour.empty()) return prices.cache_per_hour.back();
  return {gb, 0.0};
}

double row_cost(const metering_row& r, const metering_prices& p) {
  double cost = static_cast<double>(r.bytes_out) / gib * p.data_out_per_gb;
  switch (r.type) {
    case metrics_api_type::rest:
      cost += static_cast<double>(r.units) * p.rest_per_million_calls / 1e6;
      break;
    case metrics_api_type::http:
      cost += static_cast<double>(r.units) * p.http_per_million_units / 1e6;
      break;
    case metrics_api_type::websocket:
      cost += static_cast<double>(r.units) * p.websocket_per_million_messages / 1e6 +
              static_cast<double>(r.connection_minutes) *
                  p.websocket_per_million_connection_minutes / 1e6;
      break;
  }
  return cost;
}

std::string iso(clock::time_point t) {
  const auto s = seconds_of(t);
  const auto day = std::chrono::sys_days{} + std::chrono::days{floor_div(s, 86400)};
  const std::chrono::year_month_day ymd{day};
  const auto in_day = s - floor_div(s, 86400) * 86400;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     in_day / 3600, in_day / 60 % 60, in_day % 60);
}

std::string money(double v) { return fmt::format("{:.6f}", v); }
}  // namespace

metering_report make_report(const std::vector<counts_record>& counts,
                            const std::vector<std::pair<std::string, std::string>>& caches,
                            clock::time_point from, clock::time_point to,
                            const metering_prices& prices) {
  metering_report out;
  out.from = from;
  out.to = to;
  // The hours that overlap [from, to): from the one `from` falls in, up to `to` (exclusive).
  const std::int64_t first = floor_div(seconds_of(from), 3600);
  const std::int64_t end = floor_div(seconds_of(to) + 3599, 3600);
  auto in_span = [&](std::string_view hour) {
    auto h = number(hour);
    return h && *h >= first && *h < end;
  };

  std::map<std::tuple<std::string, std::string, std::string, int, std::string>, metering_row> rows;
  for (const auto& rec : counts) {
    // hour / type / api id / api name / stage / key id
    const auto p = parts_of(rec.key, meter_counts_prefix, 6);
    if (p.empty() || !in_span(p[0])) continue;
    const auto type = type_of(p[1]);
    if (!type) continue;
    auto& r = rows[{p[2], p[4], p[5], static_cast<int>(*type), p[3]}];
    r.type = *type;
    r.api_id = p[2];
    r.api_name = p[3];
    r.stage = p[4];
    r.key_id = p[5];
    for (const auto& [name, value] : rec.counts) {
      const auto v = static_cast<std::uint64_t>(std::max<std::int64_t>(value, 0));
      const auto it = std::find(meter_field_names.begin(), meter_field_names.end(), name);
      switch (it == meter_field_names.end()
                  ? meter_field_count
                  : static_cast<meter_field>(it - meter_field_names.begin())) {
        case mf_billed:
          r.calls_billed += v;
          break;
        case mf_auth:
          r.auth_failures += v;
          break;
        case mf_api_key:
          r.invalid_api_keys += v;
          break;
        case mf_throttled:
          r.throttled += v;
          break;
        case mf_quota:
          r.quota_exceeded += v;
          break;
        case mf_unmatched:
          r.unmatched += v;
          break;
        case mf_bytes_in:
          r.request_bytes += v;
          break;
        case mf_bytes_out:
          r.bytes_out += v;
          break;
        case mf_units:
          r.units += v;
          break;
        case mf_connects:
          r.connects += v;
          break;
        case mf_messages_in:
          r.messages_in += v;
          break;
        case mf_messages_out:
          r.messages_out += v;
          break;
        case mf_connection_minutes:
          r.connection_minutes += v;
          break;
        default:
          break;  // a counter a newer gatehouse added
      }
    }
  }
  for (auto& [k, r] : rows) {
    r.cost = row_cost(r, prices);
    out.total_cost += r.cost;
    out.rows.push_back(std::move(r));
  }

  std::map<std::tuple<std::string, std::string, std::string, double>, metering_cache_row>
      cache_rows;
  for (const auto& [key, value] : caches) {
    // hour / api id / api name / stage
    const auto p = parts_of(key, meter_cache_prefix, 4);
    const auto capacity = number(value);
    if (p.empty() || !capacity || !in_span(p[0])) continue;
    const auto [size, per_hour] = cache_size(prices, static_cast<std::uint64_t>(*capacity));
    auto& r = cache_rows[{p[1], p[3], p[2], size}];
    r.api_id = p[1];
    r.api_name = p[2];
    r.stage = p[3];
    r.size_gb = size;
    ++r.hours;
    r.cost += per_hour;
  }
  for (auto& [k, r] : cache_rows) {
    out.total_cost += r.cost;
    out.caches.push_back(std::move(r));
  }
  return out;
}

std::optional<clock::time_point> parse_time(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (s.find_first_not_of("0123456789") == std::string_view::npos) {  // epoch seconds
    auto v = number(s);
    if (!v) return std::nullopt;
    return clock::time_point(std::chrono::seconds(*v));
  }
  // ISO 8601: YYYY-MM-DD, then optionally THH:MM[:SS[.fraction]] and Z or ±HH:MM (UTC
  // without a zone).
  auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    if (at + n > s.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2);
  if (!y || !mo || !d || s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{*y}, std::chrono::month(*mo),
                                        std::chrono::day(*d)};
  if (!ymd.ok()) return std::nullopt;
  std::int64_t secs = std::chrono::sys_days(ymd).time_since_epoch().count() * 86400;
  std::size_t at = 10;
  if (at < s.size() && (s[at] == 'T' || s[at] == 't' || s[at] == ' ')) {
    const auto h = digits(at + 1, 2), mi = digits(at + 4, 2);
    if (!h || !mi || s[at + 3] != ':' || *h > 23 || *mi > 59) return std::nullopt;
    secs += *h * 3600 + *mi * 60;
    at += 6;
    if (at < s.size() && s[at] == ':') {
      const auto sec = digits(at + 1, 2);
      if (!sec || *sec > 60) return std::nullopt;
      secs += *sec;
      at += 3;
      if (at < s.size() && (s[at] == '.' || s[at] == ',')) {
        ++at;
        const auto start = at;
        while (at < s.size() && s[at] >= '0' && s[at] <= '9') ++at;
        if (at == start) return std::nullopt;
      }
    }
    if (at < s.size() && (s[at] == 'Z' || s[at] == 'z')) {
      ++at;
    } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
      const auto oh = digits(at + 1, 2);
      std::size_t next = at + 3;
      std::optional<int> om = 0;
      if (next < s.size() && s[next] == ':') ++next;
      if (next < s.size()) {
        om = digits(next, 2);
        next += 2;
      }
      if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
      const int offset = (*oh * 3600 + *om * 60) * (s[at] == '+' ? 1 : -1);
      secs -= offset;
      at = next;
    }
  }
  if (at != s.size()) return std::nullopt;
  return clock::time_point(std::chrono::seconds(secs));
}

namespace {
response message(int status, std::string_view text) {
  response res;
  res.status = status;
  res.headers.add("Content-Type", "application/json");
  res.body = "{\"message\":";
  util::append_json_string(res.body, text);
  res.body += '}';
  return res;
}
}  // namespace

response metering_response(meter* m, const request& req) {
  std::string_view query;
  if (const auto q = req.target.find('?'); q != std::string::npos)
    query = std::string_view(req.target).substr(q + 1);
  // Defaults: everything, in JSON.
  clock::time_point from{}, to = clock::now() + std::chrono::hours(1);
  std::string format = "json";
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    const std::string name = util::percent_decode(pair.substr(0, eq), true);
    const std::string value =
        eq == std::string_view::npos ? "" : util::percent_decode(pair.substr(eq + 1), true);
    if (name == "from" || name == "to") {
      const auto t = parse_time(value);
      if (!t)
        return message(
            400, fmt::format("Invalid '{}': '{}' is not ISO 8601 or epoch seconds", name, value));
      (name == "from" ? from : to) = *t;
    } else if (name == "format") {
      if (value != "json" && value != "csv")
        return message(400, fmt::format("Invalid 'format': '{}' (json or csv)", value));
      format = value;
    } else {
      return message(400, fmt::format("Unknown parameter '{}' (from, to, format)", name));
    }
  }
  if (to < from) return message(400, "'to' is before 'from'");
  if (!m) return message(404, "Metering is off (gateway_options::metering)");
  metering_report report;
  try {
    report = m->report(from, to);
  } catch (const std::exception& e) {
    return message(503, fmt::format("The store did not answer: {}", e.what()));
  }
  response res;
  res.headers.add("Content-Type", format == "csv" ? "text/csv; charset=utf-8" : "application/json");
  res.body = format == "csv" ? to_csv(report) : to_json(report);
  return res;
}

}  // namespace observe

std::string to_json(const metering_report& report) {
  std::string out = fmt::format(R"({{"from":"{}","to":"{}","currency":"USD","rows":[)",
                                observe::iso(report.from), observe::iso(report.to));
  bool first = true;
  for (const auto& r : report.rows) {
    if (!first) out += ',';
    first = false;
    out += R"({"type":")";
    out += observe::type_name(r.type);
    out += R"(","api_id":)";
    util::append_json_string(out, r.api_id);
    out += R"(,"api_name":)";
    util::append_json_string(out, r.api_name);
    out += R"(,"stage":)";
    util::append_json_string(out, r.stage);
    out += R"(,"key_id":)";
    util::append_json_string(out, r.key_id);
    fmt::format_to(std::back_inserter(out),
                   R"(,"calls_billed":{},"auth_failures":{},"invalid_api_keys":{},"throttled":{},)"
                   R"("quota_exceeded":{},"unmatched":{},"request_bytes":{},"bytes_out":{},)"
                   R"("units":{},"connects":{},"messages_in":{},"messages_out":{},)"
                   R"("connection_minutes":{},"cost":{}}})",
                   r.calls_billed, r.auth_failures, r.invalid_api_keys, r.throttled,
                   r.quota_exceeded, r.unmatched, r.request_bytes, r.bytes_out, r.units, r.connects,
                   r.messages_in, r.messages_out, r.connection_minutes, observe::money(r.cost));
  }
  out += R"(],"caches":[)";
  first = true;
  for (const auto& c : report.caches) {
    if (!first) out += ',';
    first = false;
    out += R"({"api_id":)";
    util::append_json_string(out, c.api_id);
    out += R"(,"api_name":)";
    util::append_json_string(out, c.api_name);
    out += R"(,"stage":)";
    util::append_json_string(out, c.stage);
    fmt::format_to(std::back_inserter(out), R"(,"size_gb":{},"hours":{},"cost":{}}})", c.size_gb,
                   c.hours, observe::money(c.cost));
  }
  fmt::format_to(std::back_inserter(out), R"(],"total_cost":{}}})",
                 observe::money(report.total_cost));
  return out;
}

namespace {
// A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180); a leading
// = + - @ is prefixed with ' so that spreadsheets do not run names as formulas.
void append_csv(std::string& out, std::string_view s) {
  std::string v;
  if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')) v = "'";
  v.append(s);
  if (v.find_first_of(",\"\r\n") == std::string::npos) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}
}  // namespace

std::string to_csv(const metering_report& report) {
  std::string out =
      "row,type,api_id,api_name,stage,key_id,calls_billed,auth_failures,invalid_api_keys,"
      "throttled,quota_exceeded,unmatched,request_bytes,bytes_out,units,connects,messages_in,"
      "messages_out,connection_minutes,cache_size_gb,cache_hours,cost\r\n";
  auto names = [&](std::string_view row, std::string_view type, const std::string& id,
                   const std::string& name, const std::string& stage, const std::string& key) {
    out += row;
    out += ',';
    out += type;
    for (const auto* s : {&id, &name, &stage, &key}) {
      out += ',';
      append_csv(out, *s);
    }
  };
  for (const auto& r : report.rows) {
    names("calls", observe::type_name(r.type), r.api_id, r.api_name, r.stage, r.key_id);
    fmt::format_to(std::back_inserter(out), ",{},{},{},{},{},{},{},{},{},{},{},{},{},,,{}\r\n",
                   r.calls_billed, r.auth_failures, r.invalid_api_keys, r.throttled,
                   r.quota_exceeded, r.unmatched, r.request_bytes, r.bytes_out, r.units, r.connects,
                   r.messages_in, r.messages_out, r.connection_minutes, observe::money(r.cost));
  }
  for (const auto& c : report.caches) {
    names("cache", "rest", c.api_id, c.api_name, c.stage, {});
    fmt::format_to(std::back_inserter(out), ",,,,,,,,,,,,,,{},{},{}\r\n", c.size_gb, c.hours,
                   observe::money(c.cost));
  }
  fmt::format_to(std::back_inserter(out), "total,,,,,,,,,,,,,,,,,,,,,{}\r\n",
                 observe::money(report.total_cost));
  return out;
}

metering_report Metering::report(std::chrono::system_clock::time_point from,
                                 std::chrono::system_clock::time_point to) const {
  if (!meter_) {
    metering_report out;
    out.from = from;
    out.to = to;
    return out;
  }
  return meter_->report(from, to);
}

void Metering::flush() const {
  if (meter_) meter_->flush();
}

void Metering::prices(metering_prices prices) {
  if (meter_) meter_->prices(std::move(prices));
}

metering_prices Metering::prices() const { return meter_ ? meter_->prices() : metering_prices{}; }

}  // namespace gatehouse
