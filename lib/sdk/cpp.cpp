// Placeholder until the cpp generator lands.

#include "sdk/sdk_model.hpp"

#include <gatehouse/config_error.hpp>

namespace gatehouse::sdk {

sdk_files generate_cpp(const api& a, std::string_view name) {
  (void)a;
  (void)name;
  throw config_error("sdk: the cpp generator is not written yet");
}

}  // namespace gatehouse::sdk
