// The mapping-template engine's $util functions, its limits, and its behaviour on hostile input.

#include "vtl_env.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using gatehouse::transform::mapping_template;
using vtl_test::map_env;
using vtl_test::render;
using vtl_test::render_body;

TEST_CASE("$util.escapeJavaScript escapes as Commons Lang does, single quotes included", "[vtl]") {
  map_env env;
  env.stage = {{"s", "it's \"q\" a\\b /x\n\t\r\b\f\x01 é 😀"}};
  CHECK(render("$util.escapeJavaScript($stageVariables.s)", env) ==
        R"(it\'s \"q\" a\\b \/x\n\t\r\b\f\u0001 \u00E9 \uD83D\uDE00)");
  CHECK(render("$util.escapeJavaScript($stageVariables.s).replaceAll(\"\\\\'\", \"'\")", env)
            .starts_with(R"(it's \"q\")"));
  CHECK(render("[$util.escapeJavaScript($undefined)]") == "[]");
}

TEST_CASE("$util.urlEncode and urlDecode are Java's URLEncoder and URLDecoder", "[vtl]") {
  CHECK(render("$util.urlEncode('a b&c=d/é*-._~')") == "a+b%26c%3Dd%2F%C3%A9*-._%7E");
  CHECK(render("$util.urlDecode('a+b%26c%3Dd%2F%C3%A9')") == "a b&c=d/é");
  CHECK(render("[$util.urlDecode('bad%2')]") == "[]");
}

TEST_CASE("$util.base64Encode and base64Decode", "[vtl]") {
  CHECK(render("$util.base64Encode('hello world')") == "aGVsbG8gd29ybGQ=");
  CHECK(render("$util.base64Decode('aGVsbG8gd29ybGQ=') $util.base64Decode('aGk')") ==
        "hello world hi");
  CHECK(render("[$util.base64Decode('!!!')]") == "[]");
}

TEST_CASE("$util.parseJson gives a value to navigate", "[vtl]") {
  map_env env;
  env.stage = {{"j", R"({"a": {"b": [1, 2.50, "x"]}, "t": true})"}};
  CHECK(render("#set($o = $util.parseJson($stageVariables.j))$o.a.b[1] $o.a.b.size() $o.t $o.a",
               env) == "2.5 3 true {b=[1, 2.5, x]}");
  CHECK(render("#set($o = $util.parseJson('{bad'))[$!o]") == "[]");
  CHECK(render("$util.parseJson('\"s\"')") == "s");
}

TEST_CASE("#foreach stops after AWS's 1,000 iterations", "[vtl]") {
  const auto r = mapping_template::parse("#foreach($i in [1..5000])x#end").evaluate(map_env{});
  CHECK(r.output.size() == 1000);
  CHECK(r.limit_exceeded);
  const auto ok = mapping_template::parse("#foreach($i in [1..1000])x#end").evaluate(map_env{});
  CHECK(ok.output.size() == 1000);
  CHECK_FALSE(ok.limit_exceeded);
}

TEST_CASE("evaluation is bounded: nested loops, growing strings, big and deep bodies", "[vtl]") {
  const auto start = std::chrono::steady_clock::now();
  auto r = mapping_template::parse(
               "#foreach($a in [1..1000])#foreach($b in [1..1000])#foreach($c in "
               "[1..1000])x#end#end#end")
               .evaluate(map_env{});
  CHECK(r.limit_exceeded);
  r = mapping_template::parse(
          "#set($s = 'ab')#foreach($i in [1..100])#set($s = \"$s$s\")#end$s.length()")
          .evaluate(map_env{});
  CHECK(r.limit_exceeded);
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  // Nested deeper than 512: not JSON, so the body is a string to $input.
  CHECK(render_body("$input.json('$').substring(0, 4) $input.path('$..x')", deep) == "\"[[[ ");
  std::string big = "[";
  for (int i = 0; i < 200000; ++i) big += "{\"id\":1},";
  big += "{}]";
  r = mapping_template::parse("$input.path('$').size() $input.json('$').length()").evaluate([&] {
    map_env env;
    env.body_text = big;
    return env;
  }());
  CHECK(r.output == "200001 1800004");
  // Patterns a backtracking matcher takes exponential time (and a stack frame per character)
  // for: the breadth-first one answers at once.
  CHECK(render("#set($s = 'a')#foreach($i in [1..9])#set($s = \"$s$s\")#end$s.length() "
               "$s.matches('(a*)*b') $s.replaceAll('(a|aa)*c', 'x').length() "
               "$s.matches('(a|a)*')") == "512 false 512 true");
  // Replacing each of a million characters by the million: stopped at the string budget.
  r = mapping_template::parse(
          "#set($s = 'a')#foreach($i in [1..20])#set($s = \"$s$s\")#end"
          "#set($t = $s.replace('a', $s))#set($u = $s.replaceAll('a', $s))[$!t.length()]")
          .evaluate(map_env{});
  CHECK(r.limit_exceeded);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
  // A body that is no JSON comes back as it is, but as text: bytes that are no UTF-8 as U+FFFD.
  CHECK(render_body("$input.path('$')", "\xff\xfe{") == "\xEF\xBF\xBD\xEF\xBF\xBD{");
}

TEST_CASE("a parsed template is evaluated again and again with the same result", "[vtl]") {
  const auto t = mapping_template::parse("#set($n = $input.path('$.n') * 2)$n", "double");
  CHECK(t.name() == "double");
  map_env env;
  for (int i = 0; i < 3; ++i) {
    env.body_text = "{\"n\": " + std::to_string(i) + "}";
    CHECK(t.evaluate(env).output == std::to_string(i * 2));
  }
}

TEST_CASE("the output limit holds after bytes that are no UTF-8 become U+FFFD", "[vtl]") {
  // 8 MiB of 0xFF (within the 10 MiB limit as bytes) would be 24 MiB as U+FFFD.
  map_env env;
  env.stage = {{"b", "\xff"}};
  const auto r = mapping_template::parse(
                     "#set($s = $stageVariables.b)#foreach($i in [1..23])#set($s = \"$s$s\")#end$s")
                     .evaluate(env);
  CHECK(r.limit_exceeded);
  REQUIRE(r.output.size() <= mapping_template::max_output_bytes);
  CHECK(r.output.size() > mapping_template::max_output_bytes - 3);
  CHECK(r.output.ends_with("\xEF\xBF\xBD"));
}
