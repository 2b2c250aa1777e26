// The mapping-template engine's Velocity constructs: references, directives, expressions,
// whitespace, escapes, comments, and syntax errors with their line and column.

#include "vtl_env.hpp"

#include <gatehouse/config_error.hpp>

#include <catch2/catch.hpp>

#include <string>

using gatehouse::config_error;
using gatehouse::transform::mapping_template;
using vtl_test::render;

namespace {
// The message of the config_error parsing `text` throws, or "" when it parses.
std::string parse_error(std::string_view text) {
  try {
    (void)mapping_template::parse(text, "t");
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("references render values, and unset ones as written", "[vtl]") {
  CHECK(render("#set($x = 'a')$x ${x} $!x") == "a a a");
  CHECK(render("[$nothing] [${nothing}] [$!nothing] [$!{nothing}]") ==
        "[$nothing] [${nothing}] [] []");
  CHECK(render("cost: $5 and $ alone, 100%") == "cost: $5 and $ alone, 100%");
  CHECK(render("#set($m = {'a': {'b': 'deep'}})$m.a.b ${m.a.b}") == "deep deep");
  CHECK(render("#set($m = {'type': 'dog'})Item is a $m.type.") == "Item is a dog.");
  CHECK(render("#set($m = {'a': 1})$m.missing") == "$m.missing");
  CHECK(render("#set($l = [1, 2, 3])$l[0]$l[2] $l[5]") == "13 $l[5]");
  CHECK(render("#set($m = {'k': 'v'})$m['k'] $m.get('k')") == "v v");
}

TEST_CASE("#set assigns variables, map entries and keeps the old value on null", "[vtl]") {
  CHECK(render("#set($x = 1)#set($x = $x + 1)$x") == "2");
  CHECK(render("#set($m = {})#set($m.k = 'v')#set($m['j'] = 2)$m") == "{k=v, j=2}");
  CHECK(render("#set($x = 'keep')#set($x = $undefined)$x") == "keep");
  CHECK(render("#set( $x = 'spaces' )$x") == "spaces");
  CHECK(render("#set($l = [1, 2])#set($l[1] = 9)$l") == "[1, 9]");
}

TEST_CASE("#if, #elseif and #else choose a branch by Velocity's truth", "[vtl]") {
  const char* t = "#foreach($v in $vals)#if($v == 1)one#elseif($v == 2)two#{else}other#end,#end";
  CHECK(render(std::string("#set($vals = [1, 2, 3])") + t) == "one,two,other,");
  CHECK(render("#if($undefined)yes#{else}no#end") == "no");
  CHECK(render("#if('')empty string is true#end") == "empty string is true");
  CHECK(render("#if(0)zero is true#end") == "zero is true");
  CHECK(render("#if(false)a#elseif(true)b#end") == "b");
  CHECK(render("#if (true) spaced #end") == " spaced ");
  CHECK(render("#{if}(true)braced#{end}") == "braced");
}

TEST_CASE("#foreach iterates lists, maps, ranges, with $foreach and $velocityCount", "[vtl]") {
  CHECK(render("#foreach($i in [1..3])$i#if($foreach.hasNext),#end#end") == "1,2,3");
  CHECK(render("#foreach($i in [3..1])$i#end") == "321");
  CHECK(render("#foreach($x in ['a','b'])$foreach.index:$foreach.count:$velocityCount "
               "$foreach.first $foreach.last;#end") == "0:1:1 true false;1:2:2 false true;");
  CHECK(render("#set($m = {'a': 1, 'b': 2})#foreach($v in $m)$v#end") == "12");
  CHECK(render("#set($m = {'a': 1, 'b': 2})#foreach($k in $m.keySet())$k=$m.get($k) #end") ==
        "a=1 b=2 ");
  CHECK(render("#foreach($i in [1..5])#if($i == 3)#break#end$i#end") == "12");
  CHECK(render("#foreach($o in [1, 2])#foreach($i in ['a', 'b'])$o$i$foreach.index #end#end") ==
        "1a0 1b1 2a0 2b1 ");
  CHECK(render("#set($i = 'before')#foreach($i in [1])$i#end $i") == "1 before");
  CHECK(render("#foreach($i in $undefined)x#end.") == ".");
  CHECK(render("a#stop b") == "a");
}

TEST_CASE("expressions: literals, arithmetic, comparison and logic as Velocity has them", "[vtl]") {
  CHECK(render("#set($x = 7 / 2)$x|#set($y = 7.0 / 2)$y|#set($z = 7 % 3)$z") == "3|3.5|1");
  CHECK(render("#set($x = 2 + 3 * 4)$x|#set($x = (2 + 3) * 4)$x|#set($x = -5 + 1)$x") ==
        "14|20|-4");
  CHECK(render("#set($x = 1 / 0)$x") == "$x");
  CHECK(render("#set($s = 'a' + 1 + 2)$s|#set($s = 1 + 'b')$s") == "a12|1b");
  CHECK(render("#set($d = 1.5)$d|#set($d = 2.0)$d|#set($d = 1e10)$d|#set($d = 0.0001)$d") ==
        "1.5|2.0|1.0E10|1.0E-4");
  CHECK(render("#if(1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 3 && 1 != 2)ok#end") == "ok");
  CHECK(render("#if(1 lt 2 and not false or false)ok#end") == "ok");
  CHECK(render("#if(!true || !$undefined)ok#end") == "ok");
  CHECK(render("#if(1 == 1.0 && '5' == 5 && 'a' != 'b' && $u == $v)ok#end") == "ok");
  CHECK(render("#set($b = true)$b|#set($n = [1, 'two', [3], {'k': null}])$n") ==
        "true|[1, two, [3], {k=null}]");
  CHECK(render("a  #set($x = 1)b") == "ab");  // #set eats the blanks before it (Velocity 1.7)
  CHECK(render("#set($s = \"double $undefined\")$s") == "double $undefined");
  CHECK(render("#set($name = 'x')#set($s = \"hi $name!\")$s|#set($t = 'hi $name')$t") ==
        "hi x!|hi $name");
  CHECK(render("#set($q = 'it''s')$q|#set($q = \"say \"\"hi\"\"\")$q") == "it's|say \"hi\"");
}

TEST_CASE("string, list and map methods", "[vtl]") {
  CHECK(render("#set($s = ' Hello World ')$s.trim().length() $s.toLowerCase()$s.toUpperCase()") ==
        "11  hello world  HELLO WORLD ");
  CHECK(render("#set($s = 'abcdef')$s.substring(2) $s.substring(1, 3) $s.charAt(0)") ==
        "cdef bc a");
  CHECK(
      render(
          "#set($s = 'abc')$s.contains('b') $s.startsWith('ab') $s.endsWith('bc') $s.isEmpty()") ==
      "true true true false");
  CHECK(render("#set($s = 'abc')$s.equals('abc') $s.indexOf('c') $s.replace('b', 'X')") ==
        "true 2 aXc");
  CHECK(render("#set($s = 'a1b22c')$s.replaceAll('[0-9]+', '-') $s.matches('[a-c0-9]+')") ==
        "a-b-c true");
  CHECK(render("#set($p = 'a,b,,c,,')#foreach($x in $p.split(','))[$x]#end") == "[a][b][][c]");
  CHECK(render("#set($l = [])#set($ok = $l.add('x'))$l.size() $l.get(0) $l.contains('x') "
               "$l.isEmpty()") == "1 x true false");
  CHECK(
      render("#set($m = {'a': 1})$m.containsKey('a') $m.containsKey('b') $m.size() $m.keySet()") ==
      "true false 1 [a]");
  CHECK(render("#set($m = {'a': 1})#foreach($e in $m.entrySet())$e.key->$e.value#end") == "a->1");
  CHECK(render("#set($m = {'a': 1})#set($prev = $m.put('a', 2))$prev $m.a") == "1 2");
  CHECK(render("#set($s = 'abc')$s.substring(5)") == "$s.substring(5)");
}

TEST_CASE("Velocity's whitespace: directive lines vanish, #set eats its indentation", "[vtl]") {
  CHECK(render("#set($x = 1)\nline\n  #set($y = 2)\n#if(true)\nin\n#end\nout\n") ==
        "line\nin\nout\n");
  CHECK(render("#foreach($i in [1, 2])\n  $i\n#end\n") == "  1\n  2\n");
  CHECK(render("#if(false)\na\n#else\nb\n#end\n") == "b\n");
}

TEST_CASE("comments and escapes", "[vtl]") {
  CHECK(render("a## a line comment\nb") == "ab");
  CHECK(render("a#* a\nblock *#b") == "ab");
  CHECK(render("#set($x = 1)\\$x \\\\$x \\#if #[[ $raw #if ]]#") == "$x \\1 #if  $raw #if ");
  CHECK(render("color: #ff0000 and #hashtag") == "color: #ff0000 and #hashtag");
  CHECK(render("back\\slash") == "back\\slash");
}

TEST_CASE("syntax errors name the template, the line and the column", "[vtl]") {
  CHECK(parse_error("ok\n#end") ==
        "mapping template 't': line 2, column 1: #end without a matching #if or #foreach");
  CHECK(parse_error("#if(true)\nx") ==
        "mapping template 't': line 1, column 1: #if is never closed (missing #end)");
  CHECK(parse_error("a\n  #foreach($x in [1])") ==
        "mapping template 't': line 2, column 3: #foreach is never closed (missing #end)");
  CHECK(parse_error("#set($x = 'abc)") ==
        "mapping template 't': line 1, column 11: unclosed string literal");
  CHECK(parse_error("#if(($x == 1)") ==
        "mapping template 't': line 1, column 4: unclosed parenthesis");
  CHECK(parse_error("#if(($x == 1)\n#end") ==
        "mapping template 't': line 2, column 1: expected ')' but found '#'");
  CHECK(parse_error("#set(x = 1)") ==
        "mapping template 't': line 1, column 6: #set needs a reference on its left: #set($name = "
        "value)");
  CHECK(parse_error("\n\n   #frobnicate($x)") ==
        "mapping template 't': line 3, column 4: unknown directive '#frobnicate'");
  CHECK(parse_error("#else") ==
        "mapping template 't': line 1, column 1: #else without a matching #if");
  CHECK(parse_error("x #* never closed") ==
        "mapping template 't': line 1, column 3: unclosed comment '#*'");
  CHECK(parse_error("${a.b") ==
        "mapping template 't': line 1, column 1: expected '}' to close '${'");
  CHECK(parse_error("$a.get('k'") ==
        "mapping template 't': line 1, column 7: unclosed parenthesis");
  CHECK(parse_error("#foreach($x of $l)#end") ==
        "mapping template 't': line 1, column 13: expected 'in' in #foreach");
  CHECK(parse_error("#if()#end") ==
        "mapping template 't': line 1, column 5: expected an expression before ')'");
  CHECK(parse_error("#set($x = )") ==
        "mapping template 't': line 1, column 11: expected an expression before ')'");
  CHECK(parse_error("#macro(m)#end") ==
        "mapping template 't': line 1, column 1: unsupported directive '#macro'");
  CHECK(parse_error("#if(true)#else#else#end") ==
        "mapping template 't': line 1, column 15: a second #else in one #if");
  CHECK(parse_error("#set($x = " + std::string(200, '(') + "1") ==
        "mapping template 't': line 1, column 74: template nested too deeply");
  CHECK(parse_error("#set($x = \"#end\")") != "");
}
