#pragma once

// A template_environment over plain containers, for the mapping-template tests.

#include "transform/vtl/mapping_template.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vtl_test {

using pairs = std::vector<std::pair<std::string, std::string>>;

struct map_env : gatehouse::transform::template_environment {
  std::string body_text;
  pairs path, querystring, header, stage, context_values;

  std::string_view body() const override { return body_text; }
  std::optional<std::string_view> param(std::string_view name) const override {
    for (const pairs* kind : {&path, &querystring, &header})
      for (const auto& [k, v] : *kind)
        if (k == name) return v;
    return std::nullopt;
  }
  void params(gatehouse::transform::param_kind kind,
              std::vector<std::pair<std::string_view, std::string_view>>& out) const override {
    const pairs& from = kind == gatehouse::transform::param_kind::path          ? path
                        : kind == gatehouse::transform::param_kind::querystring ? querystring
                                                                                : header;
    for (const auto& [k, v] : from) out.emplace_back(k, v);
  }
  bool context(std::string_view name, std::string& out) const override {
    for (const auto& [k, v] : context_values) {
      if (k == name) {
        out = v;
        return true;
      }
    }
    return false;
  }
  std::optional<std::string_view> stage_variable(std::string_view name) const override {
    for (const auto& [k, v] : stage)
      if (k == name) return v;
    return std::nullopt;
  }
  void stage_variables(
      std::vector<std::pair<std::string_view, std::string_view>>& out) const override {
    for (const auto& [k, v] : stage) out.emplace_back(k, v);
  }
};

/// Parses and evaluates `text` against `env`; the output.
inline std::string render(std::string_view text, const map_env& env = {}) {
  return gatehouse::transform::mapping_template::parse(text).evaluate(env).output;
}

/// The same with `body` as the body.
inline std::string render_body(std::string_view text, std::string body) {
  map_env env;
  env.body_text = std::move(body);
  return render(text, env);
}

}  // namespace vtl_test
