// The mapping-template parser: template text to the syntax tree of ast.hpp, in one pass over
// the characters. Velocity 1.7's whitespace rules: #set eats the blanks before it, and the
// blanks plus newline after the ')' of #set/#if/#elseif/#foreach and after #else/#end.

#include "transform/vtl/ast.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gatehouse::transform::vtl {
namespace {

constexpr int max_nesting = 128;

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool ident_start(char c) { return is_letter(c) || c == '_'; }
bool ident_char(char c) { return is_letter(c) || is_digit(c) || c == '_'; }

root_kind root_of(std::string_view name) {
  if (name == "input") return root_kind::input;
  if (name == "context") return root_kind::context;
  if (name == "util") return root_kind::util;
  if (name == "stageVariables") return root_kind::stage_variables;
  if (name == "foreach") return root_kind::foreach_loop;
  if (name == "velocityCount") return root_kind::velocity_count;
  return root_kind::variable;
}

enum class terminator { eof, end, else_branch, elseif_branch };

struct stop {
  terminator kind = terminator::eof;
  std::size_t offset = 0;
};

class parser {
 public:
  explicit parser(template_data& data) : data_(data), src_(data.source), end_(src_.size()) {}

  void run() {
    const stop s = parse_nodes(data_.root);
    if (s.kind != terminator::eof) fail_stray(s);
    data_.slot_count = static_cast<std::uint32_t>(slots_.size());
  }

 private:
  template_data& data_;
  std::string_view src_;
  std::size_t pos_ = 0;
  std::size_t end_;  // parsing stops here (the closing quote while inside a string literal)
  int depth_ = 0;
  std::unordered_map<std::string, std::uint32_t> slots_;

  [[noreturn]] void fail(std::size_t at, std::string_view what) const {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < at && i < src_.size(); ++i) {
      if (src_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    throw config_error(fmt::format("mapping template '{}': line {}, column {}: {}", data_.name,
                                   line, column, what));
  }

  [[noreturn]] void fail_stray(const stop& s) const {
    switch (s.kind) {
      case terminator::end:
        fail(s.offset, "#end without a matching #if or #foreach");
      case terminator::else_branch:
        fail(s.offset, "#else without a matching #if");
      default:
        fail(s.offset, "#elseif without a matching #if");
    }
  }

  char at(std::size_t p) const { return p < end_ ? src_[p] : '\0'; }

  struct depth_guard {
    parser& p;
    depth_guard(parser& owner, std::size_t where) : p(owner) {
      if (++p.depth_ > max_nesting) p.fail(where, "template nested too deeply");
    }
    ~depth_guard() { --p.depth_; }
  };

  std::uint32_t slot_of(const std::string& name) {
    auto [it, inserted] = slots_.try_emplace(name, static_cast<std::uint32_t>(slots_.size()));
    return it->second;
  }

  // After the ')' of a directive, or after #else/#end: blanks and one newline are not output.
  void eat_line_end() {
    std::size_t p = pos_;
    while (p < end_ && (src_[p] == ' ' || src_[p] == '\t')) ++p;
    if (p < end_ && src_[p] == '\n') {
      pos_ = p + 1;
    } else if (p < end_ && src_[p] == '\r') {
      pos_ = p + 1;
      if (pos_ < end_ && src_[pos_] == '\n') ++pos_;
    }
  }

  void skip_space() {
    while (pos_ < end_ &&
           (src_[pos_] == ' ' || src_[pos_] == '\t' || src_[pos_] == '\n' || src_[pos_] == '\r'))
      ++pos_;
  }

  std::string read_identifier() {
    const std::size_t start = pos_;
    while (pos_ < end_) {
      const char c = src_[pos_];
      // Velocity 1.7 allows '-' inside names; only where a letter follows, so `$n-1` subtracts.
      if (ident_char(c) || (c == '-' && pos_ > start && is_letter(at(pos_ + 1)))) {
        ++pos_;
      } else {
        break;
      }
    }
    return std::string(src_.substr(start, pos_ - start));
  }

  static void flush(block& out, std::string& text) {
    if (text.empty()) return;
    node n;
    n.kind = node_kind::text;
    n.text = std::move(text);
    text.clear();
    out.push_back(std::move(n));
  }

  // True when a reference starts at `p` (a '$').
  bool reference_starts(std::size_t p) const {
    std::size_t q = p + 1;
    if (at(q) == '!') ++q;
    if (at(q) == '{') ++q;
    return ident_start(at(q));
  }

  // Text and directives up to the end of input or a #end/#else/#elseif, which is returned.
  stop parse_nodes(block& out) {
    depth_guard guard(*this, pos_);
    std::string text;
    while (pos_ < end_) {
      const char c = src_[pos_];
      if (c == '$') {
        if (reference_starts(pos_)) {
          flush(out, text);
          node n;
          n.kind = node_kind::ref;
          n.offset = static_cast<std::uint32_t>(pos_);
          n.ref = parse_reference();
          out.push_back(std::move(n));
        } else {
          text += c;
          ++pos_;
        }
      } else if (c == '#') {
        if (auto s = parse_hash(out, text)) return *s;
      } else if (c == '\\') {
        parse_backslashes(text);
      } else {
        const std::size_t next = src_.find_first_of("$#\\", pos_);
        const std::size_t stop_at = next == std::string_view::npos || next > end_ ? end_ : next;
        text.append(src_.substr(pos_, stop_at - pos_));
        pos_ = stop_at;
      }
    }
    flush(out, text);
    return {terminator::eof, pos_};
  }

  // `\$x` renders "$x"; `\#if` renders "#if"; pairs of backslashes render one each.
  void parse_backslashes(std::string& text) {
    std::size_t n = 0;
    while (at(pos_ + n) == '\\') ++n;
    const std::size_t q = pos_ + n;
    const bool before_ref = at(q) == '$' && reference_starts(q);
    const bool before_directive = at(q) == '#' && (is_letter(at(q + 1)) || at(q + 1) == '{');
    if (!before_ref && !before_directive) {
      text.append(n, '\\');
      pos_ = q;
      return;
    }
    text.append(n / 2, '\\');
    pos_ = q;
    if (n % 2 == 0) return;
    if (before_ref) {
      const std::size_t start = pos_;
      parse_reference();  // for its extent; rendered as written
      text.append(src_.substr(start, pos_ - start));
    } else {
      text += '#';
      ++pos_;
      while (pos_ < end_ && (is_letter(src_[pos_]) || src_[pos_] == '{' || src_[pos_] == '}'))
        text += src_[pos_++];
    }
  }

  // At a '#': a comment, a directive or plain text. Returns a terminator to hand upwards.
  std::optional<stop> parse_hash(block& out, std::string& text) {
    const std::size_t start = pos_;
    const char next = at(pos_ + 1);
    if (next == '#') {  // ## line comment, newline included
      const std::size_t nl = src_.find('\n', pos_);
      pos_ = nl == std::string_view::npos || nl >= end_ ? end_ : nl + 1;
      return std::nullopt;
    }
    if (next == '*') {  // #* block comment *#
      const std::size_t close = src_.find("*#", pos_ + 2);
      if (close == std::string_view::npos || close + 2 > end_) fail(start, "unclosed comment '#*'");
      pos_ = close + 2;
      return std::nullopt;
    }
    if (next == '[' && at(pos_ + 2) == '[') {  // #[[ unparsed ]]#
      const std::size_t close = src_.find("]]#", pos_ + 3);
      if (close == std::string_view::npos || close + 3 > end_)
        fail(start, "unclosed unparsed content '#[['");
      text.append(src_.substr(pos_ + 3, close - pos_ - 3));
      pos_ = close + 3;
      return std::nullopt;
    }
    bool braced = false;
    std::size_t p = pos_ + 1;
    if (next == '{') {
      braced = true;
      ++p;
    }
    if (!is_letter(at(p))) {
      text += '#';
      ++pos_;
      return std::nullopt;
    }
    std::size_t q = p;
    while (is_letter(at(q))) ++q;
    const std::string_view name = src_.substr(p, q - p);
    if (braced) {
      if (at(q) != '}') {
        text += '#';
        ++pos_;
        return std::nullopt;
      }
      ++q;
    }
    if (name == "end" || name == "else" || name == "elseif") {
      flush(out, text);
      pos_ = q;
      if (name != "elseif" && !braced) eat_line_end();
      return stop{name == "end"    ? terminator::end
                  : name == "else" ? terminator::else_branch
                                   : terminator::elseif_branch,
                  start};
    }
    if (name == "set") {
      while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.pop_back();
      flush(out, text);
      pos_ = q;
      out.push_back(parse_set(start));
    } else if (name == "if") {
      flush(out, text);
      pos_ = q;
      out.push_back(parse_if(start));
    } else if (name == "foreach") {
      flush(out, text);
      pos_ = q;
      out.push_back(parse_foreach(start));
    } else if (name == "break" || name == "stop") {
      flush(out, text);
      pos_ = q;
      node n;
      n.kind = name == "break" ? node_kind::break_loop : node_kind::stop;
      n.offset = static_cast<std::uint32_t>(start);
      out.push_back(std::move(n));
    } else if (name == "macro" || name == "define" || name == "parse" || name == "include" ||
               name == "evaluate") {
      fail(start, fmt::format("unsupported directive '#{}'", name));
    } else {
      std::size_t r = q;
      while (at(r) == ' ' || at(r) == '\t') ++r;
      if (at(r) == '(') fail(start, fmt::format("unknown directive '#{}'", name));
      text.append(src_.substr(pos_, q - pos_));  // "#word" that names nothing is text
      pos_ = q;
    }
    return std::nullopt;
  }

  // '(' after a directive's name, blanks allowed between.
  std::size_t open_paren(std::size_t directive, std::string_view name) {
    while (at(pos_) == ' ' || at(pos_) == '\t') ++pos_;
    if (at(pos_) != '(') fail(directive, fmt::format("expected '(' after #{}", name));
    return pos_++;
  }

  void close_paren(std::size_t open) {
    skip_space();
    if (pos_ >= end_) fail(open, "unclosed parenthesis");
    if (at(pos_) != ')') fail(pos_, fmt::format("expected ')' but found '{}'", at(pos_)));
    ++pos_;
  }

  node parse_set(std::size_t start) {
    node n;
    n.kind = node_kind::set;
    n.offset = static_cast<std::uint32_t>(start);
    const std::size_t open = open_paren(start, "set");
    skip_space();
    if (at(pos_) != '$' || !reference_starts(pos_))
      fail(pos_, "#set needs a reference on its left: #set($name = value)");
    n.ref = parse_reference();
    if (n.ref->root == root_kind::foreach_loop || n.ref->root == root_kind::velocity_count)
      fail(n.ref->offset, "cannot #set a loop variable");
    skip_space();
    if (at(pos_) != '=') {
      if (pos_ >= end_) fail(open, "unclosed parenthesis");
      fail(pos_, "expected '=' in #set");
    }
    ++pos_;
    n.value = parse_expression();
    close_paren(open);
    eat_line_end();
    return n;
  }

  expr_ptr parse_condition(std::size_t directive, std::string_view name) {
    const std::size_t open = open_paren(directive, name);
    expr_ptr e = parse_expression();
    close_paren(open);
    eat_line_end();
    return e;
  }

  node parse_if(std::size_t start) {
    node n;
    n.kind = node_kind::if_chain;
    n.offset = static_cast<std::uint32_t>(start);
    expr_ptr condition = parse_condition(start, "if");
    bool seen_else = false;
    for (;;) {
      block body;
      const stop s = parse_nodes(body);
      n.branches.emplace_back(std::move(condition), std::move(body));
      switch (s.kind) {
        case terminator::eof:
          fail(start, "#if is never closed (missing #end)");
        case terminator::end:
          return n;
        case terminator::else_branch:
          if (seen_else) fail(s.offset, "a second #else in one #if");
          seen_else = true;
          condition = nullptr;
          break;
        case terminator::elseif_branch:
          if (seen_else) fail(s.offset, "#elseif after #else");
          condition = parse_condition(s.offset, "elseif");
          break;
      }
    }
  }

  node parse_foreach(std::size_t start) {
    node n;
    n.kind = node_kind::foreach;
    n.offset = static_cast<std::uint32_t>(start);
    const std::size_t open = open_paren(start, "foreach");
    skip_space();
    if (at(pos_) != '$' || !reference_starts(pos_))
      fail(pos_, "#foreach needs a variable: #foreach($item in $list)");
    n.ref = parse_reference();
    if (n.ref->root != root_kind::variable || !n.ref->segments.empty())
      fail(n.ref->offset, "the #foreach variable must be a plain $name");
    skip_space();
    if (src_.substr(pos_, 2) != "in" || ident_char(at(pos_ + 2)))
      fail(pos_, "expected 'in' in #foreach");
    pos_ += 2;
    n.value = parse_expression();
    close_paren(open);
    eat_line_end();
    const stop s = parse_nodes(n.body);
    if (s.kind == terminator::eof) fail(start, "#foreach is never closed (missing #end)");
    if (s.kind != terminator::end) fail(s.offset, "#else/#elseif inside #foreach");
    return n;
  }

  // `$name…`, `$!name…`, `${name…}`; pos_ is at the '$' and reference_starts() holds.
  std::unique_ptr<reference> parse_reference() {
    depth_guard guard(*this, pos_);
    auto ref = std::make_unique<reference>();
    const std::size_t start = pos_;
    ref->offset = static_cast<std::uint32_t>(start);
    ++pos_;
    if (at(pos_) == '!') {
      ref->quiet = true;
      ++pos_;
    }
    const bool formal = at(pos_) == '{';
    if (formal) ++pos_;
    ref->name = read_identifier();
    ref->root = root_of(ref->name);
    if (ref->root == root_kind::variable) ref->slot = slot_of(ref->name);
    for (;;) {
      if (at(pos_) == '.' && ident_start(at(pos_ + 1))) {
        ++pos_;
        segment seg;
        seg.name = read_identifier();
        if (at(pos_) == '(') {
          seg.type = segment::kind::method;
          parse_arguments(seg.args);
        }
        ref->segments.push_back(std::move(seg));
      } else if (at(pos_) == '[') {
        const std::size_t open = pos_++;
        segment seg;
        seg.type = segment::kind::index;
        seg.args.push_back(parse_expression());
        skip_space();
        if (at(pos_) != ']') {
          if (pos_ >= end_) fail(open, "unclosed '['");
          fail(pos_, "expected ']'");
        }
        ++pos_;
        ref->segments.push_back(std::move(seg));
      } else {
        break;
      }
    }
    if (formal) {
      if (at(pos_) != '}') fail(start, "expected '}' to close '${'");
      ++pos_;
    }
    ref->source = src_.substr(start, pos_ - start);
    return ref;
  }

  void parse_arguments(std::vector<expr_ptr>& args) {
    const std::size_t open = pos_++;
    skip_space();
    if (at(pos_) == ')') {
      ++pos_;
      return;
    }
    for (;;) {
      args.push_back(parse_expression());
      skip_space();
      if (pos_ >= end_) fail(open, "unclosed parenthesis");
      if (at(pos_) == ')') {
        ++pos_;
        return;
      }
      if (at(pos_) != ',') fail(pos_, "expected ',' or ')' in the arguments");
      ++pos_;
    }
  }

  // ---- expressions: or < and < equality < relational < additive < multiplicative < unary ----

  bool word_at(std::string_view word) const {
    return src_.substr(pos_, word.size()) == word && pos_ + word.size() <= end_ &&
           !ident_char(at(pos_ + word.size()));
  }

  bool take(std::string_view symbol, std::string_view word = {}) {
    skip_space();
    if (src_.substr(pos_, symbol.size()) == symbol && pos_ + symbol.size() <= end_) {
      pos_ += symbol.size();
      return true;
    }
    if (!word.empty() && word_at(word)) {
      pos_ += word.size();
      return true;
    }
    return false;
  }

  static expr_ptr binary(binary_op op, expr_ptr l, expr_ptr r) {
    auto e = std::make_unique<expr>();
    e->kind = expr_kind::binary;
    e->op = op;
    e->items.push_back(std::move(l));
    e->items.push_back(std::move(r));
    return e;
  }

  expr_ptr parse_expression() {
    depth_guard guard(*this, pos_);
    expr_ptr left = parse_and();
    while (take("||", "or")) left = binary(binary_op::logical_or, std::move(left), parse_and());
    return left;
  }

  expr_ptr parse_and() {
    expr_ptr left = parse_equality();
    while (take("&&", "and"))
      left = binary(binary_op::logical_and, std::move(left), parse_equality());
    return left;
  }

  expr_ptr parse_equality() {
    expr_ptr left = parse_relational();
    for (;;) {
      if (take("==", "eq")) {
        left = binary(binary_op::eq, std::move(left), parse_relational());
      } else if (take("!=", "ne")) {
        left = binary(binary_op::ne, std::move(left), parse_relational());
      } else {
        return left;
      }
    }
  }

  expr_ptr parse_relational() {
    expr_ptr left = parse_additive();
    for (;;) {
      binary_op op;
      if (take("<=", "le")) {
        op = binary_op::le;
      } else if (take(">=", "ge")) {
        op = binary_op::ge;
      } else if (take("<", "lt")) {
        op = binary_op::lt;
      } else if (take(">", "gt")) {
        op = binary_op::gt;
      } else {
        return left;
      }
      left = binary(op, std::move(left), parse_additive());
    }
  }

  expr_ptr parse_additive() {
    expr_ptr left = parse_multiplicative();
    for (;;) {
      skip_space();
      if (at(pos_) == '+' || (at(pos_) == '-' && at(pos_ + 1) != '-')) {
        const binary_op op = at(pos_) == '+' ? binary_op::add : binary_op::sub;
        ++pos_;
        left = binary(op, std::move(left), parse_multiplicative());
      } else {
        return left;
      }
    }
  }

  expr_ptr parse_multiplicative() {
    expr_ptr left = parse_unary();
    for (;;) {
      skip_space();
      const char c = at(pos_);
      if (c != '*' && c != '/' && c != '%') return left;
      ++pos_;
      const binary_op op = c == '*' ? binary_op::mul : c == '/' ? binary_op::div : binary_op::mod;
      left = binary(op, std::move(left), parse_unary());
    }
  }

  expr_ptr parse_unary() {
    depth_guard guard(*this, pos_);
    skip_space();
    if ((at(pos_) == '!' && at(pos_ + 1) != '=') || word_at("not")) {
      pos_ += at(pos_) == '!' ? 1 : 3;
      auto e = std::make_unique<expr>();
      e->kind = expr_kind::logical_not;
      e->items.push_back(parse_unary());
      return e;
    }
    if (at(pos_) == '-' && !is_digit(at(pos_ + 1))) {
      ++pos_;
      auto e = std::make_unique<expr>();
      e->kind = expr_kind::negate;
      e->items.push_back(parse_unary());
      return e;
    }
    return parse_primary();
  }

  expr_ptr parse_primary() {
    skip_space();
    auto e = std::make_unique<expr>();
    const char c = at(pos_);
    const std::size_t start = pos_;
    if (c == '$') {
      if (!reference_starts(pos_)) fail(pos_, "bad reference: '$' must be followed by a name");
      e->kind = expr_kind::ref;
      e->ref = parse_reference();
    } else if (c == '\'' || c == '"') {
      parse_string(*e);
    } else if (is_digit(c) || (c == '-' && is_digit(at(pos_ + 1)))) {
      parse_number(*e);
    } else if (c == '[') {
      ++pos_;
      parse_list(*e, start);
    } else if (c == '{') {
      ++pos_;
      parse_map(*e, start);
    } else if (c == '(') {
      ++pos_;
      e = parse_expression();
      close_paren(start);
    } else if (word_at("true") || word_at("false")) {
      e->kind = expr_kind::boolean;
      e->boolean = c == 't';
      pos_ += e->boolean ? 4 : 5;
    } else if (word_at("null")) {
      e->kind = expr_kind::null;
      pos_ += 4;
    } else if (pos_ >= end_) {
      fail(pos_, "expected an expression but the template ended");
    } else if (c == ')') {
      fail(pos_, "expected an expression before ')'");
    } else {
      fail(pos_, fmt::format("expected an expression but found '{}'", c));
    }
    return e;
  }

  void parse_string(expr& e) {
    const char quote = src_[pos_];
    const std::size_t open = pos_++;
    std::string text;
    std::size_t p = pos_;
    for (;;) {
      if (p >= end_) fail(open, "unclosed string literal");
      if (src_[p] == quote) {
        if (at(p + 1) == quote) {  // doubled quote: one quote character
          text += quote;
          p += 2;
          continue;
        }
        break;
      }
      text += src_[p++];
    }
    const std::size_t close = p;
    if (quote == '"' && text.find_first_of("$#") != std::string::npos) {
      // Interpolated: parse the literal's own characters as a template.
      e.kind = expr_kind::interpolated;
      const std::size_t saved_end = end_;
      end_ = close;
      const stop s = parse_nodes(e.parts);
      if (s.kind != terminator::eof) fail_stray(s);
      end_ = saved_end;
      for (node& n : e.parts) {
        if (n.kind != node_kind::text) continue;
        for (std::size_t i = n.text.find("\"\""); i != std::string::npos;
             i = n.text.find("\"\"", i + 1))
          n.text.erase(i, 1);
      }
    } else {
      e.kind = expr_kind::string;
      e.text = std::move(text);
    }
    pos_ = close + 1;
  }

  void parse_number(expr& e) {
    const std::size_t start = pos_;
    if (at(pos_) == '-') ++pos_;
    while (is_digit(at(pos_))) ++pos_;
    bool real = false;
    if (at(pos_) == '.' && is_digit(at(pos_ + 1))) {
      real = true;
      ++pos_;
      while (is_digit(at(pos_))) ++pos_;
    }
    if ((at(pos_) == 'e' || at(pos_) == 'E') &&
        (is_digit(at(pos_ + 1)) ||
         ((at(pos_ + 1) == '-' || at(pos_ + 1) == '+') && is_digit(at(pos_ + 2))))) {
      real = true;
      pos_ += 2;
      while (is_digit(at(pos_))) ++pos_;
    }
    const std::string digits(src_.substr(start, pos_ - start));
    if (!real) {
      const auto [ptr, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), e.integer);
      if (ec == std::errc{}) {
        e.kind = expr_kind::integer;
        return;
      }
    }
    e.kind = expr_kind::real;
    e.real = std::strtod(digits.c_str(), nullptr);
  }

  void parse_list(expr& e, std::size_t open) {
    e.kind = expr_kind::list;
    if (take("]")) return;
    for (;;) {
      e.items.push_back(parse_expression());
      if (e.items.size() == 1 && take("..")) {
        e.kind = expr_kind::range;
        e.items.push_back(parse_expression());
        if (!take("]")) fail(pos_ >= end_ ? open : pos_, "expected ']' to close the range");
        return;
      }
      if (take("]")) return;
      if (!take(",")) fail(pos_ >= end_ ? open : pos_, "expected ',' or ']' in the list");
    }
  }

  void parse_map(expr& e, std::size_t open) {
    e.kind = expr_kind::map;
    if (take("}")) return;
    for (;;) {
      e.items.push_back(parse_expression());
      if (!take(":")) fail(pos_ >= end_ ? open : pos_, "expected ':' in the map");
      e.items.push_back(parse_expression());
      if (take("}")) return;
      if (!take(",")) fail(pos_ >= end_ ? open : pos_, "expected ',' or '}' in the map");
    }
  }
};

}  // namespace

void parse_template(template_data& data) { parser(data).run(); }

}  // namespace gatehouse::transform::vtl
