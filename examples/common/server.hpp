#pragma once

// What the example servers share: the listener flags (--listen, --cert/--key, --http,
// --threads), serving on them until SIGINT/SIGTERM, and the credential files they read
// (--iam-credentials, --jwks).

#include <gatehouse/gatehouse.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace examples {

/// Where and how a server listens.
struct listener_flags {
  std::string listen;  ///< ADDR:PORT; port 0 picks a free one
  std::string cert, key;
  bool http = false;
  int threads = 1;
  std::string metrics_listen;     ///< ADDR:PORT of the metrics listener (GET /metrics); "" for none
  bool detailed_metrics = false;  ///< the stage's metrics per method too (Stage::metrics_enabled)
  bool no_metrics = false;        ///< keeps no metrics (gateway_options::metrics), to measure them
  bool tracing = false;           ///< the stage samples requests for tracing (Stage::tracing)
  std::string otlp_endpoint;      ///< where sampled requests' spans go (Gateway::export_traces)
  bool no_metering = false;       ///< meters nothing (gateway_options::metering), to measure it
  std::string store;              ///< redis://… : limits, keys and metering shared on Redis
  std::string cache_store;        ///< redis://… : the stage cache on (another) Redis
  bool store_fail_closed = false;  ///< --store-fail closed: 503 while Redis cannot answer

  /// Takes `flag` if it is one of --listen, --cert, --key, --http, --threads,
  /// --metrics-listen, --detailed-metrics, --no-metrics, --no-metering, --tracing,
  /// --otlp-endpoint, --store, --cache-store, --store-fail (`value` reads the flag's value);
  /// false for any other flag.
  bool take(std::string_view flag, const std::function<std::string()>& value);
  /// What is wrong with the flags together, or "".
  std::string check() const;
  /// The io_context's concurrency hint: with one thread, gatehouse skips strands and Asio its
  /// socket locks.
  int concurrency_hint() const;
  /// The usage text of these flags.
  static constexpr const char* usage =
      "[--listen ADDR:PORT] [--cert FILE --key FILE] [--http] [--threads N] "
      "[--metrics-listen ADDR:PORT] [--detailed-metrics] [--no-metrics] [--no-metering] "
      "[--tracing] [--otlp-endpoint URL] [--store redis://HOST:PORT[/DB]] "
      "[--cache-store redis://HOST:PORT[/DB]] [--store-fail open|closed]";
};

/// The store of --store (Redis, its stage cache on --cache-store), or null (the in-memory one).
std::shared_ptr<gatehouse::store> make_store(asio::io_context& io, const listener_flags& flags);

/// Listens as the flags say: plain HTTP, the certificate files, or a self-signed certificate.
asio::ip::tcp::endpoint listen(gatehouse::Gateway& gw, const listener_flags& flags);

/// Opens the metrics listener of --metrics-listen, if given, and says where to scrape:
/// "<program>: metrics on http://127.0.0.1:9100/metrics".
void listen_metrics(gatehouse::Gateway& gw, const listener_flags& flags, const char* program);

/// Applies --detailed-metrics and --tracing to `stage` and --otlp-endpoint to `gw` (before the
/// stage is mounted).
void observe(gatehouse::Gateway& gw, gatehouse::Stage& stage, const listener_flags& flags);

/// "http://127.0.0.1:8080" (https:// unless --http; IPv6 addresses in brackets).
std::string base_url(const listener_flags& flags, const asio::ip::tcp::endpoint& at);

/// Runs `io` on `threads` threads until SIGINT or SIGTERM, then stops `gw`, draining requests
/// in flight for up to 5 s. Says "<program>: stopping" and "<program>: stopped".
void run_until_signalled(asio::io_context& io, gatehouse::Gateway& gw, int threads,
                         const char* program);

/// A file's contents; nullopt when it cannot be read.
std::optional<std::string> read_file(const std::string& path);

/// `prefix` followed by random characters of `alphabet` up to `n` characters in all.
std::string random_text(std::string_view prefix, std::size_t n, std::string_view alphabet);

/// IAM users who may call methods with IAM authorization (--iam-credentials).
struct iam_users {
  gatehouse::IamCredentials credentials;
  /// The user made up when no file was given, for the banner.
  std::optional<gatehouse::iam_credential> demo_user;
};

/// The users of a CSV file (access_key_id,secret_access_key,user_arn), each with `policy`, or
/// one user made up now (principal `demo_arn`) when `csv_text` is nullopt. A bad file throws
/// config_error naming its rows.
iam_users load_iam_users(const std::optional<std::string>& csv_text, const std::string& policy,
                         const std::string& demo_arn);

/// A JWKS given as --jwks: an https:// URL to fetch it from, or the JWKS itself.
struct jwks_source {
  std::string url;
  std::string jwks;
};
/// Reads --jwks: an https:// URL is kept as it is, anything else is a file to read (nullopt
/// when it cannot be read).
std::optional<jwks_source> load_jwks(const std::string& url_or_file);

}  // namespace examples
