#include "throttle/admission.hpp"

#include "usage/key_registry.hpp"
#include "usage/plan_state.hpp"
#include "usage/quota_period.hpp"

#include <charconv>

namespace gatehouse::throttle {

namespace {
// How long daily usage stays countable for reports.
constexpr std::chrono::days usage_kept{90};

void append_day(std::string& out, std::chrono::sys_days d) {
  const std::chrono::year_month_day ymd{d};
  char buf[16];
  auto two = [&](char* p, unsigned v) {
    p[0] = static_cast<char>('0' + v / 10), p[1] = static_cast<char>('0' + v % 10);
  };
  int y = static_cast<int>(ymd.year());
  auto [end, ec] = std::to_chars(buf, buf + 6, y);
  *end++ = '-';
  two(end, static_cast<unsigned>(ymd.month()));
  end[2] = '-';
  two(end + 3, static_cast<unsigned>(ymd.day()));
  out.append(buf, end + 5);
}
}  // namespace

bool prepare(detail::exchange& ex, const std::optional<throttle_settings>& account, admission& a) {
  std::size_t n = 0;
  if (ex.plan) {
    const auto& plan = *ex.plan->plan;
    const auto& key = *ex.api_key;
    const auto method_limit = ex.plan->by_route[ex.match.index];
    auto& text = ex.usage_keys;
    // The names, one after another; views into `text` are taken once it is complete.
    text.reserve(160 + ex.stage->name.size() + ex.match.resource.size());
    auto prefix = [&](std::string_view kind) {
      text.append(kind).append(plan.options.id).push_back('/');
      text.append(key.id);
    };
    std::size_t marks[5];
    marks[0] = text.size();
    prefix("throttle/");  // the plan's bucket for this key
    marks[1] = text.size();
    if (method_limit) {  // … and on this method of this stage
      prefix("throttle/");
      text.append("/").append(ex.stage->name).append("/");
      text.append(ex.stage->deployment->routes.key(ex.match.index));
    }
    marks[2] = text.size();
    const auto now = ex.start;
    const auto today = std::chrono::floor<std::chrono::days>(now);
    usage::period_window window;
    if (plan.options.quota) {
      window = usage::period_at(plan.options.quota->period, now);
      prefix("quota/");
      text.push_back('/');
      append_day(text, std::chrono::floor<std::chrono::days>(window.start));
    }
    marks[3] = text.size();
    prefix("usage/");
    text.push_back('/');
    append_day(text, today);
    marks[4] = text.size();
    auto view = [&](int i) {
      return std::string_view(text).substr(marks[i], marks[i + 1] - marks[i]);
    };

    if (method_limit) ex.buckets[n++] = {view(1), *method_limit};
    if (plan.options.throttle) ex.buckets[n++] = {view(0), *plan.options.throttle};
    if (plan.options.quota) {
      const auto& q = *plan.options.quota;
      a.quota = quota_check{.key = view(2),
                            .limit = usage::limit_in(q, plan.created, window),
                            .expires = window.end,
                            .plan_key = view(2).substr(0, view(2).size() - 11),  // less "/date"
                            .period = q.period,
                            .period_limit = std::max<std::int64_t>(0, q.limit),
                            .first_period_limit = std::max<std::int64_t>(0, q.limit - q.offset),
                            .plan_created = plan.created};
    }
    a.usage_key = view(3);
    a.usage_expires = today + std::chrono::days{1} + usage_kept;
  }
  const auto& method = ex.stage->routes[ex.match.index];
  if (method.throttle) ex.buckets[n++] = {method.throttle_key, *method.throttle};
  if (account) ex.buckets[n++] = {"throttle/account", *account};
  a.buckets = std::span<const bucket_check>(ex.buckets.data(), n);
  return n > 0 || a.quota || !a.usage_key.empty();
}

std::optional<detail::gateway_error> verdict(const admission_result& r) {
  if (r.verdict == admission_verdict::admitted) return std::nullopt;
  if (r.verdict == admission_verdict::unavailable) {
    detail::gateway_error e{response_type::default_5xx, 503, "Service Unavailable",
                            "the shared store could not admit the request in time (fail_closed)"};
    e.retry_after = std::chrono::seconds(1);
    return e;
  }
  const bool quota = r.verdict == admission_verdict::quota_exceeded;
  detail::gateway_error e{quota ? response_type::quota_exceeded : response_type::throttled};
  // Whole seconds, rounded up: a client that waits that long finds a token (or a new period).
  constexpr auto max_wait = std::chrono::hours(24 * 32);
  if (r.retry_after < max_wait)
    e.retry_after =
        std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(r.retry_after));
  return e;
}

}  // namespace gatehouse::throttle
