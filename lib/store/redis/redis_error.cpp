#include "store/redis/redis_error.hpp"

#include <string>

namespace gatehouse::redis {

namespace {
class redis_category : public std::error_category {
 public:
  const char* name() const noexcept override { return "gatehouse.redis"; }
  std::string message(int e) const override {
    switch (static_cast<errc>(e)) {
      case errc::timed_out:
        return "no reply from Redis within the call's deadline";
      case errc::connection_lost:
        return "the connection to Redis was lost";
      case errc::not_connected:
        return "not connected to Redis (reconnecting)";
      case errc::connect_failed:
        return "cannot connect to Redis";
      case errc::connect_timeout:
        return "no connection to Redis within the connect timeout";
      case errc::tls_failed:
        return "the TLS handshake with Redis failed";
      case errc::auth_failed:
        return "Redis refused the credentials (AUTH)";
      case errc::select_failed:
        return "Redis refused to SELECT the database";
      case errc::protocol_error:
        return "Redis sent a reply that breaks its protocol";
      case errc::reply_too_large:
        return "a reply from Redis is over the size limit";
      case errc::circuit_open:
        return "Redis is unavailable (circuit breaker open)";
      case errc::error_reply:
        return "Redis answered with an error";
      case errc::bad_command:
        return "an empty Redis command";
      case errc::closed:
        return "the Redis client was closed";
    }
    return "unknown Redis client error";
  }
};
}  // namespace

const std::error_category& category() noexcept {
  static const redis_category c;
  return c;
}

bool is_outage(const std::error_code& ec) noexcept {
  if (ec.category() != category()) return static_cast<bool>(ec);
  switch (static_cast<errc>(ec.value())) {
    case errc::error_reply:
    case errc::bad_command:
    case errc::closed:
    case errc::circuit_open:
      return false;
    default:
      return true;
  }
}

}  // namespace gatehouse::redis
