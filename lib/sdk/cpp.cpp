// The C++ SDK: one header, <name>.hpp, with a client class on gatehouse::http_client (a method
// per operation, typed parameters, any Asio completion token), and a README.md. The requests are
// those AWS's JavaScript SDK makes: path parameters percent-encoded, modelled query and header
// parameters, more of both over them (additionalParams), x-api-key, SigV4 for execute-api.

#include "sdk/sdk_model.hpp"
#include "util/text.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::sdk {

namespace {

// C++20's keywords and alternative tokens, and names the C library defines as macros: none may
// be a member's name. Each between spaces.
constexpr std::string_view reserved_words =
    " alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t "
    "char16_t char32_t class compl concept const consteval constexpr constinit const_cast "
    "continue co_await co_return co_yield decltype default delete do double dynamic_cast else "
    "enum explicit export extern false float for friend goto if import inline int long module "
    "mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected "
    "public register reinterpret_cast requires return short signed sizeof static static_assert "
    "static_cast struct switch template this thread_local throw true try typedef typeid "
    "typename union unsigned using virtual void volatile wchar_t while xor xor_eq final "
    "override errno assert unix linux major minor stdin stdout stderr offsetof ";

bool is_reserved(std::string_view id) {
  return reserved_words.find(fmt::format(" {} ", id)) != std::string_view::npos;
}

// A parameter's name as a C++ member: its letters and digits in snake case ("x-trace" →
// x_trace, "petId" → pet_id), "_" after a keyword ("class" → class_).
std::string identifier(std::string_view name) {
  const auto words = words_of(name);
  std::string id = words.empty() ? "parameter" : snake_case(words);
  if (is_reserved(id)) id += '_';
  return id;
}

// `text` as a C++ string literal.
std::string literal(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7f || c >= 0x80) {
      // Octal escapes end after three digits, so a following digit cannot join them.
      out += fmt::format("\\{:03o}", c);
    } else {
      out += ch;
    }
  }
  return out + '"';
}

// `text` for a comment: one line, no control characters.
std::string comment(std::string_view text) {
  std::string out;
  for (char c : text) out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c;
  return out;
}

// The literal text of a path as sent: RFC 3986 path characters kept, the rest percent-encoded.
std::string encode_path_text(std::string_view text) {
  constexpr std::string_view kept = "-._~/!$&'()*+,;=:@";
  std::string out;
  for (char ch : text) {
    if (util::is_ascii_alnum(ch) || kept.find(ch) != std::string_view::npos)
      out += ch;
    else
      out += fmt::format("%{:02X}", static_cast<unsigned char>(ch));
  }
  return out;
}

// `text` with each @KEY@ of `values` replaced by its value, in one pass: values are not
// searched again (an API's title may hold anything).
std::string substitute(
    std::string_view text,
    std::initializer_list<std::pair<std::string_view, std::string_view>> values) {
  std::string out;
  out.reserve(text.size() + 256);
  for (std::size_t at = 0;;) {
    auto open = text.find('@', at);
    auto close = open == std::string_view::npos ? open : text.find('@', open + 1);
    if (close == std::string_view::npos) return out.append(text.substr(at));
    const std::string_view key = text.substr(open + 1, close - open - 1);
    const auto* value =
        std::find_if(values.begin(), values.end(), [&](const auto& v) { return v.first == key; });
    out.append(text.substr(at, open - at));
    if (value == values.end()) {
      out += '@';  // not a key: the second '@' may open one
      at = open + 1;
    } else {
      out.append(value->second);
      at = close + 1;
    }
  }
}

// Verbs whose methods take a body (also every operation with a modelled body): AWS's SDK sends
// any body given, but GET, HEAD, DELETE and OPTIONS bodies have no meaning HTTP defines.
bool takes_body(const operation& op) {
  return !op.body_model.empty() || op.http_method == "POST" || op.http_method == "PUT" ||
         op.http_method == "PATCH";
}

// A modelled parameter of an operation as a member of its params struct.
struct member {
  std::string id;     // the C++ name
  std::string name;   // as sent
  std::string where;  // path, query or header
  bool required = false;
  bool greedy = false;
};

// The members of an operation's params struct: path, query, then header parameters. "headers"
// and "query" hold the additional parameters: a parameter of either name is "headers_" or
// "query_", as a keyword is. Names are unique: a later parameter whose name is taken gets its
// kind appended (id, id_query).
std::vector<member> members_of(const operation& op) {
  std::set<std::string, std::less<>> taken{"headers", "query"};
  std::vector<member> out;
  auto add = [&](const parameter& p, std::string_view where, bool greedy) {
    member m{identifier(p.name), p.name, std::string(where), p.required || where == "path", greedy};
    if (m.id == "headers" || m.id == "query") m.id += '_';
    if (taken.contains(m.id)) m.id = fmt::format("{}_{}", m.id, where);
    const std::string base = m.id;
    for (int n = 2; taken.contains(m.id); ++n) m.id = fmt::format("{}_{}", base, n);
    taken.insert(m.id);
    out.push_back(std::move(m));
  };
  for (const auto& p : op.path_parameters) add(p, "path", p.name == op.greedy_parameter);
  for (const auto& p : op.query_parameters) add(p, "query", false);
  for (const auto& p : op.header_parameters) add(p, "header", false);
  return out;
}

const member* path_member(const std::vector<member>& members, std::string_view name) {
  for (const auto& m : members)
    if (m.where == "path" && m.name == name) return &m;
  return nullptr;
}

// What a method's comment says beyond its verb and path, a line each.
std::vector<std::string> method_notes(const operation& op) {
  std::vector<std::string> notes;
  if (!op.operation_name.empty())
    notes.push_back(fmt::format("Operation {}.", comment(op.operation_name)));
  if (op.api_key_required) notes.emplace_back("Needs an API key (config::api_key).");
  if (op.authorization == "AWS_IAM")
    notes.emplace_back("IAM authorization: signed with SigV4 (config::credentials).");
  else if (op.authorization == "CUSTOM")
    notes.emplace_back("A custom authorizer: give its token or fields in p.headers.");
  else if (op.authorization == "COGNITO_USER_POOLS" || op.authorization == "JWT")
    notes.emplace_back("A JWT authorizer: give the token in p.headers (Authorization).");
  if (!op.body_model.empty())
    notes.push_back(fmt::format("Body: model {} (JSON).", comment(op.body_model)));
  if (!op.response_model.empty())
    notes.push_back(fmt::format("Response: model {} (JSON).", comment(op.response_model)));
  return notes;
}

// The fixed part of the header, before the operations. @NS@ and the @…@ values are filled in.
constexpr std::string_view prelude = R"(#pragma once

#include <gatehouse/http.hpp>
#include <gatehouse/http_client.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Bodies may also be RapidJSON values when RapidJSON is on the include path (define
// GATEHOUSE_SDK_NO_RAPIDJSON to leave them out).
#if !defined(GATEHOUSE_SDK_NO_RAPIDJSON) && defined(__has_include)
#if __has_include(<rapidjson/document.h>)
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#ifndef GATEHOUSE_SDK_RAPIDJSON
#define GATEHOUSE_SDK_RAPIDJSON 1
#endif
#endif
#endif

namespace @NS@ {

/// How a client calls the API.
struct config {
  /// The stage's URL (scheme, host, port and the stage's path, no "/" at the end).
  std::string invoke_url = @INVOKE_URL@;
  /// Sent as x-api-key with every request when not empty (a key of a usage plan).
  std::string api_key{};
  /// With an access key id and secret, every request is signed with SigV4 (service
  /// execute-api); session_token for temporary credentials.
  gatehouse::aws_credentials credentials{};
  /// The region of the signatures.
  std::string region = @REGION@;
  /// Content-Type of a request with a body, unless its headers name one.
  std::string default_content_type = "application/json";
  /// Accept of every request, unless its headers name one.
  std::string default_accept_type = "application/json";
  /// A call's time limit; 0: the http_client's own (29 s by default).
  std::chrono::milliseconds timeout{0};
};

/// Query parameters, names and values as they are (the client percent-encodes them).
using query_list = std::vector<std::pair<std::string, std::string>>;

/// RFC 3986 percent-encoding: every byte but A-Z a-z 0-9 - . _ ~ becomes %XX; with keep_slash,
/// "/" stays (a greedy path parameter: each segment encoded).
inline std::string encode(std::string_view text, bool keep_slash = false) {
  constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

namespace detail {

#ifdef GATEHOUSE_SDK_RAPIDJSON
inline std::string to_json(const rapidjson::Value& value) {
  rapidjson::StringBuffer text;
  rapidjson::Writer<rapidjson::StringBuffer> writer(text);
  value.Accept(writer);
  return std::string(text.GetString(), text.GetSize());
}
#endif

// A request as AWS's JavaScript SDK makes it. `path` is encoded already; `query` and `headers`
// hold the modelled parameters, and `more_query` and `more_headers` (AWS's additionalParams)
// replace those of the same names and add the rest. Accept and (with a body) Content-Type
// default to the config's, x-api-key is the config's key unless the headers name one.
inline gatehouse::client_request make_request(const config& c, std::string_view method,
                                              std::string_view path, query_list query,
                                              const query_list& more_query,
                                              gatehouse::header_map headers,
                                              const gatehouse::header_map& more_headers,
                                              std::string body) {
  std::erase_if(query, [&](const auto& q) {
    for (const auto& m : more_query)
      if (m.first == q.first) return true;
    return false;
  });
  query.insert(query.end(), more_query.begin(), more_query.end());
  for (const auto& f : more_headers) headers.erase(f.name);
  for (const auto& f : more_headers) headers.add(f.name, f.value);

  gatehouse::client_request r;
  r.method = method;
  r.url.reserve(c.invoke_url.size() + path.size() + 16 * query.size());
  r.url.append(c.invoke_url).append(path);
  char separator = '?';
  for (const auto& [name, value] : query) {
    r.url += separator;
    r.url.append(encode(name)).append("=").append(encode(value));
    separator = '&';
  }
  if (!c.default_accept_type.empty() && !headers.contains("accept"))
    headers.add("Accept", c.default_accept_type);
  if (!body.empty() && !c.default_content_type.empty() && !headers.contains("content-type"))
    headers.add("Content-Type", c.default_content_type);
  if (!c.api_key.empty() && !headers.contains("x-api-key")) headers.add("x-api-key", c.api_key);
  r.headers = std::move(headers);
  r.body = std::move(body);
  r.timeout = c.timeout;
  if (!c.credentials.access_key_id.empty() && !c.credentials.secret_access_key.empty()) {
    gatehouse::aws_signing signing;
    signing.credentials = c.credentials;
    signing.region = c.region;
    signing.service = "execute-api";
    r.sign = std::move(signing);
  }
  return r;
}

}  // namespace detail
)";

constexpr std::string_view client_head = R"(
/// A client of the API on a gatehouse::http_client, which must outlive its calls. Each method
/// sends one request; it completes with void(std::error_code, gatehouse::response) through any
/// Asio completion token (a callback, asio::use_future, asio::use_awaitable, asio::deferred).
/// A response of any status is a success: the error_code says why none came
/// (gatehouse::client_errc).
class client {
 public:
  explicit client(gatehouse::http_client& http, config settings = {})
      : http_(&http), config_(std::move(settings)) {}

  /// The settings of the calls that follow.
  const config& configuration() const noexcept { return config_; }
  config& configuration() noexcept { return config_; }
)";

constexpr std::string_view client_tail = R"(
  /// Any method and path, e.g. a route without a method of its own (an HTTP API's $default):
  /// `path` ("/…") is appended to invoke_url as given (encode() what needs it); an empty body
  /// sends none.
  template <class CompletionToken>
  auto request(std::string_view method, std::string_view path, std::string body,
               gatehouse::header_map headers, const query_list& query, CompletionToken&& token) {
    return http_->async_request(detail::make_request(config_, method, path, {}, query, {},
                                                     headers, std::move(body)),
                                std::forward<CompletionToken>(token));
  }
)";

// `head`, the parameters joined by ", ", then `tail`; a parameter that would pass column 100
// goes on a line of its own, aligned after `head`.
std::string wrap(std::string_view head, const std::vector<std::string>& params,
                 std::string_view tail) {
  std::string out(head);
  std::size_t column = out.size();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::size_t width = params[i].size() + (i + 1 < params.size() ? 1 : tail.find('\n'));
    if (i > 0) {
      if (column + 1 + width > 100) {
        out += '\n';
        out.append(head.size(), ' ');
        column = head.size();
      } else {
        out += ' ';
        ++column;
      }
    }
    out += params[i];
    column += params[i].size();
    if (i + 1 < params.size()) {
      out += ',';
      ++column;
    }
  }
  return out.append(tail);
}

void write_params(std::string& out, const operation& op, std::string_view fn,
                  const std::vector<member>& members) {
  out += fmt::format("\n/// The parameters of {} {} (client::{}).\nstruct {}_params {{\n",
                     op.http_method, comment(op.path), fn, fn);
  for (const auto& m : members) {
    const char* type = m.required ? "std::string" : "std::optional<std::string>";
    std::string what = m.where == "path" ? fmt::format("path {{{}{}}}", m.name, m.greedy ? "+" : "")
                                         : fmt::format("{} \"{}\"", m.where, m.name);
    if (m.greedy) what += ", \"/\" kept";
    if (m.where != "path" && m.required) what += ", required";
    out += fmt::format("  {} {}{{}};  ///< {}\n", type, m.id, comment(what));
  }
  out +=
      "  /// More header fields; each replaces the modelled ones of its name (additionalParams)."
      "\n  gatehouse::header_map headers{};\n"
      "  /// More query parameters; each replaces the modelled ones of its name.\n"
      "  query_list query{};\n};\n";
}

// The private member that builds an operation's request.
void write_builder(std::string& out, const operation& op, std::string_view fn,
                   const std::vector<member>& members) {
  out += '\n';
  out += wrap(fmt::format("  gatehouse::client_request {}_request(", fn),
              {fmt::format("const {}_params& p", fn), "std::string body"}, ") const {\n");
  // The path: literal text, encoded now, and the parameters, encoded when called.
  std::string_view path = op.path;
  std::string code;
  bool first = true;
  auto literal_part = [&](std::string_view text) {
    if (text.empty()) return;
    std::string lit = literal(encode_path_text(text));
    code += first ? fmt::format("    std::string path = {};\n", lit)
                  : fmt::format("    path += {};\n", lit);
    first = false;
  };
  while (!path.empty()) {
    auto open = path.find('{');
    auto close = open == std::string_view::npos ? open : path.find('}', open);
    if (close == std::string_view::npos) {
      literal_part(path);
      break;
    }
    literal_part(path.substr(0, open));
    std::string_view name = path.substr(open + 1, close - open - 1);
    if (name.ends_with('+')) name.remove_suffix(1);
    const member* m = path_member(members, name);
    if (first) code += "    std::string path;\n";
    first = false;
    if (m) code += fmt::format("    path += encode(p.{}{});\n", m->id, m->greedy ? ", true" : "");
    path.remove_prefix(close + 1);
  }
  if (first) code += "    std::string path;\n";
  out += code;
  out += "    query_list query;\n    gatehouse::header_map headers;\n";
  for (const auto& m : members) {
    if (m.where == "path") continue;
    std::string value = fmt::format("{}p.{}", m.required ? "" : "*", m.id);
    std::string add = m.where == "query"
                          ? fmt::format("query.emplace_back({}, {});", literal(m.name), value)
                          : fmt::format("headers.add({}, {});", literal(m.name), value);
    out += m.required ? fmt::format("    {}\n", add) : fmt::format("    if (p.{}) {}\n", m.id, add);
  }
  out += fmt::format(
      "    return detail::make_request(config_, {}, path, std::move(query), p.query,\n"
      "                                std::move(headers), p.headers, std::move(body));\n  }}\n",
      literal(op.http_method));
}

void write_methods(std::string& out, const operation& op, std::string_view fn) {
  out += fmt::format("\n  /// {} {}\n", op.http_method, comment(op.path));
  for (const auto& note : method_notes(op)) out += fmt::format("  /// {}\n", note);
  auto method = [&](std::string_view doc, std::string_view body_param, std::string_view body) {
    out += doc;
    out += "  template <class CompletionToken>\n";
    std::vector<std::string> params{fmt::format("const {}_params& p", fn)};
    if (!body_param.empty()) params.emplace_back(body_param);
    params.emplace_back("CompletionToken&& token");
    out += wrap(fmt::format("  auto {}(", fn), params, ") {\n");
    out +=
        wrap("    return http_->async_request(",
             {fmt::format("{}_request(p, {})", fn, body), "std::forward<CompletionToken>(token)"},
             ");\n");
    out += "  }\n";
  };
  method("", "", "{}");
  if (!takes_body(op)) return;
  method("  /// The same with a body, sent as it is.\n", "std::string body", "std::move(body)");
  out += "#ifdef GATEHOUSE_SDK_RAPIDJSON\n";
  method("  /// The same with a JSON body.\n", "const rapidjson::Value& body",
         "detail::to_json(body)");
  out += "#endif\n";
}

// " 1.0" after the title, "" without a version. (Not " " + text: GCC 12's -Wrestrict
// false positive.)
std::string version_text(const api& a) {
  return a.version.empty() ? std::string() : fmt::format(" {}", comment(a.version));
}

std::string readme(const api& a, std::string_view name, const std::vector<std::string>& names) {
  // The examples call the API's own methods where it has them.
  std::string get_call = "request(\"GET\", \"/\", \"\", {}, {}, ";
  std::string body_call = "request(\"POST\", \"/\", R\"({\"a\":1})\", {}, {}, ";
  // A GET without path parameters, open ones first; a method with a modelled body first.
  int get_rank = 2, body_rank = 2;
  for (std::size_t i = 0; i < a.operations.size(); ++i) {
    const auto& op = a.operations[i];
    if (op.http_method == "GET" && op.path_parameters.empty()) {
      const int rank = op.authorization == "NONE" && !op.api_key_required ? 0 : 1;
      if (rank < get_rank) get_call = fmt::format("{}({{}}, ", names[i]), get_rank = rank;
    }
    if (takes_body(op)) {
      const int rank = op.body_model.empty() ? 1 : 0;
      if (rank < body_rank)
        body_call = fmt::format("{}({{}}, R\"({{\"a\":1}})\", ", names[i]), body_rank = rank;
    }
  }
  std::string text = R"(# @TITLE@: C++ client

Generated by gatehouse from the stage `@STAGE@` of @TITLE@@VERSION@. One header, `@NS@.hpp`, on
gatehouse's HTTP client: put this folder on the include path of a target that links
`gatehouse::gatehouse` (`find_package(gatehouse CONFIG REQUIRED)`), C++20.

```cpp
#include "@NS@.hpp"
#include <asio/io_context.hpp>

asio::io_context io;
gatehouse::http_client http{io.get_executor()};
@NS@::config settings;  // invoke_url: @INVOKE_URL@
settings.api_key = "...";  // sent as x-api-key
settings.credentials = {"AKIA...", "secret", ""};  // SigV4 (execute-api, settings.region)
@NS@::client api{http, settings};

// A callback: void(std::error_code, gatehouse::response); any status is a response.
api.@GET_CALL@[&](std::error_code ec, gatehouse::response r) {
  /* r.status, r.headers, r.body */
  http.close_idle();  // pooled keep-alive connections keep io.run() busy until they idle out
});
io.run();
// A future (with io running on another thread), or a coroutine (errors throw system_error):
gatehouse::response r1 = api.@GET_CALL@asio::use_future).get();
gatehouse::response r2 = co_await api.@GET_CALL@asio::use_awaitable);
// A body as text, or a rapidjson::Value (serialised) when RapidJSON is on the include path:
api.@BODY_CALL@asio::use_future);
```

Each method is named after its path and verb (AWS's JavaScript name in snake case) and takes a
`<method>_params`: path parameters (`std::string`), query and header parameters
(`std::optional<std::string>`, `std::string` when required), and `headers` and `query` for
anything more (AWS's `additionalParams`). POST, PUT and PATCH methods and those with a modelled
body also take a body; `api.request(method, path, body, headers, query, token)` calls any route.
)";
  const std::string title = comment(a.title.empty() ? "API" : a.title);
  return substitute(text, {{"NS", name},
                           {"TITLE", title},
                           {"STAGE", comment(a.stage)},
                           {"VERSION", version_text(a)},
                           {"INVOKE_URL", comment(a.invoke_url)},
                           {"GET_CALL", get_call},
                           {"BODY_CALL", body_call}});
}

}  // namespace

sdk_files generate_cpp(const api& a, std::string_view name) {
  if (is_reserved(name)) throw config_error(fmt::format("sdk: name '{}' is a C++ keyword", name));

  // The methods' names: AWS's names in snake case, unique (HTMLPage and htmlpage meet).
  std::vector<std::string> names;
  std::set<std::string, std::less<>> taken;
  for (const auto& op : a.operations) {
    std::string fn = snake_case(op.words);
    for (int n = 2; !taken.insert(fn).second; ++n)
      fn = fmt::format("{}_{}", snake_case(op.words), n);
    names.push_back(std::move(fn));
  }

  std::string header = fmt::format(
      "// {}.hpp: a C++ client of {}{}, stage {}.\n"
      "// Generated by gatehouse (generate_sdk, type cpp): regenerate it rather than edit it.\n"
      "// README.md shows its use.\n",
      name, comment(a.title.empty() ? "the API" : a.title), version_text(a), comment(a.stage));
  header += substitute(
      prelude,
      {{"NS", name}, {"INVOKE_URL", literal(a.invoke_url)}, {"REGION", literal(a.region)}});

  std::vector<std::vector<member>> members;
  for (std::size_t i = 0; i < a.operations.size(); ++i) {
    members.push_back(members_of(a.operations[i]));
    write_params(header, a.operations[i], names[i], members.back());
  }
  header += client_head;
  for (std::size_t i = 0; i < a.operations.size(); ++i)
    write_methods(header, a.operations[i], names[i]);
  header += client_tail;
  header += "\n private:";
  for (std::size_t i = 0; i < a.operations.size(); ++i)
    write_builder(header, a.operations[i], names[i], members[i]);
  header += "\n  gatehouse::http_client* http_;\n  config config_;\n};\n\n";
  header += fmt::format("}}  // namespace {}\n", name);

  sdk_files files;
  files[std::string(name) + ".hpp"] = std::move(header);
  files["README.md"] = readme(a, name, names);
  return files;
}

}  // namespace gatehouse::sdk
