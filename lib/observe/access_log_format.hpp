#pragma once

// Access-log formats (AWS's accessLogSettings.format): text with $context variables, compiled
// once when a stage's access log is set into literal pieces and variable ids, with the escaping
// that keeps a line of the format's shape (JSON, XML, CSV or plain text) whole and valid.

#include "transform/context_variables.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::observe {

enum class log_api : std::uint8_t { rest, http, websocket };

/// How values are written into a line, chosen from the format's shape:
/// - json (the format starts with `{`): inside a string literal a value is escaped as JSON
///   string content; outside one it is written as a JSON value (a number as it is, other text
///   quoted, an absent value as null), so that any format whose own text is JSON stays JSON.
/// - xml (starts with `<`): `& < > " '` as entities, tabs and line breaks as character references,
///   other control characters (not allowed in XML 1.0) as U+FFFD.
/// - csv (variables separated by single commas): a value with a comma or a quote is quoted as
///   RFC 4180 says; control characters as \xHH.
/// - text (anything else, CLF included): control characters, `"` and `\` as \xHH, as nginx
///   escapes its access logs, so that a value can neither end the line nor a quoted field.
/// Everywhere: ill-formed UTF-8 becomes U+FFFD, and an absent or empty value prints as AWS
/// prints it, `-` (null outside a JSON string).
enum class log_escaping : std::uint8_t { text, json, xml, csv };

/// How a piece's variable is written: most in general (resolved, escaped as the format's shape
/// says), the usual ones of the presets by a shortcut that copies them as they are.
enum class piece_op : std::uint8_t {
  general,
  request_id,       ///< the 36 characters of the request's id
  request_time,     ///< its CLF time
  status,           ///< the response's status
  response_length,  ///< its body bytes
  protocol,         ///< HTTP/1.1
  end,              ///< no variable: the line's end
};

/// A value of fixed width written into a literal once it is copied (see log_step).
enum class patch_kind : std::uint8_t { request_id, protocol };
struct literal_patch {
  std::uint32_t offset = 0;  ///< in the step's literal
  patch_kind kind = patch_kind::request_id;
};

/// The render's program, made from the pieces: a step copies a literal, writes the fixed-width
/// values of the variables it swallowed (a request id, the protocol) into their places in it,
/// then writes one variable, `op`, or ends the line. Fewer, cheaper steps than pieces.
struct log_step {
  static constexpr std::size_t max_patches = 4;
  std::uint32_t literal_at = 0;  ///< in access_log_format::literals
  std::uint32_t literal_size = 0;
  std::uint32_t piece = 0;  ///< the piece of the variable written after the literal
  piece_op op = piece_op::end;
  std::uint8_t patch_count = 0;
  std::array<literal_patch, max_patches> patches{};
};

struct format_piece {
  std::string literal;                        ///< the text before the variable
  std::optional<transform::context_var> var;  ///< none: the format's end
  std::string arg;                            ///< authorizer.<arg> …
  bool in_json_string = false;                ///< json: the variable is inside "…"
  bool safe = false;  ///< its values never need escaping (ids, numbers, times the gateway made)
  piece_op op = piece_op::general;
  bool from_response = false;  ///< only the response tells its value (observe/ resolves it)
};

struct access_log_format {
  std::string text;  ///< as compiled (a preset's text for a preset's name)
  log_api api = log_api::rest;
  log_escaping escaping = log_escaping::text;
  std::vector<format_piece> pieces;  ///< …, the last one without a variable
  std::vector<log_step> steps;       ///< …, the last one with op end
  /// The steps' literals one after another (with room for their patches), and 32 bytes more,
  /// so that they can be copied in blocks of 32 bytes.
  std::string literals;
  /// What a line needs but for its general variables' values: the literals, 32 bytes of
  /// padding, the widest value of each shortcut, "null" for each general variable.
  std::uint32_t fixed_room = 0;
};

/// AWS's preset named `name` ("clf", "json", "xml", "csv", in any case) for `api`, verbatim;
/// nullopt for other names.
std::optional<std::string_view> access_log_preset(std::string_view name, log_api api) noexcept;

/// Compiles a format, or a preset's name, for an API of type `api`. Throws config_error naming
/// `where` for an empty format, a line break before its end (one trailing one is allowed), an
/// HTTP or WebSocket format over 3 KB, a `$` variable other than $context, a $context variable
/// `api` does not have, or a format without $context.requestId or $context.extendedRequestId.
access_log_format compile_access_log_format(std::string_view format, log_api api,
                                            std::string_view where);

}  // namespace gatehouse::observe
