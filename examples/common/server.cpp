#include "server.hpp"

#include <asio/signal_set.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

namespace examples {

bool listener_flags::take(std::string_view flag, const std::function<std::string()>& value) {
  if (flag == "--listen")
    listen = value();
  else if (flag == "--cert")
    cert = value();
  else if (flag == "--key")
    key = value();
  else if (flag == "--http")
    http = true;
  else if (flag == "--threads")
    threads = std::atoi(value().c_str());
  else if (flag == "--metrics-listen")
    metrics_listen = value();
  else if (flag == "--detailed-metrics")
    detailed_metrics = true;
  else if (flag == "--no-metrics")
    no_metrics = true;
  else if (flag == "--tracing")
    tracing = true;
  else if (flag == "--otlp-endpoint")
    otlp_endpoint = value();
  else if (flag == "--no-metering")
    no_metering = true;
  else if (flag == "--store")
    store = value();
  else if (flag == "--cache-store")
    cache_store = value();
  else if (flag == "--store-fail") {
    const std::string mode = value();
    if (mode != "open" && mode != "closed") return false;
    store_fail_closed = mode == "closed";
  } else
    return false;
  return true;
}

std::string listener_flags::check() const {
  if (cert.empty() != key.empty()) return "--cert and --key go together";
  if (threads < 1) return "--threads must be at least 1";
  if (no_metrics && (!metrics_listen.empty() || detailed_metrics))
    return "--no-metrics keeps no metrics to serve (--metrics-listen, --detailed-metrics)";
  if (!otlp_endpoint.empty() && !tracing)
    return "--otlp-endpoint exports the spans of --tracing: give both";
  if (!cache_store.empty() && store.empty())
    return "--cache-store puts the stage cache beside --store's limits: give both";
  return "";
}

std::shared_ptr<gatehouse::store> make_store(asio::io_context& io, const listener_flags& flags) {
  if (flags.store.empty()) return nullptr;
  gatehouse::redis_options o;
  o.url = flags.store;
  o.cache_url = flags.cache_store;
  o.on_failure = flags.store_fail_closed ? gatehouse::redis_failure_mode::fail_closed
                                         : gatehouse::redis_failure_mode::fail_open;
  return gatehouse::make_redis_store(io.get_executor(), std::move(o));
}

int listener_flags::concurrency_hint() const {
  return threads == 1 ? ASIO_CONCURRENCY_HINT_UNSAFE_IO : threads;
}

asio::ip::tcp::endpoint listen(gatehouse::Gateway& gw, const listener_flags& flags) {
  if (flags.http) return gw.listen(flags.listen, gatehouse::plain_http);
  if (!flags.cert.empty())
    return gw.listen(flags.listen, gatehouse::tls::from_files(flags.cert, flags.key));
  return gw.listen(flags.listen, gatehouse::tls::self_signed());
}

namespace {
std::string url_of(std::string scheme, const asio::ip::tcp::endpoint& at) {
  if (at.address().is_v6())
    scheme.append("[").append(at.address().to_string()).append("]");
  else
    scheme.append(at.address().to_string());
  return scheme.append(":").append(std::to_string(at.port()));
}
}  // namespace

std::string base_url(const listener_flags& flags, const asio::ip::tcp::endpoint& at) {
  return url_of(flags.http ? "http://" : "https://", at);
}

void observe(gatehouse::Gateway& gw, gatehouse::Stage& stage, const listener_flags& flags) {
  if (flags.detailed_metrics) stage.metrics_enabled(true);
  if (flags.tracing) stage.tracing(true);
  if (!flags.otlp_endpoint.empty()) gw.export_traces({.otlp_endpoint = flags.otlp_endpoint});
}

void listen_metrics(gatehouse::Gateway& gw, const listener_flags& flags, const char* program) {
  if (flags.metrics_listen.empty()) return;
  const auto at = gw.listen_metrics(flags.metrics_listen);
  std::printf("%s: metrics on %s/metrics\n", program, url_of("http://", at).c_str());
}

void run_until_signalled(asio::io_context& io, gatehouse::Gateway& gw, int threads,
                         const char* program) {
  // The host owns the signals: on SIGINT/SIGTERM, drain for up to 5 s, then stop.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code ec, int) {
    if (ec) return;
    std::printf("%s: stopping\n", program);
    std::fflush(stdout);
    gw.async_stop(std::chrono::seconds(5), [&] { io.stop(); });
  });
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  std::printf("%s: stopped\n", program);
  std::fflush(stdout);
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string random_text(std::string_view prefix, std::size_t n, std::string_view alphabet) {
  std::random_device rd;
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string out(prefix);
  while (out.size() < n) out.push_back(alphabet[pick(rd)]);
  return out;
}

iam_users load_iam_users(const std::optional<std::string>& csv_text, const std::string& policy,
                         const std::string& demo_arn) {
  iam_users users;
  if (csv_text) {
    users.credentials.import_csv(*csv_text, {policy});
    return users;
  }
  // An access key id ("AKIA" and 16 more) and a secret (40 characters) of AWS's shapes.
  users.demo_user = gatehouse::iam_credential{
      .access_key_id = random_text("AKIA", 20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
      .secret_access_key =
          random_text("", 40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
      .principal_arn = demo_arn,
      .policies = {policy}};
  users.credentials.put(*users.demo_user);
  return users;
}

std::optional<jwks_source> load_jwks(const std::string& url_or_file) {
  if (url_or_file.starts_with("https://")) return jwks_source{.url = url_or_file};
  auto text = read_file(url_or_file);
  if (!text) return std::nullopt;
  return jwks_source{.jwks = std::move(*text)};
}

}  // namespace examples
