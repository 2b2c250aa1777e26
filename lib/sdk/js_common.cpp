// JavaScript literals, the runtime's operation descriptions, the package's name and the README:
// the same for the JavaScript and the TypeScript SDK.

#include "sdk/js_common.hpp"

#include <fmt/format.h>

#include <cctype>

namespace gatehouse::sdk::js {

namespace {

bool identifier_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' ||
         (!first && c >= '0' && c <= '9');
}

std::string list(const std::vector<std::string>& names) {
  std::string out = "[";
  for (const auto& n : names) {
    if (out.size() > 1) out += ", ";
    out += string_literal(n);
  }
  return out + "]";
}

std::vector<std::string> names_of(const std::vector<parameter>& ps) {
  std::vector<std::string> out;
  for (const auto& p : ps) out.push_back(p.name);
  return out;
}

// "`petId` (path), `type` (query, optional)".
std::string parameter_cells(const operation& op) {
  std::string out;
  auto add = [&](const parameter& p, std::string_view where, bool required) {
    if (!out.empty()) out += ", ";
    out += fmt::format("`{}` ({}{})", p.name, where, required ? "" : ", optional");
  };
  for (const auto& p : op.path_parameters) add(p, "path", p.name != op.greedy_parameter);
  for (const auto& p : op.query_parameters) add(p, "query", p.required);
  for (const auto& p : op.header_parameters) add(p, "header", p.required);
  return out.empty() ? "—" : out;
}

std::string authorization_cell(const operation& op) {
  std::string out;
  if (op.api_key_required) out = "API key";
  std::string_view how;
  if (op.authorization == "AWS_IAM")
    how = "SigV4 (IAM)";
  else if (op.authorization == "CUSTOM")
    how = "custom authorizer";
  else if (op.authorization == "COGNITO_USER_POOLS")
    how = "Cognito user pool token";
  else if (op.authorization == "JWT")
    how = "JWT";
  if (!how.empty()) out += (out.empty() ? "" : ", ") + std::string(how);
  return out.empty() ? "—" : out;
}

// A call of `op` for the README: required parameters with a made-up value.
std::string example_call(const operation& op) {
  std::string params;
  auto add = [&](const parameter& p) {
    params += fmt::format("{}{}: '1'", params.empty() ? "" : ", ", property_name(p.name));
  };
  for (const auto& p : op.path_parameters)
    if (p.name != op.greedy_parameter) add(p);
  for (const auto& p : op.query_parameters)
    if (p.required) add(p);
  for (const auto& p : op.header_parameters)
    if (p.required) add(p);
  return fmt::format("apigClient.{}({})", op.name, params.empty() ? "" : "{ " + params + " }");
}

}  // namespace

std::string string_literal(std::string_view s) {
  std::string out = "'";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\'' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else if (c == 0xe2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(s[i + 2]) == 0xa8 ||
                static_cast<unsigned char>(s[i + 2]) == 0xa9)) {
      // U+2028 and U+2029 end a line in older JavaScript.
      out += static_cast<unsigned char>(s[i + 2]) == 0xa8 ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

bool is_identifier(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (!identifier_char(s[i], i == 0)) return false;
  return true;
}

std::string property_name(std::string_view s) {
  return is_identifier(s) ? std::string(s) : string_literal(s);
}

std::string member(std::string_view object, std::string_view name) {
  return is_identifier(name) ? fmt::format("{}.{}", object, name)
                             : fmt::format("{}[{}]", object, string_literal(name));
}

std::string operation_literal(const operation& op) {
  std::vector<std::string> required;
  for (const auto& p : op.path_parameters)
    if (p.name != op.greedy_parameter) required.push_back(p.name);
  for (const auto& p : op.query_parameters)
    if (p.required) required.push_back(p.name);
  for (const auto& p : op.header_parameters)
    if (p.required) required.push_back(p.name);
  return fmt::format("{{ method: {}, path: {}, query: {}, headers: {}, required: {} }}",
                     string_literal(op.http_method), string_literal(op.path),
                     list(names_of(op.query_parameters)), list(names_of(op.header_parameters)),
                     list(required));
}

std::string summary(const operation& op) {
  std::string out = op.http_method + " " + op.path;
  std::string params;
  auto add = [&](std::string_view where, const std::vector<parameter>& ps, bool optional_mark) {
    if (ps.empty()) return;
    if (!params.empty()) params += "; ";
    params += where;
    params += ':';
    for (const auto& p : ps) {
      params += ' ' + p.name;
      if (optional_mark && !p.required) params += '?';
      if (&p != &ps.back()) params += ',';
    }
  };
  add("path", op.path_parameters, false);
  add("query", op.query_parameters, true);
  add("header", op.header_parameters, true);
  if (!params.empty()) out += " (" + params + ")";
  if (op.api_key_required) out += ", API key";
  if (op.authorization == "AWS_IAM")
    out += ", SigV4";
  else if (op.authorization != "NONE" && !op.authorization.empty())
    out += ", authorizer";
  return out;
}

std::string package_name(const api& a) {
  std::string name;
  for (char c : a.title) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9'))
      name += l;
    else if (!name.empty() && name.back() != '-')
      name += '-';
  }
  while (!name.empty() && name.back() == '-') name.pop_back();
  if (name.size() > 200) name.resize(200);
  return (name.empty() ? std::string("api") : name) + "-sdk";
}

std::string package_version(const api& a) {
  // The leading "1", "1.2" or "1.2.3" of the API's version, padded to three numbers.
  std::vector<std::string> parts(1);
  for (char c : a.version) {
    if (c >= '0' && c <= '9') {
      if (parts.back().size() < 9) parts.back() += c;
    } else if (c == '.' && !parts.back().empty() && parts.size() < 3) {
      parts.emplace_back();
    } else {
      break;
    }
  }
  if (parts.back().empty()) parts.pop_back();
  if (parts.empty() || a.version.size() > 64) return "1.0.0";
  // npm refuses leading zeros.
  for (auto& p : parts) p = std::to_string(std::stoull(p));
  while (parts.size() < 3) parts.emplace_back("0");
  return parts[0] + "." + parts[1] + "." + parts[2];
}

std::string banner(const api& a) {
  std::string title = a.title, stage = a.stage;
  for (auto* s : {&title, &stage})
    for (auto& c : *s)
      if (c == '\n' || c == '\r') c = ' ';
  return fmt::format(
      "// A client of the API '{}' (stage '{}'), generated by gatehouse: API Gateway's JavaScript\n"
      "// SDK interface (apigClientFactory.newClient) on fetch and WebCrypto. See README.md.\n",
      title, stage);
}

std::string readme(const api& a, bool typed) {
  std::string out = fmt::format("# {} — {} client\n\n", a.title.empty() ? "API" : a.title,
                                typed ? "TypeScript" : "JavaScript");
  if (!a.description.empty()) out += a.description + "\n\n";
  out += fmt::format(
      "A client of the API \"{}\"{} as deployed to the stage \"{}\", generated by gatehouse. It "
      "has "
      "the interface of API Gateway's generated JavaScript SDK (`apigClientFactory.newClient`, "
      "a method per resource and verb), so code written against AWS's SDK runs with it "
      "unchanged{}. It needs no libraries: `fetch` and WebCrypto, in browsers and in Node.js 18 "
      "or later.\n\nIt calls `{}` unless the client is given another `invokeUrl`.\n\n",
      a.title, a.version.empty() ? "" : " (version " + a.version + ")", a.stage,
      typed ? " (and is typed from the API's models)" : "", a.invoke_url);

  // The example calls an open GET if there is one.
  const operation* sample = nullptr;
  for (const auto& op : a.operations)
    if (!sample && op.http_method == "GET" && op.authorization == "NONE" && !op.api_key_required)
      sample = &op;
  for (const auto& op : a.operations)
    if (!sample && op.http_method == "GET") sample = &op;
  if (!sample && !a.operations.empty()) sample = &a.operations.front();
  const std::string call = sample ? example_call(*sample) : "apigClient.invokeApi('GET', '/')";

  out += "## Use it\n\n";
  if (typed) {
    out += fmt::format(
        "`apigClient.ts` is an ES module. Compile it with the project that uses it, or on its "
        "own: `npm install && npx tsc` (tsconfig.json: strict, ES2022, NodeNext) writes "
        "`dist/`.\n\n```ts\nimport {{ apigClientFactory, ApiError }} from './apigClient.js';\n\n"
        "const apigClient = apigClientFactory.newClient({{ apiKey: process.env.API_KEY }});\n"
        "try {{\n  const result = await {};\n  console.log(result.status, result.data);\n"
        "}} catch (e) {{\n  if (e instanceof ApiError) console.log(e.response.status, "
        "e.response.data);\n  else throw e;\n}}\n```\n\n",
        call);
  } else {
    out += fmt::format(
        "In a web page, as with AWS's SDK (no other scripts needed):\n\n```html\n"
        "<script src=\"apigClient.js\"></script>\n<script>\n"
        "  var apigClient = apigClientFactory.newClient({{ apiKey: 'KEY' }});\n"
        "  {}.then(function (result) {{ console.log(result.data); }});\n"
        "</script>\n```\n\nIn Node.js, CommonJS or an ES module:\n\n```js\n"
        "const {{ apigClientFactory }} = require('./apigClient.js');\n"
        "// or: import {{ apigClientFactory }} from './apigClient.mjs';\n\n"
        "const apigClient = apigClientFactory.newClient({{ apiKey: process.env.API_KEY }});\n"
        "{}\n  .then((result) => console.log(result.status, result.data))\n"
        "  .catch((e) => console.log(e.response ? e.response.status : e));\n```\n\n"
        "`package.json` points `require` at `apigClient.js` and `import` at `apigClient.mjs`.\n\n",
        call, call);
  }

  out +=
      "## newClient(config)\n\n"
      "| setting | default | |\n|---|---|---|\n"
      "| `accessKey`, `secretKey`, `sessionToken` | none | AWS credentials: with `accessKey` and "
      "`secretKey` every request is signed with Signature Version 4 (service `execute-api`) |\n";
  out += fmt::format(
      "| `region` | `{}` | the region of the signatures |\n"
      "| `apiKey` | none | sent as `x-api-key` on every request |\n"
      "| `defaultContentType` | `application/json` | the `Content-Type` of requests with a body |\n"
      "| `defaultAcceptType` | `application/json` | the `Accept` header |\n"
      "| `invokeUrl` | `{}` | where the API is served (the stage's URL) |\n"
      "| `fetch` | `globalThis.fetch` | the fetch function requests go through |\n\n",
      a.region, a.invoke_url);

  out +=
      "## Methods\n\n"
      "Each method takes `(params, body, additionalParams)` and returns a Promise. `params` holds "
      "the path, query string and header parameters by name; path parameters are "
      "percent-encoded (a greedy `{proxy+}` segment by segment). A method throws "
      "`Error('NAME must be defined')` at once when a required one is missing. `body` is sent as "
      "JSON (a string as it is); `undefined`, `null`, `''` and `{}` send none.\n\n"
      "| method | request | parameters | body | authorization |\n|---|---|---|---|---|\n";
  for (const auto& op : a.operations) {
    out += fmt::format("| `{}` | `{} {}` | {} | {} | {} |\n", op.name, op.http_method, op.path,
                       parameter_cells(op),
                       op.body_model.empty() ? "—" : "JSON `" + op.body_model + "`",
                       authorization_cell(op));
  }
  if (a.operations.empty()) out += "| (none) | | | | |\n";
  out +=
      "\n`apigClient.invokeApi(method, path, body, additionalParams)` calls any method and path "
      "under the invoke URL (an HTTP API's `$default` route, say); the path is sent as given.\n\n"
      "## additionalParams\n\n"
      "`{ headers: { … }, queryParams: { … } }`, merged over the modelled parameters from "
      "`params`, e.g. `{ headers: { Authorization: 'Bearer TOKEN' } }` for a Lambda or JWT "
      "authorizer. A query parameter's value may be an array (the name repeated).\n\n"
      "## Results and errors\n\n"
      "A Promise resolves, for a 2xx answer, to `{ data, status, statusText, headers, config }` "
      "as axios (which AWS's SDK uses) shapes it: `data` parsed as JSON when it is JSON, else the "
      "text; header names in lower case. Any other status rejects it with an `ApiError` (an "
      "`Error`) whose `response` holds the answer, e.g. `e.response.status === 403` and "
      "`e.response.data` `{ message: 'Forbidden' }`. Network failures reject with fetch's "
      "error.\n\n"
      "## Signing (SigV4)\n\n"
      "With `accessKey` and `secretKey` the client signs every request as AWS's SDK does: "
      "`host`, `x-amz-date`, `accept`, `content-type` (with a body), `x-api-key` and every header "
      "given are signed; a `sessionToken` is sent as `x-amz-security-token`. Signing uses "
      "WebCrypto: browsers offer it to https pages only.\n";
  return out;
}

}  // namespace gatehouse::sdk::js
