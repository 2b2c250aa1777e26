#include "observe/access_log_line.hpp"

#include "pipeline/exchange.hpp"
#include "util/json_text.hpp"

#include <gatehouse/gateway_response.hpp>

#include <charconv>
#include <chrono>

namespace gatehouse::observe {

namespace {
using transform::context_var;

void append_number(std::string& out, std::int64_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
}

// Latencies in whole milliseconds, as AWS logs them.
bool append_ms(std::string& out, std::chrono::nanoseconds d) {
  if (d.count() < 0) return false;
  append_number(out, std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  return true;
}

std::string_view error_message(const detail::gateway_error& e) {
  return e.message.empty() ? default_message(e.type) : std::string_view(e.message);
}

// Step 4's outcome as AWS splits it: the authorizer (the call), authenticate (is the caller who
// it claims: a token, a signature) and authorize (may it call the method). gatehouse's
// authorizers do all three in one step, so their latencies are the step's; a status is 200 but
// for the part that refused the request, which has the refusal's status and message.
enum class auth_part { authorizer, authorizer_call, authenticate, authorize };

bool refused_by(const request_facts& f, auth_part part) {
  if (!f.ex.authorizer_refused || !f.error) return false;
  switch (f.error->type) {
    case response_type::authorizer_failure:
    case response_type::authorizer_configuration_error:
      return part == auth_part::authorizer || part == auth_part::authorizer_call;
    case response_type::access_denied:
      return part == auth_part::authorizer || part == auth_part::authorize;
    default:  // unauthorized, expired or invalid tokens and signatures
      return part == auth_part::authorizer || part == auth_part::authenticate;
  }
}

bool auth_status(const request_facts& f, auth_part part, std::string& out) {
  if (f.ex.authorizer_latency.count() < 0) return false;
  append_number(out, refused_by(f, part) ? f.res.status : 200);
  return true;
}

bool auth_error(const request_facts& f, auth_part part, std::string& out) {
  if (!refused_by(f, part)) return false;
  out.append(error_message(*f.error));
  return true;
}

// An error that ended the request after its integration ran (a failure, a timeout, a response
// that could not be mapped): what $context.integration.error shows.
bool integration_error(const request_facts& f, std::string& out) {
  if (!f.error || f.ex.integration_latency.count() < 0) return false;
  out.append(f.error->log_reason.empty() ? error_message(*f.error)
                                         : std::string_view(f.error->log_reason));
  return true;
}

// The value of one variable; false when it has none.
bool value(const request_facts& f, const format_piece& p, std::string& out) {
  const auto& ex = f.ex;
  switch (*p.var) {
    case context_var::status:
      append_number(out, f.res.status);
      return true;
    case context_var::response_length:
      append_number(out, static_cast<std::int64_t>(f.body_bytes));
      return true;
    case context_var::response_latency:
      return append_ms(out, f.latency);
    case context_var::data_processed:
      append_number(out, static_cast<std::int64_t>(ex.req.body.size() + f.body_bytes));
      return true;
    case context_var::integration_latency:
    case context_var::integration_latency_of_integration:
      return append_ms(out, ex.integration_latency);
    case context_var::integration_status:
    case context_var::integration_status_of_integration:
    case context_var::integration_integration_status:
      if (ex.integration_status == 0) return false;
      append_number(out, ex.integration_status);
      return true;
    case context_var::integration_error:
    case context_var::integration_error_message:
      return integration_error(f, out);
    case context_var::error_message:
    case context_var::error_message_string:
      if (!f.error) return false;
      out.append(error_message(*f.error));
      return true;
    case context_var::error_response_type:
      if (!f.error) return false;
      out.append(to_string(f.error->type));
      return true;
    case context_var::error_validation_error_string:
      if (!f.error || f.error->validation_errors.empty()) return false;
      out.append(f.error->validation_errors);
      return true;
    case context_var::authorizer_latency:
    case context_var::authorizer_integration_latency:
    case context_var::authenticate_latency:
    case context_var::authorize_latency:
      return append_ms(out, ex.authorizer_latency);
    case context_var::authorizer_status:
      return auth_status(f, auth_part::authorizer, out);
    case context_var::authorizer_integration_status:
      return auth_status(f, auth_part::authorizer_call, out);
    case context_var::authenticate_status:
      return auth_status(f, auth_part::authenticate, out);
    case context_var::authorize_status:
      return auth_status(f, auth_part::authorize, out);
    case context_var::authorizer_error:
      return auth_error(f, auth_part::authorizer, out);
    case context_var::authenticate_error:
      return auth_error(f, auth_part::authenticate, out);
    case context_var::authorize_error:
      return auth_error(f, auth_part::authorize, out);
    // No WAF, and no AWS request ids of the authorizer's or integration's calls.
    case context_var::waf_error:
    case context_var::waf_latency:
    case context_var::waf_status:
    case context_var::authorizer_request_id:
    case context_var::integration_request_id:
      return false;
    default:
      return transform::append_context_value(ex, {*p.var, p.arg}, out);
  }
}

constexpr char hex_digits[] = "0123456789ABCDEF";

void append_hex_escape(std::string& out, unsigned char c) {
  out.append("\\x");
  out.push_back(hex_digits[c >> 4]);
  out.push_back(hex_digits[c & 15]);
}

// Whether a JSON value outside a string can be written as it is: a JSON number or a literal.
bool json_token(std::string_view v) {
  if (v == "true" || v == "false" || v == "null") return true;
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t from = i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
    return i > from;
  };
  if (i < v.size() && v[i] == '-') ++i;
  if (i < v.size() && v[i] == '0')
    ++i;
  else if (!digits())
    return false;
  if (i < v.size() && v[i] == '.' && (++i, !digits())) return false;
  if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
    ++i;
    if (i < v.size() && (v[i] == '+' || v[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == v.size();
}

// Appends well-formed UTF-8 `v` escaped as `mode` writes values (see log_escaping).
void append_escaped(std::string& out, std::string_view v, log_escaping mode) {
  for (unsigned char c : v) {
    switch (mode) {
      case log_escaping::json:
        if (c == '"' || c == '\\') {
          out.push_back('\\');
          out.push_back(static_cast<char>(c));
        } else if (c < 0x20) {
          out.append("\\u00");
          out.push_back(hex_digits[c >> 4]);
          out.push_back(hex_digits[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
        break;
      case log_escaping::xml:
        switch (c) {
          case '&':
            out.append("&amp;");
            break;
          case '<':
            out.append("&lt;");
            break;
          case '>':
            out.append("&gt;");
            break;
          case '"':
            out.append("&quot;");
            break;
          case '\'':
            out.append("&apos;");
            break;
          case '\n':
            out.append("&#10;");
            break;
          case '\r':
            out.append("&#13;");
            break;
          case '\t':  // a reference: attribute values would turn a raw tab into a space
            out.append("&#9;");
            break;
          default:
            if (c < 0x20)
              out.append("\xEF\xBF\xBD");  // not a character of XML 1.0
            else
              out.push_back(static_cast<char>(c));
        }
        break;
      case log_escaping::csv:
        if (c < 0x20 || c == 0x7F)
          append_hex_escape(out, c);
        else
          out.push_back(static_cast<char>(c));
        break;
      case log_escaping::text:
        if (c < 0x20 || c == 0x7F || c == '"' || c == '\\')
          append_hex_escape(out, c);
        else
          out.push_back(static_cast<char>(c));
        break;
    }
  }
}

// Writes one variable's value (in `scratch`, or none) as the format's escaping says.
void emit(std::string& line, const format_piece& p, log_escaping mode, bool present,
          std::string_view v) {
  if (!present || v.empty()) {
    line.append(mode == log_escaping::json && !p.in_json_string ? "null" : "-");
    return;
  }
  // $context.error.messageString is error.message in quotes; in JSON a string value's token.
  const bool quoted = *p.var == context_var::error_message_string;
  if (mode == log_escaping::json) {
    if (p.in_json_string) {
      if (quoted) line.append("\\\"");
      append_escaped(line, v, mode);
      if (quoted) line.append("\\\"");
    } else if (!quoted && json_token(v)) {
      line.append(v);
    } else {
      line.push_back('"');
      append_escaped(line, v, mode);
      line.push_back('"');
    }
    return;
  }
  if (mode == log_escaping::csv && (quoted || v.find_first_of(",\"") != std::string_view::npos)) {
    // RFC 4180: the field in quotes, its own quotes doubled.
    line.push_back('"');
    if (quoted) line.append("\"\"");
    for (char c : v) {
      if (c == '"') line.push_back('"');
      append_escaped(line, {&c, 1}, mode);
    }
    if (quoted) line.append("\"\"");
    line.push_back('"');
    return;
  }
  if (quoted) line.append(mode == log_escaping::xml ? "&quot;" : "\"");
  append_escaped(line, v, mode);
  if (quoted) line.append(mode == log_escaping::xml ? "&quot;" : "\"");
}
}  // namespace

void render_access_log_line(const access_log_format& format, const request_facts& facts,
                            std::string& line) {
  thread_local std::string scratch, valid;
  for (const auto& p : format.pieces) {
    line.append(p.literal);
    if (!p.var) break;
    scratch.clear();
    const bool present = value(facts, p, scratch);
    std::string_view v = scratch;
    if (!util::valid_utf8(v)) {  // client text need not be UTF-8
      valid.clear();
      util::append_valid_utf8(valid, v);
      v = valid;
    }
    emit(line, p, format.escaping, present, v);
  }
}

}  // namespace gatehouse::observe
