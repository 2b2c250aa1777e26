// YAML → the JSON DOM, from yaml-cpp's event stream (never its node tree: a node tree shares
// aliased nodes, and expanding them afterwards is where alias bombs go off). Every value made,
// aliases included, is counted against the limits of document.hpp as it is made, and nesting
// is refused past util::max_json_depth as the parser reaches it, which also bounds the parser's
// own recursion.

#include "spec/document.hpp"
#include "spec/json_util.hpp"
#include "util/json_parse.hpp"
#include "util/json_ref.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <fmt/format.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>
#include <cstdint>
#include <exception>
#include <map>
#include <sstream>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace gatehouse::spec {

namespace {
using value = rapidjson::Value;

// Ends the conversion from inside an event (yaml-cpp lets exceptions through its parser).
struct refused {
  std::string why;
};

bool one_of(std::string_view s, std::initializer_list<std::string_view> words) {
  for (auto w : words)
    if (s == w) return true;
  return false;
}

// A plain scalar typed as SnakeYAML's YAML 1.1 resolver does for what OpenAPI documents hold:
// null, booleans (yes/no/on/off too), decimal and hex integers, decimal floats; the rest text.
void resolve_plain(std::string_view s, value& out, rapidjson::Document::AllocatorType& a) {
  if (one_of(s, {"", "~", "null", "Null", "NULL"})) return void(out.SetNull());
  if (one_of(s, {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"}))
    return void(out.SetBool(true));
  if (one_of(s, {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"}))
    return void(out.SetBool(false));
  std::string_view digits = s;
  bool negative = false;
  if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) {
    negative = digits.front() == '-';
    digits.remove_prefix(1);
  }
  auto all_of = [](std::string_view t, auto pred) {
    if (t.empty()) return false;
    for (char c : t)
      if (!pred(c)) return false;
    return true;
  };
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  if (all_of(digits, is_digit) && (digits.size() == 1 || digits.front() != '0')) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data() + (s.front() == '+' ? 1 : 0), s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size()) return void(out.SetInt64(v));
  } else if (digits.size() > 2 && digits.substr(0, 2) == "0x" &&
             all_of(digits.substr(2), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
             })) {
    std::int64_t v = 0;
    auto hex = digits.substr(2);
    auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), v, 16);
    if (ec == std::errc() && end == hex.data() + hex.size())
      return void(out.SetInt64(negative ? -v : v));
  }
  // Decimal floats: digits with a '.' or an exponent (not .inf / .nan: JSON has neither).
  if (!digits.empty() && (is_digit(digits.front()) || digits.front() == '.') &&
      digits.find_first_of(".eE") != std::string_view::npos && all_of(digits, [](char c) {
        return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+';
      })) {
    double d = 0;
    auto [end, ec] = std::from_chars(s.data() + (s.front() == '+' ? 1 : 0), s.data() + s.size(), d);
    if (ec == std::errc() && end == s.data() + s.size()) return void(out.SetDouble(d));
  }
  out = util::json_copy(s, a);
}

// The text of a value used as a key: keys of JSON objects are strings.
std::string key_text(const value& v) {
  if (v.IsString()) return {v.GetString(), v.GetStringLength()};
  if (v.IsNull()) return "null";
  if (v.IsObject() || v.IsArray()) throw refused{"a mapping or sequence as a key"};
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

class builder final : public YAML::EventHandler {
 public:
  explicit builder(rapidjson::Document& doc) : doc_(doc), a_(doc.GetAllocator()) {}

  bool done() const noexcept { return done_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override { done_ = true; }

  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override {
    value v;
    if (wants_key()) v.SetString("null", a_);
    complete(std::move(v), anchor, {1, 0, 0});
  }

  void OnAlias(const YAML::Mark&, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    // An alias of a node still being built (a cycle) has no value yet.
    if (it == anchors_.end()) throw refused{"an alias to a node that is not complete"};
    const auto& [anchored, stats] = it->second;
    if (stack_.size() + stats.depth > util::max_json_depth)
      throw refused{"nesting deeper than " + std::to_string(util::max_json_depth) + " levels"};
    count(stats);
    value copy(anchored, a_);
    complete(std::move(copy), 0, stats, /*counted=*/true);
  }

  void OnScalar(const YAML::Mark&, const std::string& tag, YAML::anchor_t anchor,
                const std::string& text) override {
    value v;
    // Keys stay as written ("200", "1.0"); quoted scalars ("!") and !!str are text.
    if (wants_key() || tag == "!" || tag == "tag:yaml.org,2002:str")
      v.SetString(text.data(), static_cast<rapidjson::SizeType>(text.size()), a_);
    else if (tag == "?" || tag.starts_with("tag:yaml.org,2002:"))
      resolve_plain(text, v, a_);
    else  // another tag (!Ref, !Sub …): the text itself
      v.SetString(text.data(), static_cast<rapidjson::SizeType>(text.size()), a_);
    complete(std::move(v), anchor, {1, text.size(), 0});
  }

  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(false, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(true, anchor);
  }
  void OnMapEnd() override {
    merge_keys(stack_.back().v);
    close();
  }

 private:
  struct stats {
    std::size_t values = 1;  // in the subtree, itself included
    std::size_t text = 0;    // bytes of strings in the subtree
    unsigned depth = 0;      // levels of containers in it
  };
  struct frame {
    value v;
    bool map = false;
    bool have_key = false;
    value key;
    YAML::anchor_t anchor = 0;
    stats s;
  };

  bool wants_key() const noexcept {
    return !stack_.empty() && stack_.back().map && !stack_.back().have_key;
  }

  void count(const stats& s) {
    values_ += s.values;
    text_ += s.text;
    if (values_ > max_yaml_values || text_ > max_yaml_text_bytes)
      throw refused{"the document expands (through its aliases) past what gatehouse accepts"};
  }

  void open(bool map, YAML::anchor_t anchor) {
    if (stack_.size() + 1 > util::max_json_depth)
      throw refused{"nesting deeper than " + std::to_string(util::max_json_depth) + " levels"};
    frame f;
    f.map = map;
    if (map)
      f.v.SetObject();
    else
      f.v.SetArray();
    f.anchor = anchor;
    f.s = {1, 0, 1};
    stack_.push_back(std::move(f));
  }

  void close() {
    frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.map && f.have_key) throw refused{"a key without a value"};
    complete(std::move(f.v), f.anchor, f.s, /*counted=*/true);
  }

  // A finished value goes to its anchor (a copy, for later aliases) and its parent.
  void complete(value v, YAML::anchor_t anchor, stats s, bool counted = false) {
    if (!counted) count(s);
    if (anchor != 0) {
      count(s);  // the copy kept for aliases
      anchors_[anchor] = {value(v, a_), s};
    }
    if (stack_.empty()) {
      static_cast<value&>(doc_) = std::move(v);
      return;
    }
    frame& parent = stack_.back();
    parent.s.values += s.values;
    parent.s.text += s.text;
    parent.s.depth = std::max(parent.s.depth, s.depth + 1);
    if (!parent.map) {
      parent.v.PushBack(std::move(v), a_);
    } else if (!parent.have_key) {
      auto k = key_text(v);
      parent.key = util::json_copy(k, a_);
      parent.have_key = true;
    } else {
      parent.v.AddMember(std::move(parent.key), std::move(v), a_);
      parent.key.SetNull();
      parent.have_key = false;
    }
  }

  // YAML 1.1 merge keys ("<<: *defaults", "<<: [*a, *b]"): the mappings' entries join this one
  // where it lacks them, as SnakeYAML reads them.
  void merge_keys(value& map) {
    bool any = false;
    for (auto& m : mutable_members(map))
      if (m.name == "<<") any = true;
    if (!any) return;
    value merged(rapidjson::kObjectType);
    std::vector<value> sources;
    for (auto& m : mutable_members(map)) {
      if (m.name != "<<") {
        merged.AddMember(std::move(m.name), std::move(m.value), a_);
      } else if (m.value.IsObject()) {
        sources.push_back(std::move(m.value));
      } else if (m.value.IsArray()) {
        for (auto& e : m.value.GetArray())
          if (e.IsObject()) sources.push_back(std::move(e));
      }
    }
    std::unordered_set<std::string_view> present;
    for (const auto& m : mutable_members(merged))
      present.emplace(m.name.GetString(), m.name.GetStringLength());
    for (auto& source : sources) {
      for (auto& m : mutable_members(source)) {
        std::string_view k(m.name.GetString(), m.name.GetStringLength());
        if (!present.emplace(k).second) continue;
        merged.AddMember(std::move(m.name), std::move(m.value), a_);
      }
    }
    map = std::move(merged);
  }

  rapidjson::Document& doc_;
  rapidjson::Document::AllocatorType& a_;
  std::vector<frame> stack_;
  std::map<YAML::anchor_t, std::pair<value, stats>> anchors_;
  std::size_t values_ = 0;
  std::size_t text_ = 0;
  bool done_ = false;
};
}  // namespace

bool yaml_to_json(std::string_view text, rapidjson::Document& doc, std::string* why) {
  doc.SetNull();
  auto fail = [&](std::string reason) {
    doc.SetNull();
    if (why) *why = std::move(reason);
    return false;
  };
  std::istringstream in{std::string(text)};
  builder b(doc);
  try {
    YAML::Parser parser(in);
    if (!parser.HandleNextDocument(b) || !b.done()) return fail("no YAML document");
  } catch (const refused& r) {
    return fail(r.why);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own guard: about 500 levels, before ours at util::max_json_depth.
    return fail(fmt::format("line {}, column {}: nesting deeper than the YAML parser allows",
                            e.mark.line + 1, e.mark.column + 1));
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) return fail(e.msg);
    return fail(fmt::format("line {}, column {}: {}", e.mark.line + 1, e.mark.column + 1, e.msg));
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return true;
}

}  // namespace gatehouse::spec
