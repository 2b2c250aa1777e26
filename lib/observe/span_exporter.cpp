#include "observe/span_exporter.hpp"

#include "pipeline/request_id.hpp"
#include "util/text.hpp"

#include <gatehouse/config_error.hpp>

#include <gatehouse/http_client.hpp>

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <asio/io_context.hpp>

#include <chrono>
#include <optional>

namespace gatehouse::observe {

namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void text(json_writer& w, std::string_view s) {
  w.String(s.empty() ? "" : s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void hex_id(json_writer& w, std::uint64_t high, std::uint64_t low, bool wide) {
  char out[32];
  detail::write_hex16(high, out);
  if (wide) detail::write_hex16(low, out + 16);
  w.String(out, wide ? 32 : 16);
}

void attribute(json_writer& w, std::string_view key, std::string_view value) {
  w.StartObject();
  w.Key("key");
  text(w, key);
  w.Key("value");
  w.StartObject();
  w.Key("stringValue");
  text(w, value);
  w.EndObject();
  w.EndObject();
}

}  // namespace

std::string otlp_json(const std::vector<span_record>& spans, std::string_view service_name) {
  rapidjson::StringBuffer buffer;
  json_writer w(buffer);
  w.StartObject();
  w.Key("resourceSpans");
  w.StartArray();
  w.StartObject();
  w.Key("resource");
  w.StartObject();
  w.Key("attributes");
  w.StartArray();
  attribute(w, "service.name", service_name);
  attribute(w, "telemetry.sdk.name", "gatehouse");
  w.EndArray();
  w.EndObject();
  w.Key("scopeSpans");
  w.StartArray();
  w.StartObject();
  w.Key("scope");
  w.StartObject();
  w.Key("name");
  w.String("gatehouse");
  w.EndObject();
  w.Key("spans");
  w.StartArray();
  for (const auto& s : spans) {
    w.StartObject();
    w.Key("traceId");
    hex_id(w, s.trace_high, s.trace_low, true);
    w.Key("spanId");
    hex_id(w, s.span, 0, false);
    if (s.parent != 0) {
      w.Key("parentSpanId");
      hex_id(w, s.parent, 0, false);
    }
    w.Key("name");
    text(w, s.name);
    w.Key("kind");
    w.Int(s.kind);
    // OTLP JSON writes 64-bit integers as strings.
    w.Key("startTimeUnixNano");
    text(w, std::to_string(s.start_unix_ns));
    w.Key("endTimeUnixNano");
    text(w, std::to_string(s.end_unix_ns));
    w.Key("attributes");
    w.StartArray();
    for (const auto& [k, v] : s.text_attributes) attribute(w, k, v);
    for (const auto& [k, v] : s.int_attributes) {
      w.StartObject();
      w.Key("key");
      text(w, k);
      w.Key("value");
      w.StartObject();
      w.Key("intValue");
      text(w, std::to_string(v));
      w.EndObject();
      w.EndObject();
    }
    w.EndArray();
    w.Key("status");
    w.StartObject();
    if (s.error) {
      w.Key("code");
      w.Int(2);
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

header_map parse_otlp_headers(std::string_view text) {
  header_map out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = util::trim_blanks(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    const std::string_view name = item.substr(0, eq);
    bool token = !name.empty() && eq != std::string_view::npos;
    for (char c : name)
      token = token && c > 0x20 && c < 0x7f &&
              std::string_view("()<>@,;:\\\"/[]?={}").find(c) == std::string_view::npos;
    std::string value =
        eq == std::string_view::npos ? std::string() : util::percent_decode(item.substr(eq + 1));
    for (char c : value) token = token && c != '\r' && c != '\n' && c != '\0';
    if (!token)
      throw config_error(fmt::format(
          "tracing: otlp_headers: '{}' is not name=value (a field name, a percent-encoded value)",
          item));
    out.add(std::string(name), std::move(value));
  }
  return out;
}

span_exporter::span_exporter(tracing_options options)
    : options_(std::move(options)),
      enabled_(!options_.otlp_endpoint.empty()),
      headers_(parse_otlp_headers(options_.otlp_headers)) {
  if (options_.max_batch_spans == 0) options_.max_batch_spans = 1;
  if (!(options_.fixed_rate >= 0 && options_.fixed_rate <= 1))
    throw config_error(
        fmt::format("tracing: fixed_rate {} is not between 0 and 1", options_.fixed_rate));
  if (enabled_) thread_ = std::thread([this] { run(); });
}

span_exporter::~span_exporter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

bool span_exporter::sample(std::int64_t second) noexcept {
  auto seen = reservoir_second_.load(std::memory_order_relaxed);
  if (seen != second && reservoir_second_.compare_exchange_strong(seen, second))
    reservoir_used_.store(0, std::memory_order_relaxed);
  if (reservoir_used_.fetch_add(1, std::memory_order_relaxed) < options_.reservoir_per_second)
    return true;
  // 53 random bits as a fraction in [0, 1).
  const double draw = static_cast<double>(detail::random_bits() >> 11) * 0x1.0p-53;
  return draw < options_.fixed_rate;
}

void span_exporter::push(std::vector<span_record>&& spans) noexcept {
  if (!enabled_) return;
  bool full_batch = false;
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() + spans.size() > options_.max_queued_spans) {
      dropped_.fetch_add(spans.size(), std::memory_order_relaxed);
      return;
    }
    try {
      for (auto& s : spans) queue_.push_back(std::move(s));
    } catch (...) {
      dropped_.fetch_add(spans.size(), std::memory_order_relaxed);
      return;
    }
    full_batch = queue_.size() >= options_.max_batch_spans;
  }
  if (full_batch) wake_.notify_one();
}

tracing_statistics span_exporter::statistics() const noexcept {
  return {exported_.load(std::memory_order_relaxed), dropped_.load(std::memory_order_relaxed),
          failed_.load(std::memory_order_relaxed)};
}

void span_exporter::run() {
  // The exporter's own connection pool, on an io_context only this thread runs.
  asio::io_context io{1};
  http_client client(io.get_executor());
  for (;;) {
    std::vector<span_record> batch;
    bool last = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, options_.export_interval,
                     [&] { return stopping_ || queue_.size() >= options_.max_batch_spans; });
      const std::size_t n = std::min(queue_.size(), options_.max_batch_spans);
      batch.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      last = stopping_ && queue_.empty();
    }
    if (!batch.empty()) {
      if (send(io, client, otlp_json(batch, options_.service_name)))
        exported_.fetch_add(batch.size(), std::memory_order_relaxed);
      else
        dropped_.fetch_add(batch.size(), std::memory_order_relaxed);
    }
    if (last) return;
  }
}

// One export, on this thread's own io_context: retried (up to three times, backing off) when
// the collector answers 429, 502, 503 or 504 or cannot be reached, as OTLP/HTTP asks.
bool span_exporter::send(asio::io_context& io, http_client& client, const std::string& body) {
  std::chrono::milliseconds backoff{100};
  for (int attempt = 0; attempt < 4; ++attempt) {
    client_request req;
    req.method = "POST";
    req.url = options_.otlp_endpoint;
    req.headers = headers_;
    req.headers.add("Content-Type", "application/json");
    req.body = body;
    req.timeout = options_.export_timeout;
    std::optional<std::pair<asio::error_code, response>> result;
    client.async_request(std::move(req), [&](asio::error_code ec, response res) {
      result.emplace(ec, std::move(res));
    });
    io.restart();
    while (!result) io.run_one();
    if (result && !result->first && result->second.status / 100 == 2) return true;
    const int status = result && !result->first ? result->second.status : 0;
    const bool retry =
        status == 0 || status == 429 || status == 502 || status == 503 || status == 504;
    {
      std::unique_lock lock(mutex_);
      if (!retry || stopping_) break;
      wake_.wait_for(lock, backoff, [&] { return stopping_; });
    }
    backoff *= 2;
  }
  failed_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

}  // namespace gatehouse::observe
