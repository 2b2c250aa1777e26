#include "auth/policy.hpp"
#include "util/json_parse.hpp"

#include "auth/cidr.hpp"
#include "util/sized_writer.hpp"
#include "util/text.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace gatehouse::auth {

// ---------------------------------------------------------------------------------------------
// The compiled form
// ---------------------------------------------------------------------------------------------
namespace policy_detail {

/// The condition keys a request can supply.
enum class condition_key {
  source_ip,
  source_vpce,
  secure_transport,
  user_agent,
  referer,
  current_time,
  epoch_time,
  principal_arn
};

/// How a condition compares the key's value with the listed values.
enum class operator_family {
  string_equals,
  string_equals_ignore_case,  // listed values are stored lowercased
  string_like,                // StringLike and the Arn* operators: a case-sensitive glob
  ip_address,
  boolean,  // listed values are stored as "true" / "false"
  numeric,
  date,
  null_check  // Null: "true" wants the key absent, "false" present
};

/// The ordering a Numeric*/Date* operator tests: key value <order> listed value.
enum class ordering { equal, less, less_equal, greater, greater_equal };

/// One key of one operator block: {"StringEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"]}}.
struct condition {
  operator_family family = operator_family::string_equals;
  ordering order = ordering::equal;
  bool negated = false;    // the key's value must match none of the listed values
  bool if_exists = false;  // a missing key satisfies the condition
  condition_key key = condition_key::source_ip;
  std::vector<std::string> strings;  // string, boolean and null families
  std::vector<cidr> blocks;          // ip_address
  std::vector<double> numbers;       // numeric
  std::vector<std::int64_t> times;   // date, in milliseconds since the epoch
};

/// One entry of Principal / NotPrincipal.
struct principal_entry {
  enum class kind { anyone, account, exact } match = kind::anyone;
  std::string value;  // the account id or the exact ARN
};

struct statement {
  bool deny = false;
  bool not_action = false;
  std::vector<std::string> actions;  // lowercased globs
  bool not_resource = false;
  std::vector<std::string> resources;  // case-sensitive globs, short forms expanded
  bool has_principal = false;          // no Principal/NotPrincipal: any caller
  bool not_principal = false;
  std::vector<principal_entry> principals;
  std::vector<condition> conditions;  // all must hold
};

}  // namespace policy_detail

using policy_detail::condition;
using policy_detail::condition_key;
using policy_detail::operator_family;
using policy_detail::ordering;
using policy_detail::principal_entry;
using policy_detail::statement;

namespace {

// ---------------------------------------------------------------------------------------------
// Small text helpers
// ---------------------------------------------------------------------------------------------

using util::ascii_lower;
using util::iequals;

/// The glob walk shared by the case-sensitive and -insensitive forms: on a mismatch it goes
/// back to the most recent '*' and lets it swallow one more character, which bounds the work to
/// pattern × value steps.
template <typename Equal>
bool glob_walk(std::string_view pattern, std::string_view value, Equal equal) noexcept {
  if (pattern.size() == 1 && pattern[0] == '*') return true;  // the common "Resource": "*"
  std::size_t p = 0, v = 0;
  std::size_t star = std::string_view::npos;  // position of the last '*' seen in the pattern
  std::size_t resume = 0;                     // where in `value` that '*' would resume
  while (v < value.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = v;
    } else if (p < pattern.size() && (pattern[p] == '?' || equal(pattern[p], value[v]))) {
      ++p;
      ++v;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

/// The ARN after its first `count` ':'-separated fields ("" when it has fewer).
std::string_view arn_fields_after(std::string_view arn, int count) noexcept {
  for (int field = 0; field < count; ++field) {
    auto colon = arn.find(':');
    if (colon == std::string_view::npos) return {};
    arn.remove_prefix(colon + 1);
  }
  return arn;
}

/// The account of an ARN, its fifth ':'-separated field ("" when there is none).
std::string_view arn_account(std::string_view arn) noexcept {
  auto rest = arn_fields_after(arn, 4);
  return rest.substr(0, rest.find(':'));
}

/// What follows the account field of an ARN ("user/alice"; "" when there is nothing).
std::string_view arn_after_account(std::string_view arn) noexcept {
  return arn_fields_after(arn, 5);
}

/// True for a 12-digit AWS account id.
bool account_id(std::string_view s) noexcept {
  return s.size() == 12 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// A finite decimal number filling all of `text`.
std::optional<double> parse_number(std::string_view text) noexcept {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

/// Reads exactly `width` digits at `pos`, advancing it.
bool read_digits(std::string_view text, std::size_t& pos, int width, int& out) noexcept {
  if (pos + width > text.size()) return false;
  out = 0;
  for (int i = 0; i < width; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += width;
  return true;
}

/// Reads `c` at `pos`, advancing it.
bool read_char(std::string_view text, std::size_t& pos, char c) noexcept {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

/// Milliseconds since the epoch of an ISO 8601 time: YYYY-MM-DD, optionally followed by
/// Thh:mm[:ss[.fraction]] and Z or ±hh:mm / ±hhmm (no zone = UTC).
std::optional<std::int64_t> parse_iso8601(std::string_view text) noexcept {
  using namespace std::chrono;
  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!read_digits(text, pos, 4, y) || !read_char(text, pos, '-') ||
      !read_digits(text, pos, 2, mo) || !read_char(text, pos, '-') || !read_digits(text, pos, 2, d))
    return std::nullopt;
  year_month_day date{year{y}, month{unsigned(mo)}, day{unsigned(d)}};
  if (!date.ok()) return std::nullopt;
  std::int64_t millis = 0;
  if (read_char(text, pos, 'T')) {
    if (!read_digits(text, pos, 2, h) || !read_char(text, pos, ':') ||
        !read_digits(text, pos, 2, mi))
      return std::nullopt;
    if (read_char(text, pos, ':')) {
      if (!read_digits(text, pos, 2, s)) return std::nullopt;
      if (read_char(text, pos, '.')) {
        int scale = 100, digits = 0;
        for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++digits) {
          millis += (text[pos] - '0') * scale;
          scale /= 10;
        }
        if (digits == 0) return std::nullopt;
      }
    }
    if (h > 23 || mi > 59 || s > 60) return std::nullopt;
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos++] == '-' ? -1 : 1, oh = 0, om = 0;
    if (!read_digits(text, pos, 2, oh)) return std::nullopt;
    read_char(text, pos, ':');
    if (!read_digits(text, pos, 2, om) || oh > 23 || om > 59) return std::nullopt;
    offset_minutes = sign * (oh * 60 + om);
  } else {
    read_char(text, pos, 'Z');
  }
  if (pos != text.size()) return std::nullopt;
  std::int64_t seconds = sys_days{date}.time_since_epoch().count() * 86400LL + h * 3600LL +
                         mi * 60LL + s - offset_minutes * 60LL;
  return seconds * 1000 + millis;
}

/// Milliseconds since the epoch of a Date* value: ISO 8601 or epoch seconds.
std::optional<std::int64_t> parse_date(std::string_view text) noexcept {
  if (!text.empty() && text.find_first_not_of("0123456789.") == std::string_view::npos) {
    auto seconds = parse_number(text);
    if (!seconds || *seconds > 1e15) return std::nullopt;
    return static_cast<std::int64_t>(std::llround(*seconds * 1000));
  }
  return parse_iso8601(text);
}

template <typename T>
bool ordered(T key_value, ordering order, T listed) noexcept {
  switch (order) {
    case ordering::equal:
      return key_value == listed;
    case ordering::less:
      return key_value < listed;
    case ordering::less_equal:
      return key_value <= listed;
    case ordering::greater:
      return key_value > listed;
    case ordering::greater_equal:
      return key_value >= listed;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Operator and key tables
// ---------------------------------------------------------------------------------------------

struct operator_spec {
  std::string_view name;
  operator_family family;
  ordering order;
  bool negated;
};

constexpr std::array operators{
    operator_spec{"StringEquals", operator_family::string_equals, ordering::equal, false},
    operator_spec{"StringNotEquals", operator_family::string_equals, ordering::equal, true},
    operator_spec{"StringEqualsIgnoreCase", operator_family::string_equals_ignore_case,
                  ordering::equal, false},
    operator_spec{"StringNotEqualsIgnoreCase", operator_family::string_equals_ignore_case,
                  ordering::equal, true},
    operator_spec{"StringLike", operator_family::string_like, ordering::equal, false},
    operator_spec{"StringNotLike", operator_family::string_like, ordering::equal, true},
    operator_spec{"ArnEquals", operator_family::string_like, ordering::equal, false},
    operator_spec{"ArnNotEquals", operator_family::string_like, ordering::equal, true},
    operator_spec{"ArnLike", operator_family::string_like, ordering::equal, false},
    operator_spec{"ArnNotLike", operator_family::string_like, ordering::equal, true},
    operator_spec{"IpAddress", operator_family::ip_address, ordering::equal, false},
    operator_spec{"NotIpAddress", operator_family::ip_address, ordering::equal, true},
    operator_spec{"Bool", operator_family::boolean, ordering::equal, false},
    operator_spec{"NumericEquals", operator_family::numeric, ordering::equal, false},
    operator_spec{"NumericNotEquals", operator_family::numeric, ordering::equal, true},
    operator_spec{"NumericLessThan", operator_family::numeric, ordering::less, false},
    operator_spec{"NumericLessThanEquals", operator_family::numeric, ordering::less_equal, false},
    operator_spec{"NumericGreaterThan", operator_family::numeric, ordering::greater, false},
    operator_spec{"NumericGreaterThanEquals", operator_family::numeric, ordering::greater_equal,
                  false},
    operator_spec{"DateEquals", operator_family::date, ordering::equal, false},
    operator_spec{"DateNotEquals", operator_family::date, ordering::equal, true},
    operator_spec{"DateLessThan", operator_family::date, ordering::less, false},
    operator_spec{"DateLessThanEquals", operator_family::date, ordering::less_equal, false},
    operator_spec{"DateGreaterThan", operator_family::date, ordering::greater, false},
    operator_spec{"DateGreaterThanEquals", operator_family::date, ordering::greater_equal, false},
    operator_spec{"Null", operator_family::null_check, ordering::equal, false},
};

/// The operator named `name` (exact case), with its "IfExists" suffix noted; nullopt if unknown.
std::optional<operator_spec> find_operator(std::string_view name, bool& if_exists) noexcept {
  constexpr std::string_view suffix = "IfExists";
  if_exists = name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  if (if_exists) name.remove_suffix(suffix.size());
  for (const auto& spec : operators)
    if (spec.name == name) {
      if (if_exists && spec.family == operator_family::null_check) return std::nullopt;
      return spec;
    }
  return std::nullopt;
}

struct key_spec {
  std::string_view name;
  condition_key key;
};

constexpr std::array keys{
    key_spec{"aws:SourceIp", condition_key::source_ip},
    key_spec{"aws:SourceVpce", condition_key::source_vpce},
    key_spec{"aws:SecureTransport", condition_key::secure_transport},
    key_spec{"aws:UserAgent", condition_key::user_agent},
    key_spec{"aws:Referer", condition_key::referer},
    key_spec{"aws:CurrentTime", condition_key::current_time},
    key_spec{"aws:EpochTime", condition_key::epoch_time},
    key_spec{"aws:PrincipalArn", condition_key::principal_arn},
};

/// The condition key named `name` (any case); nullopt if unknown.
std::optional<condition_key> find_key(std::string_view name) noexcept {
  for (const auto& spec : keys)
    if (iequals(spec.name, name)) return spec.key;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

using json = rapidjson::Value;

std::string_view text_of(const json& v) noexcept { return {v.GetString(), v.GetStringLength()}; }

/// `s` in quotes for an error message, cut short when long.
std::string quoted(std::string_view s) {
  constexpr std::size_t limit = 64;
  if (s.size() > limit) return fmt::format("\"{}...\"", s.substr(0, limit));
  return fmt::format("\"{}\"", s);
}

/// Compiles a document's statements, recording the first problem found.
class compiler {
 public:
  explicit compiler(const arn_base* base) : base_(base) {}

  const std::string& error() const noexcept { return error_; }

  /// Compiles the document root into `out`; false (with error()) when malformed.
  bool document(const json& root, std::vector<statement>& out) {
    if (!root.IsObject()) return fail("the policy document is not a JSON object");
    if (auto it = root.FindMember("Version"); it != root.MemberEnd()) {
      if (!it->value.IsString()) return fail("Version must be a string such as \"2012-10-17\"");
      auto version = text_of(it->value);
      if (version != "2012-10-17" && version != "2008-10-17")
        return fail(fmt::format("Version must be \"2012-10-17\" or \"2008-10-17\", not {}",
                                quoted(version)));
    }
    auto it = root.FindMember("Statement");
    if (it == root.MemberEnd()) return fail("the policy has no Statement");
    const json& statements = it->value;
    if (statements.IsObject()) {
      out.emplace_back();
      return compile(statements, 0, out.back());
    }
    if (!statements.IsArray()) return fail("Statement must be an object or an array of objects");
    out.reserve(statements.Size());
    for (rapidjson::SizeType i = 0; i < statements.Size(); ++i) {
      out.emplace_back();
      if (!compile(statements[i], i, out.back())) return false;
    }
    return true;
  }

 private:
  bool fail(std::string why) {
    error_ = std::move(why);
    return false;
  }

  /// "Statement[3]" or "Statement[3].Action", for error messages.
  std::string where(std::size_t index, std::string_view field = {}) const {
    return field.empty() ? fmt::format("Statement[{}]", index)
                         : fmt::format("Statement[{}].{}", index, field);
  }

  /// Compiles Statement[index] into `out`.
  bool compile(const json& in, std::size_t index, statement& out) {
    if (!in.IsObject()) return fail(fmt::format("{} is not an object", where(index)));
    if (!known_fields_only(in, index)) return false;
    if (auto sid = in.FindMember("Sid"); sid != in.MemberEnd() && !sid->value.IsString())
      return fail(fmt::format("{} must be a string", where(index, "Sid")));
    if (!effect(in, index, out)) return false;

    const json* actions = nullptr;
    if (!exactly_one(in, index, "Action", "NotAction", actions, out.not_action)) return false;
    if (!strings(*actions, where(index, out.not_action ? "NotAction" : "Action"), out.actions))
      return false;
    for (auto& a : out.actions) a = util::ascii_lower(a);

    const json* resources = nullptr;
    if (!exactly_one(in, index, "Resource", "NotResource", resources, out.not_resource))
      return false;
    auto resource_field = where(index, out.not_resource ? "NotResource" : "Resource");
    if (!strings(*resources, resource_field, out.resources)) return false;
    for (auto& r : out.resources) r = expanded(r);

    if (!principal(in, index, out)) return false;
    if (auto cond = in.FindMember("Condition"); cond != in.MemberEnd())
      return conditions(cond->value, where(index, "Condition"), out.conditions);
    return true;
  }

  /// Effect: exactly "Allow" or "Deny".
  bool effect(const json& in, std::size_t index, statement& out) {
    auto effect = in.FindMember("Effect");
    if (effect == in.MemberEnd()) return fail(fmt::format("{} is missing", where(index, "Effect")));
    if (!effect->value.IsString() ||
        (text_of(effect->value) != "Allow" && text_of(effect->value) != "Deny"))
      return fail(fmt::format("{} must be \"Allow\" or \"Deny\"", where(index, "Effect")));
    out.deny = text_of(effect->value) == "Deny";
    return true;
  }

  /// The optional Principal or NotPrincipal (not both).
  bool principal(const json& in, std::size_t index, statement& out) {
    auto principal = in.FindMember("Principal");
    auto not_principal = in.FindMember("NotPrincipal");
    bool has_plain = principal != in.MemberEnd(), has_negated = not_principal != in.MemberEnd();
    if (has_plain && has_negated)
      return fail(fmt::format("{} has both Principal and NotPrincipal", where(index)));
    if (!has_plain && !has_negated) return true;
    out.has_principal = true;
    out.not_principal = has_negated;
    const json& value = has_negated ? not_principal->value : principal->value;
    return principals(value, where(index, has_negated ? "NotPrincipal" : "Principal"),
                      out.principals);
  }

  /// Rejects statement fields IAM does not define, and fields given twice.
  bool known_fields_only(const json& in, std::size_t index) {
    constexpr std::array<std::string_view, 9> known{"Sid",       "Effect",       "Action",
                                                    "NotAction", "Resource",     "NotResource",
                                                    "Principal", "NotPrincipal", "Condition"};
    std::array<bool, known.size()> seen{};
    for (const auto& member : in.GetObject()) {
      auto name = text_of(member.name);
      auto it = std::find(known.begin(), known.end(), name);
      if (it == known.end())
        return fail(fmt::format("{} has an unknown field {}", where(index), quoted(name)));
      auto& was_seen = seen[std::size_t(it - known.begin())];
      if (was_seen) return fail(fmt::format("{} has the field \"{}\" twice", where(index), name));
      was_seen = true;
    }
    return true;
  }

  /// Finds exactly one of `field` / `negated_field`; `negated` tells which one it was.
  bool exactly_one(const json& in, std::size_t index, const char* field, const char* negated_field,
                   const json*& value, bool& negated) {
    auto plain = in.FindMember(field);
    auto negative = in.FindMember(negated_field);
    bool has_plain = plain != in.MemberEnd(), has_negative = negative != in.MemberEnd();
    if (has_plain && has_negative)
      return fail(fmt::format("{} has both {} and {}", where(index), field, negated_field));
    if (!has_plain && !has_negative)
      return fail(fmt::format("{} needs {} or {}", where(index), field, negated_field));
    negated = has_negative;
    value = has_plain ? &plain->value : &negative->value;
    return true;
  }

  /// A string or a non-empty array of non-empty strings.
  bool strings(const json& value, const std::string& field, std::vector<std::string>& out) {
    auto one = [&](const json& v, const std::string& name) {
      if (!v.IsString() || v.GetStringLength() == 0)
        return fail(fmt::format("{} must be a non-empty string", name));
      out.emplace_back(text_of(v));
      return true;
    };
    if (!value.IsArray()) {
      if (!value.IsString())
        return fail(fmt::format("{} must be a string or an array of strings", field));
      return one(value, field);
    }
    if (value.Empty()) return fail(fmt::format("{} is an empty array", field));
    for (rapidjson::SizeType i = 0; i < value.Size(); ++i)
      if (!one(value[i], fmt::format("{}[{}]", field, i))) return false;
    return true;
  }

  /// A resource pattern with the resource-policy short form "execute-api:/…" expanded when
  /// there is a base to expand it with.
  std::string expanded(const std::string& resource) const {
    constexpr std::string_view short_form = "execute-api:/";
    if (!base_ || std::string_view(resource).substr(0, short_form.size()) != short_form)
      return resource;
    return fmt::format("arn:aws:execute-api:{}:{}:{}{}", base_->region, base_->account_id,
                       base_->api_id, std::string_view(resource).substr(short_form.size() - 1));
  }

  /// Principal / NotPrincipal: "*" or {"AWS": "*" | account | ARN, …}. Service, Federated and
  /// CanonicalUser entries are accepted but never match a caller of an API.
  bool principals(const json& value, const std::string& field, std::vector<principal_entry>& out) {
    if (value.IsString()) {
      if (text_of(value) != "*")
        return fail(
            fmt::format("{} must be \"*\" or an object such as {{\"AWS\": \"...\"}}, not {}", field,
                        quoted(text_of(value))));
      out.push_back({principal_entry::kind::anyone, {}});
      return true;
    }
    if (!value.IsObject() || value.ObjectEmpty())
      return fail(fmt::format("{} must be \"*\" or an object such as {{\"AWS\": \"...\"}}", field));
    for (const auto& member : value.GetObject()) {
      auto type = text_of(member.name);
      auto entry_field = fmt::format("{}.{}", field, type);
      std::vector<std::string> names;
      if (type != "AWS" && type != "Service" && type != "Federated" && type != "CanonicalUser")
        return fail(fmt::format("{} has an unknown principal type {}", field, quoted(type)));
      if (!strings(member.value, entry_field, names)) return false;
      if (type != "AWS") continue;
      for (auto& name : names) out.push_back(aws_principal(std::move(name)));
    }
    return true;
  }

  /// "*" → anyone; a 12-digit id or arn:…:{id}:root → that account; else an exact ARN.
  static principal_entry aws_principal(std::string name) {
    using kind = principal_entry::kind;
    if (name == "*") return {kind::anyone, {}};
    if (account_id(name)) return {kind::account, std::move(name)};
    std::string_view view = name;
    auto account = arn_account(view);
    if (view.starts_with("arn:") && account_id(account) && arn_after_account(view) == "root")
      return {kind::account, std::string(account)};
    return {kind::exact, std::move(name)};
  }

  /// Condition: {"Operator": {"key": value-or-array, …}, …}.
  bool conditions(const json& value, const std::string& field, std::vector<condition>& out) {
    if (!value.IsObject()) return fail(fmt::format("{} must be an object", field));
    for (const auto& block : value.GetObject()) {
      auto op_name = text_of(block.name);
      bool if_exists = false;
      auto spec = find_operator(op_name, if_exists);
      if (!spec)
        return fail(fmt::format("{} has an unknown condition operator {}", field, quoted(op_name)));
      auto block_field = fmt::format("{}.{}", field, op_name);
      if (!block.value.IsObject())
        return fail(fmt::format("{} must be an object of condition keys", block_field));
      for (const auto& entry : block.value.GetObject()) {
        auto key_name = text_of(entry.name);
        auto key = find_key(key_name);
        if (!key)
          return fail(
              fmt::format("{} has an unknown condition key {}", block_field, quoted(key_name)));
        condition c;
        c.family = spec->family;
        c.order = spec->order;
        c.negated = spec->negated;
        c.if_exists = if_exists;
        c.key = *key;
        if (!condition_values(entry.value, fmt::format("{}.{}", block_field, key_name), c))
          return false;
        out.push_back(std::move(c));
      }
    }
    return true;
  }

  /// A condition value as text: strings as they are, numbers and booleans as JSON writes them.
  bool scalar_text(const json& v, const std::string& field, std::string& out) {
    if (v.IsString())
      out = std::string(text_of(v));
    else if (v.IsBool())
      out = v.GetBool() ? "true" : "false";
    else if (v.IsInt64())
      out = std::to_string(v.GetInt64());
    else if (v.IsUint64())
      out = std::to_string(v.GetUint64());
    else if (v.IsDouble())
      out = fmt::format("{}", v.GetDouble());
    else
      return fail(fmt::format("{} must be a string, number or boolean", field));
    return true;
  }

  /// The listed values of one condition key, checked and converted for its operator.
  bool condition_values(const json& value, const std::string& field, condition& c) {
    if (value.IsArray()) {
      if (value.Empty()) return fail(fmt::format("{} is an empty array", field));
      for (rapidjson::SizeType i = 0; i < value.Size(); ++i)
        if (!condition_value(value[i], fmt::format("{}[{}]", field, i), c)) return false;
      return true;
    }
    return condition_value(value, field, c);
  }

  bool condition_value(const json& v, const std::string& field, condition& c) {
    std::string text;
    if (!scalar_text(v, field, text)) return false;
    switch (c.family) {
      case operator_family::string_equals:
      case operator_family::string_like:
        c.strings.push_back(std::move(text));
        return true;
      case operator_family::string_equals_ignore_case:
        c.strings.push_back(util::ascii_lower(text));
        return true;
      case operator_family::boolean:
      case operator_family::null_check:
        if (!iequals(text, "true") && !iequals(text, "false"))
          return fail(fmt::format("{} must be \"true\" or \"false\", not {}", field, quoted(text)));
        c.strings.push_back(util::ascii_lower(text));
        return true;
      case operator_family::ip_address:
        if (auto block = cidr::parse(text)) {
          c.blocks.push_back(*block);
          return true;
        }
        return fail(fmt::format("{}: {} is not an IP address or CIDR block", field, quoted(text)));
      case operator_family::numeric:
        if (auto number = parse_number(text)) {
          c.numbers.push_back(*number);
          return true;
        }
        return fail(fmt::format("{}: {} is not a number", field, quoted(text)));
      case operator_family::date:
        if (auto time = parse_date(text)) {
          c.times.push_back(*time);
          return true;
        }
        return fail(
            fmt::format("{}: {} is not an ISO 8601 date or epoch seconds", field, quoted(text)));
    }
    return fail(fmt::format("{} cannot be compiled", field));
  }

  const arn_base* base_;
  std::string error_;
};

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

/// A condition key's value for one request.
struct key_value {
  bool present = false;
  std::string_view text;
  std::optional<std::int64_t> time;  // the time keys: milliseconds since the epoch
};

/// The request facts with the time keys worked out on first use, in fixed buffers.
class fact_reader {
 public:
  explicit fact_reader(const request_facts& facts) noexcept : facts_(facts) {}

  const request_facts& facts() const noexcept { return facts_; }

  key_value operator[](condition_key key) noexcept {
    auto optional_text = [](std::string_view s) { return key_value{!s.empty(), s, {}}; };
    switch (key) {
      case condition_key::source_ip:
        return optional_text(facts_.source_ip);
      case condition_key::source_vpce:
        return optional_text(facts_.source_vpce);
      case condition_key::user_agent:
        return optional_text(facts_.user_agent);
      case condition_key::referer:
        return optional_text(facts_.referer);
      case condition_key::principal_arn:
        return optional_text(facts_.principal);
      case condition_key::secure_transport:
        return {true, facts_.secure_transport ? "true" : "false", {}};
      case condition_key::current_time:
        load_time();
        return {true, iso_text_, now_ms_};
      case condition_key::epoch_time:
        load_time();
        return {true, epoch_text_, now_ms_};
    }
    return {};
  }

 private:
  /// Reads the request time (the clock when the facts leave it unset) and writes it as text.
  void load_time() noexcept {
    using namespace std::chrono;
    if (time_loaded_) return;
    time_loaded_ = true;
    auto now = facts_.now == system_clock::time_point{} ? system_clock::now() : facts_.now;
    auto ms = floor<milliseconds>(now);
    now_ms_ = ms.time_since_epoch().count();
    auto day = floor<days>(ms);
    year_month_day date{day};
    hh_mm_ss clock{floor<seconds>(ms - day)};
    int n = std::snprintf(iso_, sizeof iso_, "%04d-%02u-%02uT%02d:%02d:%02dZ", int(date.year()),
                          unsigned(date.month()), unsigned(date.day()), int(clock.hours().count()),
                          int(clock.minutes().count()), int(clock.seconds().count()));
    iso_text_ = std::string_view(iso_, n > 0 ? std::min<std::size_t>(n, sizeof iso_ - 1) : 0);
    auto seconds_count = floor<seconds>(ms).time_since_epoch().count();
    auto end = std::to_chars(epoch_, epoch_ + sizeof epoch_, seconds_count).ptr;
    epoch_text_ = std::string_view(epoch_, std::size_t(end - epoch_));
  }

  const request_facts& facts_;
  bool time_loaded_ = false;
  std::int64_t now_ms_ = 0;
  char iso_[64] = {};
  char epoch_[24] = {};
  std::string_view iso_text_, epoch_text_;
};

/// True when the key's (present) value matches at least one listed value.
bool any_value_matches(const condition& c, const key_value& value) noexcept {
  auto any_string = [&](auto&& match) {
    return std::any_of(c.strings.begin(), c.strings.end(), match);
  };
  switch (c.family) {
    case operator_family::string_equals:
      return any_string([&](const std::string& s) { return s == value.text; });
    case operator_family::string_equals_ignore_case:
    case operator_family::boolean:
      return any_string([&](const std::string& s) { return iequals(s, value.text); });
    case operator_family::string_like:
      return any_string([&](const std::string& s) { return glob_match(s, value.text); });
    case operator_family::ip_address: {
      auto address = parse_ip(value.text);
      return address && std::any_of(c.blocks.begin(), c.blocks.end(),
                                    [&](const cidr& block) { return block.contains(*address); });
    }
    case operator_family::numeric: {
      auto number = parse_number(value.text);
      return number && std::any_of(c.numbers.begin(), c.numbers.end(), [&](double listed) {
               return ordered(*number, c.order, listed);
             });
    }
    case operator_family::date: {
      auto time = value.time ? value.time : parse_date(value.text);
      return time && std::any_of(c.times.begin(), c.times.end(), [&](std::int64_t listed) {
               return ordered(*time, c.order, listed);
             });
    }
    case operator_family::null_check:
      return any_string([&](const std::string& s) { return (s == "true") != value.present; });
  }
  return false;
}

/// One condition: as IAM, a missing key fails a positive operator unless IfExists, and satisfies
/// a negated one (no value matches, vacuously); Null tests presence itself. A negated operator
/// holds when no listed value matches.
bool condition_holds(const condition& c, fact_reader& facts) noexcept {
  auto value = facts[c.key];
  if (c.family == operator_family::null_check) return any_value_matches(c, value);
  if (!value.present) return c.if_exists || c.negated;
  return any_value_matches(c, value) != c.negated;
}

/// True when some entry names the caller; anonymous callers ("") are named only by "*".
bool principal_listed(const std::vector<principal_entry>& entries,
                      std::string_view principal) noexcept {
  using kind = principal_entry::kind;
  return std::any_of(entries.begin(), entries.end(), [&](const principal_entry& e) {
    switch (e.match) {
      case kind::anyone:
        return true;
      case kind::account:
        return !principal.empty() && arn_account(principal) == e.value;
      case kind::exact:
        return !principal.empty() && principal == e.value;
    }
    return false;
  });
}

bool statement_applies(const statement& s, fact_reader& facts) noexcept {
  const auto& f = facts.facts();
  bool action_listed = std::any_of(s.actions.begin(), s.actions.end(), [&](const std::string& a) {
    return glob_walk(a, f.action, [](char p, char v) { return p == ascii_lower(v); });
  });
  if (action_listed == s.not_action) return false;
  bool resource_listed =
      std::any_of(s.resources.begin(), s.resources.end(),
                  [&](const std::string& r) { return glob_match(r, f.resource); });
  if (resource_listed == s.not_resource) return false;
  if (s.has_principal && principal_listed(s.principals, f.principal) == s.not_principal)
    return false;
  return std::all_of(s.conditions.begin(), s.conditions.end(),
                     [&](const condition& c) { return condition_holds(c, facts); });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public interface
// ---------------------------------------------------------------------------------------------

std::string_view to_string(decision d) noexcept {
  switch (d) {
    case decision::implicit_deny:
      return "implicit_deny";
    case decision::allow:
      return "allow";
    case decision::explicit_deny:
      return "explicit_deny";
  }
  return "unknown";
}

policy::policy() = default;
policy::policy(const policy&) = default;
policy::policy(policy&&) noexcept = default;
policy& policy::operator=(const policy&) = default;
policy& policy::operator=(policy&&) noexcept = default;
policy::~policy() = default;

std::optional<policy> policy::parse(std::string_view json, std::string* why, const arn_base* base) {
  auto fail = [&](std::string reason) -> std::optional<policy> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  rapidjson::Document doc;
  auto parsed = util::parse_json<rapidjson::kParseValidateEncodingFlag>(doc, json);
  if (!parsed)
    return fail(fmt::format("the policy is not valid JSON ({} at offset {})", parsed.message(),
                            parsed.offset));
  policy result;
  compiler c(base);
  if (!c.document(doc, result.statements_)) return fail(c.error());
  return result;
}

decision policy::evaluate(const request_facts& facts) const noexcept {
  fact_reader reader(facts);
  bool allowed = false;
  for (const auto& s : statements_) {
    if (!statement_applies(s, reader)) continue;
    if (s.deny) return decision::explicit_deny;
    allowed = true;
  }
  return allowed ? decision::allow : decision::implicit_deny;
}

void policy::append(const policy& other) {
  statements_.insert(statements_.end(), other.statements_.begin(), other.statements_.end());
}

bool policy::empty() const noexcept { return statements_.empty(); }

std::size_t policy::size() const noexcept { return statements_.size(); }

bool glob_match(std::string_view pattern, std::string_view value) noexcept {
  return glob_walk(pattern, value, [](char p, char v) { return p == v; });
}

bool glob_match_ignore_case(std::string_view pattern, std::string_view value) noexcept {
  return glob_walk(pattern, value, [](char p, char v) { return ascii_lower(p) == ascii_lower(v); });
}

std::string method_arn_prefix(std::string_view region, std::string_view account,
                              std::string_view api_id, std::string_view stage) {
  std::string prefix = "arn:aws:execute-api:";
  prefix.append(region).append(":").append(account).append(":").append(api_id);
  prefix.append("/").append(stage).append("/");
  return prefix;
}

void write_method_arn(std::string& out, std::string_view prefix, std::string_view method,
                      std::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  out.resize(prefix.size() + method.size() + 1 + path.size());  // this runs for every
  util::sized_writer w{out.data()};                             // authorized request
  w.put(prefix);
  w.put(method);
  w.put('/');
  w.put(path);
}

std::string method_arn(std::string_view region, std::string_view account, std::string_view api_id,
                       std::string_view stage, std::string_view method, std::string_view path) {
  std::string arn;
  write_method_arn(arn, method_arn_prefix(region, account, api_id, stage), method, path);
  return arn;
}

bool policy::reads_only_action_and_resource() const noexcept {
  for (const auto& s : statements_)
    if (s.has_principal || !s.conditions.empty()) return false;
  return true;
}

}  // namespace gatehouse::auth
