// The mock integration: a fixed answer, with ${stageVariables.x} filled in per stage.

#include "integration/integration_impl.hpp"
#include "routing/stage_variables.hpp"
#include "spec/model.hpp"

#include <gatehouse/config_error.hpp>
#include <gatehouse/integration.hpp>

#include <fmt/format.h>

namespace gatehouse {

namespace {
class mock_integration final : public detail::integration_impl {
 public:
  explicit mock_integration(mock_response r) : r_(std::move(r)) {
    std::vector<std::string> refs;
    collect_stage_variables(refs);  // validates the references now, at composition
    uses_variables_ = !refs.empty();
  }

  bool is_proxy() const noexcept override { return false; }

  // AWS's MOCK answers with what its request template's statusCode selects; the answer's
  // headers and body come from the integration response.
  void describe(spec::integration_model& out, const detail::export_context&) const override {
    out.type = "MOCK";
    out.request_templates = {
        {"application/json", fmt::format(R"({{"statusCode": {}}})", r_.status)}};
    spec::integration_response_model ir;
    ir.status_code = std::to_string(r_.status);
    for (const auto& f : r_.headers)
      ir.response_parameters.emplace_back("method.response.header." + f.name, "'" + f.value + "'");
    if (!r_.body.empty() || !r_.content_type.empty())
      ir.response_templates.emplace_back(
          r_.content_type.empty() ? "application/json" : r_.content_type, r_.body);
    out.responses = {std::move(ir)};
  }

  asio::awaitable<detail::outcome> invoke(detail::exchange& ex) const override {
    detail::outcome out;
    invoke_now(ex, out);
    co_return out;
  }

  bool invoke_now(detail::exchange& ex, detail::outcome& out) const override {
    out.res.status = r_.status;
    if (!r_.content_type.empty() && !r_.headers.contains("Content-Type"))
      out.res.headers.add("Content-Type", r_.content_type);
    if (!uses_variables_) {
      for (const auto& f : r_.headers) out.res.headers.add(f.name, f.value);
      out.res.body = r_.body;
    } else {
      const auto& vars = ex.stage->variables;
      for (const auto& f : r_.headers)
        out.res.headers.add(f.name, routing::substitute_stage_variables(f.value, vars));
      out.res.body = routing::substitute_stage_variables(r_.body, vars);
    }
    return true;
  }

  void collect_stage_variables(std::vector<std::string>& names) const override {
    for (const auto& f : r_.headers) routing::collect_stage_variables(f.value, names);
    routing::collect_stage_variables(r_.body, names);
  }

 private:
  mock_response r_;
  bool uses_variables_ = false;
};
}  // namespace

integration mock(mock_response response) {
  if (response.status < 100 || response.status > 599)
    throw config_error(
        fmt::format("mock integration: status {} is not an HTTP status", response.status));
  return integration{std::make_shared<mock_integration>(std::move(response))};
}

}  // namespace gatehouse
