#pragma once

// Step 7's body check: an API's models (AWS's Model: a JSON Schema draft 4 document), compiled
// once when the API is deployed and checked against request bodies. A failure is described as
// AWS's validator describes it ($context.error.validationErrorString).

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::validate {

class model;

/// Finds another model of the API by name, compiling it if need be (for "$ref"s between models);
/// null when there is none.
using model_lookup = std::function<std::shared_ptr<const model>(std::string_view name)>;

/// A compiled model. check() may be called from many threads at once.
class model {
 public:
  /// Compiles `schema`. Throws config_error naming the model for malformed JSON, a schema that
  /// is not an object, a `$ref` to an unknown model, or a `pattern` gatehouse cannot run. The
  /// models `lookup` finds are kept alive by this one.
  model(std::string name, std::string_view schema, const model_lookup& lookup);
  /// Parses `schema` only (throwing as above for malformed JSON or a non-object); compile()
  /// must follow before check(). For APIs whose models refer to each other in cycles (AWS
  /// allows them): parse them all, then compile each.
  model(std::string name, std::string_view schema);
  /// Compiles a parsed model: $refs to other models use the documents of the models `lookup`
  /// finds (parsed ones will do), which must outlive this one. Throws as the first constructor.
  void compile(const model_lookup& lookup);
  ~model();
  model(const model&) = delete;
  model& operator=(const model&) = delete;

  /// True when `body` is JSON that the schema accepts; otherwise false and, when `errors` is
  /// given, AWS's validationErrorString: "[<what failed>]".
  bool check(std::string_view body, std::string* errors = nullptr) const;

  const std::string& name() const noexcept { return name_; }

 private:
  struct compiled;
  std::string name_;
  std::vector<std::shared_ptr<const model>> references_;  // models this one $refs: kept alive
  bool keep_references_ = false;  // (not when compiled apart: a cycle would keep itself alive)
  std::unique_ptr<compiled> compiled_;
};

/// Rewrites an ECMA 262 `pattern` into the syntax of the linear-time matcher the models use
/// (\d, \w, \s and their negations as classes, (?: as (, lazy quantifiers as greedy ones, which
/// match the same strings). Returns false, with the reason, for what it cannot express
/// (backreferences, lookaround, \b).
bool rewrite_pattern(std::string_view pattern, std::string& out, std::string* why);

}  // namespace gatehouse::validate
