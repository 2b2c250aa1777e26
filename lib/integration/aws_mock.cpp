#include "integration/aws_mock.hpp"

#include "integration/integration_impl.hpp"
#include "spec/model.hpp"
#include "util/json_parse.hpp"

#include <rapidjson/document.h>

namespace gatehouse::detail {

namespace {
class aws_mock_integration final : public integration_impl {
 public:
  bool is_proxy() const noexcept override { return false; }

  void describe(spec::integration_model& out, const export_context&) const override {
    out.type = "MOCK";
  }

  asio::awaitable<outcome> invoke(exchange& ex) const override {
    outcome out;
    invoke_now(ex, out);
    co_return out;
  }

  bool invoke_now(exchange& ex, outcome& out) const override {
    int status = 200;
    const std::string_view body = ex.req.body;
    if (body.find_first_not_of(" \t\r\n") != std::string_view::npos) {
      rapidjson::Document doc;
      auto parsed = util::parse_json(doc, body);
      const rapidjson::Value* code = nullptr;
      const rapidjson::Value& root = doc;
      if (parsed && root.IsObject()) {
        auto it = root.FindMember("statusCode");
        if (it != root.MemberEnd()) code = &it->value;
      }
      if (!code || !code->IsInt() || code->GetInt() < 100 || code->GetInt() > 599) {
        out.error = gateway_error{response_type::api_configuration_error,
                                  0,
                                  {},
                                  "Execution failed due to configuration error: Unable to parse "
                                  "statusCode. It should be an integer that is defined in the "
                                  "request template."};
        return true;
      }
      status = code->GetInt();
    }
    out.res.status = status;
    out.res.headers.add("Content-Type", "application/json");
    return true;
  }
};

class misconfigured_integration final : public integration_impl {
 public:
  explicit misconfigured_integration(std::string why) : why_(std::move(why)) {}

  asio::awaitable<outcome> invoke(exchange& ex) const override {
    outcome out;
    invoke_now(ex, out);
    co_return out;
  }

  bool invoke_now(exchange&, outcome& out) const override {
    out.error = gateway_error{response_type::api_configuration_error, 0, {}, why_};
    return true;
  }

  void describe(spec::integration_model&, const export_context&) const override {}

 private:
  std::string why_;
};
}  // namespace

integration aws_mock() { return integration{std::make_shared<aws_mock_integration>()}; }

integration misconfigured(std::string why) {
  return integration{std::make_shared<misconfigured_integration>(std::move(why))};
}

}  // namespace gatehouse::detail
