// Fuzz target: a CSV file a host imports, as AWS's API key import format (into a fresh key
// registry whose gateway knows the plans "plan1" and "plan2") and as IAM credentials
// (access_key_id,secret_access_key,user_arn). Both are configuration: a bad file throws
// config_error naming its lines, and a good one imports every row, or nothing at all. Nothing may
// crash, hang or leak.

#include "usage/api_key_csv.hpp"
#include "usage/key_registry.hpp"
#include "usage/plan_state.hpp"
#include "util/access.hpp"
#include "util/csv.hpp"

#include <gatehouse/gatehouse.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

std::shared_ptr<const gatehouse::detail::plan_state> find_plan(std::string_view id) {
  static const gatehouse::UsagePlan plan1({.name = "basic", .id = "plan1"});
  static const gatehouse::UsagePlan plan2({.name = "gold", .id = "plan2"});
  if (id == "plan1") return gatehouse::detail::access::state(plan1);
  if (id == "plan2") return gatehouse::detail::access::state(plan2);
  return nullptr;
}

const std::vector<std::string> policies = {
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke",)"
    R"("Resource":"arn:aws:execute-api:*:*:*/prod/GET/*"}]})"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  std::vector<std::string> errors;
  const auto records = gatehouse::util::split_csv(text, errors);
  for (const auto& r : records) check(r.line >= 1 && !r.fields.empty());
  for (const auto& e : errors) check(e.starts_with("line "));

  const auto file = gatehouse::usage::parse_key_csv(text);
  for (const auto& row : file.rows) {
    check(!row.name.empty() && gatehouse::usage::valid_key_value(row.key, 30));
  }

  gatehouse::detail::key_registry registry(gatehouse::make_memory_store(), find_plan);
  try {
    const auto ids = registry.import_csv(text);
    check(file.errors.empty() && ids.size() == file.rows.size());
    for (const auto& row : file.rows) check(registry.find(row.key) != nullptr);
  } catch (const gatehouse::config_error&) {
    check(registry.list().empty());  // all or nothing
  }

  gatehouse::IamCredentials credentials;
  try {
    credentials.import_csv(text, policies);
  } catch (const gatehouse::config_error&) {
    check(credentials.size() == 0);
  }
  return 0;
}
