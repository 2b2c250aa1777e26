// The JavaScript SDK: AWS's apigClient interface, generated once (the runtime and the API's
// methods) and wrapped twice: apigClient.js (a browser <script> defining apigClientFactory, and
// CommonJS) and apigClient.mjs (an ES module).

#include "sdk/js_common.hpp"
#include "sdk/sdk_model.hpp"

#include <fmt/format.h>

namespace gatehouse::sdk {

namespace {

// The runtime and apigClientFactory: the body of both files.
std::string client_code(const api& a) {
  std::string out = js::runtime(false);
  out += fmt::format("\nconst INVOKE_URL = {};\nconst REGION = {};\n\n",
                     js::string_literal(a.invoke_url), js::string_literal(a.region));
  out +=
      "const apigClientFactory = {\n"
      "  newClient: function (config) {\n"
      "    const invoker = makeInvoker(INVOKE_URL, REGION, config);\n"
      "    const apigClient = {};\n";
  for (const auto& op : a.operations) {
    out += fmt::format(
        "\n    // {}\n"
        "    {} = function (params, body, additionalParams) {{\n"
        "      return invoker.call({},\n"
        "        params, body, additionalParams);\n"
        "    }};\n",
        js::summary(op), js::member("apigClient", op.name), js::operation_literal(op));
  }
  out +=
      "\n    // Any method and path: invokeApi('GET', '/path', body, additionalParams).\n"
      "    apigClient.invokeApi = invoker.invokeApi;\n"
      "    return apigClient;\n"
      "  },\n"
      "  // Rejections for answers outside 2xx: error.response = {data, status, statusText, ...}.\n"
      "  ApiError: ApiError,\n"
      "};\n";
  return out;
}

std::string indented(std::string_view text, std::string_view by) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    if (!line.empty()) out.append(by).append(line);
    out += '\n';
    start = end + 1;
  }
  return out;
}

std::string package_json(const api& a) {
  // npm's JSON: names made by package_name are plain; the description is escaped as JSON.
  std::string description = a.title + " client (API Gateway's JavaScript SDK interface)";
  std::string escaped;
  for (char c : description) {
    if (c == '"' || c == '\\')
      escaped += '\\', escaped += c;
    else if (static_cast<unsigned char>(c) >= 0x20)
      escaped += c;
  }
  return fmt::format(
      "{{\n"
      "  \"name\": \"{}\",\n"
      "  \"version\": \"{}\",\n"
      "  \"description\": \"{}\",\n"
      "  \"main\": \"apigClient.js\",\n"
      "  \"module\": \"apigClient.mjs\",\n"
      "  \"browser\": \"apigClient.js\",\n"
      "  \"exports\": {{\n"
      "    \".\": {{\n"
      "      \"import\": \"./apigClient.mjs\",\n"
      "      \"require\": \"./apigClient.js\"\n"
      "    }}\n"
      "  }},\n"
      "  \"files\": [\"apigClient.js\", \"apigClient.mjs\", \"README.md\"],\n"
      "  \"engines\": {{ \"node\": \">=18\" }},\n"
      "  \"private\": true\n"
      "}}\n",
      js::package_name(a), js::package_version(a), escaped);
}

}  // namespace

sdk_files generate_javascript(const api& a) {
  const std::string code = client_code(a);
  sdk_files files;
  // A browser's <script> gets the global apigClientFactory, as AWS's apigClient.js defines it;
  // CommonJS gets module.exports.
  files["apigClient.js"] =
      js::banner(a) +
      "(function (root, factory) {\n"
      "  'use strict';\n"
      "  const exported = factory();\n"
      "  if (typeof module === 'object' && module && module.exports) {\n"
      "    module.exports = exported;\n"
      "  } else {\n"
      "    root.apigClientFactory = exported.apigClientFactory;\n"
      "  }\n"
      "})(typeof globalThis !== 'undefined' ? globalThis : this, function () {\n"
      "  'use strict';\n" +
      indented(code, "  ") +
      "\n  return { apigClientFactory: apigClientFactory, ApiError: ApiError, "
      "default: apigClientFactory };\n"
      "});\n";
  files["apigClient.mjs"] = js::banner(a) + code +
                            "\nexport { apigClientFactory, ApiError };\n"
                            "export default apigClientFactory;\n";
  files["package.json"] = package_json(a);
  files["README.md"] = js::readme(a, false);
  return files;
}

}  // namespace gatehouse::sdk
