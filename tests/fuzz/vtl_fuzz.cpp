// Fuzz target: a mapping template and a body, separated by a line "====". Parsing may refuse
// the template (config_error) but nothing may crash, hang or read out of bounds; a template
// that parses is evaluated against the body and a small environment.

#include "transform/vtl/mapping_template.hpp"

#include <gatehouse/config_error.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {
struct fuzz_env : gatehouse::transform::template_environment {
  std::string_view body_text;
  std::string_view body() const override { return body_text; }
  std::optional<std::string_view> param(std::string_view name) const override {
    if (name == "petId") return std::string_view("7");
    if (name == "type") return std::string_view("dog");
    return std::nullopt;
  }
  void params(gatehouse::transform::param_kind kind,
              std::vector<std::pair<std::string_view, std::string_view>>& out) const override {
    if (kind == gatehouse::transform::param_kind::path) out.emplace_back("petId", "7");
    if (kind == gatehouse::transform::param_kind::querystring) out.emplace_back("type", "dog");
    if (kind == gatehouse::transform::param_kind::header) out.emplace_back("Host", "example.com");
  }
  bool context(std::string_view name, std::string& out) const override {
    if (name != "requestId" && name != "identity.sourceIp") return false;
    out = name == "requestId" ? "req-1" : "192.0.2.1";
    return true;
  }
  std::optional<std::string_view> stage_variable(std::string_view name) const override {
    if (name == "backend") return std::string_view("10.0.0.1");
    return std::nullopt;
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view separator = "\n====\n";
  const std::size_t split = input.find(separator);
  const std::string_view text = input.substr(0, split);
  fuzz_env env;
  if (split != std::string_view::npos) env.body_text = input.substr(split + separator.size());
  try {
    const auto t = gatehouse::transform::mapping_template::parse(text, "fuzz");
    const auto result = t.evaluate(env);
    if (result.output.size() > gatehouse::transform::mapping_template::max_output_bytes)
      __builtin_trap();
  } catch (const gatehouse::config_error&) {
  }
  return 0;
}
