#include "routing/route_table.hpp"
#include "util/text.hpp"

#include <gatehouse/gatehouse.hpp>

#include <catch2/catch.hpp>

using gatehouse::config_error;
using gatehouse::routing::route_match;
using gatehouse::routing::route_table;

namespace {
gatehouse::integration answer(int status) { return gatehouse::mock({.status = status}); }

// Returns the matched resource template (or "" when nothing matches).
std::string match(const route_table& t, std::string_view method, std::string_view path,
                  route_match* out = nullptr) {
  route_match m;
  if (!t.match(method, path, m)) return "";
  if (out) *out = m;
  return std::string(m.resource);
}

std::string param(const route_match& m, std::string_view name) {
  for (std::size_t i = 0; i < m.param_count; ++i)
    if (m.params[i].name == name) return std::string(m.params[i].value);
  return "<none>";
}
}  // namespace

TEST_CASE("literal beats parameter beats greedy, whatever the order of definition") {
  route_table t;
  t.add("GET", "/files/{path+}", answer(200));
  t.add("GET", "/files/{id}", answer(200));
  t.add("GET", "/files/latest", answer(200));
  CHECK(match(t, "GET", "/files/latest") == "/files/latest");
  CHECK(match(t, "GET", "/files/7") == "/files/{id}");
  CHECK(match(t, "GET", "/files/a/b/c") == "/files/{path+}");
}

TEST_CASE("path parameters and greedy parameters are captured") {
  route_table t;
  t.add("GET", "/pets/{petId}", answer(200));
  t.add("ANY", "/legacy/{proxy+}", answer(200));
  route_match m;
  REQUIRE(match(t, "GET", "/pets/42", &m) == "/pets/{petId}");
  CHECK(param(m, "petId") == "42");
  REQUIRE(match(t, "DELETE", "/legacy/a/b/c.txt", &m) == "/legacy/{proxy+}");
  CHECK(param(m, "proxy") == "a/b/c.txt");
  CHECK(m.method == "ANY");
}

TEST_CASE("the match backtracks to a less specific branch when the specific one fails") {
  route_table t;
  t.add("GET", "/pets/dog", answer(200));
  t.add("GET", "/{kind}/cat", answer(200));
  route_match m;
  CHECK(match(t, "GET", "/pets/cat", &m) == "/{kind}/cat");
  CHECK(param(m, "kind") == "pets");
}

TEST_CASE("an explicit method wins over ANY; ANY covers the seven methods only") {
  route_table t;
  t.add("ANY", "/r", answer(200));
  t.add("GET", "/r", answer(201));
  route_match m;
  REQUIRE(match(t, "GET", "/r", &m) == "/r");
  CHECK(m.method == "GET");
  REQUIRE(match(t, "PATCH", "/r", &m) == "/r");
  CHECK(m.method == "ANY");
  CHECK(match(t, "TRACE", "/r").empty());
  CHECK(match(t, "ANY", "/r").empty());
}

TEST_CASE("HEAD is not mapped to GET; unknown methods and paths do not match") {
  route_table t;
  t.add("GET", "/pets", answer(200));
  CHECK(match(t, "HEAD", "/pets").empty());
  CHECK(match(t, "POST", "/pets").empty());
  CHECK(match(t, "GET", "/dogs").empty());
  CHECK(match(t, "GET", "/pets/1").empty());
}

TEST_CASE("root and trailing slashes") {
  route_table t;
  t.add("GET", "/", answer(200));
  t.add("GET", "/pets/", answer(200));
  CHECK(match(t, "GET", "/") == "/");
  CHECK(match(t, "GET", "/pets") == "/pets");
  CHECK(match(t, "GET", "/pets/") == "/pets");
}

TEST_CASE("a greedy parameter needs at least one segment") {
  route_table t;
  t.add("GET", "/files/{path+}", answer(200));
  CHECK(match(t, "GET", "/files").empty());
  CHECK(match(t, "GET", "/files/x") == "/files/{path+}");
}

TEST_CASE("bad templates are refused with config_error naming the route") {
  route_table t;
  auto refuses = [&](std::string_view method, std::string_view tmpl, std::string_view needle) {
    try {
      t.add(method, tmpl, answer(200));
      FAIL("accepted " << method << " " << tmpl);
    } catch (const config_error& e) {
      std::string what = e.what();
      CHECK(what.find(std::string(tmpl)) != std::string::npos);
      CHECK(what.find(std::string(needle)) != std::string::npos);
    }
  };
  refuses("GET", "pets", "starts with '/'");
  refuses("GET", "/pets//x", "empty path segment");
  refuses("GET", "/pet{id}", "whole segment");
  refuses("GET", "/{id", "whole segment");
  refuses("GET", "/{}", "whole segment");
  refuses("GET", "/{a b}", "bad parameter name");
  refuses("GET", "/{proxy+}/x", "last segment");
  refuses("GET", "/{a}/{a}", "appears twice");
  refuses("GET", "/pets$", "letters, digits");
  refuses("FETCH", "/pets", "unknown method");
  refuses("get", "/pets", "unknown method");
  t.add("GET", "/pets/{id}", answer(200));
  refuses("GET", "/pets/{id}", "defined twice");
  refuses("GET", "/pets/{petId}/toys", "another name");
}

TEST_CASE("routes with many parameters, and a large table") {
  route_table t;
  for (int i = 0; i < 1000; ++i)
    t.add("GET", "/r" + std::to_string(i) + "/{id}/items/{item}", answer(200));
  route_match m;
  REQUIRE(match(t, "GET", "/r999/7/items/x", &m) == "/r999/{id}/items/{item}");
  CHECK(param(m, "id") == "7");
  CHECK(param(m, "item") == "x");
  CHECK(match(t, "GET", "/r1000/7/items/x").empty());
}

TEST_CASE("percent_decode") {
  using gatehouse::util::percent_decode;
  CHECK(percent_decode("a%20b") == "a b");
  CHECK(percent_decode("a+b") == "a+b");
  CHECK(percent_decode("a+b", true) == "a b");
  CHECK(percent_decode("100%") == "100%");
  CHECK(percent_decode("%zz%4") == "%zz%4");
  CHECK(percent_decode("%2F") == "/");
}

TEST_CASE("a template may have at most max_path_params parameters") {
  route_table t;
  std::string tmpl;
  for (std::size_t i = 0; i < gatehouse::routing::max_path_params; ++i)
    tmpl += "/{p" + std::to_string(i) + "}";
  t.add("GET", tmpl, answer(200));
  CHECK_THROWS_WITH(t.add("GET", tmpl + "/{one_more}", answer(200)),
                    Catch::Contains("path parameters"));
}

TEST_CASE("the $default route takes what no other route matches, after greedy ones") {
  route_table t;
  t.add("GET", "/pets", answer(200));
  t.add("GET", "/files/{path+}", answer(200));
  t.add("ANY", "$default", answer(200));
  route_match m;
  CHECK(match(t, "GET", "/pets") == "/pets");
  CHECK(match(t, "GET", "/files/a/b") == "/files/{path+}");
  // Another method on a known path, an unknown path and the root all fall to $default.
  REQUIRE(match(t, "DELETE", "/pets", &m) == "$default");
  CHECK(m.param_count == 0);
  CHECK(m.method == "ANY");
  CHECK(match(t, "POST", "/files/a") == "$default");
  CHECK(match(t, "GET", "/nowhere/at/all") == "$default");
  CHECK(match(t, "GET", "/") == "$default");
  CHECK(t.key(m.index) == "$default");
  CHECK_THROWS_AS(t.add("ANY", "$default", answer(200)), config_error);
  route_table u;
  CHECK_THROWS_WITH(u.add("GET", "$default", answer(200)),
                    Catch::Contains("the $default route takes every method (ANY)"));
  CHECK(match(u, "GET", "/") == "");
}

TEST_CASE("Router: the $default route is HTTP APIs'") {
  gatehouse::Router rest;
  CHECK_THROWS_WITH(rest.route("ANY", "$default", answer(200)),
                    "route ANY $default: the $default route is for HTTP APIs");
  gatehouse::Router http({.type = gatehouse::api_type::http});
  CHECK_NOTHROW(http.route("ANY", "$default", answer(200)));
  CHECK(http.deploy());
}
