#pragma once

// AWS API Gateway's mapping templates: the subset of Apache Velocity (VTL 1.7) that REST APIs use
// to transform request and response bodies, with $input, $context, $stageVariables and $util.
// A template is parsed once (syntax errors are config_error with line and column) and evaluated
// per request; evaluation never throws and its work is bounded (see mapping_template::evaluate).

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::transform {

enum class param_kind { path, querystring, header };

/// What a template reads: the request (or, for response templates, the integration's response)
/// and the request's context. The pipeline implements it over its request state; tests over maps.
class template_environment {
 public:
  virtual ~template_environment() = default;
  /// $input.body; what $input.json and $input.path read.
  virtual std::string_view body() const = 0;
  /// $input.params('x'): path parameter, else query string, else header (AWS's order).
  virtual std::optional<std::string_view> param(std::string_view name) const = 0;
  /// $input.params().path / .querystring / .header: all of one kind, in order.
  virtual void params(param_kind kind,
                      std::vector<std::pair<std::string_view, std::string_view>>& out) const = 0;
  /// $context.NAME with dotted names ("requestId", "identity.sourceIp", "authorizer.principalId",
  /// "authorizer.claims.sub"); false when absent. `out` is scratch the caller owns.
  virtual bool context(std::string_view dotted_name, std::string& out) const = 0;
  /// $stageVariables.NAME; nullopt when the stage has no such variable.
  virtual std::optional<std::string_view> stage_variable(std::string_view name) const = 0;
  /// All stage variables, in order: what $stageVariables.keySet() and .get() enumerate.
  /// The default has none (then only $stageVariables.NAME lookups work).
  virtual void stage_variables(
      std::vector<std::pair<std::string_view, std::string_view>>& out) const {
    (void)out;
  }
};

/// What evaluating a template produced: the text, and what it set through
/// $context.requestOverride.* / $context.responseOverride.* (AWS's override variables).
struct template_result {
  std::string output;
  std::optional<int> status_override;  // responseOverride.status
  std::vector<std::pair<std::string, std::string>>
      header_overrides;  // request/responseOverride.header.X
  std::vector<std::pair<std::string, std::string>>
      querystring_overrides;                                        // requestOverride.querystring.X
  std::vector<std::pair<std::string, std::string>> path_overrides;  // requestOverride.path.X
  /// True when evaluation hit a limit (output size, work budget) and stopped early: `output`
  /// is then incomplete. AWS fails such a request; the caller decides.
  bool limit_exceeded = false;
};

namespace vtl {
struct template_data;
}

/// A mapping template, parsed once when an API is composed and evaluated per request
/// (concurrently from many threads: evaluate() is const and thread-safe). Cheap to copy.
class mapping_template {
 public:
  /// Limits of one evaluation. AWS documents 1,000 iterations per #foreach.
  static constexpr std::size_t max_foreach_iterations = 1000;
  static constexpr std::size_t max_output_bytes = 10 * 1024 * 1024;
  /// Nodes evaluated plus loop iterations, across the whole evaluation (nested loops).
  static constexpr std::size_t max_steps = 2'000'000;
  /// Bytes of strings made while evaluating (concatenations, interpolations, $util results).
  static constexpr std::size_t max_string_bytes = 64 * 1024 * 1024;
  /// Templates larger than AWS's 300 KB limit are refused by parse().
  static constexpr std::size_t max_template_bytes = 300 * 1024;

  /// Throws gatehouse::config_error "mapping template '<name>': line L, column C: <what>" for a
  /// syntax error (#end without a block, an unclosed #if/#foreach/string/parenthesis, a bad
  /// reference, an unknown directive, …). Columns count bytes from 1.
  static mapping_template parse(std::string_view text, std::string_view name = "template");

  /// Renders the template against `env`. Never throws (allocation failure aside).
  template_result evaluate(const template_environment& env) const;
  /// The same, into `result` (cleared first), so a caller can reuse its buffers.
  void evaluate(const template_environment& env, template_result& result) const;

  /// The name given to parse(), for messages.
  std::string_view name() const noexcept;

 private:
  explicit mapping_template(std::shared_ptr<const vtl::template_data> data) noexcept;
  std::shared_ptr<const vtl::template_data> data_;
};

}  // namespace gatehouse::transform
