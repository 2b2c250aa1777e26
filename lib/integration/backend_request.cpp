#include "integration/backend_request.hpp"

#include "net/url.hpp"
#include "routing/stage_variables.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/http_client.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace gatehouse::detail {

namespace {
using transform::target_kind;

// Percent-encodes a path parameter's (decoded) value for a URL path; '/' stays for greedy ones.
void append_path_encoded(std::string& out, std::string_view v, bool keep_slash) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned char c : v) {
    bool plain = std::isalnum(c) || std::strchr("-._~!$&'()*+,;=:@", c) != nullptr ||
                 (keep_slash && c == '/');
    if (plain && c != 0) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
}

// Percent-encodes a query component.
void append_query_encoded(std::string& out, std::string_view v) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned char c : v) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
}

// Whether {name} is the route's greedy {name+} parameter, whose value keeps its slashes.
bool greedy(const exchange& ex, std::string_view name) noexcept {
  auto r = ex.match.resource;
  auto pos = r.find(name);
  while (pos != std::string_view::npos) {
    if (pos > 0 && r[pos - 1] == '{' && r.substr(pos + name.size(), 2) == "+}") return true;
    pos = r.find(name, pos + 1);
  }
  return false;
}
}  // namespace

mapped_parameters map_parameters(const transform::parameter_mapping& mapping, const exchange& ex) {
  mapped_parameters mapped;
  if (mapping.empty()) return mapped;
  std::vector<std::string> vals;
  for (const auto& rule : mapping.rules()) {
    transform::parameter_mapping::values(rule, ex, vals);
    if (vals.empty()) continue;
    if (rule.target == target_kind::querystring) {
      for (auto& v : vals) mapped.emplace_back(&rule, std::move(v));
    } else {
      std::string joined;
      for (std::size_t i = 0; i < vals.size(); ++i) {
        if (i) joined += ',';
        joined += vals[i];
      }
      mapped.emplace_back(&rule, std::move(joined));
    }
  }
  return mapped;
}

void write_mapped_headers(const mapped_parameters& mapped, std::string& out) {
  for (const auto& [rule, value] : mapped) {
    if (rule->target != target_kind::header) continue;
    // A mapped value may come percent-decoded from the query string: no line breaks in it.
    out.append(rule->target_name).append(": ");
    for (char c : value) out.push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
    out.append("\r\n");
  }
}

void write_override_headers(const exchange& ex, std::string& out) {
  for (const auto& [name, value] : ex.override_headers) {
    if (name.find_first_of("\r\n:") != std::string::npos) continue;
    out.append(name).append(": ");
    for (char c : value) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
    out.append("\r\n");
  }
}

gateway_error call_failure(std::error_code ec, std::string_view method, std::string_view authority,
                           std::string_view target) {
  const bool timeout = ec == client_errc::timed_out || ec == client_errc::connect_timeout;
  if (timeout)
    return {response_type::integration_timeout,
            0,
            {},
            fmt::format("Execution failed due to a timeout error ({} {}{})", method, authority,
                        target)};
  return {response_type::integration_failure,
          0,
          {},
          fmt::format("Execution failed: Network error communicating with endpoint {} {}{}: {}",
                      method, authority, target, ec.message())};
}

url_template::url_template(std::string_view url, std::string_view what) : size_(url.size()) {
  std::string text;
  constexpr std::string_view stage_prefix = "${stageVariables.";
  for (std::size_t i = 0; i < url.size();) {
    if (url.substr(i, stage_prefix.size()) == stage_prefix) {
      auto close = url.find('}', i);
      auto name = close == std::string_view::npos
                      ? std::string_view{}
                      : url.substr(i + stage_prefix.size(), close - i - stage_prefix.size());
      if (!routing::valid_stage_variable_name(name))
        throw config_error(
            fmt::format("{}: malformed stage variable reference in '{}'", what, url));
      if (!text.empty()) pieces_.push_back({piece::kind::text, std::exchange(text, {})});
      pieces_.push_back({piece::kind::stage_variable, std::string(name)});
      i = close + 1;
    } else if (url[i] == '{') {
      auto close = url.find('}', i);
      auto name =
          close == std::string_view::npos ? std::string_view{} : url.substr(i + 1, close - i - 1);
      if (!name.empty() && name.back() == '+') name.remove_suffix(1);
      bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      });
      if (!ok) throw config_error(fmt::format("{}: malformed path parameter in '{}'", what, url));
      if (!text.empty()) pieces_.push_back({piece::kind::text, std::exchange(text, {})});
      pieces_.push_back({piece::kind::path_parameter, std::string(name)});
      i = close + 1;
    } else {
      text.push_back(url[i++]);
    }
  }
  if (!text.empty()) pieces_.push_back({piece::kind::text, std::move(text)});

  // A template that starts with its scheme and host can be checked now; one whose start is a
  // stage variable is checked per request (API_CONFIGURATION_ERROR when it is bad).
  if (!pieces_.empty() && pieces_.front().k == piece::kind::text &&
      pieces_.front().s.find("://") != std::string::npos) {
    std::string probe;
    for (const auto& p : pieces_) probe += p.k == piece::kind::text ? p.s : "x";
    std::string why;
    if (!net::parse_url(probe, &why)) throw config_error(fmt::format("{}: bad URL: {}", what, why));
  } else if (pieces_.empty() || pieces_.front().k != piece::kind::stage_variable) {
    throw config_error(fmt::format("{}: bad URL: it must start with http:// or https://", what));
  }
}

void url_template::collect_stage_variables(std::vector<std::string>& names) const {
  for (const auto& p : pieces_)
    if (p.k == piece::kind::stage_variable) names.push_back(p.s);
}

std::string url_template::render(const exchange& ex, const mapped_parameters& mapped,
                                 bool forward_query) const {
  std::string url;
  url.reserve(size_ + ex.stage_path.size() + ex.query.size() + 16);
  for (const auto& p : pieces_) {
    switch (p.k) {
      case piece::kind::text:
        url.append(p.s);
        break;
      case piece::kind::stage_variable:
        if (auto it = ex.stage->variables.find(p.s); it != ex.stage->variables.end())
          url.append(it->second);
        break;
      case piece::kind::path_parameter: {
        const std::string* m = nullptr;
        const transform::mapping_rule* from = nullptr;
        for (const auto& [rule, value] : mapped)
          if (rule->target == target_kind::path && rule->target_name == p.s)
            m = &value, from = rule;
        if (m) {
          // A greedy {proxy+} mapped to the URI's {proxy} keeps its slashes, as in AWS.
          const bool whole_path = from->source == transform::mapping_rule::source_kind::path &&
                                  greedy(ex, from->source_name);
          append_path_encoded(url, *m, whole_path);
        } else if (auto v = ex.path_param(p.s)) {
          append_path_encoded(url, *v, greedy(ex, p.s));
        }
        break;
      }
    }
  }
  bool has_query = url.find('?') != std::string::npos;
  const std::string_view query = ex.query_mapped ? std::string_view(ex.mapped_query) : ex.query;
  if (forward_query && !query.empty()) {
    url.push_back(has_query ? '&' : '?');
    url.append(query);
    has_query = true;
  }
  for (const auto& [rule, value] : mapped) {
    if (rule->target != target_kind::querystring) continue;
    url.push_back(has_query ? '&' : '?');
    has_query = true;
    append_query_encoded(url, rule->target_name);
    url.push_back('=');
    append_query_encoded(url, value);
  }
  return url;
}

}  // namespace gatehouse::detail
