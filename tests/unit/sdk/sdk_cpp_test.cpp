// The C++ SDK's header for a small imported API (tests/package/sdk-cpp/tricky.json, which
// package.sdk-cpp also compiles): methods, params structs, names that must be escaped, the
// requests' code, and values made safe for C++ text.

#include "sdk/sdk_model.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/openapi.hpp>
#include <gatehouse/sdk.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

namespace {

gatehouse::sdk_files tricky_sdk(const gatehouse::sdk_options& options) {
  std::ifstream in(GATEHOUSE_SOURCE_DIR "/tests/package/sdk-cpp/tricky.json", std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  REQUIRE_FALSE(text.str().empty());
  auto api = gatehouse::import_openapi(text.str());
  return gatehouse::generate_sdk(api, "v1", gatehouse::sdk_type::cpp, options);
}

// The text of `header` from `from` up to the next line that is exactly `to`.
std::string section(const std::string& header, std::string_view from, std::string_view to) {
  auto start = header.find(from);
  if (start == std::string::npos) return {};
  auto end = header.find(to, start);
  return header.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

TEST_CASE("sdk cpp: one header and a README, named by the options or the API's title", "[sdk]") {
  auto files = tricky_sdk({.invoke_url = "http://127.0.0.1:9/v1", .name = "tricky_sdk"});
  REQUIRE(files.size() == 2);
  REQUIRE(files.contains("tricky_sdk.hpp"));
  REQUIRE(files.contains("README.md"));
  const std::string& h = files["tricky_sdk.hpp"];
  CHECK(h.find("#pragma once") != std::string::npos);
  CHECK(h.find("#include <gatehouse/http_client.hpp>") != std::string::npos);
  CHECK(h.find("namespace tricky_sdk {") != std::string::npos);
  CHECK(h.ends_with("}  // namespace tricky_sdk\n"));
  // The config's defaults: the invoke URL and region baked in.
  CHECK(h.find("std::string invoke_url = \"http://127.0.0.1:9/v1\";") != std::string::npos);
  CHECK(h.find("std::string region = \"us-east-1\";") != std::string::npos);
  CHECK(h.find("std::string default_content_type = \"application/json\";") != std::string::npos);
  CHECK(h.find("std::chrono::milliseconds timeout{0};") != std::string::npos);
  // Lines fit in 100 columns.
  std::istringstream lines(h);
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    CHECK(line.size() <= 100);
  }

  const std::string& readme = files["README.md"];
  CHECK(readme.find("#include \"tricky_sdk.hpp\"") != std::string::npos);
  CHECK(readme.find("tricky_sdk::client api{http, settings};") != std::string::npos);
  CHECK(readme.find("api.htmlpage_get({}, asio::use_future)") != std::string::npos);
  CHECK(readme.find("co_await api.htmlpage_get({}, asio::use_awaitable)") != std::string::npos);
  CHECK(readme.find("api.things_class_post({}, R\"({\"a\":1})\", asio::use_future)") !=
        std::string::npos);

  // Without a name: the API's title in snake case + "_sdk".
  auto named = tricky_sdk({});
  REQUIRE(named.contains("tricky_names_sdk.hpp"));
  CHECK(named["tricky_names_sdk.hpp"].find("namespace tricky_names_sdk {") != std::string::npos);
}

TEST_CASE("sdk cpp: a params struct per operation; parameter names as C++ members", "[sdk]") {
  auto files = tricky_sdk({.name = "tricky_sdk"});
  const std::string& h = files["tricky_sdk.hpp"];
  auto get = section(h, "struct things_class_get_params {", "\n};");
  REQUIRE_FALSE(get.empty());
  // Keywords get "_"; path parameters and required ones are std::string, the rest optional.
  CHECK(get.find("  std::string class_{};  ///< path {class}\n") != std::string::npos);
  CHECK(get.find("  std::string namespace_{};  ///< query \"namespace\", required\n") !=
        std::string::npos);
  CHECK(get.find("  std::optional<std::string> x_trace{};  ///< query \"x-trace\"\n") !=
        std::string::npos);
  // The header of the same name as a query parameter, after it: its kind appended.
  CHECK(get.find("  std::optional<std::string> x_trace_header{};  ///< header \"x-trace\"\n") !=
        std::string::npos);
  CHECK(get.find("  std::string x_request_id{};  ///< header \"X-Request-Id\", required\n") !=
        std::string::npos);
  // "headers" and "query" are the additional parameters' members; a leading digit gets "_".
  CHECK(get.find("  std::optional<std::string> headers_{};  ///< query \"headers\"\n") !=
        std::string::npos);
  CHECK(get.find("  std::optional<std::string> query_{};  ///< query \"query\"\n") !=
        std::string::npos);
  CHECK(get.find("  std::optional<std::string> _2nd{};  ///< query \"2nd\"\n") !=
        std::string::npos);
  CHECK(get.find("  gatehouse::header_map headers{};\n") != std::string::npos);
  CHECK(get.find("  query_list query{};") != std::string::npos);

  auto files_put = section(h, "struct files_key_put_params {", "\n};");
  CHECK(files_put.find("  std::string key{};  ///< path {key+}, \"/\" kept\n") !=
        std::string::npos);
}

TEST_CASE("sdk cpp: a method per operation, with a body where one may go", "[sdk]") {
  auto files = tricky_sdk({.name = "tricky_sdk"});
  const std::string& h = files["tricky_sdk.hpp"];
  auto has = [&](std::string_view text) { return h.find(text) != std::string::npos; };

  CHECK(
      has("  /// GET /things/{class}\n  /// Operation GetThing.\n"
          "  /// Response: model Thing (JSON).\n  template <class CompletionToken>\n"
          "  auto things_class_get(const things_class_get_params& p, CompletionToken&& token) {\n"
          "    return http_->async_request(things_class_get_request(p, {}),\n"
          "                                std::forward<CompletionToken>(token));\n"));
  CHECK(
      has("  /// POST /things/{class}\n  /// Needs an API key (config::api_key).\n"
          "  /// Body: model Thing (JSON).\n"));
  // POST, PUT and PATCH take a body as text or a RapidJSON value; GET, DELETE, HEAD do not.
  CHECK(has("auto things_class_post(const things_class_post_params& p, std::string body,"));
  CHECK(
      has("auto things_class_post(const things_class_post_params& p, const rapidjson::Value& "
          "body,"));
  CHECK(has("auto files_key_put(const files_key_put_params& p, std::string body,"));
  CHECK(has("auto files_key_patch(const files_key_patch_params& p, std::string body,"));
  CHECK_FALSE(has("things_class_get_params& p, std::string body"));
  CHECK_FALSE(has("files_key_delete_params& p, std::string body"));
  CHECK_FALSE(has("files_key_head_params& p, std::string body"));
  // ANY is each verb; names stay unique in snake case (/HTMLPage and /htmlpage); a leading digit.
  for (auto name : {"files_key_get(", "files_key_post(", "files_key_options(", "files_key_head(",
                    "htmlpage_get(", "htmlpage_get_2(", "_2fa_v1_2_x_delete("}) {
    INFO(name);
    CHECK(has(std::string("  auto ") + name));
  }
  CHECK(has("  /// GET /htmlpage\n"));
  CHECK(has("  auto request(std::string_view method, std::string_view path, std::string body,"));
}

TEST_CASE("sdk cpp: the requests' paths, query and header parameters", "[sdk]") {
  auto files = tricky_sdk({.name = "tricky_sdk"});
  const std::string& h = files["tricky_sdk.hpp"];
  auto get = section(h, "gatehouse::client_request things_class_get_request(", "  }\n");
  REQUIRE_FALSE(get.empty());
  CHECK(get.find("    std::string path = \"/things/\";\n    path += encode(p.class_);\n") !=
        std::string::npos);
  CHECK(get.find("    query.emplace_back(\"namespace\", p.namespace_);\n") != std::string::npos);
  CHECK(get.find("    if (p.x_trace) query.emplace_back(\"x-trace\", *p.x_trace);\n") !=
        std::string::npos);
  CHECK(get.find("    if (p.x_trace_header) headers.add(\"x-trace\", *p.x_trace_header);\n") !=
        std::string::npos);
  CHECK(get.find("    headers.add(\"X-Request-Id\", p.x_request_id);\n") != std::string::npos);
  CHECK(
      get.find("return detail::make_request(config_, \"GET\", path, std::move(query), p.query,") !=
      std::string::npos);
  // A greedy parameter keeps its "/"; literal path text is written as it is sent.
  CHECK(section(h, "client_request files_key_put_request(", "  }\n")
            .find("path += encode(p.key, true);") != std::string::npos);
  CHECK(h.find("    std::string path = \"/2fa/v1.2:x\";\n") != std::string::npos);
  // What every request gets: Accept, Content-Type with a body, x-api-key, SigV4 for execute-api.
  CHECK(h.find("headers.add(\"Accept\", c.default_accept_type);") != std::string::npos);
  CHECK(h.find("headers.add(\"Content-Type\", c.default_content_type);") != std::string::npos);
  CHECK(h.find("headers.add(\"x-api-key\", c.api_key);") != std::string::npos);
  CHECK(h.find("signing.service = \"execute-api\";") != std::string::npos);
}

TEST_CASE("sdk cpp: text from the API is made safe for C++; a keyword namespace is refused",
          "[sdk]") {
  gatehouse::sdk::api a;
  a.title = "Evil\nAPI \"x\" @NS@";
  a.version = "1\r\n2";
  a.stage = "prod";
  a.invoke_url = "http://h/\"a\\b\n";
  a.region = "us-east-1";
  gatehouse::sdk::operation op;
  op.words = {"items", "get"};
  op.http_method = "GET";
  op.path = "/items";
  op.query_parameters = {{"ä-b", false}, {"", false}, {"class", true}};
  op.header_parameters = {{"X-Trace\n", false}};
  a.operations.push_back(op);
  auto files = gatehouse::sdk::generate_cpp(a, "evil_sdk");
  const std::string& h = files["evil_sdk.hpp"];
  CHECK(h.find("std::string invoke_url = \"http://h/\\\"a\\\\b\\012\";") != std::string::npos);
  CHECK(h.starts_with("// evil_sdk.hpp: a C++ client of Evil API \"x\" @NS@ 1  2, stage prod.\n"));
  // Non-ASCII letters are dropped from names but kept, escaped, in the literal sent.
  CHECK(h.find("std::optional<std::string> b{};") != std::string::npos);
  CHECK(h.find("query.emplace_back(\"\\303\\244-b\", *p.b);") != std::string::npos);
  CHECK(h.find("std::optional<std::string> parameter{};") != std::string::npos);
  CHECK(h.find("std::string class_{};") != std::string::npos);
  CHECK(h.find("std::optional<std::string> x_trace{};  ///< header \"X-Trace \"") !=
        std::string::npos);
  // The README fills in its own @KEY@s, not those of the API's text.
  CHECK(files["README.md"].starts_with("# Evil API \"x\" @NS@: C++ client\n"));

  CHECK_THROWS_WITH(gatehouse::sdk::generate_cpp(a, "namespace"),
                    Catch::Contains("'namespace' is a C++ keyword"));
}
